"""In Debian's Chromium, a projector nobody attends during the plenary: whatever the
browser's sound policy, the picture plays (muted) on its own, and the only sound control is
a small button in the top bar, never over the picture; a click there brings the sound.
A speaker who stops leaves no frozen picture on the screens.

The speaker publishes from one Chromium (fake camera and microphone); the screens run in
another launched with the strictest autoplay policy (sound only after a click on that page).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.test_plenary import EVENT, WAIT, decoding, go_live, media_browser, server
from tests.browser.test_show_day import SIZES, command
from tests.support.servers import CHROMIUM, LiveServer

pytestmark = pytest.mark.browser
__all__ = ["media_browser", "server"]  # fixtures, used by name

# Where the sound control sits: in the top bar, small, and clear of every other part of
# the screen (the step, its countdown, the QR code).
PLACE = """() => {
  const button = document.getElementById("sound").getBoundingClientRect();
  const bar = document.querySelector(".screen-top").getBoundingClientRect();
  const others = [".screen-now", "#count-box", ".qr-area"]
    .map((s) => document.querySelector(s).getBoundingClientRect());
  const overlaps = (a, b) =>
    a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
  return {
    inBar: button.top >= bar.top - 1 && button.bottom <= bar.bottom + 1,
    share: (button.width * button.height) / (innerWidth * innerHeight),
    clear: others.every((o) => !overlaps(button, o)),
  };
}"""


@pytest.fixture(scope="module")
def strict_browser(media_browser: Any) -> Iterator[Any]:
    """Chromium as a projector's browser may be set: no sound before a click on the page
    (launched by the same Playwright as the speaker's)."""
    b = media_browser.browser_type.launch(
        executable_path=CHROMIUM,
        args=[
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-features=WebRtcHideLocalIpsWithMdns",
            "--autoplay-policy=user-gesture-required",
        ],
    )
    try:
        yield b
    finally:
        b.close()


def open_projector(server: LiveServer, browser: Any, size: Any, sound_chosen: bool) -> Any:
    """A site screen in a fresh profile; `sound_chosen`: someone once clicked "Activer le
    son" on this machine (the browser's policy may still refuse the sound)."""
    context = browser.new_context(viewport={"width": size[0], "height": size[1]})
    if sound_chosen:
        context.add_init_script("localStorage.setItem('relais.sound', 'on')")
    page = context.new_page()
    k = server.link(EVENT, "screen", site="niort")
    page.goto(f"http://localhost:{server.port}/e/{EVENT}/screen?k={k}")
    return page


def on_air(server: LiveServer, browser: Any) -> Any:
    """The speaker's page, live (its fake camera and microphone)."""
    speaker = browser.new_page()
    speaker.goto(
        f"http://localhost:{server.port}/e/{EVENT}/speak?k={server.link(EVENT, 'speaker')}"
    )
    go_live(speaker)
    return speaker


def test_an_unattended_screen_plays_the_picture_muted_with_a_small_sound_control_aside(
    server: LiveServer, media_browser: Any, strict_browser: Any
) -> None:
    speaker = on_air(server, media_browser)
    command(server, EVENT, "step.goto", step="ouverture")  # the rector's opening, video on
    screens = [
        open_projector(server, strict_browser, size, sound_chosen=i % 2 == 1)
        for i, size in enumerate(SIZES)
    ]
    for size, screen in zip(SIZES, screens, strict=True):
        seen = decoding(screen)
        decoding(screen, seen)  # the picture moves: it plays, nobody clicked
        assert screen.locator("#program").evaluate("v => !v.paused && v.muted")
        expect(screen.locator("body")).to_have_attribute("data-sound", "muted")
        sound = screen.get_by_role("button", name="Activer le son")
        expect(sound).to_be_visible()
        place = screen.evaluate(PLACE)
        assert place["inBar"] and place["clear"] and place["share"] < 0.01, f"{size}: {place}"

    screen = screens[0]
    screen.get_by_role("button", name="Activer le son").click()  # a click: sound allowed
    expect(screen.locator("body")).to_have_attribute("data-sound", "on")
    expect(screen.locator("#sound")).to_be_hidden()
    assert screen.locator("#program").evaluate("v => !v.paused && !v.muted")
    for page in screens:
        page.context.close()
    speaker.close()


def test_a_speaker_who_stops_leaves_no_frozen_picture_on_the_screens(
    server: LiveServer, media_browser: Any
) -> None:
    speaker = on_air(server, media_browser)
    command(server, EVENT, "step.goto", step="ouverture")
    screen = open_projector(server, media_browser, (1280, 720), sound_chosen=False)
    seen = decoding(screen)
    expect(screen.locator("body")).not_to_have_class("frozen")
    speaker.get_by_role("button", name="Arrêter").click()
    expect(screen.locator("body.frozen")).to_have_count(1, timeout=WAIT)
    assert screen.locator("#program").evaluate("v => getComputedStyle(v).opacity") == "0"
    expect(screen.locator("#picture-status")).to_have_text("En attente de l'image…")
    go_live(speaker)  # back on air: the picture comes back
    decoding(screen, seen)
    expect(screen.locator("body.frozen")).to_have_count(0, timeout=WAIT)
    expect(screen.locator("#picture-status")).to_have_text("")
    screen.context.close()
    speaker.close()


def test_the_console_shows_which_screens_play_without_sound(
    server: LiveServer, media_browser: Any, strict_browser: Any
) -> None:
    """The régie knows which projectors nobody has clicked yet (and sends someone)."""
    speaker = on_air(server, media_browser)
    command(server, EVENT, "step.goto", step="ouverture")
    screen = open_projector(server, strict_browser, (1280, 720), sound_chosen=False)
    decoding(screen)
    console = media_browser.new_page(viewport={"width": 1920, "height": 1080})
    k = server.link(EVENT, "facilitator")
    console.goto(f"http://localhost:{server.port}/e/{EVENT}/console?k={k}")
    muted = console.locator("#muted-screens")
    expect(muted).to_be_visible(timeout=WAIT)
    expect(muted).to_contain_text("Niort")
    expect(console.locator('#receivers tr[data-site="niort"]')).to_have_attribute(
        "data-sound", "muted"
    )
    screen.get_by_role("button", name="Activer le son").click()  # someone went there
    expect(muted).to_be_hidden(timeout=WAIT)
    expect(console.locator('#receivers tr[data-site="niort"]')).to_have_attribute(
        "data-sound", "on", timeout=WAIT
    )
    screen.context.close()
    console.close()
    speaker.close()
