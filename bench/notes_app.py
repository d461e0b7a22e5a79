"""The app as `relais serve` builds it, plus the group commit proposed for the backends.

Used by `bench/notes.py --group-commit` to measure what `Backend.notes_append_many` (one
transaction, so one fsync, for every document's pending updates) would change, until the
SQLite backend has it. Once it does, this adds nothing.
"""

from __future__ import annotations

import sqlite3

from starlette.applications import Starlette

from live.app import create_app as live_app
from live.backends.sqlite import SQLiteBackend


async def notes_append_many(self: SQLiteBackend, batches: dict[str, list[bytes]]) -> None:
    def write(db: sqlite3.Connection) -> None:
        db.execute("BEGIN IMMEDIATE")
        try:
            db.executemany(
                "INSERT INTO notes (doc, data) VALUES (?, ?)",
                [(doc, u) for doc, updates in batches.items() for u in updates],
            )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    await self._run(write)


def create_app() -> Starlette:
    if not hasattr(SQLiteBackend, "notes_append_many"):
        SQLiteBackend.notes_append_many = notes_append_many  # type: ignore[attr-defined]
    return live_app()
