"""How long personal data is kept: removed once an event is past its retention period
(`RELAIS_RETENTION_DAYS` after its date, checked by the server at start and every hour)
or at once with `relais purge EVENT`; and registrations never confirmed by their person
dropped after `RELAIS_CONFIRM_HOURS`.

Removed, as personal data of the event: the registrations and their e-mail index, the
attendance counted on the day, the assignment (who was placed where), the revocations of
the people's own links, and the names of the rapporteurs credited in the notes (records
`rapporteurs/{event}/{workshop}`).

Kept, because they are the event's record rather than anyone's data: the event
definition, its agenda log (what happened when) and the text of the workshops' notes, so
the synthesis can still be exported, without names. (Names someone typed into the notes
text itself are the text: the organizer edits them out before the retention period.)

A purge is idempotent: a second one removes nothing and says so. It ends by folding the
SQLite write-ahead log into the database (`Backend.forget`), so no copy stays in the files.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from live.backends.base import Backend, BackendUnavailable
from live.links.signing import Revocations
from live.model import Event
from live.notes.credits import PURGED, RAPPORTEURS
from live.people.store import People

log = logging.getLogger("relais.retention")

EVERY = 3600.0  # seconds between two passes of the server's retention task


@dataclass
class Purged:
    """What a purge removed, as counts (never the data itself)."""

    registrations: int = 0
    addresses: int = 0
    links: int = 0
    assignment: int = 0
    attendance: int = 0
    rapporteurs: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)

    @property
    def total(self) -> int:
        return sum(self.as_dict().values())


ForgetNames = Callable[[str, str | None], Awaitable[None]]


async def _delete_all(backend: Backend, kind: str, prefix: str) -> int:
    keys = list(await backend.list_records(kind, prefix))
    for key in keys:
        await backend.delete_record(kind, key)
    return len(keys)


async def purge(backend: Backend, event_id: str) -> Purged:
    """Remove the personal data of one event (see the module's docstring for what stays).
    Links first, then addresses, then registrations: an interrupted purge is finished by
    the next one, and leaves no revocation nobody can trace back to its person."""
    people = await backend.list_records("registration", f"{event_id}:")
    names = list(await backend.list_records(RAPPORTEURS, f"{event_id}/"))
    # Before anything is removed, so that a notes room still loaded anywhere (another
    # process, the running server beside `relais purge`) drops the names it holds instead
    # of writing them back. Written again only when there is something to remove: an
    # hourly pass over an event purged already writes nothing (nor makes Redis rewrite).
    if people or names or await backend.get_record(PURGED, event_id) is None:
        await backend.put_record(PURGED, event_id, {"at": time.time()})
    out = Purged()
    revocations = Revocations(backend)
    for reg in people.values():
        link_id = reg.get("link_id")
        if link_id and await backend.delete_record(revocations.KIND, f"{event_id}:{link_id}"):
            out.links += 1
    out.addresses = await _delete_all(backend, "email", f"{event_id}:")
    out.registrations = await _delete_all(backend, "registration", f"{event_id}:")
    out.assignment = int(await backend.delete_record("assignment", event_id))
    out.attendance = int(await backend.delete_record("attendance", event_id))
    out.rapporteurs = await _delete_all(backend, RAPPORTEURS, f"{event_id}/")
    await backend.forget()
    return out


def is_past_retention(event: Event, days: int, now: datetime | None = None) -> bool:
    """True once `days` full days have passed since the event's date (0: keep forever)."""
    if days <= 0:
        return False
    today = (now or datetime.now(event.tz)).astimezone(event.tz).date()
    return event.date + timedelta(days=days) < today


async def sweep(
    backend: Backend,
    events: Iterable[Event],
    days: int,
    confirm_hours: int,
    forget_names: ForgetNames | None = None,
) -> dict[str, Purged]:
    """One pass: purge the events past retention, drop unconfirmed registrations that
    waited too long. What was purged, by event. `forget_names` is the notes service's
    erase, so that a room still loaded does not write the names back."""
    purged: dict[str, Purged] = {}
    for event in events:
        if is_past_retention(event, days):
            done = await purge(backend, event.id)
            if forget_names is not None:
                await forget_names(event.id, None)
            if done.total:
                purged[event.id] = done
                log.info("personal data of %s removed: %s", event.id, done.as_dict())
        else:
            window = timedelta(hours=max(1, confirm_hours))
            dropped = await People(backend, event).expire_pending(window)
            if dropped:
                log.info("%s: %d unconfirmed registrations dropped", event.id, dropped)
    return purged


async def keep_purging(
    backend: Backend,
    events: Callable[[], Iterable[Event]],
    days: int,
    confirm_hours: int,
    every: float = EVERY,
    forget_names: ForgetNames | None = None,
) -> None:
    """The server's retention task: a sweep at start, then one every `every` seconds."""
    while True:
        try:
            await sweep(backend, list(events()), days, confirm_hours, forget_names)
        except BackendUnavailable:  # the backend logs the outage itself, once
            log.warning("retention pass skipped: storage unavailable; next in %.0f s", every)
        except Exception:  # a failed pass must not stop the next ones
            log.exception("retention pass failed")
        await asyncio.sleep(every)
