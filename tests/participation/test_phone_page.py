"""The participant page holds the participation section, without a browser: on a site's
shared link (the site's workshops to choose from, every label, French first and English),
on a registered person's own link (her site's workshops), and not on a screen's link."""

from __future__ import annotations

import json
import re
from typing import Any

from tests.people.test_registration import GOOD, get, personal_link, post
from tests.support.servers import LiveServer

EVENT = "ariege-2020"
FR = [
    "Propositions de l’atelier",
    "Votre atelier",
    "Choisir un atelier",
    "Faire une proposition",
    "Titre (obligatoire)",
    "Sujet",
    "Les plus soutenues d’abord",
]
EN = [
    "The workshop’s proposals",
    "Your workshop",
    "Choose a workshop",
    "Make a proposal",
    "Title (required)",
    "Subject",
    "Most supported first",
]


def section(page: str) -> str:
    match = re.search(r'<section class="card participation".*?id="part-config"', page, re.S)
    assert match, "the page holds the participation section"
    return match.group(0)


def offered(page: str) -> list[str]:
    pick = re.search(r'<select id="part-workshop">(.*?)</select>', page, re.S)
    assert pick
    return [v for v in re.findall(r'<option value="([^"]*)"', pick.group(1)) if v]


def config(page: str, name: str = "part-config") -> dict[str, Any]:
    raw = re.search(rf'<script type="application/json" id="{name}">(.*?)</script>', page, re.S)
    assert raw
    found: dict[str, Any] = json.loads(raw.group(1))
    return found


def test_the_shared_link_page_offers_the_sites_workshops_in_french(
    live_server: LiveServer,
) -> None:
    token = live_server.link(EVENT, "participant", site="foix")
    status, page = get(f"{live_server.url}/e/{EVENT}/me?k={token}")
    assert status == 200
    for label in FR:
        assert label in page, label
    assert 'for="part-workshop"' in page and 'for="part-p-title"' in page
    assert "/js/participation-phone.js" in page and "/css/participation.css" in page
    assert "atelier-acces" in offered(page) and "atelier-enseigner" in offered(page)
    subjects = config(page)["subjects"]
    assert subjects["atelier-acces"], "each workshop's theme's subjects reach the form"
    # The messages the script draws with are embedded: the support toggle's two states...
    strings = config(page, "relais-config")["strings"]
    assert strings["phone.support"] == "Je soutiens"
    assert strings["phone.unsupport"] == "Je retire mon soutien"
    assert strings["phone.hidden_by"] == "Masquée par la modération : {reason}"
    assert strings["phone.connected"] == "Connecté"
    # The event's page is still there around it: the agenda and the workshops' list.
    assert 'id="agenda-title"' in page


def test_the_shared_link_page_reads_in_english(live_server: LiveServer) -> None:
    token = live_server.link(EVENT, "participant", site="foix")
    status, page = get(f"{live_server.url}/e/{EVENT}/me?k={token}&lang=en")
    assert status == 200
    for label in EN:
        assert label in section(page), label
    strings = config(page, "relais-config")["strings"]
    assert strings["phone.support"] == "I support this"
    assert strings["phone.disconnected"] == "Connection lost: trying again…"


def test_a_screens_link_on_the_page_has_no_participation(live_server: LiveServer) -> None:
    token = live_server.link(EVENT, "screen", site="foix")
    status, page = get(f"{live_server.url}/e/{EVENT}/me?k={token}")
    assert status == 200 and 'id="agenda-title"' in page
    assert 'id="participation"' not in page and "participation-phone.js" not in page


def test_a_persons_own_page_offers_her_sites_workshops(live_server: LiveServer) -> None:
    status, page = post(f"{live_server.url}/e/{EVENT}/register", GOOD)
    assert status == 200
    status, page = get(personal_link(page))
    assert status == 200 and "Camille Martin" in page
    for label in FR[:2] + FR[3:]:
        assert label in section(page), label
    assert set(offered(page)) == set(config(page)["subjects"])
    assert "atelier-enseigner" in offered(page)
