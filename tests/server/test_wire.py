"""Broadcast frames written straight to idle sockets (`live/web/wire.py`).

The frame is the one websockets would send, built once per broadcast; it is written only
when the client's send task is idle, so nothing overtakes a queued frame; and a socket
that does not read gets its frames queued in the bounded outbox, never piled up in the
process. The last tests run a real uvicorn with the protocol and real sockets.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect
from websockets.asyncio.client import connect
from websockets.client import ClientProtocol
from websockets.server import ServerProtocol
from websockets.uri import parse_uri

from live.agenda.outbox import RESYNC, Client
from live.links.signing import Claims
from live.notes.peer import Peer
from live.web import wire
from live.web.wire import (
    BUFFER_LIMIT,
    PROTOCOL,
    Direct,
    Frames,
    WebSocketProtocol,
    direct_writer,
)

SCREEN = Claims(event="ariege-2020", role="screen", site="foix")


def websockets_frame(text: str) -> bytes:
    """What the websockets library itself writes for `text`, as a server."""
    server = ServerProtocol()
    server.state = server.state.OPEN  # past a handshake: only the framing is compared
    server.send_text(text.encode())
    return b"".join(server.data_to_send())


@pytest.mark.parametrize("size", [0, 10, 125, 126, 300, 65535, 65536, 200_000])
def test_a_broadcast_frame_is_the_one_websockets_would_send(size: int) -> None:
    text = ("é" * size)[:size]
    assert Frames().wire(text) == websockets_frame(text)


@pytest.mark.parametrize("size", [0, 30, 126, 70_000])
def test_a_notes_update_is_the_binary_frame_websockets_would_send(size: int) -> None:
    update = bytes(range(256)) * (size // 256) + bytes(size % 256)
    server = ServerProtocol()
    server.state = server.state.OPEN
    server.send_binary(update)
    assert Frames().wire(update) == b"".join(server.data_to_send())


def test_each_broadcast_text_is_built_once_and_the_cache_stays_small() -> None:
    frames = Frames(size=4)
    text = '{"type":"event","seq":1}'
    first = frames.wire(text)
    assert frames.wire(text) is first  # the same text object: the same bytes, not rebuilt
    twin = "".join(['{"type":"event",', '"seq":1}'])  # equal, but another object
    assert twin is not text and frames.wire(twin) == first
    for n in range(10):
        frames.wire(f"frame {n}")
    assert len(frames._built) <= 4
    held = Frames(max_bytes=100_000)
    for _ in range(40):  # forty 1 MB sync answers, say: built, written, never held
        held.wire(b"x" * 1_000_000)
    for _ in range(40):
        held.wire(b"y" * 20_000)
    assert held.held <= 100_000


class Socket:
    """What a client's direct writer wrote, and whether it takes more."""

    def __init__(self, takes: bool = True) -> None:
        self.takes = takes
        self.written: list[str] = []

    def write(self, text: str) -> bool:
        if self.takes:
            self.written.append(text)
        return self.takes


async def sending(client: Client, socket: Socket) -> asyncio.Task[None]:
    """The websocket's send task: frames from the outbox to the same socket, in order."""

    async def drain() -> None:
        while (frame := await client.next_frame()) is not None:
            socket.written.append(frame)

    task = asyncio.create_task(drain())
    await asyncio.sleep(0)  # it now waits for a frame: the client is idle
    return task


async def test_an_idle_client_takes_an_event_straight_to_its_socket() -> None:
    client, sock = Client(SCREEN, maxsize=8), Socket()
    client.direct = sock.write
    task = await sending(client, sock)
    assert client.idle
    client.push_event("e1")
    assert sock.written == ["e1"] and not client.frames  # written at once, nothing queued
    task.cancel()


async def test_a_direct_frame_never_overtakes_one_queued_before_it() -> None:
    client, sock = Client(SCREEN, maxsize=8), Socket()
    client.direct = sock.write
    task = await sending(client, sock)
    client.push_reply("ack")  # queued: the send task is woken, no longer idle
    client.push_event("e1")
    client.push_event("e2")
    assert sock.written == [] and list(client.frames) == ["ack", "e1", "e2"]
    await asyncio.sleep(0.01)
    assert sock.written == ["ack", "e1", "e2"]
    client.push_event("e3")  # idle again: straight to the socket
    assert sock.written[-1] == "e3" and not client.frames
    task.cancel()


