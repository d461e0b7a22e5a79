"""Server-side sessions: a sign-in opens one, its cookie holds only a random key, and
the session lives in the store, so that ending it (sign-out, an account withdrawn) ends
it at once in every process reading that store — each use reads it again.

The store keeps a hash of the key, never the key: a copy of the store opens no session.
A session ends by itself after `hours` (the cookie's lifetime too); an expired one found
on the way is deleted. Sessions are also listed by address (`sessions-of`), to end all
of one account's at once.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass

from live.backends.base import Backend

KIND = "sessions"  # `sessions/{hash of the key}`
BY_ADDRESS = "sessions-of"  # `sessions-of/{hash of the address}:{hash of the key}`
HOURS = 10.0  # RELAIS_SESSION_HOURS: a working day on the event, then sign in again
MAX_KEY = 128  # a cookie longer than any key we give is no session


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:40]


@dataclass(frozen=True)
class Session:
    key_hash: str
    email: str
    name: str  # as the provider gives it ("Camille Martin"), shown in the header
    expires: float  # seconds
    id_token: str = ""  # the provider's, for its logout (id_token_hint)


class Sessions:
    def __init__(self, backend: Backend, hours: float = HOURS) -> None:
        self.backend = backend
        self.seconds = hours * 3600

    async def open(self, email: str, name: str, id_token: str = "") -> str:
        """A new session for this address; returns the key the cookie carries."""
        key = secrets.token_urlsafe(32)
        expires = time.time() + self.seconds
        record = {"email": email, "name": name, "expires": expires, "id_token": id_token}
        await self.backend.put_record(KIND, _hash(key), record)
        await self.backend.put_record(BY_ADDRESS, f"{_hash(email)}:{_hash(key)}", {"e": expires})
        return key

    async def get(self, key: str | None) -> Session | None:
        """The session this cookie names, if it is still open."""
        if not key or len(key) > MAX_KEY:
            return None
        hashed = _hash(key)
        record = await self.backend.get_record(KIND, hashed)
        if record is None:
            return None
        email = str(record.get("email", ""))
        expires = float(record.get("expires", 0))
        if expires <= time.time():
            await self._delete(hashed, email)
            return None
        return Session(
            hashed, email, str(record.get("name", "")), expires, str(record.get("id_token", ""))
        )

    async def end(self, session: Session) -> None:
        await self._delete(session.key_hash, session.email)

    async def end_all(self, email: str) -> int:
        """End every session of this address (its account withdrawn); how many were open."""
        prefix = f"{_hash(email)}:"
        ended = 0
        for key in await self.backend.list_records(BY_ADDRESS, prefix):
            hashed = key.removeprefix(prefix)
            ended += await self.backend.delete_record(KIND, hashed)
            await self.backend.delete_record(BY_ADDRESS, key)
        return ended

    async def _delete(self, hashed: str, email: str) -> None:
        await self.backend.delete_record(KIND, hashed)
        await self.backend.delete_record(BY_ADDRESS, f"{_hash(email)}:{hashed}")
