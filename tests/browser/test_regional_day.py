"""In Debian's Chromium, what a regional day adds: experience reports called in turn on
an open screen, and a message to one site that only that site's screens show (and no
other site's client even receives)."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from websockets.sync.client import connect

from tests.agenda.test_reports import EVENT as REPORTS_EVENT
from tests.browser.test_show_day import command, open_console, open_screen, state
from tests.support.servers import LiveServer

pytestmark = pytest.mark.browser
POITIERS = "poitiers-2020"
SECRET = "Navette pour la gare à 17 h 10 devant le lycée"


class Listener:
    """A client of one place that keeps every frame it receives, as a phone would."""

    def __init__(self, server: LiveServer, event: str, token: str | None) -> None:
        query = f"?k={token}" if token else ""
        self._connection = connect(f"{server.ws_url}/ws/events/{event}{query}")
        self.ws = self._connection.__enter__()
        self.ws.send(json.dumps({"type": "hello"}))
        self.frames: list[str] = [self.ws.recv(timeout=5)]  # the snapshot: it follows
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            for frame in self.ws:
                self.frames.append(str(frame))
        except Exception:
            pass

    def close(self) -> list[str]:
        self._connection.__exit__(None, None, None)
        self.thread.join(5)
        return self.frames


def test_a_message_to_one_site_shows_there_only_and_reaches_no_other_site(
    live_server: LiveServer, browser: Any
) -> None:
    niort = open_screen(live_server, browser, POITIERS, "niort")
    angouleme = open_screen(live_server, browser, POITIERS, "angouleme")
    others = [
        Listener(live_server, POITIERS, live_server.link(POITIERS, "screen", site="angouleme")),
        Listener(live_server, POITIERS, live_server.link(POITIERS, "participant", site="poitiers")),
        Listener(live_server, POITIERS, None),  # the public page: no site
    ]
    niort_phone = Listener(
        live_server, POITIERS, live_server.link(POITIERS, "participant", site="niort")
    )
    console = open_console(live_server, browser, POITIERS)
    console.get_by_label("Texte du message").fill("Reprise à 14 h")
    console.get_by_role("button", name="Afficher").click()
    console.get_by_label("Texte du message").fill(SECRET)
    console.get_by_label("Destinataires").select_option("niort")
    console.get_by_role("button", name="Afficher").click()

    # Niort shows both messages at once; Angoulême shows the message to every site only.
    expect(niort.locator("#banner .banner-line")).to_have_text(["Reprise à 14 h", SECRET])
    expect(angouleme.locator("#banner .banner-line")).to_have_text(["Reprise à 14 h"])
    shown = console.locator("#messages-shown li .message-text")
    expect(shown).to_have_text(
        ["« Reprise à 14 h » → Tous les sites", f"« {SECRET} » → Lycée Paul Guérin, Niort"]
    )
    # Life goes on with the message shown: later events must not carry it elsewhere either.
    command(live_server, POITIERS, "step.next")
    expect(angouleme.locator("#step-title")).to_have_text(
        "Accueil et inscription des participants dans les ateliers"
    )
    console.get_by_role("button", name="Masquer : Lycée Paul Guérin, Niort").click()
    expect(niort.locator("#banner .banner-line")).to_have_text(["Reprise à 14 h"])

    niort_frames = "".join(niort_phone.close())
    assert SECRET in niort_frames
    for other in others:
        frames = other.close()
        assert len(frames) >= 4  # snapshot, both messages, the step, the hide
        assert SECRET not in "".join(frames)
    for page in (niort, angouleme, console):
        page.close()


@pytest.fixture
def rex_server(tmp_path: Path) -> Iterator[LiveServer]:
    """A server with the event of tests/agenda/test_reports.py: a round of reports, workshops
    presenting their own, a restitution that calls the workshops' reports in turn."""
    server = LiveServer(tmp_path / "data")
    server.import_event(REPORTS_EVENT, "rex")
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_a_restitution_of_reports_runs_report_by_report_on_an_open_screen(
    rex_server: LiveServer, browser: Any
) -> None:
    screen = open_screen(rex_server, browser, "rex", "nancy")
    console = open_console(rex_server, browser, "rex")
    command(rex_server, "rex", "step.goto", step="restitution", first_turn=False)
    speaker = screen.locator("#step-speaker")
    expect(speaker).to_have_text("Ensuite : Moodle en seconde — Équipe du lycée Poincaré")
    console.get_by_role("button", name="Orateur suivant").click()
    expect(speaker).to_have_text(
        "Parole à : Moodle en seconde — Équipe du lycée Poincaré · Ensuite : Classe inversée"
    )
    expect(screen.locator("#countdown")).to_have_text(re.compile(r"^(04:00|03:5\d)$"))
    # The report belongs to a workshop: the screen shows that workshop's notes beside it.
    expect(screen.locator("#speaking-title")).to_have_text(
        "Moodle en seconde — Équipe du lycée Poincaré"
    )
    # The workshop's rapporteur calls the next report of its workshop.
    rapporteur = rex_server.link("rex", "rapporteur", workshop="enseigner-nancy")
    with connect(f"{rex_server.ws_url}/ws/events/rex?k={rapporteur}") as ws:
        ws.send(json.dumps({"type": "command", "id": "r1", "name": "report.next", "args": {}}))
        while (msg := json.loads(ws.recv(timeout=5))).get("id") != "r1":
            pass
        assert msg["type"] == "ack", msg
    expect(speaker).to_have_text("Parole à : Classe inversée")
    expect(screen.locator("#countdown")).to_have_text(re.compile(r"^(05:00|04:5\d)$"))
    row = console.locator("#queue li").first
    expect(row).to_contain_text("Moodle en seconde")
    expect(row.locator(".status")).to_have_text("terminé")
    console.get_by_role("button", name="Orateur suivant").click()
    expect(speaker).to_have_text("")
    screen.close()
    console.close()


