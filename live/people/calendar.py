"""iCalendar exports: the agenda of an event, and a participant's own day."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from icalendar import Calendar, Timezone
from icalendar import Event as VEvent

from live.model import Event, Site, Step, Workshop

PRODID = "-//Relais//relais//FR"


def _calendar(event: Event) -> Calendar:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("x-wr-calname", event.title)
    cal.add("x-wr-timezone", event.timezone)
    return cal


def _timezones(cal: Calendar, event: Event) -> None:
    """Embed the event's VTIMEZONE first, for the years around the event."""
    tz = Timezone.from_tzid(
        event.timezone,
        first_date=event.date - timedelta(days=366),
        last_date=event.date + timedelta(days=366),
    )
    cal.subcomponents.insert(0, tz)


def _vevent(event: Event, step: Step, uid: str, summary: str, location: str, text: str) -> VEvent:
    v = VEvent()
    v.add("uid", uid)
    v.add("dtstamp", datetime.now(UTC))
    v.add("dtstart", event.planned_start(step))
    v.add("dtend", event.planned_end(step))
    v.add("summary", summary)
    if location:
        v.add("location", location)
    if text:
        v.add("description", text)
    return v


def _where(site: Site | None, room: str = "") -> str:
    if site is None:
        return ""
    parts = [room, site.name, site.address]
    return ", ".join(p for p in parts if p)


def _speakers(event: Event, step: Step) -> str:
    return "\n".join(event.speaker_label(p) for p in step.speakers)


def _rooms(event: Event, step: Step) -> str:
    """Where every site gathers for a shared step, for everyone's calendar:
    `Salles : Poitiers : Amphi A ; Niort : CDI`."""
    pairs = [
        f"{site.name} : {room}" for sid, room in step.rooms.items() if (site := event.site(sid))
    ]
    return f"Salles : {' ; '.join(pairs)}" if pairs else ""


def agenda_ics(event: Event, host: str = "relais") -> bytes:
    """Every step of the agenda, at its planned time in the event's timezone."""
    cal = _calendar(event)
    for step in event.agenda:
        one = (
            None if len(event.sites) > 1 and not step.sites else (step.sites or (event.hub.id,))[0]
        )
        where = _where(event.site(one), step.room_at(one)) if one else ""
        text = "\n".join(t for t in (_speakers(event, step), _rooms(event, step)) if t)
        cal.add_component(
            _vevent(event, step, f"{event.id}-{step.id}@{host}", step.title, where, text)
        )
    _timezones(cal, event)
    return bytes(cal.to_ical())


def personal_ics(
    event: Event,
    site_id: str,
    workshops: Workshop | Sequence[Workshop] | None,
    link: str,
    host: str = "relais",
) -> bytes:
    """A participant's day: the steps of their site, their workshop in its room; with
    several rounds, each workshops step with the person's workshop of that round."""
    cal = _calendar(event)
    site = event.site(site_id)
    mine = [workshops] if isinstance(workshops, Workshop) else list(workshops or ())
    for step in event.steps_at(site_id):
        summary, text = step.title, _speakers(event, step)
        where = _where(site, step.room_at(site_id))
        workshop = next(
            (w for w in mine if (s := event.workshop_step(w)) is None or s.id == step.id), None
        )
        if step.kind == "workshops" and workshop is not None:
            summary = f"{step.title} — {event.workshop_title(workshop)}"
            where = _where(event.site(workshop.site), workshop.room)
            text = "\n".join(
                t
                for t in (f"Visio : {workshop.visio_url}" if workshop.visio_url else "", link)
                if t
            )
        uid = f"{event.id}-{step.id}-{site_id}@{host}"
        cal.add_component(_vevent(event, step, uid, summary, where, text))
    _timezones(cal, event)
    return bytes(cal.to_ical())
