"""Who wrote a workshop's notes, under the name they gave: what the synthesis credits,
and how a document keeps them (`KeptCredits`: in the backend, a purge winning).

A rapporteur's page announces a name in its awareness state (the "Votre nom" field) and
its Yjs client id; the room credits that name once the same client id has brought text
(see `authors_of`). So a name is credited to a Yjs client, not to a connection, and a
client that renames itself (J, Je, Jean, typed letter by letter) is credited once, under
its last name.

Names come from anyone holding a rapporteur link, over a socket that may not be a browser,
so they are cleaned and bounded: a name is at most `MAX_NAME` characters of printable
text on one line (compared after cleaning, so a longer name sent again is the same name,
not a new one each time), a document credits at most `MAX_NAMES` distinct names, and
remembers at most `MAX_CLIENTS` client ids.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Iterable, Mapping
from typing import Any

from pycrdt import get_state

from live.backends.base import Backend
from live.notes.ysync import Presence, decode_state_vector

log = logging.getLogger("relais.notes")

RAPPORTEURS = "rapporteurs"  # record kind: doc name -> {"names": [...], "by_client": {...}}
PURGED = "purged"  # records: event id -> {"at": epoch seconds} of its last purge of personal data

MAX_NAME = 80  # characters (the editor's field has the same maxlength)
MAX_NAMES = 32  # distinct names credited per document
MAX_CLIENTS = 256  # Yjs client ids remembered with their name (each page load is one)
# What the editor shows for a rapporteur who has not typed a name (web/notes_pages.py).
PLACEHOLDER_NAMES = frozenset({"rapporteur", "rapporteure", "rapporteur·rice"})


def clean_name(raw: str) -> str | None:
    """A name as it is credited: printable, on one line, spaces collapsed, at most
    `MAX_NAME` characters; None if nothing is left or it is the placeholder."""
    text = raw.encode("utf-8", "ignore").decode("utf-8")  # lone surrogates from JSON escapes
    text = " ".join("".join(c if c.isprintable() else " " for c in text).split())
    text = text[:MAX_NAME].rstrip()
    if not text or text.lower() in PLACEHOLDER_NAMES:
        return None
    return text


def editor_name(state: str) -> str | None:
    """The name an editor's awareness state gives, unless it is none or the placeholder."""
    try:
        user = json.loads(state).get("user")
    except (ValueError, AttributeError):
        return None
    if not isinstance(user, dict) or user.get("anonymous"):
        return None
    name = user.get("name")
    return clean_name(name) if isinstance(name, str) else None


class Credits:
    """The names credited in one document, by the Yjs client that wrote under each."""

    def __init__(self, by_client: dict[int, str] | None = None, earlier: list[str] | None = None):
        self.by_client: dict[int, str] = dict(by_client or {})
        self.earlier: list[str] = list(earlier or [])  # recorded before names were by client

    @classmethod
    def from_record(cls, record: dict[str, Any] | None) -> Credits:
        record = record or {}
        stored = record.get("by_client", {})
        by_client = {int(c): n for c, n in stored.items() if isinstance(n, str)}
        held = set(by_client.values())
        earlier = [n for n in record.get("names", []) if isinstance(n, str) and n not in held]
        return cls(by_client, earlier)

    def names(self) -> list[str]:
        """Each name once, in order of arrival."""
        names = list(self.earlier)
        for name in self.by_client.values():
            if name not in names:
                names.append(name)
        return names

    def give(self, client: int, name: str) -> bool:
        """Credit `name` to `client`; False if nothing changed (same name, or a bound
        reached: a new name past `MAX_NAMES`, a new client past `MAX_CLIENTS` when no
        older one shares its name with another)."""
        old = self.by_client.get(client)
        if old == name:
            return False
        if old is None and len(self.by_client) >= MAX_CLIENTS and not self._forget_one():
            return False
        self.by_client[client] = name
        if len(self.names()) > MAX_NAMES:
            if old is None:
                del self.by_client[client]
            else:
                self.by_client[client] = old
            return False
        return True

    def _forget_one(self) -> bool:
        """Drop the oldest client whose name another client also holds (no name is lost)."""
        held: dict[str, int] = {}
        for name in self.by_client.values():
            held[name] = held.get(name, 0) + 1
        for client, name in self.by_client.items():
            if held[name] > 1:
                del self.by_client[client]
                return True
        return False

    def clear(self) -> None:
        self.by_client.clear()
        self.earlier.clear()

    def keep_only(self, clients: set[int]) -> None:
        """Forget every name but those of `clients` (credited after a purge)."""
        self.by_client = {c: n for c, n in self.by_client.items() if c in clients}
        self.earlier.clear()

    def record(self) -> dict[str, Any] | None:
        """What is stored (`rapporteurs` record), or None when there is nothing to keep."""
        if not self.by_client and not self.earlier:
            return None
        return {
            "names": self.names(),
            "by_client": {str(c): n for c, n in self.by_client.items()},
        }


