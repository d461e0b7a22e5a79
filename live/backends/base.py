"""The storage interface every backend implements: a log per event, and a few stores.

Appends are ordered by the backend, not by whichever task was faster: `append` refuses
an entry whose `seq` is not exactly the next one, so the log stays gapless.

Every call has a deadline: a store that does not answer in time raises `NoAnswer` (a
`BackendUnavailable`), never hangs. After a `NoAnswer` an append may still land later (the
request sits in a paused store), so `append` is idempotent by command id: sending the
same entry again settles whether it was written, exactly once.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from typing import Any

from live.errors import RelaisError

RESUBSCRIBED = b""  # from `announcements`: (re)connected, anything before is lost


# The logs an event has, each the stream `{kind}:{event id}`: its run-of-show and its
# participation. Deleting an event deletes each (`drop_event`).
EVENT_STREAMS = ("agenda", "participation")


class SeqConflict(RelaisError):
    """Another writer appended first: the caller's view of the log is stale."""

    def __init__(self, message: str) -> None:
        super().__init__("conflict", message)


class BackendUnavailable(RelaisError):
    """The store cannot be reached now (Redis down, unresponsive or loading): nothing was
    read or written. Raised within seconds, so the server can say so at once."""

    def __init__(self, message: str) -> None:
        super().__init__("backend_unavailable", message)


class NoAnswer(BackendUnavailable):
    """The store did not answer in time. Unlike a refused connection, the request may have
    reached it (a paused or overloaded Redis runs it when it wakes): a write's outcome is
    unknown until the same write is sent again (`append` is idempotent by `cid`)."""


def already_there(stored: dict[str, Any] | None, entry: dict[str, Any]) -> bool:
    """The entry at this seq is the same command: a retried append, written once."""
    cid = entry.get("cid")
    return bool(cid) and stored is not None and stored.get("cid") == cid


