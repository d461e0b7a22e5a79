"""Workshop rounds on the people side: wishes, pins and confirmations per round.

A round is a workshops step some workshop runs in (`Event.rounds`): at 10:30 and at 14:00,
each person of the round's sites wishes, is placed and is confirmed once. Workshops tied to
no single step (their site has no workshops step, or several and the file names no round)
make one more round, keyed "": a file written before rounds has just that one.

An event with one round keeps its records as before: a registration's `pinned` and
`confirmed`, the run's `placements`. With several, per round key: the registration's `pins`
and `confirmations`, the run's `rounds`. Each workshop runs in one round, so the workshop a
record names says its round: a record written with one round reads as that workshop's round.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from live.model import Event, Step, Workshop
from live.people.assignment import Applicant

if TYPE_CHECKING:
    from live.people.registration import Registration


@dataclass(frozen=True)
class Round:
    """One round: its key (the workshops step's id, "" for workshops tied to none), its
    step, and the workshops that run in it, in the event file's order."""

    key: str
    step: Step | None
    workshops: tuple[Workshop, ...]

    def at(self, site: str) -> bool:
        return any(w.site == site for w in self.workshops)


# Rounds of the events seen lately, by object: the desk asks for every person's round.
_SEEN: OrderedDict[int, tuple[Event, list[Round], dict[str, str]]] = OrderedDict()


def _index(event: Event) -> tuple[list[Round], dict[str, str]]:
    """The event's rounds in agenda order (the round "" last), and each workshop's round."""
    seen = _SEEN.get(id(event))
    if seen is not None and seen[0] is event:
        return seen[1], seen[2]
    by_key: dict[str, list[Workshop]] = {}
    for w in event.workshops:
        step = event.workshop_step(w)
        by_key.setdefault(step.id if step else "", []).append(w)
    out = [Round(s.id, s, tuple(by_key[s.id])) for s in event.rounds]
    if "" in by_key:
        out.append(Round("", None, tuple(by_key[""])))
    keys = {w.id: r.key for r in out for w in r.workshops}
    _SEEN[id(event)] = (event, out, keys)
    while len(_SEEN) > 32:
        _SEEN.popitem(last=False)
    return out, keys


def key_of(event: Event, workshop_id: str) -> str | None:
    """The round of a workshop (None for a workshop the event does not have)."""
    return _index(event)[1].get(workshop_id)


def rounds(event: Event) -> list[Round]:
    """The event's rounds in agenda order (the round "" last); none without workshops."""
    return list(_index(event)[0])


def several(event: Event) -> bool:
    """Whether people wish and are placed more than once (records then go per round): the
    one place that says "one round or several"."""
    return len(rounds(event)) > 1


def listed(event: Event) -> list[Round]:
    """The rounds a page names one by one: every round when there are several, none when
    there is one (a page of one round never names it)."""
    return rounds(event) if several(event) else []


def rounds_at(event: Event, site: str) -> list[Round]:
    """The rounds a person of `site` takes part in: those with a workshop there (the first
    round when none has, so that they still show, unplaced, as they did before rounds)."""
    every = rounds(event)
    return [r for r in every if r.at(site)] or every[:1]


def keys_at(event: Event, site: str) -> set[str]:
    """The keys of `rounds_at(event, site)`."""
    return {r.key for r in rounds_at(event, site)}


def wishes_in(event: Event, reg: Registration, key: str) -> list[str]:
    """A person's ranked wishes for one round (wishes are kept as one list, round by round)."""
    if not several(event):
        return list(reg.wishes)
    return [w for w in reg.wishes if key_of(event, w) == key]


def _legacy(event: Event, value: str | None, key: str) -> str | None:
    return value if value and key_of(event, value) == key else None


def pinned_in(event: Event, reg: Registration, key: str) -> str | None:
    if not several(event):
        return reg.pinned
    return reg.pins.get(key) or _legacy(event, reg.pinned, key)


def confirmed_in(event: Event, reg: Registration, key: str) -> str | None:
    if not several(event):
        return reg.confirmed
    return reg.confirmations.get(key) or _legacy(event, reg.confirmed, key)


def confirmed_any(reg: Registration) -> bool:
    """Confirmed in some round: the person keeps their site, and runs are late runs."""
    return bool(reg.confirmed or reg.confirmations)


def _per_round(event: Event, reg: Registration) -> None:
    """Move one-round values (`pinned`, `confirmed`) to the maps by round, before a write."""
    for single, by_round in (("pinned", reg.pins), ("confirmed", reg.confirmations)):
        value = getattr(reg, single)
        key = key_of(event, value) if value else None
        if key is not None:
            by_round.setdefault(key, value)
        setattr(reg, single, None)


def set_pinned(event: Event, reg: Registration, key: str, workshop: str | None) -> None:
    if not several(event):
        reg.pinned = workshop
        return
    _per_round(event, reg)
    if workshop:
        reg.pins[key] = workshop
    else:
        reg.pins.pop(key, None)


def set_confirmed(event: Event, reg: Registration, key: str, workshop: str | None) -> None:
    if not several(event):
        reg.confirmed = workshop
        return
    _per_round(event, reg)
    if workshop:
        reg.confirmations[key] = workshop
    else:
        reg.confirmations.pop(key, None)


def applicant(event: Event, reg: Registration, rnd: Round) -> Applicant:
    """The person as the solver sees them in one round."""
    return Applicant(
        id=reg.id,
        site=reg.site,
        wishes=tuple(wishes_in(event, reg, rnd.key)),
        group=reg.group or None,
        pinned=pinned_in(event, reg, rnd.key),
        confirmed=confirmed_in(event, reg, rnd.key),
        category=reg.category,
    )


def confirmed_workshops(event: Event, reg: Registration) -> list[tuple[Round, Workshop | None]]:
    """Each round of the person's site with the workshop confirmed to them in it (or None):
    what their page, their calendar and their confirmation mail list."""
    out: list[tuple[Round, Workshop | None]] = []
    for rnd in rounds_at(event, reg.site):
        wid = confirmed_in(event, reg, rnd.key)
        out.append((rnd, event.workshop(wid) if wid else None))
    return out


def confirmed_list(event: Event, reg: Registration) -> list[Workshop]:
    """The workshops confirmed to a person, in round order (one at most with one round)."""
    return [w for _, w in confirmed_workshops(event, reg) if w is not None]


def workshop_times(event: Event, site_id: str, workshop: Workshop | None = None) -> str:
    """When workshops run at a site, from the agenda's workshop steps (only the step of
    `workshop`'s round when it has one): "10:30–12:00, 14:00–15:30"."""
    step = event.workshop_step(workshop) if workshop else None
    return ", ".join(
        f"{s.start:%H:%M}–{event.planned_end(s):%H:%M}"
        for s in ([step] if step else event.steps_at(site_id))
        if s.kind == "workshops"
    )


def round_end(event: Event, w: Workshop) -> datetime | None:
    """When a workshop's round ends as planned (None: it has no step of its own)."""
    step = event.workshop_step(w)
    return event.planned_end(step) if step else None


def now_or_next(
    event: Event, workshops: list[Workshop], running: Collection[str], now: datetime
) -> Workshop | None:
    """Of a person's workshops (one per round), the one whose timer runs now (its id in
    `running`), else the first not over yet, else the last: the one their phone's live
    card follows."""
    current = next((w for w in workshops if w.id in running), None)
    if current is not None or not workshops:
        return current
    ends = [(round_end(event, w), w) for w in workshops]
    return next((w for end, w in ends if end is None or end > now), workshops[-1])
