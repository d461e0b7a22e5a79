"""The participation socket on a real server, as people would say it: a phone on the site's
shared link proposes and the workshop's phones see it; a phone supports once whatever it
sends; the rapporteur retains it and the screens show it with its supports; a phone
without its device cookie reads but does not speak; links that may not follow are
refused with their reason."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

from live.web.connections import DEVICE_COOKIE
from tests.support.servers import LiveServer

EVENT, ACCES, ENSEIGNER = "ariege-2020", "atelier-acces", "atelier-enseigner"


def device(server: LiveServer, token: str) -> str:
    """The device cookie a phone gets with the page its QR code opens."""
    response = httpx.get(f"{server.url}/e/{EVENT}/me?k={token}")
    return str(response.cookies[DEVICE_COOKIE])


async def phone(
    server: LiveServer, token: str, workshop: str, cookie: str | None = None
) -> ClientConnection:
    headers = {"Cookie": f"{DEVICE_COOKIE}={cookie}"} if cookie else None
    url = f"{server.ws_url}/ws/participation/{EVENT}?k={token}&w={workshop}"
    ws = await connect(url, additional_headers=headers, max_size=None)
    await ws.send(json.dumps({"type": "hello", "since": None, "epoch": None}))
    assert (await recv(ws, "view"))["view"]["workshop"] == workshop
    return ws


async def recv(ws: ClientConnection, kind: str) -> dict[str, Any]:
    while True:
        msg: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), 10))
        if msg["type"] == kind:
            return msg


SEEN: dict[ClientConnection, list[dict[str, Any]]] = {}


async def send(ws: ClientConnection, cid: str, name: str, **args: Any) -> dict[str, Any]:
    """Send a command; its answer. What came before the answer (the change it made, sent
    to its author before the ack) is kept in SEEN."""
    await ws.send(json.dumps({"type": "command", "id": cid, "name": name, "args": args}))
    while True:
        msg: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), 10))
        if msg["type"] in ("ack", "error") and msg.get("id") == cid:
            return msg
        SEEN.setdefault(ws, []).append(msg)


async def test_a_phone_proposes_and_its_workshop_sees_it(live_server: LiveServer) -> None:
    site = live_server.link(EVENT, "participant", site="foix")
    alice = await phone(live_server, site, ACCES, device(live_server, site))
    bob = await phone(live_server, site, ACCES, device(live_server, site))
    clara = await phone(live_server, site, ENSEIGNER, device(live_server, site))
    ack = await send(alice, "c1", "propose", title="Un ordinateur par famille", subject="egalite")
    assert ack["type"] == "ack"
    seen = (await recv(bob, "proposal"))["proposal"]
    assert seen["title"] == "Un ordinateur par famille" and seen["supports"] == 0
    assert SEEN[alice][-1]["proposal"]["mine"] is True  # her card, before her ack
    await send(clara, "c1", "propose", title="Ailleurs")  # her own workshop's
    await send(alice, "c2", "support", proposal="p1")
    assert (await recv(bob, "proposal"))["proposal"] == {**seen, "supports": 1}  # not Clara's
    for ws in (alice, bob, clara):
        await ws.close()


async def test_a_phone_supports_once_whatever_it_sends(live_server: LiveServer) -> None:
    site = live_server.link(EVENT, "participant", site="foix")
    alice = await phone(live_server, site, ACCES, device(live_server, site))
    cookie = device(live_server, site)
    bob = await phone(live_server, site, ACCES, cookie)
    again = await phone(live_server, site, ACCES, cookie)  # the same phone, another tab
    await send(alice, "c1", "propose", title="Des tablettes")
    assert (await send(bob, "c1", "support", proposal="p1"))["type"] == "ack"
    twice = await send(again, "c2", "support", proposal="p1")
    assert twice["type"] == "error" and twice["code"] == "part.already_supported"
    assert (await recv(alice, "proposal"))["proposal"]["supports"] == 1  # Bob's support
    for ws in (alice, bob, again):
        await ws.close()


async def test_a_retained_proposal_shows_on_the_screens(live_server: LiveServer) -> None:
    site = live_server.link(EVENT, "participant", site="foix")
    rapporteur = live_server.link(EVENT, "rapporteur", workshop=ACCES)
    screen_link = live_server.link(EVENT, "screen", site="foix")
    alice = await phone(live_server, site, ACCES, device(live_server, site))
    moderator = await phone(live_server, rapporteur, ACCES)
    screen = await phone(live_server, screen_link, ACCES)
    await send(alice, "c1", "propose", title="Former les parents")
    await send(alice, "c2", "support", proposal="p1")
    assert (await send(moderator, "m1", "retain", proposal="p1"))["type"] == "ack"
    shown = await recv(screen, "retained")
    while not shown["retained"]:
        shown = await recv(screen, "retained")
    assert shown["retained"][0]["title"] == "Former les parents"
    assert shown["retained"][0]["supports"] == 1
    quiet = await send(screen, "s1", "support", proposal="p1")
    assert quiet["type"] == "error" and quiet["code"] == "forbidden"
    for ws in (alice, moderator, screen):
        await ws.close()


async def test_a_phone_without_its_device_cookie_reads_but_does_not_speak(
    live_server: LiveServer,
) -> None:
    site = live_server.link(EVENT, "participant", site="foix")
    anonymous = await phone(live_server, site, ACCES)
    refused = await send(anonymous, "c1", "propose", title="Sans cookie")
    assert refused["type"] == "error" and refused["code"] == "part.no_person"
    await anonymous.close()


async def test_links_that_may_not_follow_are_refused_with_their_reason(
    live_server: LiveServer,
) -> None:
    rapporteur = live_server.link(EVENT, "rapporteur", workshop=ACCES)
    url = f"{live_server.ws_url}/ws/participation/{EVENT}?k={rapporteur}&w={ENSEIGNER}"
    async with connect(url) as ws:
        first = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert first["code"] == "part.other_workshop"
    forged = f"{live_server.ws_url}/ws/participation/{EVENT}?k=forged&w={ACCES}"
    async with connect(forged) as ws:
        assert json.loads(await asyncio.wait_for(ws.recv(), 10))["code"] == "link_invalid"


async def test_the_synthesis_lists_a_workshops_proposals(live_server: LiveServer) -> None:
    site = live_server.link(EVENT, "participant", site="foix")
    alice = await phone(live_server, site, ACCES, device(live_server, site))
    await send(alice, "c1", "propose", title="Un ordinateur par famille", subject="egalite")
    await alice.close()
    organizer = live_server.link(EVENT, "organizer")
    response = httpx.get(f"{live_server.url}/e/{EVENT}/synthesis?format=md&k={organizer}")
    assert response.status_code == 200
    assert "Un ordinateur par famille" in response.text
    assert "Égalité d’accès" in response.text  # filed under its subject
