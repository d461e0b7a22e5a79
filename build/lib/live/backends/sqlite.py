"""SQLite backend, the embedded default: one file under the data directory.

All statements run on one dedicated thread so the event loop never blocks on disk;
each append commits with `synchronous=FULL` before it is acknowledged.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from live.backends.base import Backend, SeqConflict

T = TypeVar("T")

SCHEMA = """
CREATE TABLE IF NOT EXISTS log (
    stream TEXT NOT NULL, seq INTEGER NOT NULL, entry TEXT NOT NULL,
    PRIMARY KEY (stream, seq)
);
CREATE TABLE IF NOT EXISTS snapshots (stream TEXT PRIMARY KEY, seq INTEGER, state TEXT);
CREATE TABLE IF NOT EXISTS definitions (id TEXT PRIMARY KEY, text TEXT NOT NULL);
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

    def __init__(self, path: Path) -> None:
        self.path = path
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite")
        self._db: sqlite3.Connection | None = None

    async def _run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        def call() -> T:
            assert self._db is not None, "backend not opened"
            return fn(self._db)

        return await asyncio.get_running_loop().run_in_executor(self._pool, call)

    async def open(self) -> None:
        def connect() -> None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
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

    async def delete_record(self, kind: str, key: str) -> bool:
        cur = await self._run(
            lambda db: db.execute("DELETE FROM records WHERE kind = ? AND key = ?", (kind, key))
        )
        return cur.rowcount > 0
