"""The accounts as the instance keeps them: each grant one record, so that two
administrators granting at once never overwrite each other, and every change written to
the audit log. Withdrawing an address's last role ends its sessions at once, and tells the
app (`on_withdrawn`), which revokes the links that address was handed."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from live.accounts.audit import AuditLog
from live.accounts.grants import MAX_GRANTS, Access, Grant, GrantError
from live.accounts.sessions import Sessions
from live.backends.base import Backend

KIND = "grants"  # `grants/{address}|{grant key}`

Withdrawn = Callable[[str, Access], Awaitable[None]]  # (address, what it may still do)


class Accounts:
    def __init__(self, backend: Backend, sessions: Sessions, audit: AuditLog) -> None:
        self.backend = backend
        self.sessions = sessions
        self.audit = audit
        self.on_withdrawn: list[Withdrawn] = []

    async def access(self, email: str) -> Access:
        """What this address may do now (read again on every use)."""
        records = await self.backend.list_records(KIND, f"{email}|")
        grants = [Grant.from_record(email, r) for r in records.values()]
        return Access(email, tuple(g for g in grants if g is not None))

    async def everyone(self) -> list[Access]:
        """Every address with a role, by address."""
        by: dict[str, list[Grant]] = {}
        for key, record in (await self.backend.list_records(KIND)).items():
            email = key.partition("|")[0]
            grant = Grant.from_record(email, record)
            if grant is not None:
                by.setdefault(email, []).append(grant)
        return [Access(e, tuple(by[e])) for e in sorted(by)]

    async def grant(self, grant: Grant, actor: str) -> bool:
        """Give this role; False if the address had it already (nothing changes)."""
        held = await self.access(grant.email)
        if any(g.key == grant.key for g in held.grants):
            return False
        if len(held.grants) >= MAX_GRANTS:
            raise GrantError("account.too_many", "too many roles for one address")
        created = await self.backend.create_record(
            KIND, f"{grant.email}|{grant.key}", grant.as_record()
        )
        if created:
            await self.audit.record(actor, "grant", grant.email, grant.key)
        return created

    async def withdraw(self, email: str, key: str, actor: str) -> bool:
        """Take one role back; the address's sessions end if it was its last one. False
        if it had no such role."""
        if not await self.backend.delete_record(KIND, f"{email}|{key}"):
            return False
        await self.audit.record(actor, "withdraw", email, key)
        left = await self.access(email)
        if not left.any:
            await self._ended(email, actor)
        for hook in self.on_withdrawn:
            await hook(email, left)
        return True

    async def withdraw_all(self, email: str, actor: str) -> int:
        """Take every role back and end every session of this address: its open pages
        lose access at their next request (and its links with `on_withdrawn`)."""
        held = await self.access(email)
        for grant in held.grants:
            await self.backend.delete_record(KIND, f"{email}|{grant.key}")
            await self.audit.record(actor, "withdraw", email, grant.key)
        await self._ended(email, actor)
        for hook in self.on_withdrawn:
            await hook(email, Access(email, ()))
        return len(held.grants)

    async def _ended(self, email: str, actor: str) -> None:
        if await self.sessions.end_all(email):
            await self.audit.record(actor, "sessions_ended", email)


def now() -> int:
    return int(time.time())
