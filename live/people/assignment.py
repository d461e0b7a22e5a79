"""Workshop assignment: ranked wishes -> seats, exact and reproducible.

Participants register with ranked wishes; each workshop has a number of seats on one site.
The assignment is exact, not a heuristic, with these priorities (lexicographic):

1. place as many people as possible (in a wish, or in any free seat of their site when
   ``allow_free_seats``): pure rank-maximal allocations leave people out on skewed demand;
2. then as many 1st wishes as possible, then 2nd wishes, and so on;
3. then a seeded random tie-break, so that nobody is favoured by their position in a list.

How (and why):

* Each site is an independent bipartite min-cost flow solved by OR-Tools
  ``SimpleMinCostFlow.solve_max_flow_with_min_cost`` (criterion 1 is the max flow itself).
* Criterion 2 is a vector of counts ("people below their 1st wish", "below their 2nd", ...);
  each count is at most n, so base ``n + 1`` digits turn it into one integer cost. OR-Tools
  multiplies costs by the node count, so when the digits do not fit int64 we solve in
  *stages*: solve the most significant digits, compute node potentials (the LP duals) from
  the residual graph, then keep only the arcs that can carry flow in some optimal solution
  (reduced cost 0), fix those that must be saturated (reduced cost < 0) and drop the others
  (> 0). By complementary slackness the flows of the restricted network are exactly the
  optimal flows of the stage, so the next digits are optimised without losing the earlier
  ones: exact for any number of wishes and people.
* The tie-break adds a seeded random cost in ``[0, p)`` per arc, scaled below one unit of the
  least significant digit (or solved as a last stage on the optimal face), so it can never
  change the optimum; among equally good allocations, who gets a contested seat is random
  but reproducible from ``seed``.
* Groups (people who must share a workshop) make the problem a knapsack, which no flow can
  express. A site with groups is first solved as a flow where members move individually;
  if no group comes out split, that relaxed optimum is feasible, hence optimal. Otherwise
  the site is solved with CP-SAT (one boolean per group/person and workshop) using the same
  staged lexicographic objective: exact, slower (about 1 s for 2,000 people, hundreds of
  them in groups), and only used where needed.
* Minimum sizes: the least-filled workshop under its minimum is closed and the site
  re-solved, until every open workshop reaches its minimum (or has pinned people).

Pure domain code: no I/O. Reports are plain dataclasses with ``as_dict()`` for web/CSV.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any, cast

import numpy as np
import numpy.typing as npt
from ortools.graph.python import min_cost_flow

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

# Arc costs are kept this many times below OR-Tools' own limit, leaving room for the node
# potentials of the cost-scaling algorithm (which must stay within int64 as well).
_HEADROOM = 16
# Range of the random tie-break cost; below _TIE_MIN it gets its own stage instead.
_TIE_RANGE = 1 << 20
_TIE_MIN = 1 << 12
# CP-SAT objective values are reported as doubles: stay exact.
_CPSAT_LIMIT = 1 << 53


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class Seats:
    """A workshop with seats on one site; ``open=False`` means closed by the organizers."""

    id: str
    site: str
    capacity: int
    min_size: int = 0
    open: bool = True


@dataclass(frozen=True)
class Applicant:
    """A registration: ranked wishes (workshop ids, best first) on the person's site.

    ``pinned``: the organizers force this workshop. ``confirmed``: workshop already
    confirmed earlier, kept as is in late mode. ``group``: people sharing a group id are
    placed together, in a workshop every member wishes (any workshop with free seats), or
    all stay unplaced; the others follow a pinned member. ``category`` is only used by the
    report (e.g. elected, staff, public).
    """

    id: str
    site: str
    wishes: tuple[str, ...] = ()
    group: str | None = None
    pinned: str | None = None
    confirmed: str | None = None
    category: str = ""


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Tally:
    """Rank statistics of a set of people; ``by_rank[0]`` counts those who got their 1st wish."""

    people: int
    by_rank: tuple[int, ...]
    without_wish: int
    unplaced: int
    no_wishes: int

    def share(self, count: int) -> float:
        """Fraction of people (0 when empty), for percentages in reports."""
        return count / self.people if self.people else 0.0

    def as_dict(self) -> dict[str, Any]:
        """Plain dict (counts and shares) for JSON, templates and CSV."""
        return {
            "people": self.people,
            "by_rank": list(self.by_rank),
            "by_rank_share": [self.share(c) for c in self.by_rank],
            "without_wish": self.without_wish,
            "without_wish_share": self.share(self.without_wish),
            "unplaced": self.unplaced,
            "unplaced_share": self.share(self.unplaced),
            "no_wishes": self.no_wishes,
            "no_wishes_share": self.share(self.no_wishes),
        }


@dataclass(frozen=True)
class Fill:
    """How full a workshop is; ``status`` is open, closed (by organizers) or below_minimum."""

    workshop: str
    site: str
    count: int
    capacity: int
    min_size: int
    status: str

    @property
    def ratio(self) -> float:
        """count / capacity (0 for a workshop without seats)."""
        return self.count / self.capacity if self.capacity else 0.0

    def as_dict(self) -> dict[str, Any]:
        """Plain dict for JSON, templates and CSV."""
        return {
            "workshop": self.workshop,
            "site": self.site,
            "count": self.count,
            "capacity": self.capacity,
            "min_size": self.min_size,
            "status": self.status,
            "ratio": self.ratio,
        }


@dataclass(frozen=True)
class Summary:
    """Everything organizers look at after an assignment run."""

    seed: int
    overall: Tally
    by_site: dict[str, Tally]
    by_category: dict[str, Tally]
    fill: tuple[Fill, ...]
    closed: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        """Plain nested dict for JSON."""
        return {
            "seed": self.seed,
            "overall": self.overall.as_dict(),
            "by_site": {k: v.as_dict() for k, v in self.by_site.items()},
            "by_category": {k: v.as_dict() for k, v in self.by_category.items()},
            "fill": [f.as_dict() for f in self.fill],
            "closed": list(self.closed),
        }


@dataclass(frozen=True)
class Assignment:
    """Result of :func:`assign`; keeps the seed (and inputs) so the run can be reproduced.

    ``placements``: applicant id -> workshop id, or None if unplaced.
    ``ranks``: 1-based rank of the wish obtained, 0 if placed without a wish, None if unplaced.
    ``closed``: workshops closed because they could not reach their minimum size.
    """

    placements: dict[str, str | None]
    ranks: dict[str, int | None]
    seed: int
    closed: tuple[str, ...] = ()
    applicants: tuple[Applicant, ...] = field(default=(), repr=False)
    workshops: tuple[Seats, ...] = field(default=(), repr=False)

    def profile(self) -> tuple[int, ...]:
        """(placed, 1st wishes, 2nd wishes, ...): the key the solver maximises lexicographically."""
        depth = max((len(a.wishes) for a in self.applicants), default=0)
        counts = Counter(r for r in self.ranks.values() if r is not None)
        placed = sum(counts.values())
        return (placed, *(counts[r] for r in range(1, depth + 1)))

    def members(self) -> dict[str, list[str]]:
        """Workshop id -> sorted applicant ids (every workshop present, possibly empty)."""
        out: dict[str, list[str]] = {w.id: [] for w in self.workshops}
        for pid, wid in self.placements.items():
            if wid is not None:
                out.setdefault(wid, []).append(pid)
        for ids in out.values():
            ids.sort()
        return out

    def report(self) -> Summary:
        """Rank shares overall, by site and by category, plus the fill of each workshop."""
        return report(self)


# --------------------------------------------------------------------------- public API


def assign(
    applicants: Iterable[Applicant],
    workshops: Iterable[Seats],
    *,
    seed: int,
    allow_free_seats: bool = False,
    late: bool = False,
) -> Assignment:
    """Assign applicants to workshops (see the module docstring for the exact objective).

    ``late=True`` keeps everyone with ``confirmed`` set exactly where they are and only places
    the others in the remaining seats; with ``late=False`` the run starts from scratch and
    ``confirmed`` is ignored. Raises ValueError on inconsistent input (unknown workshop,
    duplicate wish, wish on another site, pinning over capacity, ...).
    """
    return _assign(list(applicants), list(workshops), seed, allow_free_seats, late)


def report(assignment: Assignment) -> Summary:
    """Pure summary of an assignment (see :class:`Summary`)."""
    depth = max((len(a.wishes) for a in assignment.applicants), default=0)
    site_of: dict[str, list[Applicant]] = defaultdict(list)
    cat_of: dict[str, list[Applicant]] = defaultdict(list)
    for a in assignment.applicants:
        site_of[a.site].append(a)
        cat_of[a.category].append(a)
    counts = Counter(w for w in assignment.placements.values() if w is not None)
    closed = set(assignment.closed)
    fill = tuple(
        Fill(
            workshop=w.id,
            site=w.site,
            count=counts[w.id],
            capacity=w.capacity,
            min_size=w.min_size,
            status="below_minimum" if w.id in closed else ("open" if w.open else "closed"),
        )
        for w in sorted(assignment.workshops, key=lambda w: (w.site, w.id))
    )
    return Summary(
        seed=assignment.seed,
        overall=_tally(assignment.applicants, assignment.ranks, depth),
        by_site={k: _tally(v, assignment.ranks, depth) for k, v in sorted(site_of.items())},
        by_category={k: _tally(v, assignment.ranks, depth) for k, v in sorted(cat_of.items())},
        fill=fill,
        closed=assignment.closed,
    )


def _tally(people: Iterable[Applicant], ranks: dict[str, int | None], depth: int) -> Tally:
    """Count ranks for a subset of applicants."""
    by_rank = [0] * depth
    total = without = unplaced = no_wishes = 0
    for a in people:
        total += 1
        no_wishes += not a.wishes
        r = ranks.get(a.id)
        if r is None:
            unplaced += 1
        elif r == 0:
            without += 1
        else:
            by_rank[r - 1] += 1
    return Tally(total, tuple(by_rank), without, unplaced, no_wishes)


# --------------------------------------------------------------------------- validation


def _validate(
    applicants: list[Applicant],
    workshops: list[Seats],
    late: bool,
    excluded: dict[str, frozenset[str]],
) -> dict[str, str]:
    """Check inputs; return the fixed placements (pinned, and confirmed in late mode)."""
    by_id: dict[str, Seats] = {}
    for w in workshops:
        if w.id in by_id:
            raise ValueError(f"workshop {w.id!r} is listed twice")
        if w.capacity < 0 or w.min_size < 0:
            raise ValueError(f"workshop {w.id!r}: capacity and min_size must be >= 0")
        by_id[w.id] = w
    seen: set[str] = set()
    fixed: dict[str, str] = {}
    for a in applicants:
        if a.id in seen:
            raise ValueError(f"applicant {a.id!r} is listed twice")
        seen.add(a.id)
        if len(set(a.wishes)) != len(a.wishes):
            dup = next(w for w in a.wishes if a.wishes.count(w) > 1)
            raise ValueError(f"applicant {a.id!r} wishes workshop {dup!r} more than once")
        for wid in a.wishes:
            _check_workshop(a, wid, by_id, "wishes")
        target = a.pinned
        if late and a.confirmed is not None:
            if target is not None and target != a.confirmed:
                raise ValueError(
                    f"applicant {a.id!r} is pinned to {target!r} but confirmed in {a.confirmed!r}"
                )
            target = a.confirmed
        if target is not None:
            w = _check_workshop(a, target, by_id, "is pinned/confirmed in")
            if not w.open:
                raise ValueError(
                    f"applicant {a.id!r} is pinned/confirmed in closed workshop {w.id!r}"
                )
            if target in excluded.get(a.id, ()):
                raise ValueError(
                    f"applicant {a.id!r} is pinned in workshop {target!r}, "
                    "already attended in an earlier round"
                )
            fixed[a.id] = target
    load = Counter(fixed.values())
    for wid, k in sorted(load.items()):
        if k > by_id[wid].capacity:
            raise ValueError(
                f"workshop {wid!r}: {k} pinned/confirmed applicants exceed its "
                f"{by_id[wid].capacity} seats"
            )
    groups: dict[str, list[Applicant]] = defaultdict(list)
    for a in applicants:
        if a.group is not None:
            groups[a.group].append(a)
    for gid, members in groups.items():
        sites = {m.site for m in members}
        if len(sites) > 1:
            raise ValueError(f"group {gid!r} spans several sites: {sorted(sites)}")
        targets = {fixed[m.id] for m in members if m.id in fixed}
        if len(targets) > 1:
            raise ValueError(f"group {gid!r} is pinned/confirmed in several workshops")
    return fixed


def _check_workshop(a: Applicant, wid: str, by_id: dict[str, Seats], verb: str) -> Seats:
    """A referenced workshop must exist and be on the applicant's site."""
    w = by_id.get(wid)
    if w is None:
        raise ValueError(f"applicant {a.id!r} {verb} unknown workshop {wid!r}")
    if w.site != a.site:
        raise ValueError(
            f"applicant {a.id!r} (site {a.site!r}) {verb} workshop {wid!r} of site {w.site!r}"
        )
    return w


