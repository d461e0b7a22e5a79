"""The notes websocket (`/ws/notes/{event_id}/{workshop_id}?k=...`): y-websocket transport.

A `Session` (web/session.py: admission, the link watched and its expiry, a sender task
and a receive loop, cleanup) that says what is the notes': it opens the workshop's room,
feeds each frame to `Room.receive` and drains the peer's bounded outbox. A refused
connection gets one error frame (the y-websocket "permission denied" message) and a close
code in 4400-4499, which y-websocket clients take as final and do not retry; the close
reason is the refusal's code (`too_large`, `link_revoked`...), which the pages turn into a
sentence.

A link is checked for as long as its socket is open, not only when it opens: before each
frame (`LinkBook.check`: expiry, and the revocations this process knows), when it
expires, and when it is revoked (`LinkBook.watch`). So a revoked or expired rapporteur
link stops editing at once, and a revoked screen stops receiving the notes.
"""

from __future__ import annotations

from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from live.agenda.live import Live
from live.errors import RelaisError
from live.links.signing import LinkError
from live.notes import ysync
from live.notes.peer import Peer
from live.notes.room import Room, may_edit
from live.notes.service import NotesService
from live.web.connections import CREW
from live.web.session import Session, close

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


class NotesSession(Session):
    """One editor or reader of a workshop's notes, synced with its room (Yjs)."""

    notes: NotesService
    room: Room
    peer: Peer

    async def on_connect(self, websocket: WebSocket) -> None:
        app = websocket.app
        live: Live | None = app.state.catalogue.get(websocket.path_params["event_id"])
        workshop = live.event.workshop(websocket.path_params["workshop_id"]) if live else None
        if live is None or workshop is None:
            raise RelaisError("not_found", "no such event or workshop")
        self.claims = await app.state.links.verify(websocket.query_params.get("k"), live.event.id)
        self.notes = app.state.notes
        self.room = await self.notes.room(live.event, workshop)
        client = websocket.client
        self.peer = self.room.connect(
            writer=may_edit(self.claims, workshop.id),
            key=client.host if client else "?",
            crew=self.claims.role in CREW,
        )
        if self.direct is not None:  # under uvicorn with our protocol: updates skip the sender
            self.peer.direct = self.direct.write

    @property
    def closed(self) -> bool:
        return self.peer.closed

    def farewell(self, exc: RelaisError) -> bytes:
        return ysync.error(exc.code, exc.message)

    def end(self, code: str) -> None:
        self.peer.refuse(code, GONE.get(code, code))  # its farewell is the last frame queued

    async def send_frames(self, websocket: WebSocket) -> None:
        """Write what the peer's outbox yields. A batch counts as being written (in the
        peer's bound and the process's budget) until the socket has taken it (`drained`)."""
        peer, writer, capped = self.peer, self.direct, False
        try:
            while (frames := await peer.next_frames()) is not None:
                if writer is not None and not capped and sum(map(len, frames)) > LARGE_BATCH:
                    writer.limit_send_buffer(SEND_BUFFER)
                    capped = True
                for frame in frames:
                    await websocket.send_bytes(frame)
                if writer is not None:
                    await writer.drained()
        except (WebSocketDisconnect, RuntimeError, OSError):
            return
        # behind (the client resyncs), or refused (its farewell went out just before)
        await close(websocket, self.peer.close_reason)

    async def on_receive(self, websocket: WebSocket, data: Any) -> None:
        try:
            websocket.app.state.links.check(self.claims)  # revoked or expired meanwhile?
        except LinkError as exc:
            self.peer.refuse(exc.code, str(exc))
            return
        if not isinstance(data, bytes):
            self.peer.send(ysync.error("not_binary", "the notes protocol is binary (y-websocket)"))
            return
        self.room.receive(self.peer, data)

    async def on_disconnect(self, websocket: WebSocket, close_code: int) -> None:
        self.notes.release(self.room, self.peer)


endpoint = NotesSession
