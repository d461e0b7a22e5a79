"""The plenary visio with a peer nobody here wrote: Debian's Chromium publishes on the speaker
page (its fake camera and microphone), and a site screen, another Chromium page, decodes the
relayed picture; a site's host asks for the floor, the console gives it, every screen shows
that site, then the console takes the floor back to the speaker.

aioice offers no loopback address by default, and Chromium hides its local addresses behind
mDNS names: the server offers 127.0.0.1 only (RELAIS_ICE_HOST_ADDRESSES) and Chromium shows
its real ones (WebRtcHideLocalIpsWithMdns off). getUserMedia needs a secure context, which
http://localhost is.
"""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.support.servers import CHROMIUM, LiveServer, unavailable

pytestmark = pytest.mark.browser
EVENT = "poitiers-2020"  # sites: poitiers (the hub), niort, angouleme, saint-jean
WAIT = 20_000  # ms: a bound against hanging, not a measure
VIDEO = re.compile(r"\bvideo\b")  # the screen's class while the picture fills it


@pytest.fixture(scope="module")
def media_browser() -> Iterator[Any]:
    """Chromium with a fake camera and microphone, allowed without asking, autoplaying."""
    if not Path(CHROMIUM).exists():
        unavailable("Debian's chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--use-fake-device-for-media-stream",
                "--use-fake-ui-for-media-stream",
                "--disable-features=WebRtcHideLocalIpsWithMdns",
                "--autoplay-policy=no-user-gesture-required",
            ],
        )
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    s = LiveServer(tmp_path / "data", env={"RELAIS_ICE_HOST_ADDRESSES": "127.0.0.1"})
    s.start()
    try:
        yield s
    finally:
        s.stop()


class Pages:
    """The pages of one test, in one browser context, each watched for policy violations
    and script errors."""

    def __init__(self, server: LiveServer, browser: Any) -> None:
        self.server = server
        self.context = browser.new_context()
        self.problems: list[str] = []

    def open(self, page: str, role: str, **claims: Any) -> Any:
        tab = self.context.new_page()
        tab.on(
            "console",
            lambda m: self.problems.append(m.text) if "Content Security Policy" in m.text else None,
        )
        tab.on("pageerror", lambda e: self.problems.append(str(e)))
        k = self.server.link(EVENT, role, **claims)
        tab.goto(f"http://localhost:{self.server.port}/e/{EVENT}/{page}?k={k}")
        return tab

    def close(self) -> None:
        self.context.close()


def frames(page: Any) -> int:
    """Frames the page's program video decoded (inbound-rtp framesDecoded, via data-frames)."""
    return int(page.locator("#program").get_attribute("data-frames") or 0)


def decoding(page: Any, more_than: int = 0) -> int:
    """Wait until the program has decoded more than `more_than` + 20 frames; return how many."""
    page.wait_for_function(
        f"() => Number(document.querySelector('#program').dataset.frames || 0) > {more_than + 20}",
        timeout=WAIT,
    )
    return frames(page)


def relay_status(server: LiveServer) -> dict[str, Any]:
    k = server.link(EVENT, "facilitator")
    with urllib.request.urlopen(f"{server.url}/e/{EVENT}/plenary?k={k}") as r:
        status: dict[str, Any] = json.load(r)
    return status


def go_live(page: Any) -> None:
    page.locator("#go-live:enabled").click(timeout=WAIT)  # enabled once the camera shows
    expect(page.locator("#on-air")).to_have_attribute("data-live", "1", timeout=WAIT)


def plenary_step(console: Any) -> None:
    """The console starts the opening plenary (its video is on)."""
    expect(console.locator("#conn")).to_have_text("Connecté", timeout=WAIT)
    console.get_by_role("button", name="Étape 2 : Ouverture par Mme la Rectrice").click()


