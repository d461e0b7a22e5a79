"""The notes websocket (`/ws/notes/{event_id}/{workshop_id}?k=...`): y-websocket transport.

Thin on purpose: it checks the link, opens the workshop's room, feeds each frame to
`Room.receive` and drains the peer's bounded outbox. A refused connection gets one error
frame (the y-websocket "permission denied" message) and a close code in 4400-4499, which
y-websocket clients take as final and do not retry; the close reason is the refusal's code
(`too_large`, `link_revoked`...), which the pages turn into a sentence.

A link is checked for as long as its socket is open, not only when it opens: before each
frame (`LinkBook.check`: expiry, and the revocations this process knows), when it
expires, and when it is revoked (`LinkBook.watch`). So a revoked or expired rapporteur
link stops editing at once, and a revoked screen stops receiving the notes.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

from starlette.websockets import WebSocket, WebSocketDisconnect

from live.agenda.live import Live
from live.errors import close_code
from live.links.signing import Claims, LinkBook, LinkError
from live.notes import ysync
from live.notes.peer import Peer
from live.notes.room import Room, may_edit
from live.notes.service import NotesService
from live.web.connections import CREW
from live.web.wire import Direct, direct_writer

CLOSE_GRACE = 5.0  # seconds a refused client gets to read its error frame and close code
# The kernel's share of a notes socket that is sent a large batch (a joiner's copy of a
# large document, up to 2 MB): the rest then waits in the transport, where the process's
# budget counts it (notes/budget.py) and a socket that takes nothing is seen stalled,
# instead of megabytes per socket in kernel queues that nothing counts. Only then: a
# fixed kernel buffer costs every socket's tail latency (notes bench, 30 documents: p99
# 14 -> 19-24 ms), and the usual document is far smaller (two hours of typing: 100 KB).
SEND_BUFFER = 128 * 1024
LARGE_BATCH = 256 * 1024
GONE = {
    "link_revoked": "this link has been revoked",
    "link_expired": "this link has expired; ask the organizer for a new one",
}


async def endpoint(websocket: WebSocket) -> None:
    app = websocket.app
    live: Live | None = app.state.catalogue.get(websocket.path_params["event_id"])
    await websocket.accept()
    workshop = live.event.workshop(websocket.path_params["workshop_id"]) if live else None
    if live is None or workshop is None:
        await _refuse(websocket, "not_found", "no such event or workshop")
        return
    links: LinkBook = app.state.links
    try:
        claims = await links.verify(websocket.query_params.get("k"), live.event.id)
    except LinkError as exc:
        await _refuse(websocket, exc.code, str(exc))
        return
    notes: NotesService = app.state.notes
    room = await notes.room(live.event, workshop)
    client = websocket.client
    peer = room.connect(
        writer=may_edit(claims, workshop.id),
        key=client.host if client else "?",
        crew=claims.role in CREW,
    )
    writer = direct_writer(websocket.scope)
    if writer is not None:  # under uvicorn with our protocol: updates skip the send task
        peer.direct = writer.write
    unwatch = links.watch(claims, lambda code: peer.refuse(code, GONE.get(code, code)))
    expiry = _close_at_expiry(peer, claims)
    sender = asyncio.create_task(_send(websocket, peer, writer))
    receiver = asyncio.create_task(_receive(websocket, room, peer, links, claims))
    try:
        await asyncio.wait({sender, receiver}, return_when=asyncio.FIRST_COMPLETED)
        if peer.closed and not sender.done():  # its error frame and close code go first
            await asyncio.wait({sender}, timeout=CLOSE_GRACE)
    finally:
        unwatch()
        if expiry is not None:
            expiry.cancel()
        notes.release(room, peer)
        for task in (receiver, sender):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


def _close_at_expiry(peer: Peer, claims: Claims) -> asyncio.TimerHandle | None:
    """Close the connection when its link expires, whether or not it sends anything."""
    if not claims.id:
        return None
    delay = max(0.0, claims.expires - time.time())
    return asyncio.get_running_loop().call_later(
        delay, peer.refuse, "link_expired", GONE["link_expired"]
    )


async def _refuse(websocket: WebSocket, code: str, message: str) -> None:
    await websocket.send_bytes(ysync.error(code, message))
    await websocket.close(code=close_code(code), reason=code)


async def _send(websocket: WebSocket, peer: Peer, writer: Direct | None) -> None:
    """Write what the peer's outbox yields. A batch counts as being written (in the peer's
    bound and the process's budget) until the socket has taken it (`drained`)."""
    capped = False
    try:
        while True:
            frames = await peer.next_frames()
            if frames is None:  # behind (the client resyncs), or refused (it says why)
                await websocket.close(code=close_code(peer.close_reason), reason=peer.close_reason)
                return
            if writer is not None and not capped and sum(map(len, frames)) > LARGE_BATCH:
                writer.limit_send_buffer(SEND_BUFFER)
                capped = True
            for frame in frames:
                await websocket.send_bytes(frame)
            if writer is not None:
                await writer.drained()
    except (WebSocketDisconnect, RuntimeError, OSError):
        pass


async def _receive(
    websocket: WebSocket, room: Room, peer: Peer, links: LinkBook, claims: Claims
) -> None:
    while not peer.closed:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect" or peer.closed:
            return
        try:
            links.check(claims)  # revoked or expired since the last frame?
        except LinkError as exc:
            peer.refuse(exc.code, str(exc))
            return
        data = message.get("bytes")
        if data is None:
            peer.send(ysync.error("not_binary", "the notes protocol is binary (y-websocket)"))
            continue
        room.receive(peer, data)
