"""A school's site behind one NAT address: hundreds of phones share it, so one device on
that network must not be able to take all of its sockets, and a flood of one kind of
link must leave the others (participants, notes readers, the crew) room in the process.

Real server, real sockets; the phones load the public page first, as a browser does, and
open their socket with the cookie it gave them."""

from __future__ import annotations

import asyncio
import json
import resource
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect as connect_sync

from live.config import Settings
from live.web.connections import DEVICE_COOKIE, PER_DEVICE
from tests.server.test_live_server import EVENT, command, recv
from tests.support.servers import LiveServer, unavailable
from tests.support.yclient import YClient

WAIT = 30  # seconds: a generous deadline for a busy runner, never a measured duration


@pytest.fixture
def open_files() -> Iterator[None]:
    """Room in this process for a client holding several hundred sockets."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 2000:
        unavailable(f"the open-file limit ({hard}) is too low for 700 client sockets")
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


@pytest.fixture
def server(tmp_path: Path, open_files: None) -> Iterator[LiveServer]:
    """The product's caps, on a machine with room for them (4,096 descriptors)."""
    s = LiveServer(tmp_path / "data", nofile=4096)
    s.start()
    try:
        yield s
    finally:
        s.stop()


async def attempt(
    url: str, cookie: str | None = None, address: str = "127.0.0.1"
) -> ClientConnection | int | None:
    """Open a live socket and say hello: the socket if it got its snapshot, else the
    close code it was turned away with."""
    headers = {"Cookie": f"{DEVICE_COOKIE}={cookie}"} if cookie else None
    ws = await connect(url, additional_headers=headers, local_addr=(address, 0), max_size=None)
    try:
        await ws.send(json.dumps({"type": "hello"}))
        while True:
            msg = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
            if msg["type"] == "snapshot":
                return ws
            if msg["type"] == "error":
                await asyncio.wait_for(ws.wait_closed(), WAIT)
                return ws.close_code
    except ConnectionClosed as exc:
        return exc.rcvd.code if exc.rcvd else None


async def many(
    count: int, *args: str | None, at_once: int = 50
) -> list[ClientConnection | int | None]:
    gate = asyncio.Semaphore(at_once)

    async def one() -> ClientConnection | int | None:
        async with gate:
            return await attempt(*args)

    return await asyncio.gather(*(one() for _ in range(count)))


def held(results: list[ClientConnection | int | None]) -> list[ClientConnection]:
    return [r for r in results if isinstance(r, ClientConnection)]


def device_cookie(server: LiveServer, address: str = "127.0.0.1") -> str:
    """What a phone gets by opening the public page (the QR code's link)."""
    transport = httpx.HTTPTransport(local_address=address)
    with httpx.Client(transport=transport, timeout=WAIT) as client:
        r = client.get(f"{server.url}/e/{EVENT}")
        assert r.status_code == 200
        return str(r.cookies[DEVICE_COOKIE])


async def close_all(sockets: list[ClientConnection]) -> None:
    await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)


async def test_one_client_holding_public_sockets_leaves_60_phones_behind_its_address_room(
    server: LiveServer,
) -> None:
    url = f"{server.ws_url}/ws/events/{EVENT}"
    pool = Settings.max_connections_per_address // 2
    script = await many(pool + 100, url)  # a client that never loaded a page
    phones: list[ClientConnection | int | None] = []
    try:
        assert len(held(script)) == pool, "it holds its share of the address"
        assert {r for r in script if not isinstance(r, ClientConnection)} == {4429}
        cookies = await asyncio.gather(
            *(asyncio.to_thread(device_cookie, server) for _ in range(60))
        )
        assert len(set(cookies)) == 60, "each phone its own device id"
        phones = list(await asyncio.gather(*(attempt(url, c) for c in cookies)))
        assert len(held(phones)) == 60, "every phone behind the same address connects"
    finally:
        await close_all(held(script) + held(phones))


async def test_one_device_holds_a_few_sockets_and_the_next_phone_still_connects(
    server: LiveServer,
) -> None:
    url = f"{server.ws_url}/ws/events/{EVENT}"
    cookie = await asyncio.to_thread(device_cookie, server)
    device = await many(PER_DEVICE + 20, url, cookie)
    try:
        assert len(held(device)) == PER_DEVICE
        assert {r for r in device if not isinstance(r, ClientConnection)} == {4429}
        phone = await attempt(url, await asyncio.to_thread(device_cookie, server))
        assert isinstance(phone, ClientConnection)
        await phone.close()
    finally:
        await close_all(held(device))


async def test_a_forged_device_cookie_counts_as_no_device(server: LiveServer) -> None:
    url = f"{server.ws_url}/ws/events/{EVENT}"
    forged = await many(PER_DEVICE + 4, url, "forged.device.id")
    try:
        assert len(held(forged)) == PER_DEVICE + 4, "in the address's shared pool, not a device"
    finally:
        await close_all(held(forged))


async def test_a_public_flood_from_many_addresses_leaves_participants_notes_and_crew_room(
    tmp_path: Path,
) -> None:
    server = LiveServer(tmp_path / "data", env={"RELAIS_MAX_CONNECTIONS": "200"})
    server.start()
    url = f"{server.ws_url}/ws/events/{EVENT}"
    flood: list[ClientConnection | int | None] = []
    kept: list[ClientConnection] = []
    try:
        for n in range(10):  # ten schools, each opening all it can
            flood += await many(20, url, None, f"127.0.0.{20 + n}")
        assert held(flood) and 4429 in flood, "the public pages' share is full"
        person = server.link(EVENT, "participant", person="p1")
        participant = await attempt(f"{url}?k={person}", None, "127.0.0.20")
        assert isinstance(participant, ClientConnection), "a participant's page connects"
        kept.append(participant)
        notes = YClient(f"{server.ws_url}/ws/notes/{EVENT}/atelier-acces?k={person}")
        await notes.connect(wait_sync=False)
        await asyncio.wait_for(notes.synced.wait(), WAIT)
        assert notes.close_code is None, "a notes reader connects"
        await notes.close()
        console = await attempt(f"{url}?k={server.link(EVENT, 'facilitator')}", None, "127.0.0.20")
        assert isinstance(console, ClientConnection), "and the crew, from the same address"
        kept.append(console)
        assert (await command(console, "step.next", "go"))["type"] == "ack"
        assert (await recv(participant, "event", WAIT))["type"] == "event", "it follows"
    finally:
        await close_all(held(flood) + kept)
        server.stop()


@pytest.mark.browser
def test_a_phones_browser_connects_with_its_device_id_when_its_address_pool_is_full(
    tmp_path: Path, browser: Any
) -> None:
    server = LiveServer(tmp_path / "data", env={"RELAIS_MAX_CONNECTIONS_PER_ADDRESS": "2"})
    server.start()
    url = f"{server.ws_url}/ws/events/{EVENT}"
    try:
        with connect_sync(url) as script:  # the address's shared pool is one socket: held
            script.send(json.dumps({"type": "hello"}))
            assert json.loads(script.recv(WAIT))["type"] == "snapshot"
            with connect_sync(url) as another:  # turned away at once, told why
                assert json.loads(another.recv(WAIT))["code"] == "too_many_connections"
            page = browser.new_page()
            page.goto(f"{server.url}/e/{EVENT}")
            expect(page.locator("body[data-seq]")).to_have_count(1, timeout=WAIT * 1000)
            page.close()
    finally:
        server.stop()
