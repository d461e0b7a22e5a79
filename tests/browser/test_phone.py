"""In Debian's Chromium at a phone's width (390 px): no page scrolls sideways.

Every page a person may open on a phone, in the states that hold the longest lines: a
long banner, a restitution with notes, a personal link on the registration confirmation.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page

from tests.browser.test_accessibility import pages
from tests.browser.test_registration import register
from tests.browser.test_show_day import LONG_BANNER, LONG_NOTES, command, write_notes
from tests.support.servers import LiveServer

pytestmark = pytest.mark.browser
EVENT = "poitiers-2020"
WIDE = """() => {
  const wide = [...document.querySelectorAll("body *")]
    .filter((e) => e.getBoundingClientRect().right > innerWidth + 1 && !e.closest(".skip"))
    .filter((e) => !e.parentElement.closest(".table-wrap, .cm-scroller, .notes-view"))
    .map((e) => `${e.tagName.toLowerCase()}#${e.id}.${e.className}`);
  return { scroll: document.documentElement.scrollWidth, wide: wide.slice(0, 5) };
}"""


def assert_fits(page: Page, name: str) -> None:
    page.wait_for_timeout(300)  # the live state renders
    found = page.evaluate(WIDE)
    assert found["scroll"] <= 390, f"{name} is {found['scroll']} px wide: {found['wide']}"


def registered(server: LiveServer, page: Page) -> str:
    page.goto(f"{server.url}/e/{EVENT}/register")
    name, email = "Dominique Lefèvre-Castelnau de Saint-Hilaire", "dominique.lc@example.fr"
    return register(page, name, email, "professeur", "enseigner-niort", site="niort")


def test_no_page_scrolls_sideways_on_a_phone(live_server: LiveServer, browser: Any) -> None:
    rapporteur = write_notes(live_server, browser, EVENT, "enseigner-niort", LONG_NOTES)
    command(live_server, EVENT, "message.show", text=LONG_BANNER)
    command(live_server, EVENT, "step.goto", step="restitutions")  # the first speaks at once
    page = browser.new_page(viewport={"width": 390, "height": 844})
    for name, path in pages(live_server).items():
        if name == "screen":
            continue  # a projector, not a phone
        page.goto(live_server.url + path)
        assert_fits(page, name)
    link = registered(live_server, page)
    assert_fits(page, "registration confirmation")
    page.goto(link)
    assert_fits(page, "personal page")
    page.goto(f"{live_server.url}/nulle-part")
    assert_fits(page, "page not found")
    page.close()
    rapporteur.close()
