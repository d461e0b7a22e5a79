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
  and key at most one over all rounds. The structure (each variable in a person-round, a
  person-theme and a workshop row) is a three-index assignment, not a flow: its linear
  relaxation is not integral in general. It is on real days (2,000 people wishing the
  same popular themes in two rounds: 0.4 s), so the relaxation comes first:
* One weighted objective, ``(N + 1) ** (digits - 1 - d)`` for digit ``d`` (N person-rounds;
  digit 0 counts person-rounds left out, digit ``d`` those placed below their wish ``d``),
  when every value fits a double exactly (2 ** 53), solved as a linear program (GLOP).
  Not trusted as such: a solver works with tolerances that such weights defeat. When its
  solution is integral, the rows' duals make an exact certificate (weak duality, in
  integers; ``_Certificate``): no 0/1 solution costs less. The same certificate fixes
  what every optimum shares, and a second, small relaxation minimises the seeded random
  costs over the rest: the tie-break.
* Else (a fractional relaxation, too many digits for a double, a failed certificate) the
  lexicographic objective is solved by successive integer programs, one per digit, each
  fixing the optimum of the digit before by an equality (coefficients 0 or 1, or a
  group's size: each optimum is an exact integer, proven by HiGHS through OR-Tools'
  linear solver with a relative gap of 0; deterministic). Slow: seconds at 2,000 people,
  minutes with free seats (four digits of weights up to 6 * 10 ** 10 there: GLOP's
  solution misses the last digit, the certificate says so, and this path runs).
* The tie-break is a last solve with seeded random costs on the optimal face (every level
  fixed, or what the certificate fixes), so it never trades a wish for luck; round ``i``'s
  draws come from ``seed + i``. HiGHS and GLOP print nothing (the server's output stays
  clean).
* Minimum sizes: over all rounds, the least-filled workshop under its minimum is closed
  and the site solved again, until every open workshop reaches its minimum.

