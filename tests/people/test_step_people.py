"""On the real server: who speaks at a step (with their roles, remote or at a site) and
where each site's people gather for a shared step, on the site screen and on phones."""

from __future__ import annotations

import html
import json
import re
import urllib.request
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.support.servers import LiveServer

EVENT = "poitiers-2020"
CONFIG = re.compile(r'<script type="application/json" id="relais-config">(.*?)</script>')


def get(url: str) -> str:
    with urllib.request.urlopen(url) as r:
        return html.unescape(r.read().decode())


def config(page: str) -> dict[str, Any]:
    found = CONFIG.search(page)
    assert found, "the page carries its configuration block"
    data: dict[str, Any] = json.loads(found.group(1))
    return data


def test_a_site_screen_receives_the_speakers_roles_and_its_room(live_server: LiveServer) -> None:
    k = live_server.link(EVENT, "screen", site="niort")
    cfg = config(get(f"{live_server.url}/e/{EVENT}/screen?k={k}"))
    assert cfg["site"] == "niort"
    opening = next(s for s in cfg["event"]["agenda"] if s["id"] == "ouverture")
    assert opening["speakers"] == [
        {
            "name": "Madame la Rectrice",
            "role": "rectrice de l'académie de Poitiers",
            "site": None,
            "remote": True,
        },
        {
            "name": "Nathalie Morin",
            "role": "directrice territoriale de Réseau Canopé",
            "site": "poitiers",
            "remote": False,
        },
    ]
    assert opening["rooms"]["niort"] == "Salle polyvalente"


def test_a_sites_phone_page_lists_its_room_and_the_speakers_in_the_agenda(
    live_server: LiveServer,
) -> None:
    k = live_server.link(EVENT, "participant", site="niort")
    page = get(f"{live_server.url}/e/{EVENT}/me?k={k}")
    assert "Lieu : Salle polyvalente" in page and "Lieu : Amphi A" not in page
    assert "Madame la Rectrice, rectrice de l'académie de Poitiers — à distance" in page
    english = get(f"{live_server.url}/e/{EVENT}/me?k={k}&lang=en")
    assert "Where : Salle polyvalente" in english
    assert "rectrice de l'académie de Poitiers — remote" in english


def test_the_public_page_lists_every_sites_room_for_a_shared_step(
    live_server: LiveServer,
) -> None:
    page = get(f"{live_server.url}/e/{EVENT}")
    assert "Lycée Paul Guérin, Niort — Salle polyvalente" in page
    assert "Lycée Louis Audoin Dubreuil, Saint-Jean-d'Angély — Salle 104" in page


@pytest.mark.browser
def test_an_open_site_screen_and_phone_show_the_room_and_the_speakers_with_roles(
    live_server: LiveServer, browser: Any
) -> None:
    url, link = live_server.url, live_server.link
    screen = browser.new_page()
    screen.goto(f"{url}/e/{EVENT}/screen?k={link(EVENT, 'screen', site='niort')}")
    phone = browser.new_page()
    phone.goto(f"{url}/e/{EVENT}/me?k={link(EVENT, 'participant', site='saint-jean')}")
    console = browser.new_page()
    console.goto(f"{url}/e/{EVENT}/console?k={link(EVENT, 'facilitator')}")
    for page in (screen, phone, console):
        expect(page.locator("body[data-seq]")).to_have_count(1)
    expect(screen.locator("#step-room")).to_have_text("")
    console.get_by_role("button", name="Étape 2 : Ouverture par Mme la Rectrice").click()
    expect(screen.locator("#step-room")).to_have_text(" · Lieu : Salle polyvalente")
    expect(screen.locator("#step-speaker")).to_have_text(
        "Madame la Rectrice, rectrice de l'académie de Poitiers — à distance · "
        "Nathalie Morin, directrice territoriale de Réseau Canopé (Atelier Canopé de Poitiers)"
    )
    expect(phone.locator("#now-room")).to_have_text("Lieu : Salle 104")
    expect(phone.locator("#now-speakers")).to_contain_text("Nathalie Morin, directrice")
    console.get_by_role("button", name="Étape 3 : Table ronde").click()
    console.keyboard.press("Enter")  # the opening is running: the console asks first
    expect(screen.locator("#step-room")).to_have_text("")
    expect(phone.locator("#now-room")).to_be_hidden()
    for page in (screen, phone, console):
        page.close()
