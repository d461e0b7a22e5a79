"""In Debian's Chromium: the rapporteur moderates her workshop's proposals from her notes
page (retain, hide with a reason, correct, merge, a refusal shown by the action); the
site screen shows the reporting workshop's retained proposals with their supports, most
supported first, and follows the turn to the next workshop; a poll asked from the
console shows its results live on the screen of the site it is asked to, and on the
console, as phones vote (the phones here are participation sockets from Python)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect
from websockets.sync.client import ClientConnection, connect

from live.web.connections import DEVICE_COOKIE
from tests.support.servers import LiveServer, unavailable

pytestmark = pytest.mark.browser
EVENT, ACCES, ENSEIGNER = "ariege-2020", "atelier-acces", "atelier-enseigner"
LAPTOP = {"width": 1280, "height": 900}
PROJECTOR = {"width": 1280, "height": 720}
AXE = Path(__file__).resolve().parents[2] / "js" / "node_modules" / "axe-core" / "axe.min.js"


def axe(page: Page) -> list[str]:
    """axe-core's WCAG 2 A/AA violations on the page as it is now (as test_accessibility)."""
    if not AXE.exists():
        unavailable("axe-core is not installed: npm ci --prefix js")
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa']}})"
    )
    return [f"{v['id']} ({v['impact']}): {v['nodes'][0]['target']}" for v in result["violations"]]


def command(server: LiveServer, name: str, **args: Any) -> None:
    """The régie's command, from another console."""
    token = server.link(EVENT, "facilitator")
    with connect(f"{server.ws_url}/ws/events/{EVENT}?k={token}") as ws:
        ws.send(json.dumps({"type": "command", "id": name, "name": name, "args": args}))
        while True:
            msg = json.loads(ws.recv(timeout=10))
            if msg.get("id") == name and msg["type"] in ("ack", "error"):
                assert msg["type"] == "ack", msg
                return


@contextmanager
def phone(server: LiveServer, workshop: str) -> Iterator[ClientConnection]:
    """A phone on the site's shared link, with the device cookie its page gives it."""
    token = server.link(EVENT, "participant", site="foix")
    cookie = httpx.get(f"{server.url}/e/{EVENT}/me?k={token}").cookies[DEVICE_COOKIE]
    url = f"{server.ws_url}/ws/participation/{EVENT}?k={token}&w={workshop}"
    with connect(url, additional_headers={"Cookie": f"{DEVICE_COOKIE}={cookie}"}) as ws:
        ws.send(json.dumps({"type": "hello", "since": None, "epoch": None}))
        recv(ws, "view")
        yield ws


def recv(ws: ClientConnection, kind: str) -> dict[str, Any]:
    while True:
        msg: dict[str, Any] = json.loads(ws.recv(timeout=10))
        if msg["type"] == kind:
            return msg


def send(ws: ClientConnection, cid: str, name: str, **args: Any) -> None:
    ws.send(json.dumps({"type": "command", "id": cid, "name": name, "args": args}))
    while True:
        msg = json.loads(ws.recv(timeout=10))
        if msg["type"] in ("ack", "error") and msg.get("id") == cid:
            assert msg["type"] == "ack", msg
            return


def rapporteur(server: LiveServer, browser: Any, workshop: str = ACCES) -> Page:
    page: Page = browser.new_page(viewport=LAPTOP, bypass_csp=True)  # axe goes in inline
    token = server.link(EVENT, "rapporteur", workshop=workshop)
    page.goto(f"{server.url}/e/{EVENT}/notes?k={token}")
    return page


def screen(server: LiveServer, browser: Any) -> Page:
    page: Page = browser.new_page(viewport=PROJECTOR, bypass_csp=True)
    page.goto(f"{server.url}/e/{EVENT}/screen?k={server.link(EVENT, 'screen', site='foix')}")
    return page


def row(page: Page, pid: str) -> Any:
    return page.locator(f"#moderation li[data-proposal='{pid}']")


