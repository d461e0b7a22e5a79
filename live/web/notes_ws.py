"""The notes websocket (`/ws/notes/{event_id}/{workshop_id}?k=...`): y-websocket transport.

Thin on purpose: it checks the link, opens the workshop's room, feeds each frame to
`Room.receive` and drains the peer's bounded outbox. A refused connection gets one error
frame (the y-websocket "permission denied" message) and a close code in 4400-4499, which
y-websocket clients take as final and do not retry.
"""

from __future__ import annotations

import asyncio
import contextlib

from starlette.websockets import WebSocket, WebSocketDisconnect

from live.agenda.hub import Live
from live.errors import close_code
from live.links import LinkError
from live.notes import ysync
from live.notes.room import NotesService, Peer, Room, may_edit


async def endpoint(websocket: WebSocket) -> None:
    app = websocket.app
    live: Live | None = app.state.hub.get(websocket.path_params["event_id"])
    await websocket.accept()
    workshop = live.event.workshop(websocket.path_params["workshop_id"]) if live else None
    if live is None or workshop is None:
        await _refuse(websocket, close_code("not_found"), "not_found", "no such event or workshop")
        return
    try:
        claims = await app.state.links.verify(websocket.query_params.get("k"), live.event.id)
    except LinkError as exc:
        await _refuse(websocket, close_code(exc.code), exc.code, str(exc))
        return
    notes: NotesService = app.state.notes
    room = await notes.room(live.event, workshop)
    peer = room.connect(writer=may_edit(claims, workshop.id))
    sender = asyncio.create_task(_send(websocket, peer))
    try:
        await _receive(websocket, room, peer)
    except WebSocketDisconnect:
        pass
    finally:
        notes.release(room, peer)
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await sender


async def _refuse(websocket: WebSocket, close: int, code: str, message: str) -> None:
    await websocket.send_bytes(ysync.error(code, message))
    await websocket.close(code=close)


async def _send(websocket: WebSocket, peer: Peer) -> None:
    try:
        while True:
            frames = await peer.next_frames()
            if frames is None:  # fell behind: close; the client reconnects and resyncs
                await websocket.close(code=close_code("behind"))
                return
            for frame in frames:
                await websocket.send_bytes(frame)
    except (WebSocketDisconnect, RuntimeError, OSError):
        pass


async def _receive(websocket: WebSocket, room: Room, peer: Peer) -> None:
    while not peer.closed:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
        data = message.get("bytes")
        if data is None:
            peer.send(ysync.error("not_binary", "the notes protocol is binary (y-websocket)"))
            continue
        room.receive(peer, data)