# --------------------------------------------------------------------------- driver


@dataclass
class _Site:
    """One site's problem in index form (people and workshops sorted by id)."""

    workshops: list[Seats]
    remaining: IntArray  # seats left once pinned/confirmed people are counted
    fixed_count: IntArray
    people: list[Applicant]  # the people to place
    options: list[dict[int, int]]  # person -> {workshop index: class}; class = wish rank
    free: list[bool]  # may also take any other allowed workshop, class `top`
    excluded: list[frozenset[int]]  # workshops attended in earlier rounds
    groups: list[list[int]]  # people (>= 2) who move together
    top: int  # class of a placement without a wish: max wishes + 1
    key: str  # seeds the random tie-break of this site
    arcs: _Arcs | None = None  # flow arcs, built on first use
    relaxed: _Site | None = None  # groups relaxed to individuals, built on first use


def _assign(
    applicants: list[Applicant],
    workshops: list[Seats],
    seed: int,
    allow_free_seats: bool,
    late: bool,
) -> Assignment:
    """Validate, solve each site independently, then derive ranks from the placements."""
    fixed = _validate(applicants, workshops, late, {})
    placements: dict[str, str | None] = {a.id: fixed.get(a.id) for a in applicants}
    closed: list[str] = []
    sites = sorted({w.site for w in workshops} | {a.site for a in applicants})
    for site_name in sites:
        site = _build_site(
            site_name, applicants, workshops, fixed, allow_free_seats, {}, f"{seed}:{site_name}"
        )
        if site is None:
            continue
        target, closed_here = _solve_site(site)
        closed.extend(closed_here)
        for person, t in zip(site.people, target.tolist(), strict=True):
            placements[person.id] = site.workshops[t].id if t >= 0 else None
    return _result(applicants, workshops, placements, seed, closed)


