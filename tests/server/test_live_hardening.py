"""The live websocket against a hostile public: links re-checked on every use, revocation
that closes open sockets, a connection flood that leaves the crew room, bounded input."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from live.links.signing import Claims, LinkBook, LinkError, Signer
from tests.server.test_live_server import EVENT, command, hello, open_ws, recv
from tests.support.servers import SECRET, LiveServer


def revoke(server: LiveServer, token: str) -> int:
    """What the organizer does on the desk: paste the link, press "Revoke"."""
    organizer = server.link(EVENT, "organizer")
    body = urllib.parse.urlencode({"link": token}).encode()
    url = f"{server.url}/e/{EVENT}/organize/revoke?k={organizer}"
    with urllib.request.urlopen(urllib.request.Request(url, body), timeout=10) as r:
        return int(r.status)


async def closed_with(ws: ClientConnection, timeout: float = 5) -> tuple[int | None, list[dict]]:
    """Read until the server closes: its close code and the frames it sent before."""
    frames = []
    try:
        while True:
            frames.append(json.loads(await asyncio.wait_for(ws.recv(), timeout)))
    except ConnectionClosed as exc:
        return (exc.rcvd.code if exc.rcvd else None), frames


async def current_seq(server: LiveServer) -> int:
    ws = await open_ws(server)
    seq = int((await hello(ws))["seq"])
    await ws.close()
    return seq


async def test_revoking_a_link_closes_the_console_already_open_with_it(
    live_server: LiveServer,
) -> None:
    token = live_server.link(EVENT, "facilitator")
    console = await open_ws(live_server, token)
    await hello(console)
    assert (await command(console, "step.next", "a"))["type"] == "ack"
    assert revoke(live_server, token) == 200
    code, frames = await closed_with(console)
    assert code == 4403
    assert [f["code"] for f in frames if f["type"] == "error"] == ["link_revoked"]
    assert "révoqué" in frames[-1]["message"]  # said to the person, in French
    again = await open_ws(live_server, token)
    code, frames = await closed_with(again)
    assert code == 4403 and frames[0]["code"] == "link_revoked"
    assert await current_seq(live_server) == 1


async def test_a_link_that_expires_while_connected_stops_commanding_at_its_expiry(
    live_server: LiveServer,
) -> None:
    expires_in = 3
    token = live_server.signer.sign(EVENT, "facilitator", days=expires_in / 86400)
    expiry = Signer(SECRET).verify(token, EVENT).expires
    console = await open_ws(live_server, token)
    await hello(console)
    assert (await command(console, "step.next", "before"))["type"] == "ack"
    await asyncio.sleep(max(0.0, expiry - time.time()) + 0.5)
    with contextlib.suppress(ConnectionClosed):  # already closed at its expiry: as good
        await console.send(json.dumps({"type": "command", "id": "after", "name": "step.next"}))
    code, frames = await closed_with(console)
    assert code == 4403 and "link_expired" in [f.get("code") for f in frames]
    assert not [f for f in frames if f["type"] == "ack"]
    assert await current_seq(live_server) == 1


def test_a_link_is_checked_again_on_every_use_not_once() -> None:
    from live.backends.memory import MemoryBackend

    signer = Signer(SECRET)
    book = LinkBook(signer, MemoryBackend())
    claims = signer.verify(signer.sign(EVENT, "rapporteur", workshop="w"), EVENT)
    book.check(claims)
    closed: list[str] = []
    unwatch = book.watch(claims, closed.append)
    book.revoked(EVENT, claims.id)
    assert closed == ["link_revoked"]
    with pytest.raises(LinkError) as exc:
        book.check(claims)
    assert exc.value.code == "link_revoked"
    unwatch()
    assert book.watched == 0
    expired = Claims(event=EVENT, role="facilitator", expires=int(time.time()) - 1, id="x")
    with pytest.raises(LinkError) as exc:
        book.check(expired)
    assert exc.value.code == "link_expired"


@pytest.fixture
def small_server(tmp_path: Path) -> Iterator[LiveServer]:
    """A server with the open-file limit of a small machine (1,024, soft and hard)."""
    server = LiveServer(tmp_path / "data", nofile=1024)
    server.start()
    try:
        yield server
    finally:
        server.stop()


async def test_a_connection_flood_from_one_address_leaves_the_console_able_to_connect(
    small_server: LiveServer,
) -> None:
    held: list[ClientConnection] = []
    refused: list[int | None] = []
    gate = asyncio.Semaphore(50)

    async def one() -> None:
        async with gate:
            try:
                ws = await connect(f"{small_server.ws_url}/ws/events/{EVENT}")
            except (InvalidStatus, OSError):
                refused.append(None)
                return
            try:
                await ws.send(json.dumps({"type": "hello"}))
                msg = json.loads(await asyncio.wait_for(ws.recv(), 5))
            except ConnectionClosed as exc:
                refused.append(exc.rcvd.code if exc.rcvd else None)
                return
            if msg["type"] == "error":
                code, _ = await closed_with(ws)
                refused.append(code)
            else:
                held.append(ws)

    try:
        await asyncio.gather(*(one() for _ in range(1000)))
        assert held and refused and set(refused) == {4429}  # turned away, and told why
        console = await open_ws(small_server, small_server.link(EVENT, "facilitator"))
        assert (await hello(console))["type"] == "snapshot"
        assert (await command(console, "step.next", "go"))["type"] == "ack"
        screen = await open_ws(small_server, small_server.link(EVENT, "screen", site="foix"))
        assert (await hello(screen))["seq"] == 1
        for ws in (console, screen):
            await ws.close()
    finally:
        await asyncio.gather(*(ws.close() for ws in held), return_exceptions=True)


async def test_a_message_nested_thousands_deep_is_refused_and_the_connection_stays(
    live_server: LiveServer,
) -> None:
    ws = await open_ws(live_server)
    await ws.send("[" * 15000)
    assert (await recv(ws, "error"))["code"] == "too_deep"
    await ws.send(json.dumps({"type": "command", "id": "x", "name": "n", "args": {"a": [[[]]]}}))
    assert (await recv(ws, "error"))["code"] == "unknown_command"  # still answered
    assert (await hello(ws))["type"] == "snapshot"
    await ws.close()


async def test_a_ping_that_is_not_a_finite_number_is_refused(live_server: LiveServer) -> None:
    ws = await open_ws(live_server)
    for t0 in ("NaN", "1e999", "-Infinity"):
        await ws.send(f'{{"type":"ping","t0":{t0}}}')
        raw = await asyncio.wait_for(ws.recv(), 5)
        msg = json.loads(raw)  # strict JSON: no NaN nor Infinity came back
        assert msg["type"] == "error" and msg["code"] == "invalid_message"
        assert "NaN" not in str(raw) and "Infinity" not in str(raw)
    await ws.close()


async def test_a_client_sending_too_fast_is_told_and_its_frames_dropped(
    live_server: LiveServer,
) -> None:
    ws = await open_ws(live_server)
    for i in range(200):
        await ws.send(json.dumps({"type": "ping", "t0": i}))
    kinds: list[str] = []
    with pytest.raises(TimeoutError):
        while True:
            msg = json.loads(await asyncio.wait_for(ws.recv(), 1))
            kinds.append(msg.get("code") or msg["type"])
    assert kinds.count("rate_limited") == 1  # said once, not once per frame dropped
    assert 50 <= kinds.count("pong") < 200
    await asyncio.sleep(1.0)  # the bucket refills: the client is served again
    await ws.send(json.dumps({"type": "ping", "t0": 1}))
    assert (await recv(ws))["type"] == "pong"
    await ws.close()
