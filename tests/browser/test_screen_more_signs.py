"""In Debian's Chromium, a site screen paging through long notes: the "▲ début" and
"▼ suite" signs say there is more without hiding a word of what is shown."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.test_show_day import (
    ARIEGE,
    LONG_NOTES,
    SIZES,
    command,
    open_screen,
    state,
    write_notes,
)
from tests.support.servers import LiveServer

pytestmark = pytest.mark.browser

OVERLAPS = """() => {
  const view = document.querySelector("#speaking-notes").getBoundingClientRect();
  return ["more-above", "more-below"].map((id) => {
    const r = document.getElementById(id).getBoundingClientRect();
    const apart = r.bottom <= view.top || r.top >= view.bottom
      || r.right <= view.left || r.left >= view.right;
    return apart ? null : `${id} ${JSON.stringify(r)} over ${JSON.stringify(view)}`;
  }).filter(Boolean);
}"""


def test_the_signs_of_more_notes_cover_no_line_of_them_at_projector_sizes(
    live_server: LiveServer, browser: Any
) -> None:
    rapporteur = write_notes(live_server, browser, ARIEGE, "atelier-acces", LONG_NOTES)
    command(live_server, ARIEGE, "step.goto", step="restitution")
    if not any(s["status"] == "speaking" for s in state(live_server, ARIEGE)["queue"]):
        command(live_server, ARIEGE, "queue.next")  # the first workshop: atelier-acces
    for size in SIZES:
        screen = open_screen(live_server, browser, ARIEGE, "foix", size)
        notes = screen.locator("#speaking-notes")
        expect(notes.locator("h2").first).to_be_visible()
        notes.evaluate("(e) => e.scrollTo(0, e.scrollHeight / 2)")  # paging through
        expect(screen.locator("#more-above")).to_be_visible()
        expect(screen.locator("#more-below")).to_be_visible()
        assert screen.evaluate(OVERLAPS) == [], f"at {size}"
        screen.close()
    rapporteur.close()