def _result(
    applicants: list[Applicant],
    workshops: list[Seats],
    placements: dict[str, str | None],
    seed: int,
    closed: list[str],
) -> Assignment:
    """The assignment of one round as solved: each person's rank derived from where they
    are placed (their wish's rank, 0 without a wish, None unplaced)."""
    ranks: dict[str, int | None] = {}
    for a in applicants:
        wid = placements[a.id]
        ranks[a.id] = None if wid is None else (a.wishes.index(wid) + 1 if wid in a.wishes else 0)
    return Assignment(
        placements=placements,
        ranks=ranks,
        seed=seed,
        closed=tuple(closed),
        applicants=tuple(applicants),
        workshops=tuple(workshops),
    )


def _build_site(
    name: str,
    applicants: list[Applicant],
    workshops: list[Seats],
    fixed: dict[str, str],
    allow_free_seats: bool,
    excluded: dict[str, frozenset[str]],
    key: str,
) -> _Site | None:
    """Index one site; people are sorted by id so input order does not matter."""
    ws = sorted((w for w in workshops if w.site == name), key=lambda w: w.id)
    if not ws:
        return None
    index = {w.id: i for i, w in enumerate(ws)}
    fixed_count = np.zeros(len(ws), dtype=np.int64)
    for a in applicants:
        if a.site == name and a.id in fixed:
            fixed_count[index[fixed[a.id]]] += 1
    remaining = np.array([w.capacity for w in ws], dtype=np.int64) - fixed_count
    people = sorted(
        (a for a in applicants if a.site == name and a.id not in fixed), key=lambda a: a.id
    )
    top = max((len(a.wishes) for a in people), default=0) + 1
    group_target: dict[str, int] = {}
    for a in applicants:
        if a.site == name and a.group is not None and a.id in fixed:
            group_target[a.group] = index[fixed[a.id]]
    options: list[dict[int, int]] = []
    free: list[bool] = []
    excl: list[frozenset[int]] = []
    members: dict[str, list[int]] = defaultdict(list)
    for i, a in enumerate(people):
        banned = frozenset(index[w] for w in excluded.get(a.id, ()) if w in index)
        rank = {index[w]: r + 1 for r, w in enumerate(a.wishes)}
        if a.group is not None and a.group in group_target:
            # Follow the pinned/confirmed members of the group, or stay unplaced.
            t = group_target[a.group]
            options.append({} if t in banned else {t: rank.get(t, top)})
            free.append(False)
        else:
            options.append({w: r for w, r in rank.items() if w not in banned})
            free.append(allow_free_seats)
            if a.group is not None:
                members[a.group].append(i)
        excl.append(banned)
    groups = [m for _, m in sorted(members.items()) if len(m) > 1]
    return _Site(ws, remaining, fixed_count, people, options, free, excl, groups, top, key)