def test_the_rapporteur_retains_and_the_screen_shows_it_most_supported_first(
    live_server: LiveServer, browser: Any
) -> None:
    with phone(live_server, ACCES) as alice, phone(live_server, ACCES) as bob:
        send(alice, "c1", "propose", title="Un ordinateur par famille")
        send(bob, "c1", "propose", title="Former les parents")
        send(alice, "c2", "support", proposal="p2")
        send(bob, "c2", "support", proposal="p2")
        command(live_server, "step.goto", step="restitution")  # Accès reports first
        projector = screen(live_server, browser)
        expect(projector.locator("#speaking")).to_be_visible()
        expect(projector.locator("#retained")).to_be_hidden()  # nothing retained yet

        page = rapporteur(live_server, browser)
        expect(row(page, "p2")).to_contain_text("Soutiens : 2")
        row(page, "p1").get_by_role("button", name="Retenir pour la restitution").click()
        button = row(page, "p1").locator(".mod-retain")
        expect(button).to_have_attribute("aria-pressed", "true")
        expect(button).to_have_text("✓ Retenue pour la restitution")
        items = projector.locator("#retained-list li")
        expect(items).to_have_count(1)
        expect(items.first).to_contain_text("Un ordinateur par famille")
        expect(items.first.locator(".retained-supports")).to_have_text("soutiens : 0")

        row(page, "p2").get_by_role("button", name="Retenir pour la restitution").click()
        expect(items).to_have_count(2)
        expect(items.first).to_contain_text("Former les parents")  # two supports: first
        expect(items.first.locator(".retained-supports")).to_have_text("soutiens : 2")
        send(alice, "c3", "support", proposal="p1")  # live: a support reaches the screen
        expect(items.nth(1).locator(".retained-supports")).to_have_text("soutiens : 1")

        assert axe(projector) == []
        command(live_server, "queue.next")  # the Enseigner workshop's turn: none retained
        expect(projector.locator("#speaking-title")).to_contain_text("Enseigner")
        expect(projector.locator("#retained")).to_be_hidden()
    page.close()
    projector.close()


def test_the_rapporteur_hides_corrects_and_merges_and_sees_refusals(
    live_server: LiveServer, browser: Any
) -> None:
    with phone(live_server, ACCES) as alice, phone(live_server, ACCES) as bob:
        send(alice, "c1", "propose", title="Un ordinateur par famille", body="Prêté par l'école")
        send(bob, "c1", "propose", title="Un ordinateur pour chaque famille")
        send(bob, "c2", "argue", proposal="p1", stance="contre", text="Trop cher")
        page = rapporteur(live_server, browser)
        expect(page.locator("#moderation .mod-status")).to_have_text("Propositions : 2")

        # Hide with a reason: its author is told it (her own card); then unhide.
        first = row(page, "p1")
        actions = first.locator(".mod-actions")
        actions.get_by_label("Raison du masquage (l'auteur la voit)").fill("Hors sujet")
        actions.get_by_role("button", name="Masquer").click()
        expect(first.locator(".mod-state")).to_have_text("Masquée : Hors sujet")
        mine = recv(alice, "proposal")["proposal"]
        while mine["id"] != "p1" or mine["status"] != "hidden":  # Bob's changes came first
            mine = recv(alice, "proposal")["proposal"]
        assert mine["status"] == "hidden" and mine["hide_reason"] == "Hors sujet"
        first.get_by_role("button", name="Rétablir").click()
        expect(first.locator(".mod-state")).to_have_text("Ouverte")

        # Correct the title; the former wording is kept.
        first.locator("summary", has_text="Corriger").click()
        first.get_by_label("Titre").fill("Un ordinateur prêté à chaque famille")
        first.get_by_role("button", name="Enregistrer la correction").click()
        expect(first.locator(".mod-title")).to_have_text("Un ordinateur prêté à chaque famille")
        expect(first.locator(".mod-history summary")).to_have_text("Versions précédentes : 1")

        # A correction that changes nothing is refused, next to the action.
        first.locator("summary", has_text="Corriger").click()
        first.get_by_role("button", name="Enregistrer la correction").click()
        expect(first.locator(".mod-error")).to_be_visible()
        expect(first.locator(".mod-error")).not_to_be_empty()

        # Merge the duplicate into the first.
        second = row(page, "p2")
        second.get_by_label("Doublon de").select_option("p1")
        second.get_by_role("button", name="Fusionner").click()
        expect(second.locator(".mod-state")).to_have_text(
            "Fusionnée dans « Un ordinateur prêté à chaque famille »"
        )
        expect(second.locator(".mod-merge")).to_be_hidden()
        first.locator("summary", has_text="Arguments : 1").click()
        argument = first.locator(".mod-arguments li")
        expect(argument).to_contain_text("Contre : Trop cher")
        argument.locator("summary", has_text="Masquer").click()
        argument.get_by_label("Raison du masquage (l'auteur la voit)").fill("Hors sujet")
        argument.get_by_role("button", name="Masquer").click()
        expect(argument).to_contain_text("(Masquée : Hors sujet)")
        argument.get_by_role("button", name="Rétablir").click()
        expect(argument.locator("summary", has_text="Masquer")).to_be_visible()
        assert axe(page) == []
    page.close()


