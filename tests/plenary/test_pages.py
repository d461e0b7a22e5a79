"""The plenary's pages and the floor on the real server: the speaker's and a site host's
pages with their links, external visio rooms with their QR codes, and the floor given over
the live socket, which the relay follows, across a restart too."""

from __future__ import annotations

import html
import json
import re
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from live.app import create_app
from live.config import Settings
from live.links.signing import Signer
from tests.server.test_live_server import command, hello
from tests.support.servers import LiveServer

SECRET = "test-secret-plenary-pages"
SIGNER = Signer(SECRET)
EVENT = "poitiers-2020"
VISIO = "https://visio.example.education.fr/pleniere"
ROOM = re.compile(r'<figure class="qr visio-room" data-(step|workshop)="([^"]+)"')  # on a screen
WITH_VISIO = """\
id: visio-2026
title: Rencontre en visio
date: 2026-11-23
sites:
  - {id: hub, name: Hub, hub: true}
  - {id: loin, name: Site lointain}
themes:
  - {id: t, title: Thème}
agenda:
  - {id: ouverture, kind: plenary, title: Ouverture, start: "09:00", duration: 30,
     video: true, visio_url: "https://visio.example.education.fr/pleniere"}
  - {id: ateliers, kind: workshops, title: Ateliers, start: "09:30", duration: 60}
workshops:
  - {id: a, theme: t, site: loin, capacity: 10, visio_url: "https://jitsi.example.org/atelier-a"}
"""


def link(role: str, event: str = EVENT, **claims: Any) -> str:
    return SIGNER.sign(event, role, **claims)  # type: ignore[arg-type]


@pytest.fixture
async def http(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(
        data_dir=tmp_path,
        backend="memory",
        secret=SECRET,
        demo=True,
        ice_servers="stun:stun.example.org:3478",
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        await app.state.catalogue.put(WITH_VISIO)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://relais.test") as c:
            yield c


def page_config(html: str) -> dict[str, Any]:
    found = re.search(r'<script type="application/json" id="plenary-config">(.*?)</script>', html)
    assert found, "the page carries the relay's addresses"
    config: dict[str, Any] = json.loads(found.group(1))
    return config


async def test_the_speakers_link_opens_the_speaker_page_with_the_relays_addresses(
    http: httpx.AsyncClient,
) -> None:
    k = link("speaker")
    r = await http.get(f"/e/{EVENT}/speak", params={"k": k})
    assert r.status_code == 200
    assert "Passer à l'antenne" in html.unescape(r.text) and 'id="camera"' in r.text
    assert 'for="camera"' in r.text and 'for="microphone"' in r.text  # labelled choices
    config = page_config(r.text)
    assert config["whip"] == f"/e/{EVENT}/whip" and config["whep"] == f"/e/{EVENT}/whep"
    assert config["ice_servers"] == [{"urls": ["stun:stun.example.org:3478"]}]
    assert config["feed"] == "speaker"
    assert f"/e/{EVENT}/whip</code>" in r.text and k in r.text  # what OBS Studio needs
    english = await http.get(f"/e/{EVENT}/speak", params={"k": k, "lang": "en"})
    assert "Go live" in english.text


async def test_a_hosts_link_opens_its_sites_page(http: httpx.AsyncClient) -> None:
    r = await http.get(f"/e/{EVENT}/host", params={"k": link("host", site="niort")})
    assert r.status_code == 200
    assert "Lycée Paul Guérin, Niort" in r.text and "Demander la parole" in r.text
    assert page_config(r.text)["feed"] == "site:niort"


@pytest.mark.parametrize(
    ("page", "token", "status"),
    [
        ("speak", None, 401),
        ("speak", "forged", 401),
        ("speak", link("screen", site="niort"), 403),
        ("speak", link("host", site="niort"), 403),
        ("speak", link("speaker", event="ariege-2020"), 403),
        ("host", link("speaker"), 403),
        ("host", link("facilitator"), 403),
        ("host", link("host", site="nowhere"), 403),
        ("host", link("host"), 403),
    ],
)
async def test_the_pages_refuse_a_link_of_another_role_site_or_event(
    http: httpx.AsyncClient, page: str, token: str | None, status: int
) -> None:
    params = {"k": token} if token else {}
    r = await http.get(f"/e/{EVENT}/{page}", params=params)
    assert r.status_code == status
    assert "plenary-config" not in r.text


async def test_an_external_visio_room_shows_with_its_qr_code(http: httpx.AsyncClient) -> None:
    event = "visio-2026"
    screen = await http.get(f"/e/{event}/screen", params={"k": link("screen", event, site="loin")})
    assert screen.status_code == 200
    figures = ROOM.findall(screen.text)
    assert figures == [("step", "ouverture"), ("workshop", "a")]
    assert VISIO in screen.text and screen.text.count("<svg") == 3  # two rooms, and to join
    assert page_config(screen.text)["visio"] == {"ouverture": VISIO}  # no relay picture then
    hub = await http.get(f"/e/{event}/screen", params={"k": link("screen", event, site="hub")})
    figures = ROOM.findall(hub.text)
    assert figures == [("step", "ouverture")], "a workshop's room shows at its own site"
    host = await http.get(f"/e/{event}/host", params={"k": link("host", event, site="loin")})
    assert VISIO in host.text and "<svg" in host.text
    console = await http.get(f"/e/{event}/console", params={"k": link("facilitator", event)})
    assert f'href="{VISIO}"' in console.text
    public = await http.get(f"/e/{event}")
    assert f'href="{VISIO}"' in public.text  # in the agenda


# -- the floor on the real server ------------------------------------------------------------


def plenary_status(server: LiveServer) -> dict[str, Any]:
    k = server.link(EVENT, "facilitator")
    with urllib.request.urlopen(f"{server.url}/e/{EVENT}/plenary?k={k}") as r:
        status: dict[str, Any] = json.load(r)
    return status


async def open_socket(server: LiveServer, token: str) -> Any:
    from websockets.asyncio.client import connect

    ws = await connect(f"{server.ws_url}/ws/events/{EVENT}?k={token}")
    await hello(ws)
    return ws


async def test_a_host_asks_for_the_floor_for_its_own_site_over_its_socket(
    live_server: LiveServer,
) -> None:
    host = await open_socket(live_server, live_server.link(EVENT, "host", site="niort"))
    refused = await command(host, "floor.ask", "a1", site="angouleme")
    assert refused["type"] == "error" and refused["code"] == "forbidden"
    assert (await command(host, "floor.ask", "a2"))["type"] == "ack"
    state = (await hello(host))["state"]
    assert state["requests"] == ["niort"] and state["floor"] == "speaker"
    nope = await command(host, "floor.give", "a3", feed="site:niort")
    assert nope["code"] == "forbidden", "only the régie gives the floor"
    await host.close()


async def test_the_floor_given_from_the_console_moves_the_relay_and_survives_a_restart(
    live_server: LiveServer,
) -> None:
    assert plenary_status(live_server)["program"] == "speaker"
    console = await open_socket(live_server, live_server.link(EVENT, "facilitator"))
    assert (await command(console, "floor.give", "g1", feed="site:niort"))["type"] == "ack"
    assert plenary_status(live_server)["program"] == "site:niort"
    await console.close()
    live_server.restart(hard=True)
    assert plenary_status(live_server)["program"] == "site:niort"
    console = await open_socket(live_server, live_server.link(EVENT, "facilitator"))
    assert (await command(console, "floor.back", "b1"))["type"] == "ack"
    assert plenary_status(live_server)["program"] == "speaker"
    await console.close()
