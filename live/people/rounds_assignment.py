"""Several workshop rounds placed together: one exact optimisation over every round.

Placing round 1 on its own, then round 2 in what is left, lets round 1 take the theme a
person needed in round 2 (a person who wished "accès" in both rounds gets it at 10:30 and
nothing at 14:00, where "accès" was the only workshop with seats). So the rounds are one
problem, with the priorities of one round (see ``assignment``), counted over all rounds:

1. as many person-rounds placed as possible;
2. then as many 1st wishes (over all rounds), then 2nd wishes, and so on;
3. then a seeded random tie-break;

under the rules of one round in each round (capacities, sites, closed workshops, pins,
groups together, confirmed people never moved in late mode, minimum sizes) plus one across
rounds: nobody twice under one key of ``apart`` (a theme), nor twice in one workshop id.

How (and why):

* Sites stay independent. Each site is first solved round by round as the exact flow of
  one round, *without* the rule across rounds. That is a relaxation of the joint problem,
  and the lexicographic objective is additive over rounds, so when no person comes out
  twice under one key the relaxed optimum is feasible, hence optimal: one-round events and
  rounds without a shared theme never leave the flow (the fast path).
* Otherwise the site is one integer program: a 0/1 variable per (round, group or person,
  workshop allowed to it); at most one per unit and round, capacities, and for each person
  and key at most one over all rounds. The lexicographic objective is solved by successive
  solves, one per level, each fixing the optimum of the level before by an equality:
  first the person-rounds placed, then those below their 1st wish, then below their 2nd...
  Not one weighted sum: its weights would be ``(N + 1) ** level`` (N person-rounds), about
  10**14 at 2,000 people and four levels, and a MIP solver works in floating point with
  tolerances that such a sum defeats; each level alone has coefficients of 0 or 1 (a
  group's size), so each optimum is an exact integer, proven by the solver (HiGHS through
  OR-Tools' linear solver, relative gap 0; deterministic). The structure (each variable in
  a person-round, a person-theme and a workshop row) is a three-index assignment, not a
  flow: its linear relaxation is not integral in general, hence a MIP solver.
* The tie-break is a last solve with seeded random costs on the optimal face (every level
  fixed), so it never trades a wish for luck; round ``i``'s draws come from ``seed + i``.
* Minimum sizes: over all rounds, the least-filled workshop under its minimum is closed
  and the site solved again, until every open workshop reaches its minimum.

Round ``i`` keeps seed ``seed + i`` in its result (its part of the tie-break is drawn from
it), so a run reads the same as when rounds were placed one after the other.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from live.people.assignment import (
    Applicant,
    Assignment,
    BoolArray,
    IntArray,
    Seats,
    _build_site,
    _choices,
    _rng,
    _Site,
    _solve_flow,
    _solve_groups,
    _validate,
)

# Range of the random tie-break costs (one per person-round and workshop).
_TIE_RANGE = 1 << 10


def assign_rounds(
    applicants_per_round: Sequence[Iterable[Applicant]],
    workshops_per_round: Sequence[Iterable[Seats]],
    *,
    seed: int,
    allow_free_seats: bool = False,
    late: bool = False,
    apart: Mapping[str, str] | None = None,
) -> list[Assignment]:
    """Assign several rounds together (see the module docstring); one result per round.

    Nobody is placed twice in the same workshop id, nor twice under the same key of
    ``apart`` (workshop id -> key, e.g. its theme). A workshop pinned (or confirmed, in
    late mode) in one round holds its key in every other round. Raises ValueError on
    inconsistent input, naming the person and workshop.
    """
    if len(applicants_per_round) != len(workshops_per_round):
        raise ValueError("assign_rounds needs as many applicant lists as workshop lists")
    people = [list(p) for p in applicants_per_round]
    seats = [list(s) for s in workshops_per_round]

    def key(wid: str) -> str:
        return apart.get(wid, wid) if apart is not None else wid

    held = [
        {a.id: key(t) for a in group if (t := a.pinned or (a.confirmed if late else None))}
        for group in people
    ]
    excluded: list[dict[str, frozenset[str]]] = []
    for i, round_seats in enumerate(seats):
        taken: dict[str, set[str]] = defaultdict(set)
        for j, fixed_j in enumerate(held):
            if j != i:
                for pid, k in fixed_j.items():
                    taken[pid].add(k)
        excluded.append(
            {
                pid: frozenset(s.id for s in round_seats if key(s.id) in keys)
                for pid, keys in taken.items()
            }
        )
    fixed = [_validate(p, s, late, ex) for p, s, ex in zip(people, seats, excluded, strict=True)]
    placements: list[dict[str, str | None]] = [
        {a.id: f.get(a.id) for a in p} for p, f in zip(people, fixed, strict=True)
    ]
    closed: list[list[str]] = [[] for _ in seats]
    sites = sorted({w.site for s in seats for w in s} | {a.site for p in people for a in p})
    for name in sites:
        built = [
            _build_site(name, p, s, f, allow_free_seats, ex, f"{seed + i}:{name}")
            for i, (p, s, f, ex) in enumerate(zip(people, seats, fixed, excluded, strict=True))
        ]
        joint = _Joint.of(built, key)
        targets, closed_here = _solve_joint(joint)
        for i, (site, target) in enumerate(zip(built, targets, strict=True)):
            if site is None:
                continue
            closed[i].extend(closed_here[i])
            for person, t in zip(site.people, target.tolist(), strict=True):
                placements[i][person.id] = site.workshops[t].id if t >= 0 else None
    out = []
    for i, (p, s) in enumerate(zip(people, seats, strict=True)):
        ranks: dict[str, int | None] = {}
        for a in p:
            wid = placements[i][a.id]
            ranks[a.id] = (
                None if wid is None else (a.wishes.index(wid) + 1 if wid in a.wishes else 0)
            )
        out.append(
            Assignment(
                placements=placements[i],
                ranks=ranks,
                seed=seed + i,
                closed=tuple(closed[i]),
                applicants=tuple(p),
                workshops=tuple(s),
            )
        )
    return out


# --------------------------------------------------------------------------- one site


@dataclass
class _Joint:
    """One site over every round: each round's problem (None where the site has no
    workshop in it), and each workshop's key, by round and workshop index."""

    rounds: list[_Site | None]
    keys: list[list[str]]

    @classmethod
    def of(cls, built: list[_Site | None], key: Any) -> _Joint:
        """Give free seats one class over all rounds (the class after every round's last
        wish), so that the joint profile is the sum of the rounds' profiles."""
        top = max((s.top for s in built if s is not None), default=1)
        rounds: list[_Site | None] = []
        for s in built:
            if s is None:
                rounds.append(None)
                continue
            options = [{w: (top if c == s.top else c) for w, c in o.items()} for o in s.options]
            rounds.append(replace(s, options=options, top=top, arcs=None, relaxed=None))
        keys = [[key(w.id) for w in s.workshops] if s else [] for s in rounds]
        return cls(rounds, keys)


