"""The rapporteur calls its workshop's experience reports from its notes page, against the
real server: its link sends `report.next` on the live socket for its own workshop only,
and the notes page of a workshop with reports shows them with the button."""

from __future__ import annotations

import asyncio
import html
import json
import re
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from playwright.sync_api import expect
from websockets.asyncio.client import ClientConnection, connect

from tests.agenda.test_reports import EVENT
from tests.server.test_live_server import command, hello
from tests.support.servers import LiveServer

# One server for the module; each test runs its own copy of the event (its own agenda).
COPIES = ("rex-lane", "rex-other", "rex-turn", "rex-page", "rex-browser")
CONFIG = re.compile(r'<script type="application/json" id="notes-config">(.*?)</script>')


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    tmp = tmp_path_factory.mktemp("reports")
    s = LiveServer(tmp / "data")
    for copy in COPIES:
        s.import_event(EVENT.replace("id: rex\n", f"id: {copy}\n", 1), copy)
    s.start()
    try:
        yield s
    finally:
        s.stop()


async def live(server: LiveServer, event: str, token: str, lang: str = "fr") -> ClientConnection:
    ws = await connect(f"{server.ws_url}/ws/events/{event}?k={token}&lang={lang}")
    await hello(ws)
    return ws


def state_of(server: LiveServer, event: str) -> dict[str, Any]:
    """The live state as the API gives it (the event frame has gone by with the ack)."""
    with urllib.request.urlopen(f"{server.url}/api/events/{event}/state", timeout=10) as r:
        state: dict[str, Any] = json.loads(r.read())["state"]
    return state


async def facilitate(server: LiveServer, event: str, name: str, **args: Any) -> None:
    ws = await live(server, event, server.link(event, "facilitator"))
    assert (await command(ws, name, "facilitator", **args))["type"] == "ack"
    await ws.close()


async def test_a_rapporteur_link_advances_its_workshops_reports(server: LiveServer) -> None:
    event = "rex-lane"
    await facilitate(server, event, "step.goto", step="ateliers")
    token = server.link(event, "rapporteur", workshop="enseigner-nancy")
    ws = await live(server, event, token)
    assert (await command(ws, "report.next", "first"))["type"] == "ack"
    lane = state_of(server, event)["lanes"]["enseigner-nancy"]
    assert [s["status"] for s in lane["queue"]] == ["speaking", "pending"]
    assert lane["speaker"]["status"] == "running" and lane["speaker"]["duration_ms"] == 4 * 60_000
    assert (await command(ws, "report.next", "second"))["type"] == "ack"
    lane = state_of(server, event)["lanes"]["enseigner-nancy"]
    assert [s["status"] for s in lane["queue"]] == ["done", "speaking"]
    await ws.close()


async def test_a_rapporteur_link_may_not_advance_another_workshop(server: LiveServer) -> None:
    event = "rex-other"
    await facilitate(server, event, "step.goto", step="ateliers")
    token = server.link(event, "rapporteur", workshop="enseigner-reims")
    ws = await live(server, event, token)
    reply = await command(ws, "report.next", "theirs", workshop="enseigner-nancy")
    assert reply["type"] == "error" and reply["code"] == "forbidden"
    await ws.close()
    lane = state_of(server, event)["lanes"]["enseigner-nancy"]
    assert [s["status"] for s in lane["queue"]] == ["pending", "pending"]


async def test_off_its_turn_the_refusal_is_said_in_the_pages_language(
    server: LiveServer,
) -> None:
    """A restitution calls Nancy's reports: Reims's rapporteur is told it is not its turn."""
    event = "rex-turn"
    await facilitate(server, event, "step.goto", step="restitution", first_turn=False)
    token = server.link(event, "rapporteur", workshop="enseigner-reims")
    for lang, sentence in (
        ("fr", "Ce n'est pas le tour de votre atelier de présenter."),
        ("en", "It is not your workshop's turn to present."),
    ):
        ws = await live(server, event, token, lang)
        reply = await command(ws, "report.next", f"turn-{lang}")
        assert (reply["code"], reply["message"]) == ("not_your_turn", sentence)
        await ws.close()
    nancy = await live(server, event, server.link(event, "rapporteur", workshop="enseigner-nancy"))
    assert (await command(nancy, "report.next", "ours"))["type"] == "ack"
    state = state_of(server, event)
    assert [s["status"] for s in state["queue"]] == ["speaking", "pending"]
    await nancy.close()