async def test_a_socket_that_cannot_take_a_frame_leaves_it_to_the_bounded_outbox() -> None:
    client, sock = Client(SCREEN, maxsize=3), Socket(takes=False)
    client.direct = sock.write
    task = await sending(client, sock)
    task.cancel()  # the send task is stuck: a socket that stopped reading
    await asyncio.sleep(0)
    for n in range(5):
        client.push_event(f"e{n}")
    assert sock.written == [] and client.behind and list(client.frames) == [RESYNC]


async def test_a_client_that_is_behind_or_closing_writes_nothing_directly() -> None:
    client, sock = Client(SCREEN, maxsize=8), Socket()
    client.direct = sock.write
    task = await sending(client, sock)
    client.behind = True  # a snapshot is owed: it will include this event
    client.push_event("e1")
    client.behind = False
    client.close("link_revoked")
    client.push_event("e2")
    assert sock.written == []
    await task


async def notes_sending(peer: Peer, sock: Socket) -> asyncio.Task[None]:
    """A notes connection's sender: batches from the peer to the same socket, in order."""

    async def drain() -> None:
        while (frames := await peer.next_frames()) is not None:
            sock.written += [f.decode() for f in frames]

    task = asyncio.create_task(drain())
    await asyncio.sleep(0)
    return task


async def test_a_notes_update_reaches_an_idle_peer_at_once_and_never_overtakes() -> None:
    peer, sock = Peer(writer=False), Socket()
    peer.direct = lambda frame: sock.write(frame.decode())
    task = await notes_sending(peer, sock)
    peer.send(b"\x02u1")
    assert sock.written == ["\x02u1"] and not peer.queued  # written at once
    peer.send_answer(b"\x02answer")  # a sync answer always goes through the outbox...
    assert peer.answering  # ...where it paces the next ones (test_notes_limits)
    peer.send(b"\x02u2")  # the sender is woken, not idle: queued, in order
    assert sock.written == ["\x02u1"] and peer.queued == [b"\x02answer", b"\x02u2"]
    await asyncio.sleep(0.01)
    assert sock.written == ["\x02u1", "\x02answer", "\x02u2"] and not peer.answering
    task.cancel()


async def test_a_notes_socket_that_cannot_take_an_update_leaves_it_to_the_bounded_outbox() -> None:
    peer, sock = Peer(writer=False, maxsize=2), Socket(takes=False)
    peer.direct = lambda frame: sock.write(frame.decode())
    task = await notes_sending(peer, sock)
    peer.send_answer(b"\x02answer")
    assert peer.answering and peer.queued == [b"\x02answer"]  # queued: one on its way
    task.cancel()
    for n in range(3):
        peer.send(b"\x02u%d" % n)
    assert peer.closed and peer.close_reason == "behind" and sock.written == []


# A real uvicorn with the protocol, in this test's loop, and real sockets.


@dataclass
class Served:
    """Websockets the in-process server accepted, with their direct writers."""

    accepted: asyncio.Queue[tuple[WebSocket, Direct | None]] = field(default_factory=asyncio.Queue)

    async def endpoint(self, websocket: WebSocket) -> None:
        await websocket.accept()
        await self.accepted.put((websocket, direct_writer(websocket.scope)))
        with contextlib.suppress(WebSocketDisconnect):
            while True:
                await websocket.receive_text()


@contextlib.asynccontextmanager
async def uvicorn_server(deflate: bool = False) -> AsyncIterator[tuple[int, Served]]:
    served = Served()
    app = Starlette(routes=[WebSocketRoute("/ws", served.endpoint)])
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, ws=PROTOCOL, ws_per_message_deflate=deflate,
        lifespan="off", log_level="warning",
    )  # fmt: skip
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        yield port, served
    finally:
        server.should_exit = True
        await task


