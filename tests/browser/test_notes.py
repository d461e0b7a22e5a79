"""In Debian's Chromium: the rapporteur's editor, the site screen and the read-only view."""

from __future__ import annotations

import json
import re
import urllib.parse
import urllib.request
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from websockets.sync.client import connect

from live.notes.limits import MAX_DOC, MAX_FRAME
from tests.support.servers import LiveServer

pytestmark = pytest.mark.browser
EVENT = "ariege-2020"
WORKSHOP = "atelier-acces"  # first theme: the first to speak at the restitution


def command(server: LiveServer, name: str, **args: Any) -> None:
    token = server.link(EVENT, "facilitator")
    with connect(f"{server.ws_url}/ws/events/{EVENT}?k={token}") as ws:
        ws.send(json.dumps({"type": "command", "id": name, "name": name, "args": args}))
        while True:
            msg = json.loads(ws.recv(timeout=5))
            if msg.get("id") == name and msg["type"] in ("ack", "error"):
                assert msg["type"] == "ack", msg
                return


def open_editor(server: LiveServer, browser: Any, workshop: str = WORKSHOP) -> Page:
    page: Page = browser.new_page()
    token = server.link(EVENT, "rapporteur", workshop=workshop)
    page.goto(f"{server.url}/e/{EVENT}/notes?k={token}")
    expect(page.locator("#notes-status")).to_have_text("Enregistré et partagé")
    return page


def type_at_end(page: Page, text: str) -> None:
    page.locator(".cm-content").click()
    page.keyboard.press("Control+End")
    page.keyboard.type(text)


def test_typing_on_the_rapporteur_page_appears_on_an_open_site_screen(
    live_server: LiveServer, browser: Any
) -> None:
    command(live_server, "step.goto", step="restitution")  # the first speaks at once
    screen = browser.new_page()
    screen.goto(
        f"{live_server.url}/e/{EVENT}/screen?k={live_server.link(EVENT, 'screen', site='foix')}"
    )
    notes = screen.locator("#speaking-notes")
    expect(notes.locator("h2").first).to_have_text("Constats")
    rapporteur = open_editor(live_server, browser)
    type_at_end(rapporteur, "- Des zones blanches persistent en montagne")
    expect(notes.locator("li")).to_have_text("Des zones blanches persistent en montagne")
    screen.close()
    rapporteur.close()


def test_the_read_only_view_renders_markdown_and_never_runs_html(
    live_server: LiveServer, browser: Any
) -> None:
    viewer = browser.new_page()
    token = live_server.link(EVENT, "participant", site="foix")
    viewer.goto(f"{live_server.url}/e/{EVENT}/notes/{WORKSHOP}?k={token}")
    expect(viewer.locator("#notes h2").first).to_have_text("Constats")
    rapporteur = open_editor(live_server, browser)
    type_at_end(rapporteur, '**Gras** <img src=x onerror="window.pwned=1"> <script>1</script>')
    view = viewer.locator("#notes")
    expect(view.locator("strong")).to_have_text("Gras")
    expect(view).to_contain_text('<img src=x onerror="window.pwned=1">')
    assert view.locator("img, script").count() == 0
    assert viewer.evaluate("window.pwned") is None
    viewer.close()
    rapporteur.close()


def test_the_read_only_view_cannot_edit(live_server: LiveServer, browser: Any) -> None:
    viewer = browser.new_page()
    viewer.goto(
        f"{live_server.url}/e/{EVENT}/notes/{WORKSHOP}?k={live_server.link(EVENT, 'screen')}"
    )
    expect(viewer.locator("#notes h2").first).to_have_text("Constats")
    assert viewer.locator("[contenteditable=true], textarea").count() == 0


def test_co_rapporteurs_see_each_others_names(live_server: LiveServer, browser: Any) -> None:
    first, second = open_editor(live_server, browser), open_editor(live_server, browser)
    first.get_by_label("Votre nom").press_sequentially("Aïcha")  # no Enter, focus kept
    expect(second.locator("#notes-editors")).to_contain_text("Aïcha")
    expect(first.get_by_label("Votre nom")).to_be_focused()
    first.close()
    second.close()


def test_edits_made_offline_merge_when_the_connection_returns(
    live_server: LiveServer, browser: Any
) -> None:
    online, offline = open_editor(live_server, browser), open_editor(live_server, browser)
    offline.evaluate("window.relaisNotes.provider.disconnect()")
    type_at_end(offline, "Écrit pendant la coupure.")
    expect(offline.locator("#notes-status")).to_contain_text("Hors ligne")
    type_at_end(online, "Écrit en ligne. ")
    offline.evaluate("window.relaisNotes.provider.connect()")
    expect(offline.locator("#notes-status")).to_have_text("Enregistré et partagé")
    for page in (online, offline):
        expect(page.locator(".cm-content")).to_contain_text("Écrit en ligne.")
        expect(page.locator(".cm-content")).to_contain_text("Écrit pendant la coupure.")
    online.close()
    offline.close()


def test_the_synthesis_credits_who_wrote_under_the_name_they_typed(
    live_server: LiveServer, browser: Any
) -> None:
    writer, lurker = open_editor(live_server, browser), open_editor(live_server, browser)
    writer.get_by_label("Votre nom").press_sequentially("Jean Dupont")
    type_at_end(writer, "- Des tablettes pour chaque classe")
    lurker.get_by_label("Votre nom").press_sequentially("Quelqu'un qui lit")
    anonymous = open_editor(live_server, browser)  # keeps the placeholder "Rapporteur"
    type_at_end(anonymous, "\n- Former les enseignants")
    expect(writer.locator(".cm-content")).to_contain_text("Former les enseignants")
    writer.wait_for_timeout(800)  # names apply after half a second of typing
    token = live_server.link(EVENT, "facilitator")
    url = f"{live_server.url}/e/{EVENT}/synthesis?format=md&k={token}"
    with urllib.request.urlopen(url) as r:
        text = r.read().decode()
    section = text.split("### ")[1]  # the first workshop: the one written in
    assert "Rapporteurs : Jean Dupont*" in section, section  # not the reader, not "Rapporteur"
    for page in (writer, lurker, anonymous):
        page.close()