def page(server: LiveServer, workshop: str, lang: str = "fr") -> str:
    token = server.link("rex-page", "rapporteur", workshop=workshop)
    url = f"{server.url}/e/rex-page/notes?k={token}&lang={lang}"
    with urllib.request.urlopen(url, timeout=10) as r:
        return str(r.read().decode())


def panel(text: str) -> str:
    found = re.search(r'<section class="notes-reports".*?</section>', text, re.S)
    return html.unescape(found.group(0)) if found else ""


async def test_the_notes_page_of_a_workshop_with_reports_lists_them_with_the_button(
    server: LiveServer,
) -> None:
    text = await asyncio.to_thread(page, server, "enseigner-nancy")
    shown = panel(text)
    assert '<h2 id="notes-reports-title">Retours d\'expériences</h2>' in shown
    assert "Moodle en seconde" in shown and "Équipe du lycée Poincaré · 4 min" in shown
    assert "Classe inversée" in shown and "5 min" in shown
    assert "Commencer la première présentation" in shown
    found = CONFIG.search(text)
    assert found
    cfg = json.loads(html.unescape(found.group(1)))
    assert [r["id"] for r in cfg["reports"]] == ["enseigner-nancy-1", "enseigner-nancy-2"]
    assert cfg["report_steps"] == ["Ateliers (09:30)", "Restitution (10:30)"]
    assert cfg["lang"] == "fr" and cfg["strings"]["notes.reports.next"] == "Présentation suivante"
    english = panel(await asyncio.to_thread(page, server, "enseigner-nancy", "en"))
    assert "Experience reports" in english and "Start the first presentation" in english


async def test_the_notes_page_of_a_workshop_without_reports_has_no_such_panel(
    server: LiveServer,
) -> None:
    text = await asyncio.to_thread(page, server, "enseigner-reims")
    assert panel(text) == "" and "notes-reports" not in text
    assert "Moodle en seconde" not in text


@pytest.mark.browser
def test_the_rapporteur_presses_through_its_reports_from_the_notes_page(
    server: LiveServer, browser: Any
) -> None:
    event = "rex-browser"
    tab = browser.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    token = server.link(event, "rapporteur", workshop="enseigner-nancy")
    tab.goto(f"{server.url}/e/{event}/notes?k={token}")
    button, why = tab.locator("#notes-reports-next"), tab.locator("#notes-reports-why")
    items = tab.locator("#notes-reports-list li")
    expect(why).to_contain_text("Elles ont lieu pendant : Ateliers (09:30), Restitution (10:30).")
    expect(button).to_be_disabled()
    with ThreadPoolExecutor(1) as pool:  # Playwright's own loop runs in this thread
        pool.submit(asyncio.run, facilitate(server, event, "step.goto", step="ateliers")).result()
    expect(button).to_be_enabled()
    expect(button).to_have_text("Commencer la première présentation")
    button.click()
    expect(items.nth(0)).to_have_attribute("aria-current", "true")
    expect(items.nth(0)).to_contain_text("en cours")
    expect(tab.locator("#notes-reports-speaking")).to_have_text("En cours : Moodle en seconde")
    expect(tab.locator("#notes-reports-clock")).to_have_text(re.compile(r"^0[34]:[0-5]\d$"))
    expect(button).to_have_text("Présentation suivante")
    button.click()
    expect(items.nth(0)).to_contain_text("présenté")
    expect(items.nth(1)).to_have_attribute("aria-current", "true")
    expect(button).to_have_text("Terminer la présentation")
    button.click()
    expect(items.nth(1)).to_contain_text("présenté")
    expect(why).to_have_text("Toutes vos présentations ont eu lieu.")
    expect(button).to_be_disabled()
    assert errors == []
    tab.close()