def test_a_round_of_reports_and_the_workshops_own_show_on_screens_and_phones(
    rex_server: LiveServer, browser: Any
) -> None:
    screen = open_screen(rex_server, browser, "rex", "nancy")
    phone = browser.new_page(viewport={"width": 390, "height": 844})
    phone.goto(f"{rex_server.url}/e/rex")
    command(rex_server, "rex", "step.goto", step="pleniere")
    command(rex_server, "rex", "queue.next")
    expect(screen.locator("#step-speaker")).to_contain_text(
        "Parole à : Lycée 4.0 au lycée Loritz — Mme Klein"
    )
    expect(phone.locator("#now-speakers")).to_have_text(
        "Parole à : Lycée 4.0 au lycée Loritz — Mme Klein · "
        "Ensuite : Mon bureau numérique — M. Roth, Mme Weber"
    )
    expect(phone.locator("#agenda details.reports").first).to_contain_text(
        "Retours d'expériences (2)"
    )
    # During the workshops, each site screen says which report its workshops present.
    command(rex_server, "rex", "step.goto", step="ateliers")
    command(rex_server, "rex", "queue.next", lane="enseigner-nancy")
    expect(screen.locator("#site-workshop-list .ws-report")).to_have_text(
        "En cours : Moodle en seconde — Équipe du lycée Poincaré"
    )
    # The day's public page (no site) lists the workshops presenting reports, any site's.
    expect(phone.locator("#now-workshops")).to_be_visible()
    expect(
        phone.locator("#now-workshops li[data-workshop='enseigner-nancy'] .ws-report")
    ).to_have_text("En cours : Moodle en seconde — Équipe du lycée Poincaré")
    screen.close()
    phone.close()


def test_a_step_inserted_from_the_console_shows_next_on_an_open_screen_at_once(
    live_server: LiveServer, browser: Any
) -> None:
    """During a running step the facilitator adds a step after it: the open screen's
    "next" changes within a second, its running countdown does not move."""
    event = "ariege-2020"
    command(live_server, event, "step.goto", step="pleniere")
    screen = open_screen(live_server, browser, event, "foix")
    console = open_console(live_server, browser, event)
    expect(screen.locator("#next-step")).to_have_text("14:15 · Ateliers par thématiques")
    deadline = state(live_server, event)["timer"]["deadline"]
    insert = console.locator("#insert-form")
    insert.get_by_label("Titre").fill("Intervention du DASEN")
    insert.get_by_label("Durée (min)").fill("10")
    insert.get_by_role("button", name="Ajouter").click()
    expect(screen.locator("#next-step")).to_have_text("14:15 · Intervention du DASEN", timeout=1000)
    assert state(live_server, event)["timer"]["deadline"] == deadline
    # The console's agenda lists it where it runs, the next steps pushed by ten minutes.
    expect(console.locator("#agenda li .title")).to_have_text(
        [
            re.compile("Plénière de lancement"),
            "Intervention du DASEN",
            "Ateliers par thématiques",
            "Pause",
            re.compile("Restitution en plénière"),
        ]
    )
    expect(console.locator("#agenda li .time").nth(2)).to_have_text("14:25")
    # A page opened later sees the same agenda.
    phone = browser.new_page()
    phone.goto(f"{live_server.url}/e/{event}")
    expect(phone.locator("#agenda li .title").nth(1)).to_have_text("Intervention du DASEN")
    for page in (screen, console, phone):
        page.close()


def test_the_console_renames_the_running_step_and_removes_a_later_one(
    live_server: LiveServer, browser: Any
) -> None:
    event = "ariege-2020"
    command(live_server, event, "step.goto", step="pleniere")
    screen = open_screen(live_server, browser, event, "foix")
    console = open_console(live_server, browser, event)
    title = "Plénière de lancement : intervention de M. le Recteur en visioconférence"
    console.get_by_role("button", name=f"Modifier l'étape : {title}").click()
    dialog = console.locator("#edit-step")
    expect(dialog.get_by_label("Durée (min)")).to_be_disabled()  # ± min changes it
    dialog.get_by_label("Titre").fill("Ouverture par M. le Recteur")
    dialog.get_by_role("button", name="Enregistrer").click()
    expect(screen.locator("#step-title")).to_have_text("Ouverture par M. le Recteur")
    console.get_by_role("button", name="Retirer l'étape : Pause").click()
    expect(console.locator("#confirm-text")).to_have_text(
        "Retirer l'étape « Pause » du programme ?"
    )
    console.locator("#confirm-ok").click()
    expect(console.locator("#agenda li")).to_have_count(3)
    # Steps already run, and the running one, offer no removal.
    expect(
        console.get_by_role("button", name=re.compile("^Retirer l'étape : Ouverture"))
    ).to_be_hidden()
    screen.close()
    console.close()


def test_a_site_screen_says_where_to_go_even_for_its_only_workshop(
    live_server: LiveServer, browser: Any
) -> None:
    command(live_server, POITIERS, "step.goto", step="ateliers")
    screen = open_screen(live_server, browser, POITIERS, "niort")
    row = screen.locator("#site-workshop-list li")
    expect(row).to_have_count(1)
    expect(row.locator(".title")).to_have_text("Enseigner et apprendre avec le numérique")
    expect(row.locator(".room")).to_have_text("CDI")
    screen.close()
