"""In Debian's Chromium, the plenary on a 4:3 projector (1024×768): the picture leaves a
letterbox, and the step's caption and its countdown are never cut by its edge: a box that
reaches past the picture is opaque, one band with the letterbox, and nothing leaves the
screen."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.test_plenary import EVENT, decoding, media_browser, server
from tests.browser.test_show_day import OUTSIDE, command
from tests.browser.test_unattended_sound import on_air

pytestmark = pytest.mark.browser
__all__ = ["media_browser", "server"]  # fixtures, used by name

# The picture's rectangle inside the video element (object-fit: contain, object-position),
# and each box of the bottom band: whether it crosses the picture's edge, and its opacity.
BAND = """() => {
  const v = document.getElementById("program");
  const box = v.getBoundingClientRect();
  const scale = Math.min(box.width / v.videoWidth, box.height / v.videoHeight);
  const h = v.videoHeight * scale;
  const [, y] = getComputedStyle(v).objectPosition.split(" ");
  const top = box.top + (box.height - h) * parseFloat(y) / 100;
  const bottom = top + h;
  return [".screen-now", "#count-box"].map((s) => {
    const r = document.querySelector(s).getBoundingClientRect();
    const alpha = getComputedStyle(document.querySelector(s)).backgroundColor
      .match(/[\\d.]+/g).map(Number)[3] ?? 1;
    const crosses = r.top < bottom - 1 && r.bottom > bottom + 1;
    return { box: s, crosses, alpha, letterbox: box.bottom - bottom };
  });
}"""


def test_on_a_4_3_screen_the_plenary_caption_is_not_cut_by_the_letterbox(
    server: Any, media_browser: Any
) -> None:
    speaker = on_air(server, media_browser)
    command(server, EVENT, "step.goto", step="ouverture")
    screen = media_browser.new_page(viewport={"width": 1024, "height": 768})
    k = server.link(EVENT, "screen", site="niort")
    screen.goto(f"http://localhost:{server.port}/e/{EVENT}/screen?k={k}")
    decoding(screen)
    ratio = screen.locator("#program").evaluate("v => v.videoWidth / v.videoHeight")
    assert ratio > 1024 / 768 + 0.05, f"the fake camera's picture is {ratio}: no letterbox"
    for band in screen.evaluate(BAND):
        assert band["letterbox"] > 0, band  # the picture leaves a band at the bottom
        assert not band["crosses"] or band["alpha"] == 1, band
    assert screen.evaluate(OUTSIDE) == []
    screen.close()
    speaker.close()