def _solve_joint(joint: _Joint) -> tuple[list[IntArray], list[list[str]]]:
    """Solve, closing under-minimum workshops one at a time over all rounds (the least
    filled first; empty ones all at once, which keeps the solution optimal)."""
    sites = joint.rounds
    closed = [
        np.array([not w.open for w in s.workshops], dtype=np.bool_) if s else np.zeros(0, bool)
        for s in sites
    ]
    closed_min: list[list[str]] = [[] for _ in sites]
    targets = _solve_closed(joint, closed)
    while True:
        under: list[tuple[int, int, str, int, int]] = []  # count, round, id, round, index
        for i, s in enumerate(sites):
            if s is None:
                continue
            t = targets[i]
            counts = s.fixed_count + np.bincount(t[t >= 0], minlength=len(s.workshops))
            for w, ws in enumerate(s.workshops):
                if not closed[i][w] and counts[w] < ws.min_size and s.fixed_count[w] == 0:
                    under.append((int(counts[w]), i, ws.id, i, w))
        if not under:
            return targets, closed_min
        least = min(under)
        if least[0] == 0:
            for count, _, wid, i, w in under:
                if count == 0:
                    closed[i][w] = True
                    closed_min[i].append(wid)
            continue
        _, _, wid, i, w = least
        closed[i][w] = True
        closed_min[i].append(wid)
        targets = _solve_closed(joint, closed)


def _solve_closed(joint: _Joint, closed: list[BoolArray]) -> list[IntArray]:
    """The relaxed optimum (each round's exact flow) when it puts nobody twice under one
    key; else the joint integer program."""
    relaxed: list[IntArray] = []
    for s, c in zip(joint.rounds, closed, strict=True):
        if s is None:
            relaxed.append(np.zeros(0, dtype=np.int64))
        else:
            relaxed.append((_solve_groups if s.groups else _solve_flow)(s, c))
    return _solve_mip(joint, closed) if _conflicts(joint, relaxed) else relaxed


def _conflicts(joint: _Joint, targets: list[IntArray]) -> list[tuple[int, int]]:
    """(round, person index) placed under a key the person already has in an earlier
    round: what the relaxation got wrong."""
    seen: set[tuple[str, str]] = set()
    out = []
    for i, (s, t) in enumerate(zip(joint.rounds, targets, strict=True)):
        if s is None:
            continue
        for idx, w in enumerate(t.tolist()):
            if w < 0:
                continue
            mark = (s.people[idx].id, joint.keys[i][w])
            if mark in seen:
                out.append((i, idx))
            seen.add(mark)
    return out