def test_a_non_rapporteur_link_on_the_editor_address_gets_the_read_only_view(
    live_server: LiveServer, browser: Any
) -> None:
    page = browser.new_page()
    page.goto(f"{live_server.url}/e/{EVENT}/notes?k={live_server.link(EVENT, 'facilitator')}")
    assert f"/e/{EVENT}/notes/" in page.url
    expect(page.get_by_label("Atelier")).to_be_visible()
    page.close()


def revoke(server: LiveServer, token: str) -> None:
    """What the organizer's desk does: POST the link to revoke."""
    organizer = server.link(EVENT, "organizer")
    request = urllib.request.Request(
        f"{server.url}/e/{EVENT}/organize/revoke?k={organizer}",
        data=urllib.parse.urlencode({"link": token}).encode(),
    )
    with urllib.request.urlopen(request, timeout=10):
        pass


def paste(page: Page, text: str) -> None:
    """A real paste event on the editor, as Ctrl+V with `text` in the clipboard gives."""
    page.locator(".cm-content").click()
    page.keyboard.press("Control+End")
    page.locator(".cm-content").evaluate(
        """(el, text) => {
            const data = new DataTransfer();
            data.setData("text/plain", text);
            el.dispatchEvent(new ClipboardEvent("paste", { clipboardData: data, bubbles: true,
                                                           cancelable: true }));
        }""",
        text,
    )


def test_a_paste_over_the_limit_is_refused_in_the_page_and_nothing_is_sent(
    live_server: LiveServer, browser: Any
) -> None:
    page = open_editor(live_server, browser)
    limit = page.evaluate("JSON.parse(document.getElementById('notes-config').textContent)")
    assert limit["max_frame"] == MAX_FRAME and limit["max_doc"] == MAX_DOC
    paste(page, "é" * (MAX_FRAME // 2))  # two bytes each: over the limit in bytes
    expect(page.locator("#notes-alert")).to_be_visible()
    expect(page.locator("#notes-alert")).to_contain_text("trop grand")
    paste(page, "Collé en une fois, et petit.")
    expect(page.locator(".cm-content")).to_contain_text("Collé en une fois, et petit.")
    expect(page.locator("#notes-status")).to_have_text("Enregistré et partagé")
    expect(page.locator("#notes-alert")).to_be_hidden()
    viewer = browser.new_page()
    token = live_server.link(EVENT, "participant", site="foix")
    viewer.goto(f"{live_server.url}/e/{EVENT}/notes/{WORKSHOP}?k={token}")
    expect(viewer.locator("#notes")).to_contain_text("Collé en une fois, et petit.")
    assert "éé" not in viewer.locator("#notes").inner_text()
    viewer.close()
    page.close()


def test_a_change_the_server_refuses_stops_the_editor_and_keeps_the_text_at_hand(
    live_server: LiveServer, browser: Any
) -> None:
    page = open_editor(live_server, browser)
    sockets: list[Any] = []
    page.on("websocket", lambda ws: sockets.append(ws))
    type_at_end(page, "Ma phrase à garder.")
    # Past the page's own check (a script, an extension): the server refuses and closes.
    page.evaluate(f"window.relaisNotes.doc.getText('notes').insert(0, 'x'.repeat({MAX_FRAME}))")
    closed = page.locator("#notes-closed")
    expect(closed).to_be_visible()
    expect(page.locator("#notes-closed-why")).to_contain_text("trop grande")
    expect(page.locator("#notes-closed-text")).to_have_value(re.compile("Ma phrase à garder."))
    expect(page.locator("#notes-status")).to_have_text("Vos modifications ne sont plus envoyées")
    # Not reconnecting into the same refusal: y-websocket stopped for good on a 44xx.
    assert page.evaluate("window.relaisNotes.provider.shouldConnect") is False
    assert sockets == []  # the page's one socket opened before this listened: none since
    page.close()


def test_a_revoked_link_is_told_so_and_offered_its_text_to_copy(
    live_server: LiveServer, browser: Any
) -> None:
    page: Page = browser.new_page()
    token = live_server.link(EVENT, "rapporteur", workshop=WORKSHOP)
    page.goto(f"{live_server.url}/e/{EVENT}/notes?k={token}")
    expect(page.locator("#notes-status")).to_have_text("Enregistré et partagé")
    type_at_end(page, "Écrit avant la révocation.")
    revoke(live_server, token)
    expect(page.locator("#notes-closed-why")).to_contain_text("révoqué")
    expect(page.locator("#notes-closed-text")).to_have_value(
        re.compile("Écrit avant la révocation.")
    )
    type_at_end(page, " Et après.")
    expect(page.locator(".cm-content")).not_to_contain_text("Et après.")
    page.locator("#notes-closed-copy").click()
    expect(page.locator("#notes-closed-done")).to_have_text("Texte copié.")
    page.close()


def test_a_reader_whose_link_is_revoked_is_told_so(live_server: LiveServer, browser: Any) -> None:
    page: Page = browser.new_page()
    token = live_server.link(EVENT, "participant", site="foix")
    page.goto(f"{live_server.url}/e/{EVENT}/notes/{WORKSHOP}?k={token}")
    expect(page.locator("#notes h2").first).to_have_text("Constats")
    revoke(live_server, token)
    expect(page.locator("#notes-status")).to_contain_text("révoqué")
    page.close()
