"""What the organizer's desk counts: people placed in every round, each round's placed and
unplaced, each person's rounds, each workshop's fill. Plain functions over the event, the
registrations and the last run (no I/O); the desk's page (web/organize.py) only names the
rounds (`labels`: each round's name by key, passed through as is) and renders.

With one round the per-round tallies are empty: `rounds.several` says which.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from live.model import Event
from live.people import desk, rounds
from live.people.registration import Registration, WorkshopSettings, seats
from live.people.store import Part, Run


def site_name(event: Event, site_id: str) -> str:
    """A site's name (its id when the event no longer has it)."""
    site = event.site(site_id)
    return site.name if site else site_id


@dataclass(frozen=True)
class RoundCount:
    """One round of a run: people placed in it, and people of the run left without a
    workshop in it (those registered since are in neither)."""

    key: str
    placed: int
    unplaced: int


def placed_everywhere(event: Event, run: Run, regs: list[Registration]) -> dict[str, bool | None]:
    """Each person: placed in every round of their site (True), not in some (False), or
    not in the run at all (None: registered since)."""
    parts = list(run.parts(event).items())
    by_site: dict[str, list[Part]] = {}
    out: dict[str, bool | None] = {}
    for reg in regs:
        mine = by_site.get(reg.site)
        if mine is None:
            keys = rounds.keys_at(event, reg.site)
            # An event without workshops has one empty round, where everyone is unplaced.
            mine = [p for k, p in parts if k in keys] or [p for _, p in parts[:1]]
            by_site[reg.site] = mine
        if any(reg.id in part.placements for part in mine):
            out[reg.id] = all(part.placements.get(reg.id) for part in mine)
        else:
            out[reg.id] = None
    return out


def run_outcome(event: Event, run: Run, regs: list[Registration]) -> tuple[int, int]:
    """What a run did: people placed in every round of theirs, and people it left without
    a workshop in some round."""
    done = placed_everywhere(event, run, regs).values()
    return sum(1 for p in done if p), sum(1 for p in done if p is False)


def per_round(event: Event, regs: list[Registration], run: Run) -> list[RoundCount]:
    """Several rounds: each round's count (see `RoundCount`); none with one round."""
    if not rounds.several(event):
        return []
    parts = run.parts(event)
    keys = {site: rounds.keys_at(event, site) for site in {r.site for r in regs}}
    out = []
    for rnd in rounds.rounds(event):
        part = parts.get(rnd.key)
        mine = [
            part.placements.get(r.id)
            for r in regs
            if part and rnd.key in keys[r.site] and r.id in part.placements
        ]
        out.append(RoundCount(rnd.key, sum(1 for w in mine if w), sum(1 for w in mine if not w)))
    return out


def counts(event: Event, regs: list[Registration], run: Run | None) -> dict[str, Any]:
    """The desk's counts: total, by site (by name) and category, without wishes, placed in
    every round, confirmed, registered since the run, and each round's (`per_round`)."""
    placed = placed_everywhere(event, run, regs) if run else {}
    return {
        "rounds": per_round(event, regs, run) if run else [],
        "total": len(regs),
        "by_site": sorted(Counter(site_name(event, r.site) for r in regs).items()),
        "by_category": sorted(Counter(r.category for r in regs).items()),
        "no_wishes": sum(1 for r in regs if not r.wishes),
        "placed": sum(1 for r in regs if placed.get(r.id)),
        "confirmed": sum(1 for r in regs if rounds.confirmed_any(r)),
        "since_run": sum(1 for r in regs if placed.get(r.id) is None) if run else 0,
    }


def people_rounds(
    event: Event, regs: list[Registration], run: Run | None, labels: Mapping[str, str]
) -> dict[str, list[dict[str, Any]]]:
    """Several rounds: each person's rounds as the people table shows them (round name,
    wishes, pin, placement and rank or None for "registered since", confirmation); none
    with one round."""
    if not rounds.several(event):
        return {}
    parts = run.parts(event) if run else {}
    out: dict[str, list[dict[str, Any]]] = {}
    for reg in regs:
        rows = []
        for rnd in rounds.rounds_at(event, reg.site):
            part = parts.get(rnd.key)
            rows.append(
                {
                    "label": labels[rnd.key],
                    "wishes": rounds.wishes_in(event, reg, rnd.key),
                    "pinned": rounds.pinned_in(event, reg, rnd.key),
                    "in_run": part is not None and reg.id in part.placements,
                    "placement": part.placements.get(reg.id) if part else None,
                    "rank": part.ranks.get(reg.id) if part else None,
                    "confirmed": rounds.confirmed_in(event, reg, rnd.key),
                }
            )
        out[reg.id] = rows
    return out


def workshop_rows(
    event: Event,
    regs: list[Registration],
    settings: WorkshopSettings,
    run: Run | None,
    labels: Mapping[str, str],
) -> list[dict[str, Any]]:
    """Each workshop as the desk lists it: its seats, people the run placed there, people
    who cannot be moved out (pinned or confirmed), whether the run closed it below its
    minimum, and its round's name (only with several rounds)."""
    placed = Counter(w for _, w in run.placed(event) if w) if run else Counter()
    below = {w for part in run.parts(event).values() for w in part.closed} if run else set()
    several = rounds.several(event)
    return [
        {
            "w": w,
            "title": event.workshop_short_title(w),
            "site": site_name(event, w.site),
            "seats": s,
            "placed": placed[w.id],
            "fixed": desk.fixed(regs, w.id),
            "below_minimum": w.id in below,
            "round": labels.get(rounds.key_of(event, w.id) or "", "") if several else "",
        }
        for w, s in zip(event.workshops, seats(event, settings), strict=True)
    ]
