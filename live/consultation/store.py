"""Consultations and their published contributions in the backend's records.

Records: `consultations/{id}` (the consultation: themes, local territories, its events
and their territories) and `contributions/{consultation}/{event}` (one event's published
contribution, one document: publishing again replaces it whole, in one `put_record`, so a
reader sees the old contribution or the new one, never half of each). Every call goes
through the backend, whose calls have deadlines (`NoAnswer` rather than a hang).

A publication and a reprise read an event's contribution, change it and write it whole:
`writing` makes them one at a time across every process sharing the store (a lease
record, created atomically, broken when its holder died), so that neither overwrites the
other's acknowledged change.

After a publication or an unpublication the store announces `{consultation}/{event}` on
`CHANNEL`: every process sharing the store (Redis) rereads that one record and updates its
own search index (`search.py`); after a reconnection (`RESUBSCRIBED`) it rereads them all.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

from pydantic import ValidationError

from live.backends.base import RESUBSCRIBED, Backend
from live.consultation.model import Consultation, ConsultationRefused, Contribution
from live.consultation.publish import check

log = logging.getLogger(__name__)

CONSULTATIONS = "consultations"
CONTRIBUTIONS = "contributions"
CHANNEL = "consultation"
LEASES = "contribution-leases"  # `contribution-leases/{consultation}/{event}`: one writer
LEASE_SECONDS = 15.0  # longer than any publication takes; a dead holder's lease then breaks
WAIT_SECONDS = 5.0  # a writer waits this long for another's, then is refused (busy)


def _key(consultation: str, event: str) -> str:
    return f"{consultation}/{event}"


class ContributionChanged:
    """What a process learns from the announcements: one event's contribution changed
    (`event` set), or everything must be reread (`event` None: a reconnection)."""

    __slots__ = ("consultation", "event")

    def __init__(self, consultation: str | None, event: str | None) -> None:
        self.consultation = consultation
        self.event = event

    def __repr__(self) -> str:
        return f"ContributionChanged({self.consultation!r}, {self.event!r})"


class Contributions:
    """The consultations and their published contributions, over one backend."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    # -- consultations ---------------------------------------------------------------------

    async def put_consultation(self, consultation: Consultation) -> None:
        await self.backend.put_record(
            CONSULTATIONS, consultation.id, consultation.model_dump(mode="json")
        )

    async def consultation(self, consultation_id: str) -> Consultation | None:
        value = await self.backend.get_record(CONSULTATIONS, consultation_id)
        return Consultation.model_validate(value) if value is not None else None

    async def consultations(self) -> list[Consultation]:
        found = await self.backend.list_records(CONSULTATIONS)
        return [Consultation.model_validate(v) for _, v in sorted(found.items())]

    # -- contributions ---------------------------------------------------------------------

    async def get(self, consultation_id: str, event_id: str) -> Contribution | None:
        value = await self.backend.get_record(CONTRIBUTIONS, _key(consultation_id, event_id))
        return _read(value)

    async def list(self, consultation_id: str) -> list[Contribution]:
        """Every published contribution of the consultation, by event id."""
        found = await self.backend.list_records(CONTRIBUTIONS, consultation_id + "/")
        return [c for _, v in sorted(found.items()) if (c := _read(v)) is not None]

    async def publish(self, contribution: Contribution) -> None:
        """Publish (or publish again, replacing it) an event's contribution, once
        `publish.check` accepts it against the consultation and what is published now."""
        consultation = await self.consultation(contribution.consultation)
        if consultation is None:
            raise ConsultationRefused(
                "consultation.unknown",
                f"no consultation {contribution.consultation}",
                consultation=contribution.consultation,
            )
        # What `check` needs of the others: the contributions its origins come from.
        events = sorted({o.partition("/")[0] for p in contribution.proposals for o in p.origins})
        others = [c for e in events if (c := await self.get(consultation.id, e)) is not None]
        check(consultation, contribution, others)
        key = _key(contribution.consultation, contribution.event)
        await self.backend.put_record(CONTRIBUTIONS, key, contribution.model_dump(mode="json"))
        await self._announce(key)

    @contextlib.asynccontextmanager
    async def writing(self, consultation_id: str, event_id: str) -> AsyncIterator[None]:
        """Hold the lease on one event's contribution while it is read, changed and
        written again. ConsultationRefused `consultation.busy` if another writer keeps it
        more than `WAIT_SECONDS` (nothing is changed then)."""
        key = _key(consultation_id, event_id)
        give_up = time.monotonic() + WAIT_SECONDS
        while not await self.backend.create_record(
            LEASES, key, {"until": time.time() + LEASE_SECONDS}
        ):
            held = await self.backend.get_record(LEASES, key)
            if held is not None and float(held.get("until", 0)) < time.time():
                await self.backend.delete_record(LEASES, key)  # its holder is gone
                continue
            if time.monotonic() > give_up:
                raise ConsultationRefused(
                    "consultation.busy", "the contribution is being written", event=event_id
                )
            await asyncio.sleep(0.05)
        try:
            yield
        finally:
            await self.backend.delete_record(LEASES, key)

    async def unpublish(self, consultation_id: str, event_id: str) -> bool:
        """Take an event's contribution out of the territorial space. Reprises elsewhere
        that carried its proposals forward keep their text; their trace says the origin
        is no longer published. True if there was one."""
        key = _key(consultation_id, event_id)
        removed = await self.backend.delete_record(CONTRIBUTIONS, key)
        if removed:
            await self._announce(key)
        return removed

    async def _announce(self, key: str) -> None:
        try:
            await self.backend.announce(CHANNEL, key.encode())
        except Exception as exc:  # stored already: the others find it at their next reread
            log.warning("a publication was not announced to the other processes (%s)", exc)

    async def changes(self) -> AsyncIterator[ContributionChanged]:
        """What changed, as the other processes (and this one) announce it, until
        cancelled: one contribution (`consultation` and `event` set), or everything to
        reread (both None: first, and after every reconnection). A process keeps its
        pages and search index current with it (`space.Spaces.follow`)."""
        async for message in self.backend.announcements(CHANNEL):
            if message == RESUBSCRIBED:
                yield ContributionChanged(None, None)
                continue
            consultation, _, event = message.decode(errors="replace").partition("/")
            if consultation and event:
                yield ContributionChanged(consultation, event)


def _read(value: dict[str, Any] | None) -> Contribution | None:
    if value is None:
        return None
    try:
        return Contribution.model_validate(value)
    except ValidationError as exc:  # a record no longer valid (bounds changed): skip it
        log.warning("a stored contribution is not valid and is skipped (%s)", exc)
        return None
