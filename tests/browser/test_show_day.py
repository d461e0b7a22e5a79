"""In Debian's Chromium, a run as on the day: open screens and phones driven from the console.

Each test names what a facilitator would see go wrong on a projector already running,
a phone in the room or the console, and checks it does not.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from websockets.sync.client import connect

from tests.support.servers import LiveServer

pytestmark = pytest.mark.browser
ARIEGE = "ariege-2020"
POITIERS = "poitiers-2020"
SIZES = [(1920, 1080), (1280, 720), (1024, 768)]
LONG_BANNER = (
    "Attention : la salle 101 est fermée ; les participants de l'atelier « Enseigner et "
    "apprendre avec le numérique » rejoignent l'amphithéâtre B, au rez-de-chaussée, à gauche "
    "après l'accueil. Le café de la pause est servi dans le hall. Merci à toutes et à tous !"
)
LONG_NOTES = "".join(
    f"## Constat {i}\n\n- Une proposition longue, numéro {i}, sur l'équipement des écoles "
    f"rurales, le débit, la formation continue des enseignants et l'accompagnement.\n\n"
    for i in range(1, 40)
)

# Every visible element of the page that lies, even partly, outside the viewport. The
# content of a scrolling notes view is its own business: its box is checked, not its lines.
OUTSIDE = """() => {
  const out = [];
  for (const el of document.querySelectorAll("main *")) {
    if (el.closest(".notes-view") && !el.classList.contains("notes-view")) continue;
    if (el.closest("[hidden]") || el.closest("svg") && el.tagName !== "svg") continue;
    const r = el.getBoundingClientRect();
    if (!r.width || !r.height || getComputedStyle(el).visibility === "hidden") continue;
    if (r.left < -1 || r.top < -1 || r.right > innerWidth + 1 || r.bottom > innerHeight + 1) {
      out.push(`${el.tagName.toLowerCase()}#${el.id}.${el.className} ${JSON.stringify(r)}`);
    }
  }
  if (document.documentElement.scrollHeight > innerHeight + 1) out.push("the page scrolls");
  return out;
}"""


def command(server: LiveServer, event: str, name: str, **args: Any) -> int:
    """A command from another console (setting the scene, not under test)."""
    token = server.link(event, "facilitator")
    with connect(f"{server.ws_url}/ws/events/{event}?k={token}") as ws:
        ws.send(json.dumps({"type": "command", "id": f"{name}-x", "name": name, "args": args}))
        while True:
            msg = json.loads(ws.recv(timeout=5))
            if msg.get("id") == f"{name}-x" and msg["type"] in ("ack", "error"):
                assert msg["type"] == "ack", msg
                return int(msg["seq"])


def goto_restitution_calling_nobody(server: LiveServer) -> int:
    """The restitution entered as a console may (`first_turn: false`): nobody speaks yet."""
    return command(server, ARIEGE, "step.goto", step="restitution", first_turn=False)


def state(server: LiveServer, event: str) -> dict[str, Any]:
    with connect(f"{server.ws_url}/ws/events/{event}") as ws:
        ws.send(json.dumps({"type": "hello"}))
        return dict(json.loads(ws.recv(timeout=5))["state"])


def open_screen(server: LiveServer, browser: Any, event: str, site: str, size: Any = None) -> Page:
    width, height = size or SIZES[0]
    page: Page = browser.new_page(viewport={"width": width, "height": height})
    page.goto(f"{server.url}/e/{event}/screen?k={server.link(event, 'screen', site=site)}")
    expect(page.locator("body[data-seq]")).to_have_count(1)
    return page


def open_console(server: LiveServer, browser: Any, event: str) -> Page:
    page: Page = browser.new_page()
    page.goto(f"{server.url}/e/{event}/console?k={server.link(event, 'facilitator')}")
    expect(page.locator("#conn")).to_have_text("Connecté")
    expect(page.locator("body[data-seq]")).to_have_count(1)  # the live state is shown
    return page


def open_phone(server: LiveServer, browser: Any, event: str, site: str) -> Page:
    page: Page = browser.new_page(viewport={"width": 390, "height": 844})
    page.goto(f"{server.url}/e/{event}/me?k={server.link(event, 'participant', site=site)}")
    expect(page.locator("body[data-seq]")).to_have_count(1)
    return page


def write_notes(server: LiveServer, browser: Any, event: str, workshop: str, text: str) -> Page:
    page: Page = browser.new_page()
    page.goto(
        f"{server.url}/e/{event}/notes?k={server.link(event, 'rapporteur', workshop=workshop)}"
    )
    expect(page.locator("#notes-status")).to_have_text("Enregistré et partagé")
    page.evaluate("(t) => window.relaisNotes.doc.getText('notes').insert(0, t)", text)
    return page


def test_nothing_leaves_an_open_screen_with_a_long_banner_at_projector_sizes(
    live_server: LiveServer, browser: Any
) -> None:
    rapporteur = write_notes(live_server, browser, ARIEGE, "atelier-acces", LONG_NOTES)
    screens = {size: open_screen(live_server, browser, ARIEGE, "foix", size) for size in SIZES}
    command(live_server, ARIEGE, "message.show", text=LONG_BANNER)
    scenes = [
        ("plenary", lambda: command(live_server, ARIEGE, "step.goto", step="pleniere")),
        ("paused", lambda: command(live_server, ARIEGE, "timer.pause")),
        ("workshops", lambda: command(live_server, ARIEGE, "step.goto", step="ateliers")),
        ("restitution", lambda: goto_restitution_calling_nobody(live_server)),
        ("notes", lambda: command(live_server, ARIEGE, "queue.next")),
        ("ended", lambda: command(live_server, ARIEGE, "event.end")),
    ]
    for scene, go in scenes:
        go()
        for size, screen in screens.items():
            expect(screen.locator("#banner")).to_be_visible()
            if scene == "notes":
                expect(screen.locator("#speaking-notes h2").first).to_be_visible()
            screen.wait_for_timeout(150)
            assert screen.evaluate(OUTSIDE) == [], f"{scene} at {size}"
            qr = screen.locator(".qr svg").bounding_box()
            assert qr and qr["height"] >= 0.25 * size[1], f"QR too small at {size}"
    for page in [rapporteur, *screens.values()]:
        page.close()


def test_long_notes_on_a_screen_show_that_there_is_more(
    live_server: LiveServer, browser: Any
) -> None:
    rapporteur = write_notes(live_server, browser, ARIEGE, "atelier-acces", LONG_NOTES)
    command(live_server, ARIEGE, "step.goto", step="restitution")  # the first speaks at once
    screen = open_screen(live_server, browser, ARIEGE, "foix", (1280, 720))
    expect(screen.locator("#speaking-notes h2").first).to_be_visible()
    expect(screen.locator("#more-below")).to_be_visible()
    screen.locator("#speaking-notes").evaluate("(e) => e.scrollTo(0, e.scrollHeight)")
    expect(screen.locator("#more-above")).to_be_visible()
    expect(screen.locator("#more-below")).to_be_hidden()
    rapporteur.close()
    screen.close()


def test_after_a_restitution_the_next_step_shows_no_workshops_notes(
    live_server: LiveServer, browser: Any
) -> None:
    command(live_server, POITIERS, "step.goto", step="restitutions")  # the first speaks at once
    screen = open_screen(live_server, browser, POITIERS, "niort")
    expect(screen.locator("#speaking")).to_be_visible()
    command(live_server, POITIERS, "step.next")  # the synthesis, on the screen already open
    expect(screen.locator("#step-title")).to_have_text("Synthèse par des grands témoins")
    expect(screen.locator("#speaking")).to_be_hidden()
    expect(screen.locator(".notes-view")).to_be_hidden()
    screen.close()


def test_a_pause_shows_on_the_screen_and_on_phones(live_server: LiveServer, browser: Any) -> None:
    screen = open_screen(live_server, browser, ARIEGE, "foix")
    phone = open_phone(live_server, browser, ARIEGE, "foix")
    console = open_console(live_server, browser, ARIEGE)
    console.get_by_role("button", name="Étape suivante →").click()
    expect(screen.locator("#paused-badge")).to_be_hidden()
    console.get_by_role("button", name="Pause", exact=True).click()
    expect(screen.locator("#paused-badge")).to_have_text("En pause")
    expect(screen.locator("#paused-badge")).to_be_visible()
    expect(screen.locator("body")).to_have_attribute("data-phase", "paused")
    expect(phone.locator("#now-paused")).to_be_visible()
    console.get_by_role("button", name="Reprendre").click()
    expect(screen.locator("#paused-badge")).to_be_hidden()
    expect(phone.locator("#now-paused")).to_be_hidden()
    for page in (screen, phone, console):
        page.close()


def test_a_workshops_five_more_minutes_reach_its_site_screen_and_its_phones(
    live_server: LiveServer, browser: Any
) -> None:
    command(live_server, POITIERS, "step.goto", step="ateliers")
    screen = open_screen(live_server, browser, POITIERS, "niort")  # one workshop there
    phone = open_phone(live_server, browser, POITIERS, "niort")
    other = open_screen(live_server, browser, POITIERS, "angouleme")
    console = open_console(live_server, browser, POITIERS)
    expect(screen.locator("#countdown")).to_contain_text("59:")
    console.get_by_role("button", name="+5 min Enseigner et apprendre avec le numérique").click()
    expect(screen.locator("#countdown")).to_contain_text("1:04:5")
    expect(phone.locator("#now-timer")).to_contain_text("1:04:5")
    expect(other.locator("#countdown")).to_contain_text("59:")  # another workshop: unchanged
    for page in (screen, phone, other, console):
        page.close()


def test_a_site_with_several_workshops_lists_each_timer_on_its_screen(
    live_server: LiveServer, browser: Any
) -> None:
    command(live_server, ARIEGE, "step.goto", step="ateliers")
    command(live_server, ARIEGE, "workshop.adjust", workshop="atelier-enseigner", minutes=5)
    screen = open_screen(live_server, browser, ARIEGE, "foix")
    rows = screen.locator("#site-workshop-list li")
    expect(rows).to_have_count(5)
    row = screen.locator('#site-workshop-list li[data-workshop="atelier-enseigner"]')
    expect(row.locator(".room")).to_have_text("Salle 101")  # not "Salle Salle 101"
    expect(row.locator(".ws-count")).to_contain_text("2:04:")
    expect(rows.first.locator(".ws-count")).to_contain_text("1:59:")
    screen.close()


def test_screens_and_phones_say_who_speaks_and_who_is_next(
    live_server: LiveServer, browser: Any
) -> None:
    goto_restitution_calling_nobody(live_server)
    screen = open_screen(live_server, browser, ARIEGE, "foix")
    phone = open_phone(live_server, browser, ARIEGE, "foix")
    console = open_console(live_server, browser, ARIEGE)
    expect(screen.locator("#step-speaker")).to_contain_text("Ensuite : Un égal accès")
    console.get_by_role("button", name="Orateur suivant").click()
    speaker = screen.locator("#step-speaker")
    expect(speaker).to_contain_text("Parole à : Un égal accès au numérique")
    expect(speaker).to_contain_text("Ensuite : Enseigner et apprendre avec le numérique")
    expect(phone.locator("#now-speakers")).to_contain_text("Parole à : Un égal accès")
    expect(phone.locator("#now-speakers")).to_contain_text("Ensuite : Enseigner et apprendre")
    for page in (screen, phone, console):
        page.close()


def test_r_and_the_arrows_on_a_running_step_ask_first(
    live_server: LiveServer, browser: Any
) -> None:
    command(live_server, ARIEGE, "step.goto", step="restitution")  # the first speaks at once
    console = open_console(live_server, browser, ARIEGE)
    # The step runs on the console (its timer started: only then do these keys ask first).
    expect(console.locator("#btn-pause")).to_be_visible()
    before = state(live_server, ARIEGE)
    dialog = console.locator("dialog#confirm")
    for key in ("r", "ArrowLeft", "ArrowRight"):
        console.locator("body").press(key)
        expect(dialog).to_be_visible()
        console.keyboard.press("Escape")  # a stray key: nothing happens
        expect(dialog).to_be_hidden()
    assert state(live_server, ARIEGE)["seq"] == before["seq"]
    console.locator("body").press("ArrowLeft")
    expect(dialog).to_contain_text("Restitution en plénière des productions de chaque atelier")
    expect(dialog).to_contain_text("« Pause »")
    console.keyboard.press("Enter")  # meant: confirmed
    expect(console.locator("#step-title")).to_have_text("16:15 · Pause")
    console.close()


def test_the_last_command_can_be_undone_and_the_step_carries_on(
    live_server: LiveServer, browser: Any
) -> None:
    command(live_server, ARIEGE, "step.goto", step="pleniere")
    deadline = state(live_server, ARIEGE)["timer"]["deadline"]
    console = open_console(live_server, browser, ARIEGE)
    console.get_by_role("button", name="Étape suivante →").click()
    console.get_by_role("button", name="Confirmer").click()
    expect(console.locator("#step-title")).to_contain_text("Ateliers par thématiques")
    undo = console.get_by_role("button", name="↶ Annuler « étape suivante »")
    undo.click()
    expect(console.locator("#step-title")).to_contain_text("Plénière de lancement")
    after = state(live_server, ARIEGE)
    assert after["timer"]["deadline"] == deadline and after["last"] is None
    expect(console.locator("#btn-undo")).to_be_disabled()
    console.close()


def test_the_event_ends_on_every_screen_and_phone(live_server: LiveServer, browser: Any) -> None:
    command(live_server, POITIERS, "step.goto", step="cloture")
    screens = [open_screen(live_server, browser, POITIERS, s) for s in ("poitiers", "niort")]
    phone = open_phone(live_server, browser, POITIERS, "niort")
    console = open_console(live_server, browser, POITIERS)
    expect(console.locator("#btn-next")).to_be_disabled()  # the last step: nowhere to go
    console.get_by_role("button", name="Terminer l'événement").click()
    console.get_by_role("button", name="Confirmer").click()
    for screen in screens:
        expect(screen.locator("#step-kind")).to_have_text("Événement terminé")
        expect(screen.locator("#ended-thanks")).to_be_visible()
        expect(screen.locator("#countdown")).to_be_hidden()
    expect(phone.locator("#now-step")).to_have_text("Événement terminé")
    expect(phone.locator("#now-timer")).to_have_text("")
    assert state(live_server, POITIERS)["timer"]["status"] == "done"
    for page in [*screens, phone, console]:
        page.close()


def test_refusals_on_the_console_are_in_french(live_server: LiveServer, browser: Any) -> None:
    console = open_console(live_server, browser, ARIEGE)
    console.get_by_role("button", name="Démarrer").click()
    expect(console.locator("#step-title")).to_contain_text("Plénière")
    console.locator("body").press("n")  # "next speaker" during the plenary
    expect(console.locator("#error")).to_have_text("L'étape en cours n'a pas d'ordre de passage.")
    console.close()
    console = browser.new_page()
    console.goto(
        f"{live_server.url}/e/{ARIEGE}/console?lang=en&k={live_server.link(ARIEGE, 'facilitator')}"
    )
    expect(console.locator("#conn")).to_have_text("Connected")
    expect(console.locator("body[data-seq]")).to_have_count(1)
    console.locator("body").press("n")
    expect(console.locator("#error")).to_have_text("The current step has no speaking order.")
    console.close()


def test_the_console_names_sites_and_shows_disabled_buttons_as_such(
    live_server: LiveServer, browser: Any
) -> None:
    console = open_console(live_server, browser, POITIERS)
    expect(console.locator("#btn-prev")).to_be_disabled()
    expect(console.locator("#btn-reset")).to_be_disabled()
    style = console.locator("#btn-reset").evaluate("(b) => getComputedStyle(b).borderStyle")
    assert style == "dashed"
    console.get_by_label("Texte du message").fill("Pause café prolongée")
    console.get_by_label("Destinataires").select_option("niort")
    console.get_by_role("button", name="Afficher").click()
    expect(console.locator("#messages-shown li .message-text")).to_have_text(
        "« Pause café prolongée » → Lycée Paul Guérin, Niort"
    )
    console.close()


def test_the_speaking_order_changed_on_the_console_shows_on_the_screen(
    live_server: LiveServer, browser: Any
) -> None:
    goto_restitution_calling_nobody(live_server)
    screen = open_screen(live_server, browser, ARIEGE, "foix")
    console = open_console(live_server, browser, ARIEGE)
    expect(screen.locator("#step-speaker")).to_contain_text("Ensuite : Un égal accès")
    console.get_by_role("button", name="Descendre Un égal accès au numérique pour tous").click()
    expect(screen.locator("#step-speaker")).to_contain_text("Ensuite : Enseigner et apprendre")
    console.get_by_role("button", name="Passer Enseigner et apprendre avec le numérique").click()
    expect(screen.locator("#step-speaker")).to_contain_text("Ensuite : Un égal accès")
    for page in (screen, console):
        page.close()
