"""The audit log: every grant, withdrawal, sign-in (and refused sign-in) and sign-out,
for the administrators to read. It holds addresses (who did what to whom), nothing else
personal, and forgets what is older than `KEEP_DAYS`."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

from live.backends.base import Backend

KIND = "audit"  # records `audit/{ns, 19 digits}:{random}`: ordered by time, never colliding
KEEP_DAYS = 400  # a year of events and their follow-up, then forgotten
MAX_DETAIL = 200
PAGE = 200  # entries an administrator reads at once


@dataclass(frozen=True)
class Entry:
    at: int  # ms
    actor: str  # an address, "link" (the admin link) or "cli"
    action: str  # grant, withdraw, sign_in, sign_in_refused, sign_out, sessions_ended
    subject: str = ""  # the address acted on
    detail: str = ""  # the scope ("territory:ac-poitiers"), or why a sign-in was refused


class AuditLog:
    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    async def record(self, actor: str, action: str, subject: str = "", detail: str = "") -> None:
        key = f"{time.time_ns():019d}:{secrets.token_hex(4)}"
        value = {
            "actor": actor,
            "action": action,
            "subject": subject,
            "detail": detail[:MAX_DETAIL],
        }
        await self.backend.put_record(KIND, key, value)

    async def latest(self, limit: int = PAGE) -> list[Entry]:
        """The newest entries first; older than `KEEP_DAYS` are deleted on the way."""
        records = await self.backend.list_records(KIND)
        horizon = int((time.time() - KEEP_DAYS * 86400) * 1000)  # ms
        entries: list[Entry] = []
        for key in sorted(records, reverse=True):
            at = int(key.partition(":")[0] or 0) // 1_000_000  # ms
            if at < horizon:
                await self.backend.delete_record(KIND, key)
                continue
            if len(entries) < limit:
                r = records[key]
                entries.append(
                    Entry(
                        at=at,
                        actor=str(r.get("actor", "")),
                        action=str(r.get("action", "")),
                        subject=str(r.get("subject", "")),
                        detail=str(r.get("detail", "")),
                    )
                )
        return entries