def _solve_site(site: _Site) -> tuple[IntArray, list[str]]:
    """Solve, closing under-minimum workshops one at a time (least filled first)."""
    closed = np.array([not w.open for w in site.workshops], dtype=np.bool_)
    closed_min: list[str] = []
    solver = _solve_groups if site.groups else _solve_flow
    target = solver(site, closed)
    while True:
        counts = site.fixed_count + np.bincount(target[target >= 0], minlength=len(site.workshops))
        under = [
            i
            for i, w in enumerate(site.workshops)
            if not closed[i] and counts[i] < w.min_size and site.fixed_count[i] == 0
        ]
        if not under:
            return target, closed_min
        least = min(under, key=lambda i: (int(counts[i]), site.workshops[i].id))
        if counts[least] == 0:
            # Closing empty workshops keeps the current (optimal) solution: no re-solve.
            for i in under:
                if counts[i] == 0:
                    closed[i] = True
                    closed_min.append(site.workshops[i].id)
            continue
        closed[least] = True
        closed_min.append(site.workshops[least].id)
        target = solver(site, closed)


def _rng(key: str, purpose: str) -> np.random.Generator:
    """Independent, reproducible random stream per (seed, site, purpose)."""
    digest = hashlib.sha256(f"relais-assign:{key}:{purpose}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:16], "big"))


# --------------------------------------------------------------------------- staging


@dataclass(frozen=True)
class _Stage:
    """Digits [start, stop) optimised together; ``tie`` > 0 adds the random tie-break."""

    start: int
    stop: int
    tie: int


def _digits_max(count: int, base: int) -> int:
    """Largest cost of ``count`` base-``base`` digits, each 0 or 1 per arc."""
    return sum(base**i for i in range(count))


def _plan(digits: int, base: int, budget: int, units: int, fuse_tie: bool) -> list[_Stage]:
    """Pack the lexicographic digits into as few int64-safe stages as possible.

    A stage with digits ``d`` costs at most ``sum(base**i for i < d)`` per arc. The tie-break
    of range ``p`` is fused into the last stage as ``cost * T + rand`` with
    ``T = units * (p - 1) + 1`` (all random costs together stay below one unit of the least
    significant digit) when ``p`` can be large enough, else it is a stage of its own.
    """
    if base > budget:
        raise OverflowError("too many people for an exact assignment in int64 costs")
    stages: list[_Stage] = []
    start = 0
    while start < digits:
        stop = start + 1
        while stop < digits and _digits_max(stop + 1 - start, base) <= budget:
            stop += 1
        stages.append(_Stage(start, stop, 0))
        start = stop
    tie = min(_TIE_RANGE, budget)
    if stages and fuse_tie:
        last = stages[-1]
        top = _digits_max(last.stop - last.start, base)
        p = (budget - top) // (top * units + 1) + 1 if budget > top else 0
        if p >= _TIE_MIN:
            stages[-1] = _Stage(last.start, last.stop, min(p, _TIE_RANGE))
            return stages
    stages.append(_Stage(digits, digits, tie))
    return stages


def _class_costs(stage: _Stage, base: int, top_class: int, first: int) -> list[int]:
    """Cost of each placement class for a stage; digit ``k`` means class >= ``first + k``."""
    costs = []
    for c in range(top_class + 1):
        costs.append(
            sum(
                base ** (stage.stop - 1 - k)
                for k in range(stage.start, stage.stop)
                if c >= first + k
            )
        )
    return costs


def _cost_budget(num_nodes: int) -> int:
    """Largest arc cost OR-Tools accepts for this graph (it scales costs by nodes + 1)."""
    return (2**63 - 1) // (2 * (num_nodes + 3)) // _HEADROOM


# --------------------------------------------------------------------------- min-cost flow


class _CostRange(Exception):
    """OR-Tools refused the costs (BAD_COST_RANGE): retry with smaller stages."""


@dataclass
class _Network:
    """Arcs of one site's flow network, as numpy arrays (one row per arc)."""

    tails: IntArray
    heads: IntArray
    caps: IntArray
    cls: IntArray  # placement class (0 = no rank cost)
    rand: FloatArray  # tie-break draw in [0, 1)
    supply: IntArray
    n_nodes: int
    person_arcs: slice
    hub_arcs: slice
    hub_ws_arcs: slice


def _solve_flow(site: _Site, closed: BoolArray) -> IntArray:
    """Exact lexicographic assignment of one site without groups (see module docstring)."""
    if site.arcs is None:
        site.arcs = _arcs(site)
    arcs = site.arcs
    net = _network(site, arcs, closed)
    n = len(site.people)
    max_class = int(net.cls.max(initial=0))
    digits = max(0, max_class - 1)  # digit k counts placements of class >= 2 + k
    units = n + arcs.hub_person.size  # arcs with a random cost one solution can use
    budget = _cost_budget(net.n_nodes)
    for _ in range(4):
        stages = _plan(digits, n + 1, budget, units, fuse_tie=True)
        try:
            flow = _staged_flow(net, stages, n + 1, max_class, units)
            break
        except _CostRange:
            budget //= 1 << 10
    else:  # pragma: no cover - needs absurd sizes
        raise RuntimeError("min-cost flow: cost range too large even with staged solves")
    target = np.full(n, -1, dtype=np.int64)
    used = flow[net.person_arcs] > 0
    target[arcs.person[used]] = arcs.ws[used]
    via_hub = arcs.hub_person[flow[net.hub_arcs] > 0]
    if via_hub.size:
        slots = np.repeat(np.arange(len(site.workshops)), flow[net.hub_ws_arcs])
        order = _rng(site.key, "hub").permutation(via_hub.size)
        target[via_hub[order]] = slots
    return target


@dataclass
class _Arcs:
    """People's arcs of one site, built once and reused while workshops get closed.

    Free seats go through one hub node (one arc per person instead of one per workshop);
    people with excluded workshops (earlier rounds) get direct arcs instead. The random
    tie-break draws are attached to arcs, so closing a workshop does not reshuffle the
    luck of everybody else.
    """

    person: IntArray
    ws: IntArray
    cls: IntArray
    rand: FloatArray
    hub_person: IntArray
    hub_rand: FloatArray
    ws_rand: FloatArray


def _arcs(site: _Site) -> _Arcs:
    """List every person -> workshop/hub arc once, with its class and random draw."""
    ap: list[int] = []
    aw: list[int] = []
    ac: list[int] = []
    hub_people: list[int] = []
    usable = [i for i, w in enumerate(site.workshops) if w.open]
    for i, opts in enumerate(site.options):
        for w, c in opts.items():
            ap.append(i)
            aw.append(w)
            ac.append(c)
        if site.free[i]:
            if not site.excluded[i]:
                hub_people.append(i)
            else:
                for w in usable:
                    if w not in opts and w not in site.excluded[i]:
                        ap.append(i)
                        aw.append(w)
                        ac.append(site.top)
    rng = _rng(site.key, "tie")
    return _Arcs(
        person=np.array(ap, dtype=np.int64),
        ws=np.array(aw, dtype=np.int64),
        cls=np.array(ac, dtype=np.int64),
        rand=rng.random(len(ap)),
        hub_person=np.array(hub_people, dtype=np.int64),
        hub_rand=rng.random(len(hub_people)),
        ws_rand=rng.random(len(site.workshops)),
    )


def _network(site: _Site, arcs: _Arcs, closed: BoolArray) -> _Network:
    """Source -> people -> (hub ->) workshops -> sink; closed workshops get no capacity."""
    n, w_count = len(site.people), len(site.workshops)
    ws_node, hub_node, person_node = 2, 2 + w_count, 3 + w_count
    caps_ws = np.where(closed, 0, site.remaining)
    n_hub = arcs.hub_person.size
    all_ws = np.arange(w_count, dtype=np.int64)
    hub_ws = all_ws if n_hub else all_ws[:0]
    blocks = [
        # tails, heads, capacities, classes, random draws
        (
            np.zeros(n, dtype=np.int64),
            person_node + np.arange(n, dtype=np.int64),
            np.ones(n, dtype=np.int64),
            np.zeros(n, dtype=np.int64),
            np.zeros(n),
        ),
        (
            person_node + arcs.person,
            ws_node + arcs.ws,
            (~closed[arcs.ws]).astype(np.int64),
            arcs.cls,
            arcs.rand,
        ),
        (
            person_node + arcs.hub_person,
            np.full(n_hub, hub_node, dtype=np.int64),
            np.ones(n_hub, dtype=np.int64),
            np.full(n_hub, site.top, dtype=np.int64),
            arcs.hub_rand,
        ),
        (
            np.full(hub_ws.size, hub_node, dtype=np.int64),
            ws_node + hub_ws,
            caps_ws[hub_ws],
            np.zeros(hub_ws.size, dtype=np.int64),
            arcs.ws_rand[hub_ws],
        ),
        (
            ws_node + all_ws,
            np.ones(w_count, dtype=np.int64),
            caps_ws,
            np.zeros(w_count, dtype=np.int64),
            np.zeros(w_count),
        ),
    ]
    bounds = np.cumsum([0, *(b[0].size for b in blocks)]).tolist()
    n_nodes = person_node + n
    supply = np.zeros(n_nodes, dtype=np.int64)
    supply[0], supply[1] = n, -n
    return _Network(
        tails=np.concatenate([b[0] for b in blocks]),
        heads=np.concatenate([b[1] for b in blocks]),
        caps=np.concatenate([b[2] for b in blocks]),
        cls=np.concatenate([b[3] for b in blocks]),
        rand=np.concatenate([b[4] for b in blocks]),
        supply=supply,
        n_nodes=n_nodes,
        person_arcs=slice(bounds[1], bounds[2]),
        hub_arcs=slice(bounds[2], bounds[3]),
        hub_ws_arcs=slice(bounds[3], bounds[4]),
    )


def _staged_flow(
    net: _Network, stages: list[_Stage], base: int, max_class: int, units: int
) -> IntArray:
    """Run the stages; between stages restrict the network to the optimal face."""
    m = net.tails.size
    flow_total = np.zeros(m, dtype=np.int64)
    active = np.arange(m)
    supply = net.supply.copy()
    for k, stage in enumerate(stages):
        table = np.array(_class_costs(stage, base, max_class, 2), dtype=np.int64)
        costs = table[net.cls[active]]
        if stage.tie:
            scale = units * (stage.tie - 1) + 1 if stage.stop > stage.start else 1
            costs = costs * scale + (net.rand[active] * stage.tie).astype(np.int64)
        tails, heads, caps = net.tails[active], net.heads[active], net.caps[active]
        smcf = min_cost_flow.SimpleMinCostFlow()
        smcf.add_arcs_with_capacity_and_unit_cost(
            tails.astype(np.int32), heads.astype(np.int32), caps, costs
        )
        smcf.set_nodes_supplies(np.arange(net.n_nodes, dtype=np.int32), supply)
        status = smcf.solve_max_flow_with_min_cost() if k == 0 else smcf.solve()
        if status == smcf.BAD_COST_RANGE:
            raise _CostRange
        if status != smcf.OPTIMAL:
            raise RuntimeError(f"min-cost flow failed with status {status}")
        flows = np.asarray(smcf.flows(np.arange(active.size, dtype=np.int32)), dtype=np.int64)
        if k == 0:
            placed = int(smcf.maximum_flow())
            supply[0], supply[1] = placed, -placed
        if k == len(stages) - 1:
            flow_total[active] = flows
            return flow_total
        # Complementary slackness: reduced cost > 0 -> empty in every optimum,
        # < 0 -> saturated in every optimum, = 0 -> free. Keep only the free arcs.
        pot = _potentials(net.n_nodes, tails, heads, caps, costs, flows)
        reduced = costs + pot[tails] - pot[heads]
        saturated = reduced < 0
        flow_total[active[saturated]] = caps[saturated]
        np.subtract.at(supply, tails[saturated], caps[saturated])
        np.add.at(supply, heads[saturated], caps[saturated])
        active = active[reduced == 0]
    raise AssertionError("no stage")  # pragma: no cover


def _potentials(
    n_nodes: int, tails: IntArray, heads: IntArray, caps: IntArray, costs: IntArray, flows: IntArray
) -> IntArray:
    """Optimal node potentials: shortest distances in the residual graph (Bellman-Ford).

    A virtual root reaches every node at cost 0; the flow is optimal, so there is no
    negative cycle. Vectorised relaxations; the number of rounds is the depth of the
    shortest-path tree, small on assignment graphs.
    """
    fwd = flows < caps
    bwd = flows > 0
    rt = np.concatenate([tails[fwd], heads[bwd]])
    rh = np.concatenate([heads[fwd], tails[bwd]])
    rc = np.concatenate([costs[fwd], -costs[bwd]])
    order = np.argsort(rh, kind="stable")
    rt, rh, rc = rt[order], rh[order], rc[order]
    dist = np.zeros(n_nodes, dtype=np.int64)
    if rh.size == 0:
        return dist
    starts = np.flatnonzero(np.r_[True, rh[1:] != rh[:-1]])
    targets = rh[starts]
    for _ in range(n_nodes + 1):
        best = np.minimum.reduceat(dist[rt] + rc, starts)
        improved = best < dist[targets]
        if not improved.any():
            return dist
        dist[targets[improved]] = best[improved]
    raise RuntimeError("negative cycle in an optimal residual graph")  # pragma: no cover


# --------------------------------------------------------------------------- groups (CP-SAT)


def _solve_groups(site: _Site, closed: BoolArray) -> IntArray:
    """Exact lexicographic assignment of one site with groups.

    A group is one unit of size k that can go to a workshop every member wishes (or any
    allowed workshop with free seats); each member's own rank counts in the objective.
    First the flow solves the relaxation where members move individually (within the
    workshops allowed for their group): if no group ends up split, that optimum is feasible,
    hence optimal. Otherwise staged CP-SAT solves the exact problem, hinted with the
    relaxation minus its split groups.
    """
    n = len(site.people)
    options = [_choices(site, i) for i in range(n)]
    if site.relaxed is None:
        relaxed_options = list(site.options)
        free = list(site.free)
        for g in site.groups:
            common = set.intersection(*(set(options[i]) for i in g))
            for i in g:
                relaxed_options[i] = {w: options[i][w] for w in sorted(common)}
                free[i] = False
        site.relaxed = replace(site, options=relaxed_options, free=free, groups=[], arcs=None)
    target = _solve_flow(site.relaxed, closed)
    split = [g for g in site.groups if len({int(target[i]) for i in g}) > 1]
    if not split:
        return target
    for g in split:
        target[g] = -1
    return _solve_cpsat(site, options, closed, target)


def _choices(site: _Site, i: int) -> dict[int, int]:
    """Workshop index -> class for person ``i``, free seats expanded (closures ignored)."""
    opts = dict(site.options[i])
    if site.free[i]:
        for w, ws in enumerate(site.workshops):
            if ws.open and w not in opts and w not in site.excluded[i]:
                opts[w] = site.top
    return opts


def _solve_cpsat(
    site: _Site, options: list[dict[int, int]], closed: BoolArray, hint: IntArray
) -> IntArray:
    """Staged lexicographic CP-SAT model: one boolean per (unit, allowed workshop).

    After each stage, every digit of the stage is fixed by its own equality constraint
    (small coefficients propagate far better than one constraint on the weighted sum).
    CP-SAT's presolve is disabled: on these models it costs more than the search itself.
    One worker keeps the result deterministic.
    """
    from ortools.sat.python import cp_model

    n = len(site.people)
    in_group = {i for g in site.groups for i in g}
    units = [*site.groups, *([i] for i in range(n) if i not in in_group)]
    pairs: list[tuple[int, int, list[int]]] = []  # (unit, workshop, classes of members)
    for u, members in enumerate(units):
        common = set.intersection(*(set(options[i]) for i in members))
        for w in sorted(common):
            if not closed[w]:
                pairs.append((u, w, [options[i][w] for i in members]))
    target = np.full(n, -1, dtype=np.int64)
    if not pairs:
        return target
    max_class = max(max(c) for _, _, c in pairs)
    digits = max_class  # digit 0: placed; digit d >= 1: members of class >= d + 1
    base = n + 1
    stages = _plan(digits, base, _CPSAT_LIMIT // base, n, fuse_tie=False)
    rand = _rng(site.key, "tie").random((n, len(site.workshops)))

    def digit(classes: list[int], d: int) -> int:
        return -len(classes) if d == 0 else sum(c >= d + 1 for c in classes)

    model = cp_model.CpModel()
    xs = [model.new_bool_var(f"x{u}_{w}") for u, w, _ in pairs]
    by_unit: dict[int, list[Any]] = defaultdict(list)
    by_ws: dict[int, tuple[list[Any], list[int]]] = defaultdict(lambda: ([], []))
    for x, (u, w, _) in zip(xs, pairs, strict=True):
        by_unit[u].append(x)
        by_ws[w][0].append(x)
        by_ws[w][1].append(len(units[u]))
    for vs in by_unit.values():
        model.add_at_most_one(vs)
    for w, (vs, sizes) in by_ws.items():
        model.add(cp_model.LinearExpr.weighted_sum(vs, sizes) <= int(site.remaining[w]))
    values = [int(hint[units[u][0]] == w) for u, w, _ in pairs]
    for stage in stages:
        if stage.tie:
            coefs = [sum(int(rand[i, w] * stage.tie) for i in units[u]) for u, w, _ in pairs]
        else:
            coefs = [
                sum(
                    digit(cl, d) * base ** (stage.stop - 1 - d)
                    for d in range(stage.start, stage.stop)
                )
                for _, _, cl in pairs
            ]
        model.minimize(cp_model.LinearExpr.weighted_sum(xs, coefs))
        cast(Any, model).clear_hints()
        for x, v in zip(xs, values, strict=True):
            model.add_hint(x, v)
        solver = cp_model.CpSolver()
        solver.parameters.num_workers = 1
        solver.parameters.random_seed = 0
        solver.parameters.cp_model_presolve = False
        status = solver.solve(model)
        if status != cp_model.OPTIMAL:
            raise RuntimeError(f"CP-SAT could not prove optimality (status {status})")
        values = [int(solver.boolean_value(x)) for x in xs]
        for d in range(stage.start, stage.stop):
            dc = [digit(cl, d) for _, _, cl in pairs]
            done = sum(c * v for c, v in zip(dc, values, strict=True))
            model.add(cp_model.LinearExpr.weighted_sum(xs, dc) == done)
    for (u, w, _), v in zip(pairs, values, strict=True):
        if v:
            target[units[u]] = w
    return target