def test_the_speaker_goes_live_and_a_site_screen_decodes_the_picture(
    server: LiveServer, media_browser: Any
) -> None:
    pages = Pages(server, media_browser)
    speaker = pages.open("speak", "speaker")
    expect(speaker.get_by_label("Caméra", exact=True)).to_contain_text("fake", timeout=WAIT)
    go_live(speaker)
    console = pages.open("console", "facilitator")
    plenary_step(console)
    screen = pages.open("screen", "screen", site="niort")
    expect(screen.locator("body")).to_have_class(VIDEO, timeout=WAIT)
    expect(screen.locator("#step-title")).to_have_text("Ouverture par Mme la Rectrice")
    first = decoding(screen)
    assert decoding(screen, first) > first  # framesDecoded grows: the picture moves
    # A screen that opens late shows the picture within a second of opening (the relay
    # asks the speaker for a keyframe for it).
    shown_at = screen.locator("#program").get_attribute("data-first-frame-ms")
    assert shown_at is not None and int(shown_at) < 1000, shown_at
    # The speaker sees how it goes, from its own connection's statistics.
    expect(speaker.locator("#q-verdict")).not_to_have_text("—", timeout=WAIT)
    assert int(speaker.locator("#q-fps").inner_text()) > 0
    # Sound: one click, remembered by the screen.
    speaker_status = relay_status(server)["feeds"]["speaker"]
    assert speaker_status["live"] and speaker_status["publisher"]["role"] == "speaker"
    screen.get_by_role("button", name="Activer le son").click()
    expect(screen.locator("#sound")).to_be_hidden()
    assert screen.locator("#program").evaluate("v => v.muted") is False
    screen.reload()
    decoding(screen)
    expect(screen.locator("#sound")).to_be_hidden()
    assert screen.locator("#program").evaluate("v => v.muted") is False
    # Leaving the video step gives the screen back to the agenda, and ends its session.
    console.get_by_role("button", name="Étape suivante →").click()
    console.get_by_role("button", name="Confirmer").click()
    expect(screen.locator("#step-title")).to_contain_text("Table ronde", timeout=WAIT)
    console.get_by_role("button", name="Étape suivante →").click()
    console.get_by_role("button", name="Confirmer").click()
    expect(screen.locator("body")).not_to_have_class(VIDEO, timeout=WAIT)
    assert pages.problems == []
    pages.close()


def test_the_floor_goes_to_a_site_that_asked_and_back_to_the_speaker_from_the_console(
    server: LiveServer, media_browser: Any
) -> None:
    pages = Pages(server, media_browser)
    go_live(pages.open("speak", "speaker"))
    host = pages.open("host", "host", site="niort")
    go_live(host)  # "Diffuser la caméra": the room's camera, the site's feed
    console = pages.open("console", "facilitator")
    plenary_step(console)
    screen = pages.open("screen", "screen", site="poitiers")  # the hub: the mosaic too
    seen = decoding(screen)
    niort_tile = screen.locator('#mosaic li[data-feed="site:niort"]')
    expect(niort_tile).to_have_attribute("data-live", "1", timeout=WAIT)
    expect(screen.locator('#mosaic li[data-feed="site:angouleme"]')).to_have_attribute(
        "data-live", "0"
    )

    room = pages.open("screen", "screen", site="niort")  # the screen in the asking room
    room.get_by_role("button", name="Activer le son").click(timeout=WAIT)
    assert room.locator("#program").evaluate("v => v.muted") is False

    host.get_by_role("button", name="Demander la parole").click()
    request = console.locator("#floor-requests li", has_text="Lycée Paul Guérin, Niort")
    request.get_by_role("button", name="Donner la parole").click()
    expect(host.locator("#floor-line")).to_have_text(
        "Vous avez la parole : votre salle est à l'antenne sur tous les écrans."
    )
    expect(screen.locator("body")).to_have_attribute("data-floor", "site:niort")
    # The room that has the floor hears itself already: its screen plays no sound (no echo).
    expect(room.locator("body")).to_have_attribute("data-floor", "site:niort")
    assert room.locator("#program").evaluate("v => v.muted") is True
    expect(console.locator("#floor-requests li")).to_have_count(0)
    assert relay_status(server)["program"] == "site:niort"
    seen = decoding(screen, seen)  # the site's picture, on the same session
    hub_screen = console.locator('#receivers tr[data-site="poitiers"]')
    expect(hub_screen).to_contain_text("Lycée Paul Guérin, Niort", timeout=WAIT)
    expect(hub_screen).to_have_attribute("data-lost", "0")  # and gets the picture
    expect(console.locator('#console-mosaic li[data-feed="site:niort"]')).to_have_attribute(
        "data-live", "1", timeout=WAIT
    )
    receivers = relay_status(server)["receivers"]
    screens = [r for r in receivers if r["role"] == "screen" and r["watching"] == "program"]
    assert {r["site"] for r in screens} == {"poitiers", "niort"}
    assert all(r["feed"] == "site:niort" and r["frames"] > 0 for r in screens)

    console.get_by_role("button", name="Retour à l'intervenant").click()
    expect(screen.locator("body")).to_have_attribute("data-floor", "speaker")
    expect(host.locator("#floor-line")).to_have_text("La parole est à : l'intervenant")
    expect(room.locator("body")).to_have_attribute("data-floor", "speaker")
    assert room.locator("#program").evaluate("v => v.muted") is False
    assert relay_status(server)["program"] == "speaker"
    decoding(screen, seen)
    expect(hub_screen).to_contain_text("l'intervenant", timeout=WAIT)
    assert pages.problems == []
    pages.close()


