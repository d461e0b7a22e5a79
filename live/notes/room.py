"""Collaborative notes: one Yjs document per workshop, shared over y-websocket.

A `Room` holds a workshop's document (a pycrdt `Doc` whose text is named `notes`) and the
connections following it. Transport-agnostic: the websocket endpoint hands each binary
frame to `Room.receive` and sends what a `Peer`'s outbox yields.

Why it is written this way:

- **Write-ahead, then relay.** An update from an editor is checked (decoded into a scratch
  document), queued, written to the backend, and only then applied to the room's document
  and relayed. So anything a screen has ever shown, and anything a (re)joining client is
  sent, is already on disk: a restart loses no update any other client saw. y-websocket
  has no acknowledgement; "acknowledged" here means "relayed". An update not yet written
  when the server dies is still in its editor's browser, which sends it again on
  reconnect (sync step 1/2 merges it). Writes are group commits shared by all rooms (see
  `notes_writer`): the latency this costs is about one or two disk commits (an fsync:
  0.3 to 10 ms on the machines measured), whatever the number of rooms.
- **Joining is atomic.** A client enters the broadcast set in the same synchronous step
  that answers its sync step 1 with the document's state (no await between): every update
  is either in that answer or relayed after it, never both missing and never before the
  handshake (pycrdt-websocket issue #138). This is also why the protocol is implemented
  here on pycrdt rather than with pycrdt-websocket's `YRoom`: roles, bounded outboxes and
  the write-ahead order all sit on the path that class owns.
- **Roles on the server.** Only editor connections may change the text. A document update
  from a read-only connection is dropped and answered with an error frame; its awareness
  (cursor) is ignored silently, so 500 screens do not flood each other with presence.
- **Never wait on a slow client.** Each broadcast is encoded once and put into every
  peer's bounded outbox with `put_nowait`; a peer's sender merges the updates it finds
  queued into one frame, and a peer past the limit is closed (its y-websocket client
  reconnects and resyncs).
- **Bounded history.** After `compact_every` stored updates (and when a room unloads),
  they are replaced by one update encoding the whole document (deleted text garbage
  collected), so a long event stores a few rows per workshop, not one per keystroke.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass

from pycrdt import Doc, Text, get_state, merge_updates

from live.backends.base import Backend
from live.links import Claims
from live.model import Event, Workshop
from live.notes import ysync
from live.notes.writer import Batch, Writer

log = logging.getLogger("relais.notes")

TEXT = "notes"  # the name of the shared text in every workshop's Yjs document
MAX_FRAME = 512 << 10  # bytes; a paste of a whole report is far below this (and below
# the server's websocket limit, so the sender gets an error reply, not a closed socket)
MAX_DOC = 8 << 20  # bytes stored per document between compactions
MAX_AWARENESS = 16 << 10
OUTBOX = 512  # frames a peer may lag behind before it is closed and resynced
KEEPALIVE_FRAME = ysync.awareness(ysync.encode_awareness([]))
RAPPORTEURS = "rapporteurs"  # record kind: doc name -> {"names": [...], "by_client": {...}}
# What the editor shows for a rapporteur who has not typed a name (web/notes_pages.py).
PLACEHOLDER_NAMES = frozenset({"rapporteur", "rapporteure", "rapporteur·rice"})


def doc_name(event_id: str, workshop_id: str) -> str:
    return f"{event_id}/{workshop_id}"


def template_for(event: Event, workshop: Workshop) -> str:
    """The starting text of a workshop's notes: its own template, or the event's."""
    return workshop.notes_template if workshop.notes_template is not None else event.notes_template


def may_edit(claims: Claims, workshop_id: str) -> bool:
    """Only the rapporteur link of this very workshop edits; every other role reads."""
    return claims.role == "rapporteur" and claims.workshop == workshop_id


class Peer:
    """One connection's side of a room: its rights and its bounded outbox.

    `send` never blocks: it appends to `queued` and wakes the connection's sender, which
    takes everything queued at once (`next_frames`). Past `maxsize` frames the peer is
    closed instead: its client reconnects and resyncs.
    """

    def __init__(self, writer: bool, maxsize: int = OUTBOX) -> None:
        self.writer = writer
        self.maxsize = maxsize
        self.queued: list[bytes] = []
        self.joined = False
        self.closed = False
        self.presence: set[int] = set()  # awareness client ids this connection announced
        self.authored = False  # an update of this connection brought new text
        self._waiter: asyncio.Future[None] | None = None

    def send(self, frame: bytes) -> None:
        if self.closed:
            return
        if len(self.queued) >= self.maxsize:
            self.close()
            return
        self.queued.append(frame)
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def next_frames(self) -> list[bytes] | None:
        """Everything queued, oldest first, consecutive updates merged into one frame; or
        None when the connection must close. A sender that fell behind thus catches up in
        a few large frames instead of many small ones."""
        while not self.queued and not self.closed:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        if self.closed:
            return None
        frames, self.queued = self.queued, []
        return _coalesce(frames)

    def close(self) -> None:
        """Drop what is queued and tell the sender to close (the client will resync)."""
        if self.closed:
            return
        self.closed = True
        self.queued = []
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)


def _editor_name(state: str) -> str | None:
    """The name an editor's awareness state gives, unless it is none or the placeholder."""
    try:
        user = json.loads(state).get("user")
    except (ValueError, AttributeError):
        return None
    if not isinstance(user, dict) or user.get("anonymous"):
        return None
    name = user.get("name")
    if not isinstance(name, str) or not name.strip():
        return None
    name = name.strip()[:80]
    return None if name.lower() in PLACEHOLDER_NAMES else name