class KeptCredits:
    """One document's credits as a room holds them: the Yjs clients that brought text
    (`authors`), the names credited to them, written to the backend (`rapporteurs`
    record) one write at a time, and forgotten when the event's personal data is purged,
    whichever process purges."""

    def __init__(self, backend: Backend, name: str) -> None:
        self.backend = backend
        self.name = name  # the document's (`event/workshop`)
        self.credits = Credits()
        self.authors: set[int] = set()  # Yjs clients that brought text
        self._credited_at: dict[int, float] = {}  # when each client was credited here
        self._purge_seen = 0.0  # the event's last purge applied here
        self._dirty = False
        self._task: asyncio.Task[None] | None = None

    async def load(self) -> None:
        self._purge_seen = await self._last_purge()
        self.credits = Credits.from_record(await self.backend.get_record(RAPPORTEURS, self.name))
        self.authors = set(self.credits.by_client)

    def names(self) -> list[str]:
        """The names the synthesis credits: people who edited, each once, by their last
        name (J, Je, Jean typed in the name field is one person, Jean), in order of arrival;
        never someone who only opened the editor, never the placeholder name."""
        return self.credits.names()

    def wrote(self, update: bytes, known: bytes, presence: Mapping[int, Presence]) -> bool:
        """An accepted `update` to a document at state vector `known`: the Yjs clients
        whose new text it brings are its authors, and those not yet known are credited
        under the names they show. True if it brings anyone's text."""
        authors = authors_of(update, known)
        if authors - self.authors:
            self.authors |= authors
            self.credit(authors, presence)
        return bool(authors)

    def credit(self, clients: Iterable[int], presence: Mapping[int, Presence]) -> None:
        """Credit each of `clients` under the name its awareness state gives, if any."""
        changed = False
        for client in clients:
            entry = presence.get(client)
            name = editor_name(entry.state) if entry is not None else None
            if name is not None and self.credits.give(client, name):
                self._credited_at[client] = time.time()
                changed = True
        if changed:
            self._save()

    async def erase(self) -> None:
        """Forget every name credited so far, here and in the backend. Who already wrote
        is forgotten too, so their open pages, which keep announcing the name, do not
        bring it back; only new text, on a new connection, is credited again."""
        self.credits.clear()
        self.authors.clear()
        self._save()
        await self.written()

    def _save(self) -> None:
        """Store the credits as they are when the write runs: one write task at a time,
        so writes never land out of order (an erasure is never overtaken by the names)."""
        self._dirty = True
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._write())
            self._task.add_done_callback(log_failure)

    async def _write(self) -> None:
        while self._dirty:
            self._dirty = False
            await self.forget_if_purged()
            record = self.credits.record()
            if record is None:
                await self.backend.delete_record(RAPPORTEURS, self.name)
            else:
                await self.backend.put_record(RAPPORTEURS, self.name, record)
                if await self.forget_if_purged():  # a purge ran meanwhile: write again
                    self._dirty = True

    async def forget_if_purged(self) -> bool:
        """A purge of the event's personal data wins over the names held here, in every
        process: `relais purge` (another process) or the retention pass of another server
        leave a `purged` record, and the names credited here before it are dropped (those
        given since are kept). Checked before the names are written or read, so no
        still-loaded room writes purged names back. True if names were dropped."""
        at = await self._last_purge()
        if at <= self._purge_seen:
            return False
        self._purge_seen = at
        kept = {c for c, when in self._credited_at.items() if when > at}
        self._credited_at = {c: self._credited_at[c] for c in kept}
        self.credits.keep_only(kept)
        self.authors &= kept
        return True

    async def _last_purge(self) -> float:
        record = await self.backend.get_record(PURGED, self.name.split("/", 1)[0])
        at = record.get("at") if record else None
        return float(at) if isinstance(at, int | float) else 0.0

    async def written(self) -> None:
        """Return once the last write of the credits has landed."""
        if self._task is not None and not self._task.done():
            await asyncio.wait([self._task])


def authors_of(update: bytes, known: bytes) -> set[int]:
    """The Yjs clients whose new text an update brings, to a document at state vector
    `known`. An editor that only read answers the server's sync with what it received
    meanwhile: nobody's new text. The ids are those of the authors' own documents, which
    their awareness states share; whoever relays a presence (y-websocket clients re-send
    the ones they hear) is not taken for its author."""
    before = decode_state_vector(known)
    brought = decode_state_vector(get_state(update))
    return {client for client, clock in brought.items() if clock > before.get(client, 0)}


def log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("notes: a background task failed", exc_info=task.exception())
