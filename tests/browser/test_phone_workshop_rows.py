"""In Debian's Chromium at phone widths (320 to 430 px), during the workshops: each
workshop's row holds its own timer, whatever its name's length, also after a +5."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.test_show_day import command
from tests.support.servers import LiveServer

pytestmark = pytest.mark.browser
ARIEGE = "ariege-2020"  # one site, Foix, with its five workshops
WIDTHS = [320, 390, 430]

# For every row of the list: its timer's text, and whether the timer's box lies within
# the row's own box (a floated timer once sat in the next row).
ROWS = """() => [...document.querySelectorAll("#now-workshops li")].map((li) => {
  const row = li.getBoundingClientRect();
  const timers = [...document.querySelectorAll("#now-workshops .ws-time")].filter((t) => {
    const r = t.getBoundingClientRect();
    return r.top >= row.top - 1 && r.bottom <= row.bottom + 1;
  });
  const own = li.querySelector(".ws-time");
  return { id: li.dataset.workshop, own: own.textContent, inside: timers.map((t) => t.textContent),
           mine: timers.includes(own) };
})"""


def test_each_workshops_row_on_a_phone_shows_its_own_timer_after_five_more_minutes(
    live_server: LiveServer, browser: Any
) -> None:
    command(live_server, ARIEGE, "step.goto", step="ateliers")
    command(live_server, ARIEGE, "workshop.adjust", workshop="atelier-ensemble", minutes=5)
    link = live_server.link(ARIEGE, "participant", site="foix")
    for width in WIDTHS:
        phone = browser.new_page(viewport={"width": width, "height": 844})
        phone.goto(f"{live_server.url}/e/{ARIEGE}/me?k={link}")
        ensemble = phone.locator('#now-workshops li[data-workshop="atelier-ensemble"]')
        expect(ensemble.locator(".ws-time")).to_contain_text("2:04:")
        expect(phone.locator("#now-workshops li .ws-time").first).to_contain_text("1:59:")
        rows = phone.evaluate(ROWS)
        assert len(rows) == 5, rows
        for row in rows:
            assert row["mine"] and len(row["inside"]) == 1, f"at {width} px: {row}"
        assert phone.evaluate("document.documentElement.scrollWidth") <= width
        phone.close()