class Stalled(asyncio.Protocol):
    """A websocket client that completes the handshake, then never reads again."""

    def __init__(self, uri: str, opened: asyncio.Future[None]) -> None:
        self.proto = ClientProtocol(parse_uri(uri))
        self.opened = opened

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        self.proto.send_request(self.proto.connect())
        for data in self.proto.data_to_send():
            transport.write(data)  # type: ignore[attr-defined]

    def data_received(self, data: bytes) -> None:
        self.proto.receive_data(data)
        self.proto.events_received()
        if self.proto.state is self.proto.state.OPEN and not self.opened.done():
            self.transport.pause_reading()  # type: ignore[attr-defined]
            self.opened.set_result(None)


async def test_the_server_offers_a_direct_writer_whose_frames_the_client_reads() -> None:
    async with (
        uvicorn_server() as (port, served),
        connect(f"ws://127.0.0.1:{port}/ws", compression=None) as ws,
    ):
        _, writer = await served.accepted.get()
        assert writer is not None
        assert writer.write('{"type":"event","seq":1}') and writer.write("é" * 70_000)
        assert await ws.recv() == '{"type":"event","seq":1}'
        assert await ws.recv() == "é" * 70_000


async def test_a_socket_that_stops_reading_stops_taking_direct_frames() -> None:
    async with uvicorn_server() as (port, served):
        loop = asyncio.get_running_loop()
        opened: asyncio.Future[None] = loop.create_future()
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.setblocking(False)
        await loop.sock_connect(sock, ("127.0.0.1", port))
        uri = f"ws://127.0.0.1:{port}/ws"
        transport, _ = await loop.create_connection(lambda: Stalled(uri, opened), sock=sock)
        await opened
        _, writer = await served.accepted.get()
        assert writer is not None
        frame, sent = "x" * 50_000, 0
        while writer.write(frame):  # until the socket's buffer is past the limit
            sent += 1
            await asyncio.sleep(0)  # let the loop try to flush, as between broadcasts
            assert sent < 10_000, "a socket that reads nothing took 500 MB"
        assert writer.protocol is not None
        buffered = writer.protocol.transport.get_write_buffer_size()
        assert buffered <= BUFFER_LIMIT + len(frame) + 16  # bounded: one frame past the limit
        assert not writer.write("a small one")  # refused too: it goes to the outbox instead
        transport.close()
        for _ in range(100):  # the server sees the connection go
            if writer.protocol is None:
                break
            await asyncio.sleep(0.01)
        assert writer.protocol is None and not writer.write("after the end")


async def test_no_direct_frame_is_written_when_compression_was_negotiated() -> None:
    async with (
        uvicorn_server(deflate=True) as (port, served),
        connect(f"ws://127.0.0.1:{port}/ws") as ws,  # offers permessage-deflate
    ):
        websocket, writer = await served.accepted.get()
        assert writer is not None and not writer.write("not the same bytes once deflated")
        await websocket.send_text("sent the usual way")
        assert await ws.recv() == "sent the usual way"


async def test_a_resync_is_never_written_as_a_frame_but_becomes_a_snapshot() -> None:
    client, sock = Client(SCREEN, maxsize=8), Socket()
    client.direct = sock.write
    task = await sending(client, sock)
    task.cancel()
    await asyncio.sleep(0)
    client._waiter = asyncio.get_running_loop().create_future()  # idle, as a waiting sender
    client.push_event(RESYNC)  # a lost log (Live._check_epoch)
    assert sock.written == [] and list(client.frames) == [RESYNC]


# What a socket that does not read may cost, and for how long.


async def stalled_client(port: int, rcvbuf: int = 4096) -> tuple[asyncio.Transport, Stalled]:
    """A client that completes the handshake, then reads nothing (a small receive buffer,
    so the server's writes back up in its transport at once)."""
    loop = asyncio.get_running_loop()
    opened: asyncio.Future[None] = loop.create_future()
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.setblocking(False)
    await loop.sock_connect(sock, ("127.0.0.1", port))
    uri = f"ws://127.0.0.1:{port}/ws"
    transport, protocol = await loop.create_connection(lambda: Stalled(uri, opened), sock=sock)
    await opened
    return transport, protocol  # type: ignore[return-value]


async def until(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    """Wait for a condition, with a deadline far above what it needs (no wall-time test)."""
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.02)


