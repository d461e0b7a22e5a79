"""The registrations of an event and its assignment, kept in the backend's records.

Registrations live only in the event's store (personal data stays where the event is).
Record kinds: `registration/{event}:{id}`, `email/{event}:{email}` -> id (one registration
per e-mail), `workshops/{event}` (the organizer's overrides: capacity, closed, minimum,
pins), `assignment/{event}` (the last run, with its seed), `revoked/{event}:{link id}`.

One registration per e-mail holds under concurrent requests: the e-mail index is claimed
with the backend's atomic insert-if-absent before anything else is written, and only the
request that claimed it stores a registration.

Registrations waiting for their address to be confirmed (double opt-in, when e-mail is
sent) are kept apart: `all()`, and so the assignment, the lists, the counts and the
exports, leave them out until the person opens their link; `expire_pending` drops those
never confirmed.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime, timedelta
from typing import Any

from live.backends.base import Backend
from live.errors import RelaisError
from live.links.signing import Revocations
from live.model import Event
from live.people import rounds
from live.people.assignment import Assignment, Seats, Summary, assign
from live.people.registration import Registration, WorkshopSettings, seats
from live.people.rounds_assignment import assign_rounds


@dataclass
class Run:
    """The last assignment as kept: who is placed where, at which rank of their wishes,
    with which seed, and whether it was confirmed. Stored as record `assignment/{event}`."""

    seed: int
    placements: dict[str, str | None] = field(default_factory=dict)
    ranks: dict[str, int | None] = field(default_factory=dict)
    closed: list[str] = field(default_factory=list)
    at: str | None = None
    late: bool = False
    allow_free_seats: bool = False
    published: bool = False
    # Several workshop rounds: each round's part, by round key, as {seed, placements, ranks,
    # closed}; the fields above then stay empty. A run kept with one round has none.
    rounds: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def from_record(cls, d: dict[str, Any]) -> Run:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})

    def to_record(self) -> dict[str, Any]:
        record = asdict(self)
        if not self.rounds:
            del record["rounds"]  # one round: the record as it always was
        return record

    def parts(self, event: Event) -> dict[str, Part]:
        """Each round's part, by round key in round order. A run kept with one round, read
        for an event that has several now, counts each placement in its workshop's round."""
        keys = [r.key for r in rounds.rounds(event)] or [""]
        if self.rounds:
            return {k: Part.from_record(self.rounds[k]) for k in keys if k in self.rounds}
        if not rounds.several(event):
            return {keys[0]: Part(self.seed, self.placements, self.ranks, list(self.closed))}
        out = {k: Part(self.seed) for k in keys}
        for pid, wid in self.placements.items():
            key = rounds.key_of(event, wid) if wid else None
            part = out[key] if key in out else out[keys[0]]
            part.placements[pid], part.ranks[pid] = wid, self.ranks.get(pid)
        return out

    def placed(self, event: Event) -> list[tuple[str, str | None]]:
        """(person, workshop or None) for every round of every person in this run."""
        return [pair for part in self.parts(event).values() for pair in part.placements.items()]

    def forget(self, person: str) -> bool:
        """Remove a person from every round; whether they were there."""
        found = False
        maps: list[dict[str, Any]] = [self.placements, self.ranks]
        maps += [
            part.get(name, {}) for part in self.rounds.values() for name in ("placements", "ranks")
        ]
        for kept in maps:
            found = person in kept or found
            kept.pop(person, None)
        return found

    def report(
        self,
        event: Event,
        regs: Sequence[Registration],
        settings: WorkshopSettings,
        key: str | None = None,
    ) -> Summary:
        """This run's report for the people registered now: those registered since count as
        unplaced; capacities are the current ones. With rounds, round `key`'s (the first's
        by default): its people and its workshops."""
        if not rounds.several(event):
            return Assignment(
                placements={r.id: self.placements.get(r.id) for r in regs},
                ranks={r.id: self.ranks.get(r.id) for r in regs},
                seed=self.seed,
                closed=tuple(self.closed),
                applicants=tuple(r.applicant() for r in regs),
                workshops=tuple(seats(event, settings)),
            ).report()
        every = rounds.rounds(event)
        rnd = next((r for r in every if r.key == key), every[0])
        part = self.parts(event).get(rnd.key, Part(self.seed))
        keys = {site: rounds.keys_at(event, site) for site in {r.site for r in regs}}
        members = [r for r in regs if rnd.key in keys[r.site]]
        return Assignment(
            placements={r.id: part.placements.get(r.id) for r in members},
            ranks={r.id: part.ranks.get(r.id) for r in members},
            seed=part.seed,
            closed=tuple(part.closed),
            applicants=tuple(rounds.applicant(event, r, rnd) for r in members),
            workshops=tuple(round_seats(event, settings, rnd)),
        ).report()


