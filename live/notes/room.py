"""Collaborative notes: one Yjs document per workshop, shared over y-websocket.

A `Room` holds a workshop's document (a pycrdt `Doc` whose text is named `notes`) and the
connections following it (`peer.Peer`). Transport-agnostic: the websocket endpoint hands
each binary frame to `Room.receive` and sends what a peer's outbox yields.

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
- **Roles on the server.** Only editor connections may change the text. A viewer's
  awareness (cursor) is ignored silently, so 500 screens do not flood each other with
  presence.
- **A refused change ends its connection.** Yjs updates depend on the ones before them: an
  update the room refuses (too large, the document full, not a valid update, from a
  read-only link, from a link revoked or expired meanwhile) is missing from the room's
  document for good, so every later update of that client waits for it and is never
  applied, while its editor goes on showing the text as if shared. So the connection is
  closed, after an error frame, with a 44xx close code (`errors.CLOSE_CODE`) that
  y-websocket clients take as final and the editor page explains, offering the text it
  holds to be copied. Frames that change nothing (awareness, unknown message types) only
  get the error frame.
- **Never wait on a slow client.** Each broadcast is encoded once and put into every
  peer's outbox with `put_nowait`; a peer's sender merges the updates it finds queued
  into one frame, and a peer past its bounds (frames and bytes, see `peer.py`) is closed
  (its y-websocket client reconnects and resyncs). A sync step 1 is answered at most once
  at a time per connection, and only so often.
- **Bounded in size, and the bounds agree** (`limits.py`). The websocket reads at most
  `WS_MAX_SIZE` bytes per message (uvicorn's `--ws-max-size`, what `relais serve` sets);
  a frame is refused past `MAX_FRAME`, half that, so a too-large change gets the room's
  refusal and its explanation rather than a cut socket, and the editor page, given
  `MAX_FRAME`, refuses such a paste before sending it. A document's content (its merged
  state, what a joiner is sent) is capped at `MAX_DOC`; a peer's outbox holds twice that.
- **Bounded history, never frozen by it.** After `compact_every` stored updates, or
  `COMPACT_GROWTH` stored bytes, since the last compaction (and when a room unloads),
  they are replaced by one update encoding the whole document (deleted text garbage
  collected), so a long event stores a few rows per workshop, not one per keystroke. The
  cap applies to the content, not to the history: an update that would take the stored
  bytes past `MAX_DOC` is measured against the document's encoded state (the room's
  in-memory document, synchronously, as joining needs), and refused only if the content
  itself would pass the cap. Updates that bring no new content (deletions) always pass,
  so a full document can be trimmed.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from pycrdt import Doc, Text, merge_updates
from pycrdt import get_update as diff_update

from live.backends.base import Backend
from live.links.signing import Claims
from live.model import Event, Workshop
from live.notes import ysync
from live.notes.budget import SendBudget
from live.notes.credits import KeptCredits
from live.notes.limits import COMPACT_GROWTH, MAX_AWARENESS, MAX_DOC, MAX_FRAME
from live.notes.peer import Peer
from live.notes.writer import Batch, Writer

log = logging.getLogger("relais.notes")

TEXT = "notes"  # the name of the shared text in every workshop's Yjs document
KEEPALIVE_FRAME = ysync.awareness(ysync.encode_awareness([]))
EMPTY_STATE = b"\x00"  # the state vector of a client that has nothing yet
STARTED = "notes-started"  # records: which documents were given their template (shared store)


def doc_name(event_id: str, workshop_id: str) -> str:
    return f"{event_id}/{workshop_id}"


def template_for(event: Event, workshop: Workshop) -> str:
    """The starting text of a workshop's notes: its own template, or the event's."""
    return workshop.notes_template if workshop.notes_template is not None else event.notes_template


def may_edit(claims: Claims, workshop_id: str) -> bool:
    """Only the rapporteur link of this very workshop edits; every other role reads."""
    return claims.role == "rapporteur" and claims.workshop == workshop_id


@dataclass
class _Pending:
    update: bytes
    origin: Peer | None


class Room:
    """One workshop's document and its connections. Its writes go through a `Writer`
    shared with the other rooms (a room alone, as in tests, gets its own)."""

    def __init__(
        self,
        name: str,
        backend: Backend,
        compact_every: int = 500,
        writer: Writer | None = None,
        max_doc: int = MAX_DOC,
        budget: SendBudget | None = None,
    ) -> None:
        self.name = name
        self.budget = budget or SendBudget()
        self.backend = backend
        self.compact_every = compact_every
        self.max_doc = max_doc
        self.compact_growth = max_doc * COMPACT_GROWTH // MAX_DOC
        self.writer = writer or Writer(backend)
        self._own_writer = writer is None
        self.doc: Doc[Text] = Doc()
        self.text = self.doc.get(TEXT, type=Text)
        self.peers: set[Peer] = set()
        self.presence: dict[int, ysync.Presence] = {}
        self.credits = KeptCredits(backend, name)
        self._pending: list[_Pending] = []
        self._writing: list[_Pending] = []  # taken by the writer, not yet published
        self._recent: list[bytes] = []  # stored since the last compaction (see _compact)
        self._stored = 0  # rows in the backend for this document
        self._size = 0  # bytes in those rows, plus accepted updates not yet written
        self._base = 0  # `_size` right after the last compaction
        self._unpublished = 0  # bytes accepted, not yet written and applied
        self._measured: tuple[int, int] | None = None  # (content bytes, `_size`) when measured
        self._compact_soon = False
        self._whole: bytes | None = None  # the answer to an empty state vector, while valid

    # -- lifecycle ------------------------------------------------------------------------

    async def load(self, template: str) -> None:
        """Rebuild the document from the backend; a new document starts from the template."""
        rows = await self.backend.notes_load(self.name)
        self._take(rows)
        await self.credits.load()
        if not rows and template and await self._first_to_start():
            self.text += template
            first = self.doc.get_update()
            await self.backend.notes_append(self.name, [first])
            self._stored, self._size = 1, len(first)
            self._base = self._size
        elif not rows and template:  # another process writes the template: take it
            for _ in range(40):
                rows = await self.backend.notes_load(self.name)
                if rows:
                    break
                await asyncio.sleep(0.05)
            self._take(rows)
        elif self._stored > self.compact_every or (
            len(rows) > 1 and self._size > self.compact_growth
        ):
            await self.compact()
        self.writer.register(self)

    def _take(self, rows: list[bytes]) -> None:
        """The stored rows, as the document's history so far."""
        for row in rows:
            self._apply(row)
        self._stored, self._size = len(rows), sum(len(r) for r in rows)
        self._base = self._size

    async def _first_to_start(self) -> bool:
        """Whether this process writes the template of a new document: always alone; on
        a shared store, only the one that claims it first (else each process would add
        its own copy of the headings)."""
        if not self.backend.shared:
            return True
        return await self.backend.create_record(STARTED, self.name, {})

    async def close(self) -> None:
        """Write what is pending, compact, and close every connection."""
        await self.flush()
        if self._stored > 1:
            await self.compact()
        await self.credits.written()
        self.writer.unregister(self)
        if self._own_writer:
            await self.writer.close()
        for peer in list(self.peers):
            peer.close()

    # -- connections ----------------------------------------------------------------------

    def connect(self, writer: bool, key: str = "", crew: bool = False) -> Peer:
        """A new connection (`key`: its client's address; `crew`: a link that runs the
        event). Editors are asked for what they have (sync step 1) at once."""
        peer = Peer(writer, budget=self.budget, key=key, crew=crew)
        self.peers.add(peer)
        if writer:
            peer.send(ysync.sync_step1(self.doc.get_state()))
        return peer

    def disconnect(self, peer: Peer) -> None:
        self.peers.discard(peer)
        peer.release()
        gone = [self.presence.pop(c) for c in peer.presence if c in self.presence]
        if gone:
            left = [ysync.Presence(p.client, p.clock + 1, "null") for p in gone]
            self._broadcast(ysync.awareness(ysync.encode_awareness(left)), None)

    def receive(self, peer: Peer, frame: bytes) -> None:
        """Handle one frame from `peer`. Synchronous on purpose: see "Joining is atomic"."""
        if peer.closed:
            return  # refused, revoked or behind: nothing more from it counts
        if len(frame) > MAX_FRAME:
            peer.refuse("too_large", f"a change of {len(frame)} bytes, over {MAX_FRAME}")
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
            if frame[:1] == bytes((ysync.SYNC,)):  # a change or a sync its client counts on
                peer.refuse(exc.code, str(exc))
            else:
                peer.send(ysync.error(exc.code, str(exc)))

    def _answer_step1(self, peer: Peer, state: bytes) -> None:
        if not peer.may_sync():
            peer.refuse("too_many_syncs", "sync step 1 sent too often")
            return
        if peer.answering:
            return  # the answer on its way holds all this one would, and more
        try:
            Doc().get_update(state)  # decoded by yrs against nothing: cheap
        except ValueError:
            raise ysync.SyncError("malformed", "invalid state vector") from None
        # About the answer's size: the whole document at most, which the stored history holds.
        size = len(self._whole) if self._whole is not None else min(self._size, self.max_doc) + 16
        if peer.try_answer(size):
            self._answer(peer, state)
        else:  # the process's answers in flight are at their bound: wait for a turn
            peer.ask(state, size, self._answer)

    def _answer(self, peer: Peer, state: bytes) -> None:
        """Queue the document's difference to `state`, and join the peer to the broadcast
        in the same step (see "Joining is atomic"). A joiner with nothing (the usual
        screen) gets the same bytes as every other such joiner until the text changes."""
        if peer.closed:
            return
        if state == EMPTY_STATE:
            if self._whole is None:
                self._whole = ysync.sync_step2(self.doc.get_update())
            frame = self._whole
        else:
            try:
                frame = ysync.sync_step2(self.doc.get_update(state))
            except ValueError:
                peer.refuse("malformed", "invalid state vector")
                return
        peer.send_answer(frame)
        if not peer.joined:
            peer.joined = True
            if self.presence:
                peer.send(self._presence_frame())

    def _accept_update(self, peer: Peer, update: bytes) -> None:
        if update == ysync.EMPTY_UPDATE:
            return  # what a client with nothing new answers to step 1
        if not peer.writer:
            peer.refuse("read_only", "this link may read the notes, not edit them")
            return
        try:
            Doc().apply_update(update)  # decode it away from the real document
        except Exception:
            raise ysync.SyncError("malformed", "not a valid Yjs update") from None
        if self._size + len(update) > self.max_doc and not self._room_for(update):
            peer.refuse("doc_too_large", f"the notes would pass {self.max_doc} bytes")
            return
        self._size += len(update)
        self._unpublished += len(update)
        self._pending.append(_Pending(update, peer))
        self.writer.wake(self)
        if not peer.authored:  # one document per connection: its author is known once found
            peer.authored = self.credits.wrote(update, self.doc.get_state(), self.presence)

    def _room_for(self, update: bytes) -> bool:
        """Whether the content stays within the cap with `update`, the stored history
        aside. Only what the room does not have yet counts: an update that adds nothing
        (a deletion, text already there) always fits. Measuring encodes the whole
        document (milliseconds for a large one), so a measure is reused while it says
        there is room."""
        new = diff_update(update, self.doc.get_state())
        if not ysync.adds_content(new):
            return True
        if self._measured is not None:
            content, at = self._measured
            if content + (self._size - at) + len(new) <= self.max_doc:
                return True
        before, after = self._content_sizes(update)
        self._measured = (before, self._size)
        if self._size - before >= self.compact_growth // 4:
            self._compact_soon = True  # enough history to reclaim: compact after the write
        return after <= self.max_doc

    def _content_sizes(self, update: bytes) -> tuple[int, int]:
        """Bytes of the document's encoded state with every accepted update in it (those
        not yet written too: a deletion just sent frees its room at once), then with
        `update` as well. An update that waits for one it depends on is not in the
        encoded state but is kept all the same: it counts whole."""
        scratch: Doc[Text] = Doc()
        scratch.apply_update(self.doc.get_update())
        for pending in (*self._writing, *self._pending):
            scratch.apply_update(pending.update)
        before, state = len(scratch.get_update()), scratch.get_state()
        scratch.apply_update(update)
        after = len(scratch.get_update())
        if scratch.get_state() == state:  # nothing integrated: it waits for another
            after += len(diff_update(update, state))
        return before, after

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
                if entry.client in self.credits.authors:  # a name given, or changed, by an author
                    self.credits.credit([entry.client], self.presence)
        self._broadcast(frame, peer)

    def _presence_frame(self) -> bytes:
        return ysync.awareness(ysync.encode_awareness(list(self.presence.values())))

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
        self._writing = batch
        return list(batch)

    def put_back(self, batch: list[Batch]) -> None:
        self._pending[:0] = [p for p in batch if isinstance(p, _Pending)]
        self._writing = []

    def published(self, batch: list[Batch]) -> None:
        """The batch is on disk: apply it and relay it."""
        self._stored += len(batch)
        self._unpublished -= sum(len(p.update) for p in batch)
        self._writing = []
        self._publish([p for p in batch if isinstance(p, _Pending)])

    def compaction_due(self) -> bool:
        return (
            self._stored >= self.compact_every
            or self._size - self._base >= self.compact_growth
            or self._compact_soon
        )

    async def compact_now(self) -> None:
        """Compact; the caller (the writer) holds the lock."""
        await self._compact()

    def keepalive(self) -> None:
        self._broadcast(KEEPALIVE_FRAME, None)

    def remote(self, update: bytes) -> None:
        """An update another process wrote: apply it and relay it to this room's clients
        (it is in the store already; nothing to write)."""
        if self._apply(update):
            self._broadcast(ysync.update(update), None)

    async def reread(self) -> None:
        """Take what the store holds (after announcements were lost): whatever this room
        lacked is applied and relayed."""
        stored = await self.backend.notes_load(self.name)
        if stored:
            self.remote(merge_updates(*stored) if len(stored) > 1 else stored[0])

    def _publish(self, batch: list[_Pending]) -> None:
        updates = [p.update for p in batch if self._apply(p.update)]
        if not updates:
            return
        frame = ysync.update(updates[0] if len(updates) == 1 else merge_updates(*updates))
        origins = {id(p.origin) for p in batch}
        only = batch[0].origin if len(origins) == 1 else None
        self._broadcast(frame, only)

    def _apply(self, update: bytes) -> bool:
        self._whole = None
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
        if self.backend.shared:
            # Other processes append to the same rows: replace exactly those read now,
            # never a count this process alone kept. What they hold that this document
            # lacks is applied (and relayed) first, so the state replaces all of them.
            rows = await self.backend.notes_load(self.name)
            if rows:
                self.remote(rows[0] if len(rows) == 1 else merge_updates(*rows))
            # A row still waiting for one it depends on holds items past the document's
            # state vector: kept as it is. (Comparing merges, as below, would take an
            # older compacted state, whose text was deleted since, for one and keep the
            # whole history.)
            known = self.doc.get_state()
            waiting = [r for r in rows if ysync.adds_content(diff_update(r, known))]
            merged, count = _merge(self.doc.get_update(), waiting), len(rows)
        else:
            merged, waiting, count = self.doc.get_update(), [], self._stored
            if self._recent and _merge(merged, self._recent) != merged:
                waiting = [u for u in self._recent if _merge(merged, [u]) != merged]
                merged = _merge(merged, waiting)
        await self.backend.notes_compact(self.name, merged, count)
        self._stored, self._recent, self._compact_soon = 1, waiting, False
        # Accepted meanwhile, not yet written: still to be stored after this row.
        self._size = self._base = len(merged) + self._unpublished
        self._measured = (self._size, self._size)


def _merge(state: bytes, updates: list[bytes]) -> bytes:
    return merge_updates(state, *updates) if updates else state