async def writing_to_a_stalled_client(
    port: int, served: Served
) -> tuple[asyncio.Transport, WebSocket, Direct, WebSocketProtocol]:
    """A client that reads nothing, the server's side of its socket, and a kernel buffer
    small enough that what is written backs up in the transport at once."""
    transport, _ = await stalled_client(port)
    websocket, writer = await served.accepted.get()
    assert writer is not None and isinstance(writer.protocol, WebSocketProtocol)
    writer.limit_send_buffer(64 * 1024)
    return transport, websocket, writer, writer.protocol


def fast_stall(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(wire, "STALL", 0.3)
    monkeypatch.setattr(wire, "STALL_CHECK", 0.1)


async def test_a_socket_that_takes_nothing_is_aborted_and_its_buffers_freed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Before, a client that stopped reading held what was written to it until keepalive
    gave up (40 s), and a close waited for the buffer to drain: forever."""
    fast_stall(monkeypatch)
    async with uvicorn_server() as (port, served):
        transport, websocket, writer, protocol = await writing_to_a_stalled_client(port, served)
        sending = asyncio.create_task(websocket.send_bytes(b"x" * (4 << 20)))
        await until(lambda: writer.protocol is None)  # aborted: the connection is lost
        assert protocol.transport.get_write_buffer_size() == 0
        with contextlib.suppress(Exception):
            await sending
        transport.abort()


class Buffered:
    """A transport whose buffer the test empties by hand."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.aborted = False

    def get_write_buffer_size(self) -> int:
        return self.size

    def is_closing(self) -> bool:
        return self.aborted

    def get_extra_info(self, name: str) -> None:
        return None

    def abort(self) -> None:
        self.aborted = True


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def time(self) -> float:
        return self.now

    def call_later(self, delay: float, callback: Callable[[], None]) -> asyncio.TimerHandle:
        return asyncio.get_running_loop().call_later(3600, callback)


async def test_a_slow_reader_that_takes_some_bytes_is_not_cut() -> None:
    """The stall check looks for progress, not speed: each check that sees fewer bytes
    waiting starts the count again; only `STALL` seconds without any cut the socket."""
    protocol = WebSocketProtocol.__new__(WebSocketProtocol)
    clock, transport = Clock(), Buffered(1 << 20)
    protocol.loop, protocol.transport = clock, transport  # type: ignore[assignment]
    protocol.writable = asyncio.Event()
    protocol.pause_writing()  # over the high-water mark: the watch starts
    for _ in range(20):  # a phone reading 1 KB per check, for far longer than STALL
        clock.now += wire.STALL_CHECK * 3
        transport.size -= 1024
        protocol._check_stall()
        assert not transport.aborted
    for _ in range(int(wire.STALL / wire.STALL_CHECK)):  # then nothing at all
        clock.now += wire.STALL_CHECK
        protocol._check_stall()
    assert transport.aborted
    assert protocol._stall_timer is None


async def test_pings_sent_without_reading_the_pongs_end_the_connection() -> None:
    """Each ping is answered with a pong written to the transport: a client that pings
    and never reads used to grow that buffer without end."""
    async with uvicorn_server() as (port, served):
        transport, client = await stalled_client(port)
        _, writer = await served.accepted.get()
        assert writer is not None and writer.protocol is not None
        ping = client.proto
        for _ in range(200):
            for _ in range(500):
                ping.send_ping(b"p" * 125)
            for data in ping.data_to_send():
                transport.write(data)
            await asyncio.sleep(0)
            if writer.protocol is None:
                break
        await until(lambda: writer.protocol is None)
        transport.abort()


async def test_a_close_sent_to_a_socket_that_does_not_read_frees_it_at_once() -> None:
    async with uvicorn_server() as (port, served):
        transport, websocket, writer, protocol = await writing_to_a_stalled_client(port, served)
        sending = asyncio.create_task(websocket.send_bytes(b"z" * (2 << 20)))
        await until(lambda: not protocol.writable.is_set())
        await asyncio.wait_for(websocket.close(code=1013), 30)  # used to wait forever
        await until(lambda: writer.protocol is None)
        with contextlib.suppress(Exception):
            await sending
        transport.abort()