@dataclass
class Part:
    """One round of a run: who is placed where, at which rank, with which seed."""

    seed: int
    placements: dict[str, str | None] = field(default_factory=dict)
    ranks: dict[str, int | None] = field(default_factory=dict)
    closed: list[str] = field(default_factory=list)

    @classmethod
    def from_record(cls, d: dict[str, Any]) -> Part:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})

    @classmethod
    def of(cls, result: Assignment) -> Part:
        return cls(result.seed, dict(result.placements), dict(result.ranks), list(result.closed))


def round_seats(event: Event, settings: WorkshopSettings, rnd: rounds.Round) -> list[Seats]:
    """The seats of one round's workshops, with the organizer's overrides."""
    ids = {w.id for w in rnd.workshops}
    return [s for s in seats(event, settings) if s.id in ids]


class Duplicate(RelaisError):
    """This e-mail is already registered: the person updates through their own link.
    `existing` is None while the registration that claimed it is still being written."""

    def __init__(self, existing: Registration | None) -> None:
        super().__init__("duplicate", "this address is already registered")
        self.existing = existing


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def expired(reg: Registration, valid_for: timedelta | None, now: datetime | None = None) -> bool:
    """An unconfirmed registration older than `valid_for` (None: they never expire)."""
    if not reg.awaiting_email or valid_for is None:
        return False
    return datetime.fromisoformat(reg.created) + valid_for < (now or datetime.now(UTC))


