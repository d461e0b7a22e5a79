"""Issue 20, the studio's polish: ids made from titles are short (32 characters at most,
cut between words, little words dropped) and unique; a row whose blank id can be made
gets it, and one that cannot is told about its name, not "« Identifiant » est
obligatoire"; a workshop without a room is a warning (the event is saved), in French next
to its field, in the page and in Chromium."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.support.servers import LiveServer
from tests.support.studio_forms import form_fields, notes_at

ARIEGE, POITIERS = "ariege-2020", "poitiers-2020"
NO_ROOM = (
    "Aucune salle : les participants ne sauront pas où aller. Indiquez la salle de "
    "l'atelier (ou son lien de visio)."
)


@pytest.fixture
def http(live_server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_server.url, timeout=30) as client:
        yield client


def studio_page(server: LiveServer, http: httpx.Client, event: str) -> str:
    r = http.get(f"/e/{event}/studio", params={"k": server.link(event, "organizer")})
    assert r.status_code == 200
    return r.text


def save(server: LiveServer, http: httpx.Client, event: str, fields: dict[str, str]) -> Any:
    token = server.link(event, "organizer")
    return http.post(f"/e/{event}/studio", params={"k": token}, data={**fields, "op": "save"})


def warnings_at(page: str, place: str) -> list[str]:
    match = re.search(
        rf'<div class="notes" id="n-{re.escape(place)}" data-note>(.*?)</div>', page, re.S
    )
    assert match, f"no place {place} in the page"
    found = re.findall(r'<p class="field-warning">(.*?)</p>', match.group(1), re.S)
    said = [html.unescape(re.sub(r"<[^>]+>", "", m)).strip() for m in found]
    return [m.removeprefix("Attention :").strip() for m in said]


# -- ids made from titles ------------------------------------------------------------------


def test_a_new_event_without_an_id_gets_a_short_one_unique_among_events(
    live_server: LiveServer, http: httpx.Client
) -> None:
    form = {"model": "ariege", "title": "États généraux du numérique Ariège", "date": "2026-09-30"}
    admin = {"k": live_server.signer.sign_admin()}
    first = http.post("/studio/new", params=admin, data=form)
    assert first.status_code == 303
    # The year is kept, last, whatever the cut (the studio's help promises it).
    assert first.headers["location"].startswith("/e/etats-generaux-numerique-2026/studio")
    second = http.post("/studio/new", params=admin, data=form)
    assert second.status_code == 303  # not "already taken": another id
    assert second.headers["location"].startswith("/e/etats-generaux-numerique-2026-2/studio")


# -- blank rows ------------------------------------------------------------------------------


def test_a_row_with_a_name_and_no_id_gets_its_id_made_from_the_name(
    live_server: LiveServer, http: httpx.Client
) -> None:
    fields = form_fields(studio_page(live_server, http, ARIEGE))
    fields.update({"sites.1.name": "Lycée Pyrène de Pamiers", "sites.1.id": ""})
    r = save(live_server, http, ARIEGE, fields)
    assert r.status_code == 303
    after = form_fields(studio_page(live_server, http, ARIEGE))
    assert after["sites.1.id"] == "lycee-pyrene-pamiers"


def test_a_blank_row_is_told_its_name_is_missing_not_its_id(
    live_server: LiveServer, http: httpx.Client
) -> None:
    fields = form_fields(studio_page(live_server, http, ARIEGE))
    fields.update({"themes.5.id": "", "themes.5.title": ""})  # "Ajouter un thème", left blank
    r = save(live_server, http, ARIEGE, fields)
    assert r.status_code == 422
    assert notes_at(r.text, "themes.5.id") == []
    assert notes_at(r.text, "themes.5.title") == ["« Titre » est obligatoire."]
    assert "« Identifiant » est obligatoire" not in html.unescape(r.text)


# -- a workshop without a room ---------------------------------------------------------------


def test_a_workshop_without_a_room_is_saved_with_a_warning_next_to_its_room(
    live_server: LiveServer, http: httpx.Client
) -> None:
    fields = form_fields(studio_page(live_server, http, POITIERS))
    fields["workshops.1.room"] = ""
    r = save(live_server, http, POITIERS, fields)
    assert r.status_code == 303  # a warning, not an error: saved
    page = studio_page(live_server, http, POITIERS)
    assert warnings_at(page, "workshops.1.room") == [NO_ROOM]
    assert warnings_at(page, "workshops.0.room") == []


# -- in Chromium -----------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.parametrize("size", [(1280, 800), (390, 844)], ids=["laptop", "phone"])
def test_in_chromium_a_long_name_makes_a_short_id_and_a_room_less_workshop_warns(
    live_server: LiveServer, browser: Any, size: tuple[int, int]
) -> None:
    page: Page = browser.new_page(viewport={"width": size[0], "height": size[1]})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{live_server.url}/e/{POITIERS}/studio?k={live_server.link(POITIERS, 'organizer')}")
    page.get_by_role("button", name="Ajouter un site").click()
    name = page.locator('[name="sites.4.name"]')
    name.fill("Lycée polyvalent régional Paul Guérin de Niort")
    name.press("Tab")  # the id is made as the server makes it
    expect(page.locator('[name="sites.4.id"]')).to_have_value("lycee-polyvalent-regional-paul")
    page.locator('[name="sites.4.capacity"]').fill("40")
    page.locator('[name="workshops.2.room"]').fill("")
    page.locator("#save").click()
    expect(page.locator("#studio-done")).to_be_visible()
    warning = page.locator('[id="n-workshops.2.room"] .field-warning')
    expect(warning).to_contain_text(NO_ROOM)
    expect(warning).to_be_visible()
    assert errors == []