def test_after_a_server_restart_the_speaker_and_the_screen_reconnect_by_themselves(
    server: LiveServer, media_browser: Any
) -> None:
    pages = Pages(server, media_browser)
    speaker = pages.open("speak", "speaker")
    go_live(speaker)
    plenary_step(pages.open("console", "facilitator"))
    screen = pages.open("screen", "screen", site="niort")
    seen = decoding(screen)
    server.restart(hard=True)  # every peer connection of the relay is gone with it
    decoding(screen, seen + 20)  # frames grow again: a new session, relayed by the new server
    expect(speaker.locator("#on-air")).to_have_attribute("data-live", "1")
    status = relay_status(server)
    assert status["feeds"]["speaker"]["live"]
    (watching,) = [r for r in status["receivers"] if r["role"] == "screen"]
    assert watching["site"] == "niort" and watching["frames"] > 0
    assert pages.problems == []
    pages.close()


def test_a_screen_shows_an_external_visio_room_with_its_qr_code_at_projector_sizes(
    tmp_path: Path, media_browser: Any
) -> None:
    """A step held in BigBlueButton, Jitsi or Teams: its room's QR code, next to the one to
    join and as big, instead of the relay's picture; during workshops, the site's
    workshop's room. Nothing leaves the screen."""
    from tests.browser.test_show_day import OUTSIDE, SIZES, command, open_screen
    from tests.plenary.test_pages import VISIO, WITH_VISIO

    server = LiveServer(tmp_path / "data")
    server.import_event(WITH_VISIO, "visio")
    server.start()
    try:
        screens = {
            size: open_screen(server, media_browser, "visio-2026", "loin", size) for size in SIZES
        }
        for step, room in (("ouverture", "ouverture"), ("ateliers", "a")):
            command(server, "visio-2026", "step.goto", step=step)
            for size, screen in screens.items():
                shown = screen.locator("figure.visio-room:visible")
                expect(shown).to_have_count(1)
                assert room in (
                    shown.get_attribute(f"data-{kind}") for kind in ("step", "workshop")
                )
                expect(screen.locator("body")).not_to_have_class(VIDEO)
                screen.wait_for_timeout(150)
                assert screen.evaluate(OUTSIDE) == [], f"{step} at {size}"
                for qr in (shown, screen.locator("figure.qr:not(.visio-room)")):
                    box = qr.locator("svg").bounding_box()
                    assert box and box["height"] >= 0.25 * size[1], f"QR too small at {size}"
        assert VISIO in screens[SIZES[0]].content()
    finally:
        server.stop()