@dataclass
class People:
    backend: Backend
    event: Event

    @property
    def _p(self) -> str:
        return f"{self.event.id}:"

    # -- registrations ----------------------------------------------------------------

    async def get(self, person: str) -> Registration | None:
        d = await self.backend.get_record("registration", self._p + person)
        return Registration.from_dict(d) if d else None

    async def by_email(self, email: str) -> Registration | None:
        ref = await self.backend.get_record("email", self._p + email.lower())
        return await self.get(ref["id"]) if ref else None

    async def _everyone(self) -> list[Registration]:
        rows = await self.backend.list_records("registration", self._p)
        return sorted((Registration.from_dict(d) for d in rows.values()), key=lambda r: r.created)

    async def all(self) -> list[Registration]:
        """The registrations that count: every one but those whose address is unconfirmed."""
        return [r for r in await self._everyone() if not r.awaiting_email]

    async def count(self) -> int:
        """Every registration of the event, confirmed or not: what deleting it removes."""
        return len(await self.backend.list_records("registration", self._p))

    async def pending(self) -> list[Registration]:
        """Registrations from the public form whose person has not opened the mailed link."""
        return [r for r in await self._everyone() if r.awaiting_email]

    async def _claim(self, email: str, person: str) -> None:
        """Take the e-mail index for `person`, atomically; Duplicate if it is taken."""
        if not await self.backend.create_record("email", self._p + email, {"id": person}):
            raise Duplicate(await self.by_email(email))

    async def _unclaim(self, email: str, person: str) -> None:
        """Free the e-mail index if it is still `person`'s."""
        ref = await self.backend.get_record("email", self._p + email)
        if ref is not None and ref.get("id") == person:
            await self.backend.delete_record("email", self._p + email)

    async def create(
        self,
        fields: dict[str, Any],
        awaiting_email: bool = False,
        valid_for: timedelta | None = None,
    ) -> Registration:
        """A new registration; Duplicate if the e-mail is already known (nothing stored),
        even when several requests with one address arrive at once. `awaiting_email`: it
        counts only once its person confirms the address (see `verify_email`); one never
        confirmed within `valid_for` no longer holds the address and is replaced."""
        now = _now()
        reg = Registration(
            id=secrets.token_hex(6),
            consent_at=now,
            created=now,
            updated=now,
            awaiting_email=awaiting_email,
            **fields,
        )
        try:
            await self._claim(reg.email, reg.id)
        except Duplicate as exc:
            if exc.existing is None or not expired(exc.existing, valid_for):
                raise
            await self.erase(exc.existing)
            await self._claim(reg.email, reg.id)  # Duplicate if another request won it
        await self.save(reg)
        return reg

    async def update(self, reg: Registration, fields: dict[str, Any]) -> Registration:
        """The person's own changes (through their link); the e-mail stays theirs."""
        old_email = reg.email
        if fields["email"] != old_email:
            await self._claim(fields["email"], reg.id)
        for key, value in fields.items():
            setattr(reg, key, value)
        reg.updated = _now()
        await self.save(reg)
        if reg.email != old_email:
            await self._unclaim(old_email, reg.id)
        return reg

    async def save(self, reg: Registration) -> None:
        """Write a registration (its e-mail index is claimed by `create` and `update`)."""
        await self.backend.put_record("registration", self._p + reg.id, reg.to_dict())

    async def verify_email(
        self, reg: Registration, valid_for: timedelta | None, now: datetime | None = None
    ) -> Registration | None:
        """The person opened the link mailed to them: their address is theirs, and their
        registration counts from now on. None (and the registration is dropped) if it
        waited longer than `valid_for` (None: no limit)."""
        if not reg.awaiting_email:
            return reg
        if expired(reg, valid_for, now):
            await self.erase(reg)
            return None
        reg.awaiting_email = False
        reg.email_verified_at = (now or datetime.now(UTC)).isoformat(timespec="seconds")
        await self.save(reg)
        return reg

    async def expire_pending(self, valid_for: timedelta, now: datetime | None = None) -> int:
        """Drop the registrations whose address was not confirmed in time: they no longer
        hold the address. How many were dropped."""
        stale = [r for r in await self.pending() if expired(r, valid_for, now)]
        for reg in stale:
            await self._remove(reg)
        if stale:
            await self.backend.forget()
        return len(stale)

    async def _remove(self, reg: Registration) -> None:
        await self.backend.delete_record("registration", self._p + reg.id)
        await self._unclaim(reg.email, reg.id)
        if reg.link_id:
            await self.revoke(reg.link_id)
        run = await self.result()
        if run is not None and run.forget(reg.id):
            await self._keep(run)

    async def erase(self, reg: Registration) -> None:
        """Forget a person entirely: registration, e-mail index, placement, link; and no
        copy left in the storage files (`Backend.forget`)."""
        await self._remove(reg)
        await self.backend.forget()

    # -- the organizer's settings, the assignment, revoked links ---------------------

    async def settings(self) -> WorkshopSettings:
        return WorkshopSettings.from_record(
            await self.backend.get_record("workshops", self.event.id)
        )

    async def save_settings(self, settings: WorkshopSettings) -> None:
        await self.backend.put_record("workshops", self.event.id, settings.to_record())

    async def result(self) -> Run | None:
        record = await self.backend.get_record("assignment", self.event.id)
        return Run.from_record(record) if record else None

    async def _keep(self, run: Run) -> None:
        await self.backend.put_record("assignment", self.event.id, run.to_record())

    async def attendance(self) -> dict[str, int]:
        """People present at each site, counted on the day (record `attendance/{event}`)."""
        return await attendance_of(self.backend, self.event.id)

    async def save_attendance(self, counts: dict[str, int]) -> None:
        await self.backend.put_record("attendance", self.event.id, counts)

    async def run(
        self, seed: int | None = None, allow_free_seats: bool | None = None
    ) -> list[Assignment]:
        """Solve again with the current registrations and settings, and keep the result:
        one assignment per round (round i with seed + i; nobody twice in one theme unless
        the event allows it).

        Once placements have been confirmed, only the others are placed (late mode):
        nobody already confirmed moves.
        """
        regs = await self.all()
        settings = await self.settings()
        seed = secrets.randbelow(2**31) if seed is None else seed
        free = (
            self.event.registration.allow_free_seats
            if allow_free_seats is None
            else allow_free_seats
        )
        late = any(rounds.confirmed_any(r) for r in regs)
        previous = await self.result()
        kept = Run(
            seed=seed,
            at=_now(),
            late=late,
            allow_free_seats=free,
            published=bool(previous and previous.published) and late,
        )
        if not rounds.several(self.event):
            result = await asyncio.to_thread(  # 0.2 s at 20,000 people: off the event loop
                assign,
                [r.applicant() for r in regs],
                seats(self.event, settings),
                seed=seed,
                allow_free_seats=free,
                late=late,
            )
            kept.placements, kept.ranks = dict(result.placements), dict(result.ranks)
            kept.closed = list(result.closed)
            await self._keep(kept)
            return [result]
        every = rounds.rounds(self.event)
        keys = {site: rounds.keys_at(self.event, site) for site in {r.site for r in regs}}
        rules = self.event.registration
        results = await asyncio.to_thread(
            assign_rounds,
            [
                [rounds.applicant(self.event, r, rnd) for r in regs if rnd.key in keys[r.site]]
                for rnd in every
            ],
            [round_seats(self.event, settings, rnd) for rnd in every],
            seed=seed,
            allow_free_seats=free,
            late=late,
            apart=None if rules.same_theme_twice else {w.id: w.theme for w in self.event.workshops},
        )
        kept.rounds = {
            rnd.key: asdict(Part.of(result)) for rnd, result in zip(every, results, strict=True)
        }
        await self._keep(kept)
        return results

    async def publish(self) -> list[Registration]:
        """Confirm every placement (in every round): from now on those people keep their
        workshop. The people whose confirmation changed, to be told."""
        run = await self.result()
        if run is None:
            return []
        parts = run.parts(self.event)
        changed = []
        for reg in await self.all():
            news = False
            for key, part in parts.items():
                placed = part.placements.get(reg.id)
                if placed and rounds.confirmed_in(self.event, reg, key) != placed:
                    rounds.set_confirmed(self.event, reg, key, placed)
                    news = True
            if news:
                await self.save(reg)
                changed.append(reg)
        run.published = True
        await self._keep(run)
        return changed

    async def revoke(self, link_id: str) -> None:
        await Revocations(self.backend).revoke(self.event.id, link_id)


async def attendance_of(backend: Backend, event_id: str) -> dict[str, int]:
    """Attendance by site as kept (the synthesis reads it too)."""
    record = await backend.get_record("attendance", event_id) or {}
    return {k: int(v) for k, v in record.items() if isinstance(v, int | float)}
