"""Who wrote a workshop's notes, under the name they gave: what the synthesis credits.

A rapporteur's page announces a name in its awareness state (the "Votre nom" field) and
its Yjs client id; the room credits that name once the same client id has brought text
(see `Room._authors`). So a name is credited to a Yjs client, not to a connection, and a
client that renames itself (J, Je, Jean, typed letter by letter) is credited once, under
its last name.

Names come from anyone holding a rapporteur link, over a socket that may not be a browser,
so they are cleaned and bounded: a name is at most `MAX_NAME` characters of printable
text on one line (compared after cleaning, so a longer name sent again is the same name,
not a new one each time), a document credits at most `MAX_NAMES` distinct names, and
remembers at most `MAX_CLIENTS` client ids.
"""

from __future__ import annotations

import json
from typing import Any

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