def _solve_mip(joint: _Joint, closed: list[BoolArray]) -> list[IntArray]:
    """Staged lexicographic integer program over every round of one site (module
    docstring): HiGHS, through OR-Tools' linear solver, one stage per digit."""
    from ortools.linear_solver import pywraplp

    # Units: (round, member indices); pairs: (unit, workshop index, classes of members).
    units: list[tuple[int, list[int]]] = []
    pairs: list[tuple[int, int, list[int]]] = []
    for i, s in enumerate(joint.rounds):
        if s is None:
            continue
        options = [_choices(s, p) for p in range(len(s.people))]
        in_group = {p for g in s.groups for p in g}
        for members in [*s.groups, *([p] for p in range(len(s.people)) if p not in in_group)]:
            u = len(units)
            units.append((i, members))
            common = set.intersection(*(set(options[p]) for p in members))
            for w in sorted(common):
                if not closed[i][w]:
                    pairs.append((u, w, [options[p][w] for p in members]))
    targets = [np.full(len(s.people) if s else 0, -1, dtype=np.int64) for s in joint.rounds]
    if not pairs:
        return targets
    solver = pywraplp.Solver.CreateSolver("HIGHS")
    if solver is None:  # pragma: no cover - OR-Tools is built with HiGHS
        raise RuntimeError("OR-Tools has no HiGHS solver")
    solver.SuppressOutput()
    xs = [solver.BoolVar(f"x{k}") for k in range(len(pairs))]
    by_unit: dict[int, list[int]] = defaultdict(list)
    by_ws: dict[tuple[int, int], list[int]] = defaultdict(list)
    by_key: dict[tuple[str, str], list[int]] = defaultdict(list)
    for k, (u, w, _) in enumerate(pairs):
        i, members = units[u]
        site = joint.rounds[i]
        assert site is not None
        by_unit[u].append(k)
        by_ws[i, w].append(k)
        for p in members:
            by_key[site.people[p].id, joint.keys[i][w]].append(k)
    rows: list[tuple[list[int], list[int], int]] = []  # variables, coefficients, upper bound
    rows += [(ks, [1] * len(ks), 1) for ks in by_unit.values() if len(ks) > 1]
    rows += [(ks, [1] * len(ks), 1) for ks in by_key.values() if len(ks) > 1]
    for (i, w), ks in by_ws.items():
        site = joint.rounds[i]
        assert site is not None
        sizes = [len(units[pairs[k][0]][1]) for k in ks]
        if sum(sizes) > site.remaining[w]:
            rows.append((ks, sizes, int(site.remaining[w])))
    for ks, coefs, upper in rows:
        row = solver.Constraint(0, upper)
        for k, c in zip(ks, coefs, strict=True):
            row.SetCoefficient(xs[k], c)
    params = pywraplp.MPSolverParameters()
    params.SetDoubleParam(params.RELATIVE_MIP_GAP, 0.0)
    max_class = max(max(c) for _, _, c in pairs)
    # Digit 0: person-rounds left out (minimised as -placed); digit d: placed below wish d.
    digits = [[-len(cl) for _, _, cl in pairs]]
    digits += [[sum(c >= d + 1 for c in cl) for _, _, cl in pairs] for d in range(1, max_class)]
    rand = [_rng(s.key, "tie").random((len(s.people), len(s.workshops))) if s else None
            for s in joint.rounds]  # fmt: skip
    tie = []
    for u, w, _ in pairs:
        i, members = units[u]
        r = rand[i]
        assert r is not None
        tie.append(sum(int(r[p, w] * _TIE_RANGE) for p in members))
    values = [0] * len(pairs)
    for stage, coefs in enumerate([*digits, tie]):
        objective = solver.Objective()
        objective.Clear()
        for x, c in zip(xs, coefs, strict=True):
            if c:
                objective.SetCoefficient(x, c)
        objective.SetMinimization()
        status = solver.Solve(params)
        if status != pywraplp.Solver.OPTIMAL:
            raise RuntimeError(f"the joint assignment could not be proven optimal ({status})")
        values = [round(x.solution_value()) for x in xs]
        if stage < len(digits):  # keep this digit's optimum in every later stage
            done = sum(c * v for c, v in zip(coefs, values, strict=True))
            row = solver.Constraint(done, done)
            for x, c in zip(xs, coefs, strict=True):
                if c:
                    row.SetCoefficient(x, c)
    for (u, w, _), v in zip(pairs, values, strict=True):
        if v:
            i, members = units[u]
            targets[i][members] = w
    return targets