class Backend(ABC):
    name = "base"
    # Several processes append to the same logs (Redis): each process follows them
    # (`follow`) instead of assuming it is the only writer.
    shared = False

    async def open(self) -> None:  # noqa: B027 - optional hook
        """Connect, create tables; called once by the app's lifespan."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Flush and disconnect."""

    # -- the event log ---------------------------------------------------------------------

    @abstractmethod
    async def append(self, stream: str, entry: dict[str, Any]) -> None:
        """Durably append `entry` (which carries `seq`); SeqConflict unless seq == last + 1.

        Idempotent by command id: when the entry at `seq` is already there with the same
        non-empty `cid`, nothing is written and the append succeeds (the retry of a write
        whose answer was lost); an entry without `cid` is never taken for another."""

    @abstractmethod
    async def read(self, stream: str, since: int = 0) -> list[dict[str, Any]]:
        """Entries with seq > since, in order."""

    async def follow(self, stream: str, since: int, block_ms: int) -> list[dict[str, Any]]:
        """Entries with seq > since, in order, waiting up to `block_ms` for the first one
        ([] if none came): how a process learns what the others appended (the scale-out
        reader; Redis blocks in `XREAD`). Here, for the single-process backends, where no
        one else writes: what is there now, else what is there after `block_ms`."""
        entries = await self.read(stream, since)
        if entries or block_ms <= 0:
            return entries
        await asyncio.sleep(block_ms / 1000)
        return await self.read(stream, since)

    @abstractmethod
    async def save_snapshot(self, stream: str, seq: int, state: dict[str, Any]) -> None: ...

    @abstractmethod
    async def load_snapshot(self, stream: str) -> tuple[int, dict[str, Any]] | None: ...

    # -- event definitions (the YAML text as imported) -------------------------------------

    @abstractmethod
    async def put_definition(self, event_id: str, text: str) -> None: ...

    @abstractmethod
    async def definitions(self) -> dict[str, str]: ...

    @abstractmethod
    async def definitions_version(self) -> int:
        """A number that changes whenever a definition is put, by this process or another
        (`relais import` beside a running server): the server polls it twice a second, so
        it must cost next to nothing, and only when it changes are the definitions read."""

    # -- collaborative notes: binary Yjs updates per document ------------------------------

    @abstractmethod
    async def notes_append(self, doc: str, updates: list[bytes]) -> None:
        """Durably add updates to a document's history."""

    async def notes_append_many(self, batches: dict[str, list[bytes]]) -> None:
        """Durably add updates to several documents; backends make it one transaction."""
        for doc, updates in batches.items():
            await self.notes_append(doc, updates)

    @abstractmethod
    async def notes_load(self, doc: str) -> list[bytes]: ...

    @abstractmethod
    async def notes_compact(self, doc: str, merged: bytes, count: int) -> None:
        """Replace the first `count` stored updates with one merged update, atomically."""

    # -- records: small JSON documents by kind and key (registrations, revoked links...) ---

    @abstractmethod
    async def put_record(self, kind: str, key: str, value: dict[str, Any]) -> None: ...

    @abstractmethod
    async def get_record(self, kind: str, key: str) -> dict[str, Any] | None: ...

    @abstractmethod
    async def list_records(self, kind: str, prefix: str = "") -> dict[str, dict[str, Any]]: ...

    @abstractmethod
    async def create_record(self, kind: str, key: str, value: dict[str, Any]) -> bool:
        """Store `value` only if no record has this kind and key, atomically: True if it
        was stored, False if one was already there (left as it was). What makes "one
        registration per e-mail" hold under concurrent requests."""

    @abstractmethod
    async def delete_record(self, kind: str, key: str) -> bool: ...

    @abstractmethod
    async def drop_event(self, event_id: str) -> None:
        """Remove everything stored for one event, in one go (the administrator deletes
        it): its definition, its logs and snapshots (streams `{kind}:{id}`, EVENT_STREAMS),
        its notes documents (`{id}/{workshop}`), and every record whose key is the id or starts
        with `{id}:` or `{id}/` (registrations, addresses, links, settings, names...).
        Event ids are slugs, so `{id}:` never starts another event's key."""

    # -- announcements between the processes of a shared store ----------------------------

    async def announce(self, channel: str, message: bytes) -> None:  # noqa: B027 - alone
        """Tell every process sharing this store (itself included). At most once and with
        no history: what is announced is already durable; an announcement only saves the
        others a read (a notes update, a revoked link). Alone, there is no one to tell."""

    async def announcements(self, channel: str) -> AsyncIterator[bytes]:
        """What is announced on `channel`, until cancelled. `RESUBSCRIBED` (b"") comes
        first and after every reconnection: whatever was announced meanwhile is lost, so
        a listener then rereads what it follows from the store. Alone: nothing, ever."""
        await asyncio.Event().wait()
        yield RESUBSCRIBED  # never reached: the wait above ends only by cancellation

    async def forget(self) -> None:  # noqa: B027 - nothing to do for most backends
        """Make deleted data unrecoverable from the storage files (after an erasure or a
        purge): SQLite folds its write-ahead log, which still holds old copies, back into
        the database; Redis rewrites its append-only file. Nothing to do in memory."""


def create_backend(
    name: str, data_dir: str = "data", redis_url: str = "redis://127.0.0.1:6379/0"
) -> Backend:
    """Pick an implementation by name; optional dependencies are imported only when used."""
    if name == "memory":
        from live.backends.memory import MemoryBackend

        return MemoryBackend()
    if name == "sqlite":
        from pathlib import Path

        from live.backends.sqlite import SQLiteBackend

        return SQLiteBackend(Path(data_dir) / "relais.sqlite3")
    if name == "redis":
        from live.backends.redis import RedisBackend

        return RedisBackend(redis_url)
    raise ValueError(f"unknown backend {name!r} (memory, sqlite, redis)")
