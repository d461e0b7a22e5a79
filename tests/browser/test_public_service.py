"""The pages a public service carries, in Debian's Chromium: the accessibility statement,
the legal notice and the privacy notice pass axe-core's WCAG 2 A/AA rules in French and
English, on a laptop and on a phone; the keyboard reaches their footer after the skip
link; on a 320 px phone the footer's links wrap without sideways scrolling."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_accessibility import AXE
from tests.support.servers import LiveServer, unavailable

pytestmark = pytest.mark.browser
PAGES = ("/accessibilite", "/mentions-legales", "/donnees-personnelles")
FOOTER = ("Accessibilité : non conforme", "Mentions légales", "Données personnelles")
SETTINGS = {
    "RELAIS_PUBLISHER_NAME": "Rectorat de l'académie de Poitiers",
    "RELAIS_PUBLISHER_ADDRESS": "22 rue Guillaume VII le Troubadour, 86000 Poitiers",
    "RELAIS_PUBLISHER_EMAIL": "relais@ac-poitiers.example",
    "RELAIS_PUBLICATION_DIRECTOR": "Mme la rectrice de l'académie",
    "RELAIS_HOSTING_PROVIDER": "DSI de l'académie de Poitiers",
    "RELAIS_HOSTING_ADDRESS": "5 cité de la Traverse, 86000 Poitiers",
    "RELAIS_DPO_CONTACT": "dpd@ac-poitiers.example",
}


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    """A server whose operator said who publishes, hosts and answers."""
    live = LiveServer(tmp_path / "data", env=SETTINGS)
    live.start()
    try:
        yield live
    finally:
        live.stop()


def violations(page: Page) -> list[str]:
    """axe-core's WCAG 2 A/AA violations on the page (as test_accessibility runs it)."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa']}})"
    )
    assert result["passes"], "axe checked nothing"
    return [f"{v['id']} ({v['impact']}): {v['nodes'][0]['target']}" for v in result["violations"]]


def test_the_three_pages_pass_the_wcag_rules_in_both_languages_on_a_laptop_and_a_phone(
    server: LiveServer, browser: Any
) -> None:
    if not AXE.exists():
        unavailable("axe-core is not installed: npm ci --prefix js")
    found = {}
    for viewport in ({"width": 1280, "height": 800}, {"width": 360, "height": 740}):
        page: Page = browser.new_page(viewport=viewport, bypass_csp=True)  # axe goes inline
        for path in PAGES:
            for lang in ("fr", "en"):
                page.goto(f"{server.url}{path}?lang={lang}")
                expect(page.locator("footer nav a")).to_have_count(3)
                if problems := violations(page):
                    found[f"{path}?lang={lang} at {viewport['width']} px"] = problems
        page.close()
    assert found == {}


def test_the_pages_show_the_operators_settings(server: LiveServer, browser: Any) -> None:
    page: Page = browser.new_page()
    page.goto(f"{server.url}/mentions-legales?lang=fr")
    expect(page.locator("#legal-publisher")).to_contain_text("Rectorat de l'académie de Poitiers")
    expect(page.locator("#legal-director")).to_have_text("Mme la rectrice de l'académie")
    expect(page.locator("#legal-host")).to_contain_text("DSI de l'académie de Poitiers")
    page.goto(f"{server.url}/donnees-personnelles?lang=fr")
    expect(page.get_by_role("link", name="dpd@ac-poitiers.example")).to_have_attribute(
        "href", "mailto:dpd@ac-poitiers.example"
    )
    expect(page.locator("#privacy-retention")).to_contain_text("90 jours après sa date")
    page.goto(f"{server.url}/accessibilite?lang=en")
    expect(page.locator("#a11y-status")).to_have_text(
        "Relais is not compliant with the French accessibility framework RGAA"
        " (référentiel général d'amélioration de l'accessibilité), version 4.1.2."
    )
    page.close()


def test_the_keyboard_reaches_the_footer_after_the_skip_link(
    server: LiveServer, browser: Any
) -> None:
    page: Page = browser.new_page()
    for path in ("/", *PAGES):
        page.goto(f"{server.url}{path}?lang=fr")
        page.keyboard.press("Tab")
        skip = page.get_by_role("link", name="Aller au contenu")
        expect(skip).to_be_focused()
        expect(skip).to_be_in_viewport()  # shown once focused
        reached: list[str] = []
        for _ in range(60):  # through the header and the page to the footer
            page.keyboard.press("Tab")
            if page.evaluate("!!document.activeElement.closest('footer')"):
                reached.append(page.evaluate("document.activeElement.textContent.trim()"))
                if len(reached) == len(FOOTER):
                    break
        assert reached == list(FOOTER), path
        page.keyboard.press("Enter")  # the last one: « Données personnelles »
        expect(page).to_have_url(f"{server.url}/donnees-personnelles")
        expect(page.get_by_role("heading", level=1)).to_have_text("Données personnelles")
    page.close()


def test_on_a_narrow_phone_the_footer_wraps_without_sideways_scrolling(
    server: LiveServer, browser: Any
) -> None:
    page: Page = browser.new_page(viewport={"width": 320, "height": 640})
    for path in (*PAGES, "/", "/e/poitiers-2020"):
        page.goto(f"{server.url}{path}?lang=en")
        assert page.evaluate("document.documentElement.scrollWidth <= innerWidth"), path
        links = page.locator("footer nav a")
        expect(links).to_have_count(3)
        for i in range(3):
            box = links.nth(i).bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 320, path
    page.close()