Round ``i`` keeps seed ``seed + i`` in its result (its part of the tie-break is drawn from
it), so a run reads the same as when rounds were placed one after the other.
"""

from __future__ import annotations

import math
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
    _result,
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
    return [
        _result(p, s, placements[i], seed + i, closed[i])
        for i, (p, s) in enumerate(zip(people, seats, strict=True))
    ]


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


@dataclass
class _Model:
    """The joint integer program of one site, in index form.

    ``pairs``: (unit, workshop index, classes of the unit's members), one 0/1 variable
    each; a unit is (round, member indices). ``rows``: (variables, coefficients, upper
    bound) of the rows ``A x <= u`` (one unit in one workshop per round, one variable per
    person and key, capacities). ``digits``: the lexicographic objective, most significant
    first, each to minimise; ``tie``: the seeded random costs.
    """

    units: list[tuple[int, list[int]]]
    pairs: list[tuple[int, int, list[int]]]
    rows: list[tuple[list[int], list[int], int]]
    digits: list[list[int]]
    tie: list[int]

    @classmethod
    def of(cls, joint: _Joint, closed: list[BoolArray]) -> _Model:
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
        rows: list[tuple[list[int], list[int], int]] = []
        rows += [(ks, [1] * len(ks), 1) for ks in by_unit.values() if len(ks) > 1]
        rows += [(ks, [1] * len(ks), 1) for ks in by_key.values() if len(ks) > 1]
        for (i, w), ks in by_ws.items():
            site = joint.rounds[i]
            assert site is not None
            sizes = [len(units[pairs[k][0]][1]) for k in ks]
            if sum(sizes) > site.remaining[w]:
                rows.append((ks, sizes, int(site.remaining[w])))
        max_class = max((max(c) for _, _, c in pairs), default=1)
        # Digit 0: person-rounds left out (minimised as -placed); digit d: placed below
        # wish d.
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
        return cls(units, pairs, rows, digits, tie)

    def weighted(self) -> list[int] | None:
        """The digits as one integer cost, ``base ** (digits - 1 - d)`` for digit d with
        ``base`` = person-rounds + 1 (so a unit of a digit outweighs every later digit);
        None when its values do not all fit a double exactly."""
        people = sum(len(members) for _, members in self.units)
        base = people + 1
        if base ** len(self.digits) > _EXACT:
            return None
        weights = [base ** (len(self.digits) - 1 - d) for d in range(len(self.digits))]
        return [sum(w * dc[k] for w, dc in zip(weights, self.digits, strict=True))
                for k in range(len(self.pairs))]  # fmt: skip

    def feasible(self, values: list[int]) -> bool:
        """Exact check of a 0/1 solution against every row."""
        return all(
            sum(c * values[k] for k, c in zip(ks, coefs, strict=True)) <= upper
            for ks, coefs, upper in self.rows
        )

    def targets(self, joint: _Joint, values: list[int]) -> list[IntArray]:
        """Each round's workshop index per person (-1: none)."""
        out = [np.full(len(s.people) if s else 0, -1, dtype=np.int64) for s in joint.rounds]
        for (u, w, _), v in zip(self.pairs, values, strict=True):
            if v:
                i, members = self.units[u]
                out[i][members] = w
        return out


# Integers a double holds exactly (2 ** 53).
_EXACT = 1 << 53
# Multipliers of the certificate are rounded down to this many binary places.
_CERT_BITS = 40


def _solve_mip(joint: _Joint, closed: list[BoolArray]) -> list[IntArray]:
    """The joint integer program of one site: its linear relaxation with the weighted
    objective first, kept when its optimum is integral and certified (see ``_solve_lp``),
    else staged integer programs (``_solve_staged``)."""
    model = _Model.of(joint, closed)
    if not model.pairs:
        return model.targets(joint, [])
    values = _solve_lp(model)
    if values is None:
        values = _solve_staged(model)
    return model.targets(joint, values)


def _solve_lp(model: _Model) -> list[int] | None:
    """Weighted objective over the linear relaxation (GLOP), then the tie-break on the
    optimal face it proves; None when the relaxation gives no certified integral optimum.

    The optimum is certified in exact integer arithmetic, not by the solver's tolerances
    (``_Certificate``). The certificate also bounds the optimal face: the variables and
    rows it forces are fixed, and a second, small relaxation minimises the random costs
    over what is left. Its solution, when integral and at the optimal cost, is the
    tie-break among every optimum (the face it was taken from contains them all); else
    the staged tie-break decides, with every digit held.
    """
    cost = model.weighted()
    if cost is None:
        return None
    solved = _relaxed(model, cost, range(len(model.pairs)), {}, set())
    if solved is None:
        return None
    values, duals = solved
    if not model.feasible(values):
        return None
    best = sum(c * v for c, v in zip(cost, values, strict=True))
    cert = _Certificate.of(model, cost, duals, best)
    if cert is None:
        return None
    free = [k for k, d in enumerate(cert.reduced) if -cert.gap <= d <= cert.gap]
    ones = {k for k, d in enumerate(cert.reduced) if d < -cert.gap}
    tight = {r for r, y in enumerate(cert.multipliers) if y > cert.gap}
    tied = _relaxed(model, model.tie, free, dict.fromkeys(ones, 1), tight)
    if tied is not None:
        chosen = tied[0]
        if model.feasible(chosen) and sum(c * v for c, v in zip(cost, chosen, strict=True)) == best:
            return chosen
    digits = [sum(c * v for c, v in zip(dc, values, strict=True)) for dc in model.digits]
    return _solve_staged(model, digits)


def _relaxed(
    model: _Model,
    cost: list[int],
    free: Sequence[int] | range,
    fixed: dict[int, int],
    tight: set[int],
) -> tuple[list[int], list[float]] | None:
    """Minimise ``cost`` over the linear relaxation (GLOP) with only ``free`` variables
    (the others at their ``fixed`` value, else 0) and the ``tight`` rows at their bound;
    the 0/1 solution and the rows' duals, or None if it is not integral."""
    from ortools.linear_solver import pywraplp

    solver = pywraplp.Solver.CreateSolver("GLOP")
    if solver is None:  # pragma: no cover - OR-Tools always has GLOP
        return None
    xs = {k: solver.NumVar(0.0, 1.0, "") for k in free}
    constraints = []
    for r, (ks, coefs, upper) in enumerate(model.rows):
        used = upper - sum(c * fixed.get(k, 0) for k, c in zip(ks, coefs, strict=True))
        row = solver.Constraint(used if r in tight else -solver.infinity(), used)
        for k, c in zip(ks, coefs, strict=True):
            if k in xs:
                row.SetCoefficient(xs[k], c)
        constraints.append(row)
    objective = solver.Objective()
    for k, x in xs.items():
        if cost[k]:
            objective.SetCoefficient(x, cost[k])
    objective.SetMinimization()
    if solver.Solve() != pywraplp.Solver.OPTIMAL:
        return None
    values = [fixed.get(k, 0) for k in range(len(model.pairs))]
    for k, x in xs.items():
        v = x.solution_value()
        values[k] = round(v)
        if abs(v - values[k]) > 1e-6:
            return None
    return values, [max(0.0, -row.dual_value()) for row in constraints]


@dataclass
class _Certificate:
    """A proof that ``best`` is the least weighted cost of every 0/1 solution.

    For multipliers ``y >= 0`` of the rows ``A x <= u``, every 0/1 solution costs
    ``L + sum_i y_i (u - A x)_i + sum_j |d_j| [x_j off its side]`` with reduced costs
    ``d = c + A^T y``, ``L = sum_j min(0, d_j) - y.u`` and "its side" 0 when ``d_j > 0``,
    1 when ``d_j < 0`` (weak duality over the box ``0 <= x <= 1``, term by term). The
    solver's duals, rounded down to ``_CERT_BITS`` binary places, are such multipliers,
    and everything is computed in integers scaled by ``2 ** _CERT_BITS``. Costs are
    integers, so a 0/1 solution costing less than ``L + 1`` is optimal; and every optimum
    then has each term at most ``gap = best - L``: a variable whose ``|d_j|`` exceeds it
    sits on its side, a row whose ``y_i`` exceeds it is tight, in every optimum.
    """

    reduced: list[int]
    multipliers: list[int]
    gap: int

    @classmethod
    def of(
        cls, model: _Model, cost: list[int], duals: list[float], best: int
    ) -> _Certificate | None:
        one = 1 << _CERT_BITS
        reduced = [one * c for c in cost]
        multipliers = []
        bound = 0
        if not all(math.isfinite(y) for y in duals):
            return None
        for (ks, coefs, upper), y in zip(model.rows, duals, strict=True):
            num, den = y.as_integer_ratio()
            ys = (num << _CERT_BITS) // den
            multipliers.append(ys)
            if ys:
                bound -= ys * upper
                for k, c in zip(ks, coefs, strict=True):
                    reduced[k] += ys * c
        bound += sum(d for d in reduced if d < 0)
        gap = best * one - bound
        return cls(reduced, multipliers, gap) if gap < one else None


def _solve_staged(model: _Model, known: list[int] | None = None) -> list[int]:
    """Staged lexicographic integer program (module docstring): HiGHS, through OR-Tools'
    linear solver, one stage per digit, then the tie-break with every digit held.
    ``known``: the digits' optimal values when already proven (only the tie-break left).

    OR-Tools' HiGHS interface ignores ``MPSolverParameters``' gap and ``SuppressOutput``
    for HiGHS' own banner, and ``SetSolverSpecificParametersAsString`` reports False, yet
    it hands the string to HiGHS before the model is loaded: the relative gap 0 and the
    silence come from it (HiGHS would stop at a relative gap of 1e-4 otherwise, which
    past 10,000 person-rounds could leave one person-round on the table).
    """
    from ortools.linear_solver import pywraplp

    solver = pywraplp.Solver.CreateSolver("HIGHS")
    if solver is None:  # pragma: no cover - OR-Tools is built with HiGHS
        raise RuntimeError("OR-Tools has no HiGHS solver")
    solver.SuppressOutput()
    solver.SetSolverSpecificParametersAsString(_HIGHS_PARAMETERS)
    xs = [solver.BoolVar(f"x{k}") for k in range(len(model.pairs))]
    for ks, coefs, upper in model.rows:
        row = solver.Constraint(0, upper)
        for k, c in zip(ks, coefs, strict=True):
            row.SetCoefficient(xs[k], c)

    def hold(coefs: list[int], value: int) -> None:
        row = solver.Constraint(value, value)
        for x, c in zip(xs, coefs, strict=True):
            if c:
                row.SetCoefficient(x, c)

    stages = model.digits
    if known is not None:
        for coefs, value in zip(model.digits, known, strict=True):
            hold(coefs, value)
        stages = []
    values = [0] * len(model.pairs)
    for stage, coefs in enumerate([*stages, model.tie]):
        objective = solver.Objective()
        objective.Clear()
        for x, c in zip(xs, coefs, strict=True):
            if c:
                objective.SetCoefficient(x, c)
        objective.SetMinimization()
        status = solver.Solve()
        if status != pywraplp.Solver.OPTIMAL:
            raise RuntimeError(f"the joint assignment could not be proven optimal ({status})")
        values = [round(x.solution_value()) for x in xs]
        if stage < len(stages):  # keep this digit's optimum in every later stage
            hold(coefs, sum(c * v for c, v in zip(coefs, values, strict=True)))
    return values


# HiGHS options (see ``_solve_staged``): silent, and exact up to integrality.
_HIGHS_PARAMETERS = "output_flag=false\nlog_to_console=false\nmip_rel_gap=0"