def test_a_poll_asked_from_the_console_shows_its_results_on_the_screen(
    live_server: LiveServer, browser: Any
) -> None:
    projector = screen(live_server, browser)
    console: Page = browser.new_page(viewport=LAPTOP, bypass_csp=True)
    console.goto(f"{live_server.url}/e/{EVENT}/console?k={live_server.link(EVENT, 'facilitator')}")
    with phone(live_server, ENSEIGNER) as voter:  # a phone at Foix, in another workshop
        card = console.locator("#polls-card")
        card.get_by_label("Question").fill("Quel sujet en premier ?")
        card.get_by_label("Réponses proposées").fill("Égalité d'accès\nInclusion\n\nFormation")
        card.get_by_label("Type").select_option("one")
        card.get_by_label("Posé à").select_option("site")
        card.get_by_label("Lequel").select_option("foix")
        card.get_by_role("button", name="Poser la question").click()

        poll = recv(voter, "poll")["poll"]
        assert poll["options"] == ["Égalité d'accès", "Inclusion", "Formation"]
        polls = projector.locator("#screen-polls")
        expect(polls).to_be_visible()
        expect(polls.locator(".poll-question")).to_have_text("Quel sujet en premier ?")
        expect(polls.locator(".poll-voters")).to_have_text("Votants : 0")

        send(voter, "v1", "vote", poll=poll["id"], choices=[1])
        bars = polls.locator(".poll-bars li")
        expect(bars.nth(1).locator(".poll-value")).to_have_text("1")
        expect(bars.nth(0).locator(".poll-value")).to_have_text("0")
        expect(polls.locator(".poll-voters")).to_have_text("Votants : 1")
        assert axe(projector) == []
        asked = console.locator(f"#polls-list li[data-poll='{poll['id']}']")
        expect(asked.locator(".poll-bars li").nth(1).locator(".poll-value")).to_have_text("1")

        asked.get_by_role("button", name="Clore le vote").click()
        expect(asked.locator(".poll-meta")).to_contain_text("clos")
        expect(polls).to_be_hidden()  # the screen shows the polls still open
        assert axe(console) == []
    console.close()
    projector.close()


def test_a_facilitator_moderates_any_workshop_from_the_console(
    live_server: LiveServer, browser: Any
) -> None:
    with phone(live_server, ENSEIGNER) as alice:
        send(alice, "c1", "propose", title="Des tablettes en classe")
    console: Page = browser.new_page(viewport=LAPTOP)
    console.goto(f"{live_server.url}/e/{EVENT}/console?k={live_server.link(EVENT, 'facilitator')}")
    panel = console.locator("#moderation")
    expect(panel.locator(".mod-status")).to_have_text("Choisissez un atelier.")
    panel.get_by_label("Atelier").select_option(ENSEIGNER)
    expect(row(console, "p1")).to_contain_text("Des tablettes en classe")
    row(console, "p1").get_by_role("button", name="Retenir pour la restitution").click()
    expect(row(console, "p1").locator(".mod-retain")).to_have_attribute("aria-pressed", "true")
    console.close()
