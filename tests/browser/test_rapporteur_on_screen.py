"""In Debian's Chromium: the rapporteur's notes page says, live, whether its workshop's
notes are on the site screens — not yet (and when), now (with the slot's countdown), in
N minutes after whom, or already shown — in French, and in English with `?lang=en`."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from websockets.sync.client import connect

from tests.support.servers import LiveServer, unavailable

pytestmark = pytest.mark.browser
EVENT = "ariege-2020"
FIRST, SECOND = "atelier-acces", "atelier-enseigner"  # the restitution's first two turns
AXE = Path(__file__).resolve().parents[2] / "js" / "node_modules" / "axe-core" / "axe.min.js"
LAPTOP = {"width": 1280, "height": 720}


def command(server: LiveServer, name: str, **args: Any) -> None:
    """The régie's command (setting the scene from another console)."""
    token = server.link(EVENT, "facilitator")
    with connect(f"{server.ws_url}/ws/events/{EVENT}?k={token}") as ws:
        ws.send(json.dumps({"type": "command", "id": name, "name": name, "args": args}))
        while True:
            msg = json.loads(ws.recv(timeout=5))
            if msg.get("id") == name and msg["type"] in ("ack", "error"):
                assert msg["type"] == "ack", msg
                return


def rapporteur(server: LiveServer, browser: Any, workshop: str, lang: str = "fr") -> Page:
    page: Page = browser.new_page(viewport=LAPTOP)
    token = server.link(EVENT, "rapporteur", workshop=workshop)
    page.goto(f"{server.url}/e/{EVENT}/notes?k={token}&lang={lang}")
    return page


def line(page: Page) -> Any:
    return page.locator("#notes-onscreen-text")


def test_before_the_restitution_the_page_says_when_the_notes_will_show(
    live_server: LiveServer, browser: Any
) -> None:
    command(live_server, "step.goto", step="ateliers")
    page = rapporteur(live_server, browser, FIRST)
    expect(line(page)).to_have_text(
        "Pas encore à l'écran : vos notes s'afficheront pendant "
        "Restitution en plénière des productions de chaque atelier (16:30)."
    )
    expect(page.locator("#notes-onscreen-clock")).to_be_hidden()
    page.close()


def test_the_first_workshop_is_on_screen_now_with_its_slot_as_the_restitution_starts(
    live_server: LiveServer, browser: Any
) -> None:
    first = rapporteur(live_server, browser, FIRST)
    second = rapporteur(live_server, browser, SECOND)
    expect(line(first)).to_contain_text("Pas encore à l'écran")
    command(live_server, "step.goto", step="restitution")
    expect(line(first)).to_have_text(
        "À l'écran maintenant : vos notes s'affichent sur les écrans des sites."
    )
    expect(first.locator("#notes-onscreen")).to_have_attribute("data-when", "now")
    expect(first.locator("#notes-onscreen-clock")).to_have_text(re.compile(r"^1[12]:\d\d$"))
    expect(line(second)).to_have_text(
        re.compile(
            r"^À l'écran dans 1[12] min, après "
            r"« Un égal accès au numérique pour tous / Fracture numérique »\.$"
        )
    )
    for page in (first, second):
        page.close()


def test_when_the_next_speaker_is_called_the_first_has_passed_and_the_second_is_on(
    live_server: LiveServer, browser: Any
) -> None:
    command(live_server, "step.goto", step="restitution")
    first = rapporteur(live_server, browser, FIRST)
    second = rapporteur(live_server, browser, SECOND)
    expect(line(second)).to_contain_text("À l'écran dans")
    command(live_server, "queue.next")
    expect(line(first)).to_have_text("Déjà passé à l'écran.")
    expect(line(second)).to_contain_text("À l'écran maintenant")
    for page in (first, second):
        page.close()


def test_a_later_workshop_counts_the_slots_before_it(live_server: LiveServer, browser: Any) -> None:
    command(live_server, "step.goto", step="restitution")
    last = rapporteur(live_server, browser, "atelier-gouvernance")  # fifth of five, 12 min each
    expect(line(last)).to_have_text(re.compile(r"^À l'écran dans 4[78] min, après « .+ »\.$"))
    last.close()


def test_the_page_says_it_in_english_too(live_server: LiveServer, browser: Any) -> None:
    command(live_server, "step.goto", step="restitution")
    first = rapporteur(live_server, browser, FIRST, "en")
    second = rapporteur(live_server, browser, SECOND, "en")
    expect(line(first)).to_have_text("On screen now: your notes show on the sites' screens.")
    expect(line(second)).to_have_text(re.compile(r"^On screen in 1[12] min, after “.+”\.$"))
    for page in (first, second):
        page.close()


def test_when_the_regie_calls_the_first_turn_the_first_workshop_is_told_it_is_first(
    live_server: LiveServer, browser: Any
) -> None:
    command(live_server, "step.goto", step="restitution", first_turn=False)
    first = rapporteur(live_server, browser, FIRST)
    expect(line(first)).to_have_text("À l'écran en premier, dès que la régie lance la restitution.")
    first.close()


def test_the_on_screen_line_passes_the_wcag_rules(live_server: LiveServer, browser: Any) -> None:
    if not AXE.exists():
        unavailable("axe-core is not installed: npm ci --prefix js")
    command(live_server, "step.goto", step="restitution")
    for workshop in (FIRST, SECOND):  # "now" and "soon" have their own colours
        page: Page = browser.new_page(viewport=LAPTOP, bypass_csp=True)
        token = live_server.link(EVENT, "rapporteur", workshop=workshop)
        page.goto(f"{live_server.url}/e/{EVENT}/notes?k={token}")
        expect(page.locator("#notes-onscreen")).not_to_have_attribute("data-when", "unknown")
        page.add_script_tag(path=str(AXE))
        result = page.evaluate(
            "axe.run('#notes-onscreen', {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa']}})"
        )
        assert result["passes"], "axe checked nothing"
        assert [v["id"] for v in result["violations"]] == []
        page.close()
