"""The shared notes' bounds against the real server: memory a socket can make the server
hold, how often it may ask for the whole document, and the size of a document."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import pytest
import websockets

from live.config import WS_MAX_SIZE
from live.notes import ysync
from live.notes.limits import MAX_DOC, MAX_FRAME, OUTBOX_BYTES, SYNC_BURST

from .conftest import LiveServer
from .yclient import YClient

EVENT = "ariege-2020"
WORKSHOP = "atelier-acces"
CHUNK = MAX_FRAME - 4096  # the largest paste one change may carry, framing aside


def notes_url(server: LiveServer, token: str) -> str:
    return f"{server.ws_url}/ws/notes/{EVENT}/{WORKSHOP}?k={token}"


def editor(server: LiveServer) -> YClient:
    return YClient(notes_url(server, server.link(EVENT, "rapporteur", workshop=WORKSHOP)))


def viewer(server: LiveServer) -> YClient:
    return YClient(notes_url(server, server.link(EVENT, "screen", site="foix")))


def rss(server: LiveServer) -> int:
    """The server process's resident memory, in bytes."""
    assert server.proc is not None
    for line in Path(f"/proc/{server.proc.pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


async def fill(server: LiveServer, size: int) -> str:
    """Write about `size` bytes of text into the notes, in changes the room accepts."""
    async with editor(server) as rapporteur, viewer(server) as screen:
        for i, start in enumerate(range(0, size, CHUNK)):
            rapporteur.append(chr(ord("a") + i) * min(CHUNK, size - start))
            await screen.until_text(str(rapporteur), timeout=20)
        return str(screen)


def test_the_frame_limit_is_below_the_websocket_limit() -> None:
    """So a too-large change is refused by the room, which says why, not cut by uvicorn."""
    assert MAX_FRAME < WS_MAX_SIZE
    assert OUTBOX_BYTES >= 2 * MAX_DOC  # one full state for a joiner, and then some


async def test_sockets_repeating_sync_step_1_cannot_grow_server_memory(
    live_server: LiveServer,
) -> None:
    """Eight read-only sockets that never read, each asking for the whole document forty
    times: each answer used to be queued (hundreds of MB); now at most one is on its way
    per socket, and the connection is closed past the allowance."""
    await fill(live_server, 1 << 20)
    sockets = [
        await websockets.connect(
            notes_url(live_server, live_server.link(EVENT, "screen", site="foix")),
            max_size=None,
            max_queue=1,  # read nothing more than one frame: the server's sends back up
        )
        for _ in range(8)
    ]
    baseline = peak = rss(live_server)

    async def sample() -> None:
        nonlocal peak
        while True:
            peak = max(peak, rss(live_server))
            await asyncio.sleep(0.005)

    sampler = asyncio.create_task(sample())
    try:
        for _ in range(40):
            for ws in sockets:
                await ws.send(ysync.sync_step1(b"\x00"))

        async def read_to_the_end(ws: websockets.ClientConnection) -> tuple[int | None, str]:
            with contextlib.suppress(websockets.ConnectionClosed):
                while True:
                    await asyncio.wait_for(ws.recv(), 15)
            return ws.close_code, ws.close_reason or ""

        # Now read: every frame was handled once the close arrives.
        reads = asyncio.gather(*(read_to_the_end(ws) for ws in sockets))
        codes: list[tuple[int | None, str]] | None = None
        with contextlib.suppress(TimeoutError):
            codes = await asyncio.wait_for(reads, 60)
    finally:
        sampler.cancel()
        for ws in sockets:
            ws.transport.abort()
    assert peak - baseline < 8 * OUTBOX_BYTES, f"grew by {(peak - baseline) >> 20} MiB"
    assert codes == [(4429, "too_many_syncs")] * 8


async def test_sync_step_1_is_answered_as_often_as_a_yjs_client_asks(
    live_server: LiveServer,
) -> None:
    """Once per connection, and again now and then (y-websocket's resyncInterval)."""
    async with viewer(live_server) as screen:
        for _ in range(SYNC_BURST - 1):
            screen.synced.clear()
            await screen.send_raw(ysync.sync_step1(screen.doc.get_state()))
            await asyncio.wait_for(screen.synced.wait(), 5)
        assert not screen.closed.is_set()


async def test_notes_at_their_size_cap_refuse_more_text_and_close_the_editor(
    live_server: LiveServer,
) -> None:
    text = await fill(live_server, MAX_DOC - CHUNK // 4)
    async with editor(live_server) as rapporteur:
        rapporteur.append("z" * (CHUNK // 2))
        assert await rapporteur.until_closed() == (4413, "doc_too_large")
        assert rapporteur.errors[0].startswith("doc_too_large:")
    async with viewer(live_server) as screen:
        assert str(screen) == text


async def test_full_notes_rewritten_all_day_never_freeze(live_server: LiveServer) -> None:
    """The cap is on the content, not on the history: text deleted and written again,
    ten megabytes of changes in all, always fits in notes kept near the cap."""
    await fill(live_server, MAX_DOC - CHUNK // 4)
    async with editor(live_server) as rapporteur, viewer(live_server) as screen:
        for round_ in range(8):
            del rapporteur.text[0 : 2 * CHUNK]
            for letter in "yz":
                rapporteur.append(f"{round_}{letter}" * (CHUNK // 2))
            await screen.until_text(str(rapporteur), timeout=20)
        assert not rapporteur.closed.is_set()
        written = str(screen)
    live_server.restart()
    async with viewer(live_server) as after:
        assert str(after) == written
        assert written.endswith("7z" * (CHUNK // 2))


@pytest.mark.parametrize("size", [MAX_FRAME + 1, WS_MAX_SIZE - 64])
async def test_a_change_between_the_frame_and_websocket_limits_is_explained(
    live_server: LiveServer, size: int
) -> None:
    async with editor(live_server) as rapporteur:
        await rapporteur.send_raw(ysync.update(b"\x00" * size))
        assert await rapporteur.until_closed() == (4413, "too_large")
