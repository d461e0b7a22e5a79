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

from live.model import Event, Subject, Workshop
from live.people import desk, rounds
from live.people.registration import SUBJECT_CHOICES, Registration, WorkshopSettings, seats
from live.people.store import Part, Run


def site_name(event: Event, site_id: str) -> str:
    """A site's name (its id when the event no longer has it)."""
    site = event.site(site_id)
    return site.name if site else site_id


@dataclass(frozen=True)
class SubjectScore:
    """A subject as the people of a workshop ranked it: Borda points (a first choice is
    worth `SUBJECT_CHOICES` points, the next one less...) and how many put it first."""

    subject: Subject
    points: int
    firsts: int


@dataclass(frozen=True)
class SubjectRanking:
    """One workshop's questionnaire: its people placed by the run, how many of them
    answered for its theme, and its theme's subjects, most wanted first."""

    workshop: Workshop
    placed: int
    answered: int
    scores: tuple[SubjectScore, ...]


def subject_rankings(
    event: Event, regs: list[Registration], run: Run | None
) -> list[SubjectRanking]:
    """Each workshop whose theme has subjects: the subjects its people (placed there by
    the last run, in any round) want discussed first, by Borda points, then by first
    choices, then in the theme's order. None before a run: nobody is in a workshop yet."""
    if run is None:
        return []
    by_id = {r.id: r for r in regs}
    people: dict[str, list[Registration]] = {}
    for pid, wid in run.placed(event):
        if wid and pid in by_id:
            people.setdefault(wid, []).append(by_id[pid])
    out = []
    for w in event.workshops:
        theme = event.theme(w.theme)
        if theme is None or not theme.subjects:
            continue
        points: Counter[str] = Counter()
        firsts: Counter[str] = Counter()
        answers = [r.subjects.get(theme.id, []) for r in people.get(w.id, [])]
        for ranked in answers:
            for i, sid in enumerate(ranked[:SUBJECT_CHOICES]):
                points[sid] += SUBJECT_CHOICES - i
            if ranked:
                firsts[ranked[0]] += 1
        order = {s.id: i for i, s in enumerate(theme.subjects)}
        scores = sorted(
            (SubjectScore(s, points[s.id], firsts[s.id]) for s in theme.subjects),
            key=lambda x: (-x.points, -x.firsts, order[x.subject.id]),
        )
        answered = sum(1 for a in answers if a)
        out.append(SubjectRanking(w, len(people.get(w.id, [])), answered, tuple(scores)))
    return out


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