def _coalesce(frames: list[bytes]) -> list[bytes]:
    if len(frames) == 1:
        return frames
    out: list[bytes] = []
    run: list[bytes] = []
    for frame in [*frames, b""]:
        if frame[:2] == bytes((ysync.SYNC, ysync.UPDATE)):
            run.append(ysync.Reader(frame[2:]).bytes())
            continue
        if run:
            out.append(ysync.update(run[0] if len(run) == 1 else merge_updates(*run)))
            run = []
        if frame:
            out.append(frame)
    return out


@dataclass
class _Pending:
    update: bytes
    origin: Peer | None


class Room:
    """One workshop's document and its connections. Its writes go through a `Writer`
    shared with the other rooms (a room alone, as in tests, gets its own)."""

    def __init__(
        self, name: str, backend: Backend, compact_every: int = 500, writer: Writer | None = None
    ) -> None:
        self.name = name
        self.backend = backend
        self.compact_every = compact_every
        self.writer = writer or Writer(backend)
        self._own_writer = writer is None
        self.doc: Doc[Text] = Doc()
        self.text = self.doc.get(TEXT, type=Text)
        self.peers: set[Peer] = set()
        self.presence: dict[int, ysync.Presence] = {}
        self.authors: set[int] = set()  # Yjs clients that brought text
        self.credits: dict[int, str] = {}  # author's client id -> the name it wrote under
        self._earlier: list[str] = []  # names recorded before credits were kept by client
        self._pending: list[_Pending] = []
        self._recent: list[bytes] = []  # stored since the last compaction (see _compact)
        self._stored = 0  # rows in the backend for this document
        self._size = 0  # bytes in those rows

    # -- lifecycle ------------------------------------------------------------------------

    async def load(self, template: str) -> None:
        """Rebuild the document from the backend; a new document starts from the template."""
        rows = await self.backend.notes_load(self.name)
        for row in rows:
            self._apply(row)
        self._stored, self._size = len(rows), sum(len(r) for r in rows)
        record = await self.backend.get_record(RAPPORTEURS, self.name) or {}
        self.credits = {int(c): n for c, n in record.get("by_client", {}).items()}
        self.authors = set(self.credits)
        if "by_client" not in record:
            self._earlier = list(record.get("names", []))
        if not rows and template:
            self.text += template
            first = self.doc.get_update()
            await self.backend.notes_append(self.name, [first])
            self._stored, self._size = 1, len(first)
        elif self._stored > self.compact_every:
            await self.compact()
        self.writer.register(self)

    async def close(self) -> None:
        """Write what is pending, compact, and close every connection."""
        await self.flush()
        if self._stored > 1:
            await self.compact()
        self.writer.unregister(self)
        if self._own_writer:
            await self.writer.close()
        for peer in list(self.peers):
            peer.close()

    # -- connections ----------------------------------------------------------------------

    def connect(self, writer: bool) -> Peer:
        """A new connection. Editors are asked for what they have (sync step 1) at once."""
        peer = Peer(writer)
        self.peers.add(peer)
        if writer:
            peer.send(ysync.sync_step1(self.doc.get_state()))
        return peer

    def disconnect(self, peer: Peer) -> None:
        self.peers.discard(peer)
        gone = [self.presence.pop(c) for c in peer.presence if c in self.presence]
        if gone:
            left = [ysync.Presence(p.client, p.clock + 1, "null") for p in gone]
            self._broadcast(ysync.awareness(ysync.encode_awareness(left)), None)

    def receive(self, peer: Peer, frame: bytes) -> None:
        """Handle one frame from `peer`. Synchronous on purpose: see "Joining is atomic"."""
        if len(frame) > MAX_FRAME:
            self._refuse(peer, "too_large", f"frame over {MAX_FRAME} bytes")
            return
        try:
            msg = ysync.parse(frame)
            if isinstance(msg, ysync.SyncStep1):
                self._answer_step1(peer, msg.state)
            elif isinstance(msg, ysync.SyncStep2 | ysync.Update):
                self._accept_update(peer, msg.update)
            elif isinstance(msg, ysync.Awareness):
                self._accept_presence(peer, msg.payload, frame)
            elif isinstance(msg, ysync.QueryAwareness):
                peer.send(self._presence_frame())
        except ysync.SyncError as exc:
            self._refuse(peer, exc.code, str(exc))

    def _refuse(self, peer: Peer, code: str, message: str) -> None:
        peer.send(ysync.error(code, message))

    def _answer_step1(self, peer: Peer, state: bytes) -> None:
        try:
            diff = self.doc.get_update(state)
        except ValueError:
            raise ysync.SyncError("malformed", "invalid state vector") from None
        peer.send(ysync.sync_step2(diff))
        if not peer.joined:
            peer.joined = True
            if self.presence:
                peer.send(self._presence_frame())

    def _accept_update(self, peer: Peer, update: bytes) -> None:
        if update == ysync.EMPTY_UPDATE:
            return  # what a client with nothing new answers to step 1
        if not peer.writer:
            self._refuse(peer, "read_only", "this link may read the notes, not edit them")
            return
        if self._size + len(update) > MAX_DOC:
            self._refuse(peer, "doc_too_large", "the document has reached its size limit")
            return
        try:
            Doc().apply_update(update)  # decode it away from the real document
        except Exception:
            raise ysync.SyncError("malformed", "not a valid Yjs update") from None
        self._size += len(update)
        self._pending.append(_Pending(update, peer))
        self.writer.wake(self)
        if not peer.authored:  # one document per connection: its author is known once found
            authors = self._authors(update)
            peer.authored = bool(authors)
            if authors - self.authors:
                self.authors |= authors
                self._credit(authors)

    def _accept_presence(self, peer: Peer, payload: bytes, frame: bytes) -> None:
        if not peer.writer:
            return  # viewers' cursors are nobody's business; not an error either
        if len(payload) > MAX_AWARENESS:
            raise ysync.SyncError("too_large", "awareness state too large")
        for entry in ysync.decode_awareness(payload):
            known = self.presence.get(entry.client)
            if known is not None and entry.clock < known.clock:
                continue
            if entry.gone:
                self.presence.pop(entry.client, None)
                peer.presence.discard(entry.client)
            else:
                self.presence[entry.client] = entry
                peer.presence.add(entry.client)
                if entry.client in self.authors:
                    self._credit([entry.client])  # a name given, or changed, by an author
        self._broadcast(frame, peer)

    def _presence_frame(self) -> bytes:
        return ysync.awareness(ysync.encode_awareness(list(self.presence.values())))

    def _authors(self, update: bytes) -> set[int]:
        """The Yjs clients whose new text an update brings. An editor that only read
        answers the server's sync with what it received meanwhile: nobody's new text. The
        ids are those of the authors' own documents, which their awareness states share;
        whoever relays a presence (y-websocket clients re-send the ones they hear) is not
        taken for its author."""
        known = ysync.decode_state_vector(self.doc.get_state())
        brought = ysync.decode_state_vector(get_state(update))
        return {client for client, clock in brought.items() if clock > known.get(client, 0)}

    @property
    def rapporteurs(self) -> list[str]:
        """The names the synthesis credits: people who edited, each once, by their last
        name (J, Je, Jean typed in the name field is one person, Jean), in order of arrival;
        never someone who only opened the editor, never the placeholder name."""
        names = list(self._earlier)
        for name in self.credits.values():
            if name not in names:
                names.append(name)
        return names

    def _credit(self, clients: Iterable[int]) -> None:
        changed = False
        for client in clients:
            entry = self.presence.get(client)
            name = _editor_name(entry.state) if entry is not None else None
            if name is not None and self.credits.get(client) != name:
                self.credits[client] = name
                changed = True
        if changed:
            value = {
                "names": self.rapporteurs,
                "by_client": {str(c): n for c, n in self.credits.items()},
            }
            task = asyncio.create_task(self.backend.put_record(RAPPORTEURS, self.name, value))
            task.add_done_callback(_log_failure)

    def _broadcast(self, frame: bytes, origin: Peer | None) -> None:
        for peer in self.peers:
            if peer.joined and peer is not origin:
                peer.send(frame)

    # -- the write-ahead path (driven by the writer) ----------------------------------------

    async def flush(self) -> None:
        """Return once every update received so far is written, applied and relayed."""
        await self.writer.flush()

    async def compact(self) -> None:
        """Replace the stored history by one update now."""
        async with self.writer.lock:
            await self._compact()

    def take_pending(self) -> list[Batch]:
        batch, self._pending = self._pending, []
        return list(batch)

    def put_back(self, batch: list[Batch]) -> None:
        self._pending[:0] = [p for p in batch if isinstance(p, _Pending)]

    def published(self, batch: list[Batch]) -> None:
        """The batch is on disk: apply it and relay it."""
        self._stored += len(batch)
        self._publish([p for p in batch if isinstance(p, _Pending)])

    def compaction_due(self) -> bool:
        return self._stored >= self.compact_every

    async def compact_now(self) -> None:
        """Compact; the caller (the writer) holds the lock."""
        await self._compact()

    def keepalive(self) -> None:
        self._broadcast(KEEPALIVE_FRAME, None)

    def _publish(self, batch: list[_Pending]) -> None:
        updates = [p.update for p in batch if self._apply(p.update)]
        if not updates:
            return
        frame = ysync.update(updates[0] if len(updates) == 1 else merge_updates(*updates))
        origins = {id(p.origin) for p in batch}
        only = batch[0].origin if len(origins) == 1 else None
        self._broadcast(frame, only)

    def _apply(self, update: bytes) -> bool:
        try:
            self.doc.apply_update(update)
        except Exception:
            log.warning("notes %s: an update does not apply; skipped", self.name)
            return False
        self._recent.append(update)
        return True

    async def _compact(self) -> None:
        """Replace the stored rows by the document's state. The caller holds the lock, so no
        append runs between counting the rows and replacing them.

        yrs leaves out of `get_update()` any update still waiting for one it depends on
        (sent by a client that had it from another tab, say). Such an update is kept: it
        is exactly one that merging into the state changes (merging an integrated one
        yields the same bytes), and it is checked one by one only when the whole recent
        history, merged at once (well under a millisecond), says something is missing.
        """
        merged = self.doc.get_update()
        waiting = []
        if self._recent and _merge(merged, self._recent) != merged:
            waiting = [u for u in self._recent if _merge(merged, [u]) != merged]
            merged = _merge(merged, waiting)
        await self.backend.notes_compact(self.name, merged, self._stored)
        self._stored, self._size, self._recent = 1, len(merged), waiting


