"""In Debian's Chromium, the Grand Est plenary on screens whose site and room have long
names: the clock stays whole on one line and the room where the site gathers is read whole;
the site's name gives way (cut with an ellipsis) instead of running past the screen, at
every projector size."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.test_show_day import OUTSIDE, SIZES, command, open_screen
from tests.support.servers import LiveServer

pytestmark = pytest.mark.browser
GRAND_EST = "grand-est-2020"
CLOCK = re.compile(r"^\d\d:\d\d$")
SITES = ["chalons", "strasbourg", "mulhouse"]  # the longest site and room names

TOP = """() => {
  const clock = document.getElementById("clock");
  const bar = document.querySelector(".screen-top").getBoundingClientRect();
  const line = parseFloat(getComputedStyle(clock).lineHeight);
  const parts = [...document.querySelectorAll(".screen-top > *:not([hidden])")]
    .map((e) => e.getBoundingClientRect());
  const room = document.getElementById("step-room");
  const text = document.createRange();
  text.selectNodeContents(room);
  const padding = parseFloat(getComputedStyle(room).paddingLeft);
  return {
    clock: clock.textContent,
    room: text.getBoundingClientRect().width <= room.clientWidth - padding + 0.5,
    oneLine: clock.getBoundingClientRect().height < 1.5 * line,
    whole: clock.scrollWidth <= clock.clientWidth + 1,
    inside: parts.every((r) =>
      r.left >= bar.left - 1 && r.right <= Math.min(bar.right, innerWidth) + 1),
  };
}"""


def test_the_screen_clock_stays_on_one_line_beside_long_site_and_room_names(
    live_server: LiveServer, browser: Any
) -> None:
    command(live_server, GRAND_EST, "step.goto", step="ouverture")
    for site in SITES:
        for size in SIZES:
            screen = open_screen(live_server, browser, GRAND_EST, site, size)
            expect(screen.locator("#step-room")).to_contain_text("Lieu : ")
            expect(screen.locator("#clock")).to_have_text(CLOCK)
            top = screen.evaluate(TOP)
            assert top["oneLine"] and top["whole"] and top["inside"], f"{site} at {size}: {top}"
            assert top["room"], f"the room is cut: {site} at {size}"
            assert screen.evaluate(OUTSIDE) == [], f"{site} at {size}"
            screen.close()
