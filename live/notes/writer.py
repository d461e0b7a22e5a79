"""Group commit for the notes: one task writes every room's pending updates in one go.

A disk commit costs milliseconds (an fsync); typing produces tens of updates a second per
workshop. Writing each room on its own would queue thirty commits one behind the other on
SQLite's single writer. Instead the writer takes whatever every room has pending, stores
it in one call (`Backend.notes_append_many`: one transaction, so one fsync, on SQLite),
and only then lets each room apply and relay its batch. While it writes, new updates gather
for the next round, so the batch grows with the load and the latency stays about one or
two commits.

The same task sends the keepalive every room's clients need (y-websocket clients drop a
connection that has been silent for 30 seconds).

With several processes on one store (`Backend.shared`), what is written is then announced
to the others, which relay it to their own clients (`NotesService.follow_others`): an
update typed on one process reaches every process's editors and viewers, always written
before anyone sees it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from typing import Protocol

from pycrdt import merge_updates

from live.backends.base import Backend

log = logging.getLogger("relais.notes")

KEEPALIVE = 10.0  # seconds


class Batch(Protocol):
    update: bytes


class Writable(Protocol):
    """What the writer needs of a room (see `notes.Room`)."""

    name: str

    def take_pending(self) -> list[Batch]: ...

    def put_back(self, batch: list[Batch]) -> None: ...

    def published(self, batch: list[Batch]) -> None: ...

    def compaction_due(self) -> bool: ...

    async def compact_now(self) -> None: ...

    def keepalive(self) -> None: ...


CHANNEL = "notes"  # announcements of written updates between processes


def announcement(origin: bytes, doc: str, update: bytes) -> bytes:
    """`origin` (8 bytes: which process wrote it), the document's name, NUL, the update."""
    return origin + doc.encode() + b"\0" + update


def parse_announcement(message: bytes) -> tuple[bytes, str, bytes] | None:
    origin, rest = message[:8], message[8:]
    name, sep, update = rest.partition(b"\0")
    if len(origin) != 8 or not sep or not update:
        return None
    return origin, name.decode(errors="replace"), update


class Writer:
    def __init__(self, backend: Backend, keepalive: float = KEEPALIVE) -> None:
        self.backend = backend
        self.origin = secrets.token_bytes(8)  # this process, in its announcements
        self.keepalive_every = keepalive
        self.lock = asyncio.Lock()  # held while writing or compacting: rows are counted right
        self.rooms: set[Writable] = set()
        self.commits = 0
        self._dirty: dict[Writable, None] = {}  # an ordered set
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def register(self, room: Writable) -> None:
        self.rooms.add(room)
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="notes-writer")

    def unregister(self, room: Writable) -> None:
        self.rooms.discard(room)

    def wake(self, room: Writable) -> None:
        """`room` has pending updates."""
        self._dirty[room] = None
        self._wake.set()

    async def flush(self) -> None:
        """Return once everything pending when called is written and relayed."""
        async with self.lock:
            await self._write()

    async def close(self) -> None:
        if self._task is not None:
            async with self.lock:  # never cancel it in the middle of a write
                self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.flush()

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        due = loop.time() + self.keepalive_every
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout_at(due):
                    await self._wake.wait()
            if loop.time() >= due:  # every room, busy or idle, on a fixed beat
                due = loop.time() + self.keepalive_every
                for room in list(self.rooms):
                    room.keepalive()
            if not self._wake.is_set():
                continue
            self._wake.clear()
            try:
                await self.flush()
            except Exception:
                log.exception("notes: cannot write; retrying in a second")
                await asyncio.sleep(1.0)
                self._wake.set()

    async def _write(self) -> None:
        while self._dirty:
            rooms = list(self._dirty)
            self._dirty.clear()
            batches = [(room, batch) for room in rooms if (batch := room.take_pending())]
            if not batches:
                continue
            await self._store(batches)  # one transaction for every room
            for room, _ in batches:
                if room.compaction_due():
                    await room.compact_now()

    async def _store(self, batches: list[tuple[Writable, list[Batch]]]) -> None:
        """Write, then publish; on failure, hand the batches back for the next round."""
        try:
            await self.backend.notes_append_many(
                {room.name: [p.update for p in b] for room, b in batches}
            )
        except BaseException:
            for room, batch in batches:
                room.put_back(batch)
                self._dirty[room] = None
            raise
        self.commits += 1
        for room, batch in batches:
            room.published(batch)
        if self.backend.shared:  # written: the other processes may relay it now
            await self._announce(batches)

    async def _announce(self, batches: list[tuple[Writable, list[Batch]]]) -> None:
        """Tell the other processes what was written, one message per room. Lost, it
        costs them only freshness: they reread the store when they reconnect."""
        for room, batch in batches:
            updates = [p.update for p in batch]
            merged = updates[0] if len(updates) == 1 else merge_updates(*updates)
            try:
                await self.backend.announce(CHANNEL, announcement(self.origin, room.name, merged))
            except Exception as exc:
                log.warning("notes: other processes not told of an update (%s)", exc)
