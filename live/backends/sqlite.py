"""SQLite backend, the embedded default: one file under the data directory.

All statements run on one dedicated thread so the event loop never blocks on disk;
each append commits with `synchronous=FULL` before it is acknowledged.

The file holds personal data (registrations), so it is private from its first byte: the
directory is made 0700 and the database file is created 0600 before SQLite opens it
(SQLite gives its `-wal` and `-shm` files the database's mode). `secure_delete` zeroes
what is deleted, and `forget` folds the write-ahead log (which keeps old copies of pages)
back into the database and truncates it, so an erased person leaves no trace in the files.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from live.backends.base import EVENT_STREAMS, Backend, NoAnswer, SeqConflict, already_there

T = TypeVar("T")
log = logging.getLogger("relais.sqlite")
PRIVATE = 0o600  # the database, its write-ahead log and its shared-memory index

SCHEMA = """
CREATE TABLE IF NOT EXISTS log (
    stream TEXT NOT NULL, seq INTEGER NOT NULL, entry TEXT NOT NULL,
    PRIMARY KEY (stream, seq)
);
CREATE TABLE IF NOT EXISTS snapshots (stream TEXT PRIMARY KEY, seq INTEGER, state TEXT);
CREATE TABLE IF NOT EXISTS definitions (id TEXT PRIMARY KEY, text TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS definitions_version (
    id INTEGER PRIMARY KEY CHECK (id = 1), n INTEGER NOT NULL
);
CREATE TRIGGER IF NOT EXISTS definitions_inserted AFTER INSERT ON definitions BEGIN
    INSERT INTO definitions_version VALUES (1, 1) ON CONFLICT (id) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER IF NOT EXISTS definitions_updated AFTER UPDATE ON definitions BEGIN
    INSERT INTO definitions_version VALUES (1, 1) ON CONFLICT (id) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER IF NOT EXISTS definitions_deleted AFTER DELETE ON definitions BEGIN
    INSERT INTO definitions_version VALUES (1, 1) ON CONFLICT (id) DO UPDATE SET n = n + 1;
END;
CREATE TABLE IF NOT EXISTS notes (
    id INTEGER PRIMARY KEY AUTOINCREMENT, doc TEXT NOT NULL, data BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS notes_doc ON notes (doc, id);
CREATE TABLE IF NOT EXISTS records (
    kind TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (kind, key)
);
"""


class SQLiteBackend(Backend):
    name = "sqlite"

    def __init__(self, path: Path, timeout: float = 30.0) -> None:
        self.path = path
        # A statement not done by then (a stalled disk) raises NoAnswer: it may still
        # complete on its thread, so the log's appends are idempotent (see Backend).
        self.timeout = timeout
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite")
        self._db: sqlite3.Connection | None = None

    async def _run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        def call() -> T:
            assert self._db is not None, "backend not opened"
            return fn(self._db)

        try:
            async with asyncio.timeout(self.timeout):
                return await asyncio.get_running_loop().run_in_executor(self._pool, call)
        except TimeoutError:
            raise NoAnswer(f"sqlite at {self.path.name}: no answer in {self.timeout} s") from None

    def _create_private(self) -> None:
        """The directory 0700 and the database file 0600 before SQLite touches them; files
        an older version left readable by others are made private too."""
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.close(os.open(self.path, os.O_CREAT | os.O_RDWR, PRIVATE))
        for suffix in ("", "-wal", "-shm", "-journal"):
            path = self.path.with_name(self.path.name + suffix)
            if path.exists() and path.stat().st_mode & 0o077:
                path.chmod(PRIVATE)

    async def open(self) -> None:
        def connect() -> None:
            self._create_private()
            db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            db.execute("PRAGMA secure_delete=ON")
            db.executescript(SCHEMA)
            self._db = db

        await asyncio.get_running_loop().run_in_executor(self._pool, connect)

    async def close(self) -> None:
        if self._db is not None:
            await self._run(lambda db: db.close())
            self._db = None
        self._pool.shutdown(wait=True)

    async def append(self, stream: str, entry: dict[str, Any]) -> None:
        text = json.dumps(entry, separators=(",", ":"), ensure_ascii=False)

        def write(db: sqlite3.Connection) -> None:
            db.execute("BEGIN IMMEDIATE")
            try:
                (last,) = db.execute(
                    "SELECT COALESCE(MAX(seq), 0) FROM log WHERE stream = ?", (stream,)
                ).fetchone()
                if entry["seq"] != last + 1:
                    row = db.execute(
                        "SELECT entry FROM log WHERE stream = ? AND seq = ?", (stream, entry["seq"])
                    ).fetchone()
                    if row is not None and already_there(json.loads(row[0]), entry):
                        db.execute("ROLLBACK")
                        return
                    raise SeqConflict(f"{stream}: expected seq {last + 1}, got {entry['seq']}")
                db.execute("INSERT INTO log VALUES (?, ?, ?)", (stream, entry["seq"], text))
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

        await self._run(write)

    async def read(self, stream: str, since: int = 0) -> list[dict[str, Any]]:
        rows = await self._run(
            lambda db: db.execute(
                "SELECT entry FROM log WHERE stream = ? AND seq > ? ORDER BY seq", (stream, since)
            ).fetchall()
        )
        return [json.loads(r[0]) for r in rows]

    async def save_snapshot(self, stream: str, seq: int, state: dict[str, Any]) -> None:
        text = json.dumps(state, separators=(",", ":"), ensure_ascii=False)
        await self._run(
            lambda db: db.execute(
                "INSERT OR REPLACE INTO snapshots VALUES (?, ?, ?)", (stream, seq, text)
            )
        )

    async def load_snapshot(self, stream: str) -> tuple[int, dict[str, Any]] | None:
        row = await self._run(
            lambda db: db.execute(
                "SELECT seq, state FROM snapshots WHERE stream = ?", (stream,)
            ).fetchone()
        )
        return (row[0], json.loads(row[1])) if row else None

    async def put_definition(self, event_id: str, text: str) -> None:
        await self._run(
            lambda db: db.execute(
                "INSERT OR REPLACE INTO definitions VALUES (?, ?)", (event_id, text)
            )
        )

    async def definitions(self) -> dict[str, str]:
        rows = await self._run(
            lambda db: db.execute("SELECT id, text FROM definitions ORDER BY id").fetchall()
        )
        return {r[0]: r[1] for r in rows}

    async def definitions_version(self) -> int:
        """Counted by triggers, in the transaction that writes the definition: a put by
        this process, by `relais import` beside it or by hand is counted. One row to read."""
        row = await self._run(
            lambda db: db.execute(
                "SELECT COALESCE((SELECT n FROM definitions_version WHERE id = 1), 0)"
            ).fetchone()
        )
        return int(row[0])

    async def notes_append(self, doc: str, updates: list[bytes]) -> None:
        await self.notes_append_many({doc: updates})

    async def notes_append_many(self, batches: dict[str, list[bytes]]) -> None:
        """Every document's pending updates in one transaction: one fsync for all rooms."""
        rows = [(doc, u) for doc, updates in batches.items() for u in updates]

        def write(db: sqlite3.Connection) -> None:
            db.execute("BEGIN IMMEDIATE")
            try:
                db.executemany("INSERT INTO notes (doc, data) VALUES (?, ?)", rows)
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

        await self._run(write)

    async def notes_load(self, doc: str) -> list[bytes]:
        rows = await self._run(
            lambda db: db.execute(
                "SELECT data FROM notes WHERE doc = ? ORDER BY id", (doc,)
            ).fetchall()
        )
        return [bytes(r[0]) for r in rows]

    async def notes_compact(self, doc: str, merged: bytes, count: int) -> None:
        def write(db: sqlite3.Connection) -> None:
            db.execute("BEGIN IMMEDIATE")
            try:
                ids = [
                    r[0]
                    for r in db.execute(
                        "SELECT id FROM notes WHERE doc = ? ORDER BY id LIMIT ?", (doc, count)
                    )
                ]
                if ids:
                    db.execute("DELETE FROM notes WHERE doc = ? AND id <= ?", (doc, ids[-1]))
                    # Reuse the oldest id so the merged update still sorts first.
                    db.execute(
                        "INSERT INTO notes (id, doc, data) VALUES (?, ?, ?)", (ids[0], doc, merged)
                    )
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

        await self._run(write)

    async def put_record(self, kind: str, key: str, value: dict[str, Any]) -> None:
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
        await self._run(
            lambda db: db.execute(
                "INSERT OR REPLACE INTO records VALUES (?, ?, ?)", (kind, key, text)
            )
        )

    async def get_record(self, kind: str, key: str) -> dict[str, Any] | None:
        row = await self._run(
            lambda db: db.execute(
                "SELECT value FROM records WHERE kind = ? AND key = ?", (kind, key)
            ).fetchone()
        )
        return json.loads(row[0]) if row else None

    async def list_records(self, kind: str, prefix: str = "") -> dict[str, dict[str, Any]]:
        rows = await self._run(
            lambda db: db.execute(
                "SELECT key, value FROM records WHERE kind = ? AND substr(key, 1, ?) = ? "
                "ORDER BY key",
                (kind, len(prefix), prefix),
            ).fetchall()
        )
        return {r[0]: json.loads(r[1]) for r in rows}

    async def create_record(self, kind: str, key: str, value: dict[str, Any]) -> bool:
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
        cur = await self._run(
            lambda db: db.execute(
                "INSERT INTO records VALUES (?, ?, ?) ON CONFLICT (kind, key) DO NOTHING",
                (kind, key, text),
            )
        )
        return cur.rowcount > 0

    async def delete_record(self, kind: str, key: str) -> bool:
        cur = await self._run(
            lambda db: db.execute("DELETE FROM records WHERE kind = ? AND key = ?", (kind, key))
        )
        return cur.rowcount > 0

    async def drop_event(self, event_id: str) -> None:
        """One transaction: a deletion interrupted halfway leaves the event whole."""
        streams, n = [f"{kind}:{event_id}" for kind in EVENT_STREAMS], len(event_id) + 1

        def write(db: sqlite3.Connection) -> None:
            db.execute("BEGIN IMMEDIATE")
            try:
                db.execute("DELETE FROM definitions WHERE id = ?", (event_id,))
                for stream in streams:
                    db.execute("DELETE FROM log WHERE stream = ?", (stream,))
                    db.execute("DELETE FROM snapshots WHERE stream = ?", (stream,))
                db.execute("DELETE FROM notes WHERE substr(doc, 1, ?) = ?", (n, event_id + "/"))
                db.execute(
                    "DELETE FROM records WHERE key = ? OR substr(key, 1, ?) IN (?, ?)",
                    (event_id, n, event_id + ":", event_id + "/"),
                )
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

        await self._run(write)

    async def forget(self) -> None:
        """Fold the write-ahead log into the database and truncate it: deleted rows were
        zeroed in the database (`secure_delete`), but the log still held the pages they
        were in."""
        busy, _, _ = await self._run(
            lambda db: db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        )
        if busy:  # another process (a `relais` command) was reading: the next one folds it
            log.warning("the write-ahead log could not be truncated now (database busy)")