def _merge(state: bytes, updates: list[bytes]) -> bytes:
    return merge_updates(state, *updates) if updates else state


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("notes: a background task failed", exc_info=task.exception())


class NotesService:
    """Every loaded room, by document name, sharing one writer. A room unloads `idle`
    seconds after its last connection leaves (written and compacted first)."""

    def __init__(self, backend: Backend, *, idle: float = 30.0, compact_every: int = 500) -> None:
        self.backend = backend
        self.writer = Writer(backend)
        self.idle = idle
        self.compact_every = compact_every
        self.rooms: dict[str, Room] = {}
        self._loading: dict[str, asyncio.Task[Room]] = {}
        self._closing: dict[str, asyncio.Task[None]] = {}
        self._unload: dict[str, asyncio.TimerHandle] = {}

    async def room(self, event: Event, workshop: Workshop) -> Room:
        name = doc_name(event.id, workshop.id)
        handle = self._unload.pop(name, None)
        if handle is not None:
            handle.cancel()
        if name in self.rooms:
            return self.rooms[name]
        task = self._loading.get(name)
        if task is None:
            task = asyncio.create_task(self._load(name, template_for(event, workshop)))
            self._loading[name] = task
        return await asyncio.shield(task)

    async def _load(self, name: str, template: str) -> Room:
        try:
            closing = self._closing.get(name)
            if closing is not None:  # its last compaction must land before we count rows
                await asyncio.wait([closing])
            room = Room(name, self.backend, self.compact_every, self.writer)
            await room.load(template)
            self.rooms[name] = room
            return room
        finally:
            self._loading.pop(name, None)

    def release(self, room: Room, peer: Peer) -> None:
        """A connection ended; schedule the room's unload if it was the last one."""
        room.disconnect(peer)
        if not room.peers and room.name not in self._unload:
            loop = asyncio.get_running_loop()
            self._unload[room.name] = loop.call_later(self.idle, self._start_unload, room)

    def _start_unload(self, room: Room) -> None:
        self._unload.pop(room.name, None)
        if not room.peers and self.rooms.get(room.name) is room:
            del self.rooms[room.name]
            task = asyncio.create_task(room.close())
            self._closing[room.name] = task
            task.add_done_callback(_log_failure)
            task.add_done_callback(self._closed)

    def _closed(self, task: asyncio.Task[None]) -> None:
        for name, closing in list(self._closing.items()):
            if closing is task:
                del self._closing[name]

    async def text(self, event_id: str, workshop_id: str) -> str:
        """The current text of a workshop's notes ("" when nobody ever opened them)."""
        name = doc_name(event_id, workshop_id)
        room = self.rooms.get(name)
        if room is not None:
            await room.flush()
            return str(room.text)
        closing = self._closing.get(name)
        if closing is not None:  # an unloading room writes its last updates first
            await asyncio.wait([closing])
        return await stored_text(self.backend, name)

    async def rapporteurs(self, event_id: str, workshop_id: str) -> list[str]:
        name = doc_name(event_id, workshop_id)
        room = self.rooms.get(name)
        if room is not None:
            return list(room.rapporteurs)
        return await stored_rapporteurs(self.backend, name)

    async def close(self) -> None:
        for handle in self._unload.values():
            handle.cancel()
        self._unload.clear()
        rooms, self.rooms = list(self.rooms.values()), {}
        if self._closing:
            await asyncio.wait(list(self._closing.values()))
        for room in rooms:
            try:
                await room.close()
            except Exception:
                log.exception("notes %s: cannot close cleanly", room.name)
        await self.writer.close()


async def stored_text(backend: Backend, name: str) -> str:
    """A document's text read straight from the backend (the CLI export uses this)."""
    doc: Doc[Text] = Doc()
    text = doc.get(TEXT, type=Text)
    for row in await backend.notes_load(name):
        try:
            doc.apply_update(row)
        except Exception:
            log.warning("notes %s: a stored update does not apply; skipped", name)
    return str(text)


async def stored_rapporteurs(backend: Backend, name: str) -> list[str]:
    record = await backend.get_record(RAPPORTEURS, name)
    return list(record.get("names", [])) if record else []
