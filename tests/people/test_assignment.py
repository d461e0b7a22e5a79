"""Specification of workshop assignment (live/assignment.py).

Optimality is checked against independent solvers: exhaustive search on tiny instances and
staged lexicographic integer programming (scipy.optimize.milp) on bigger ones.
"""

from __future__ import annotations

import itertools
import random
from collections import Counter, defaultdict
from collections.abc import Sequence

import numpy as np
import pytest
from scipy.optimize import Bounds, LinearConstraint, milp

import live.people.assignment as assignment_module
from live.people.assignment import Applicant, Assignment, Seats, assign
from live.people.rounds_assignment import assign_rounds

# --------------------------------------------------------------------------- references


def _rank(a: Applicant, wid: str) -> int:
    return a.wishes.index(wid) + 1 if wid in a.wishes else 0


def _units(
    applicants: Sequence[Applicant], workshops: Sequence[Seats], allow_free: bool
) -> list[tuple[list[Applicant], list[str], str | None]]:
    """Units to place (groups or singletons), their admissible workshops and forced one."""
    by_id = {w.id: w for w in workshops}

    def options(a: Applicant) -> set[str]:
        if a.pinned is not None:
            return {a.pinned}
        opts = {w for w in a.wishes if by_id[w].open}
        if allow_free:
            opts |= {w.id for w in workshops if w.open and w.site == a.site}
        return opts

    groups: dict[str, list[Applicant]] = defaultdict(list)
    units: list[list[Applicant]] = []
    for a in applicants:
        if a.group is None:
            units.append([a])
        else:
            groups[a.group].append(a)
    units.extend(groups.values())
    out = []
    for members in units:
        common = set.intersection(*(options(a) for a in members))
        pinned = members[0].pinned if all(m.pinned for m in members) else None
        out.append((members, sorted(common), pinned))
    return out


def _profile_of(choice: dict[str, str | None], applicants: Sequence[Applicant], depth: int):
    counts = Counter(_rank(a, choice[a.id]) for a in applicants if choice[a.id] is not None)
    return (sum(counts.values()), *(counts[r] for r in range(1, depth + 1)))


def exhaustive_profile(
    applicants: Sequence[Applicant], workshops: Sequence[Seats], allow_free: bool = False
) -> tuple[int, ...]:
    """Best (placed, rank1, rank2, ...) by trying every combination."""
    depth = max((len(a.wishes) for a in applicants), default=0)
    cap = {w.id: w.capacity for w in workshops}
    units = _units(applicants, workshops, allow_free)
    menus = [opts if pinned else [*opts, None] for _, opts, pinned in units]
    best: tuple[int, ...] | None = None
    for combo in itertools.product(*menus):
        load: Counter[str] = Counter()
        for (members, _, _), w in zip(units, combo, strict=True):
            if w is not None:
                load[w] += len(members)
        if any(load[w] > cap[w] for w in load):
            continue
        choice = {m.id: w for (members, _, _), w in zip(units, combo, strict=True) for m in members}
        prof = _profile_of(choice, applicants, depth)
        if best is None or prof > best:
            best = prof
    assert best is not None
    return best


def milp_profile(
    applicants: Sequence[Applicant],
    workshops: Sequence[Seats],
    allow_free: bool = False,
    cardinality_first: bool = True,
) -> tuple[int, ...]:
    """Lexicographic optimum by staged integer programs (HiGHS through scipy)."""
    depth = max((len(a.wishes) for a in applicants), default=0)
    units = _units(applicants, workshops, allow_free)
    pairs = [(u, w) for u, (_, opts, _) in enumerate(units) for w in opts]
    if not pairs:
        return (0, *([0] * depth))
    nv = len(pairs)
    rows, lbs, ubs = [], [], []
    for u, (_, _, pinned) in enumerate(units):
        row = np.array([1.0 if pu == u else 0.0 for pu, _ in pairs])
        if row.any():
            rows.append(row)
            lbs.append(1.0 if pinned else 0.0)
            ubs.append(1.0)
    for w in workshops:
        row = np.array([len(units[u][0]) if pw == w.id else 0.0 for u, pw in pairs])
        rows.append(row)
        lbs.append(0.0)
        ubs.append(float(w.capacity))
    constraints = [LinearConstraint(np.array(rows), lbs, ubs)]
    placed = np.array([float(len(units[u][0])) for u, _ in pairs])
    by_rank = [
        np.array([float(sum(_rank(m, w) == r for m in units[u][0])) for u, w in pairs])
        for r in range(1, depth + 1)
    ]
    criteria = [placed, *by_rank] if cardinality_first else by_rank
    values, x = [], np.zeros(nv)
    for crit in criteria:
        res = milp(-crit, constraints=constraints, integrality=np.ones(nv), bounds=Bounds(0, 1))
        assert res.status == 0, res.message
        x = res.x
        value = round(-res.fun)
        constraints.append(LinearConstraint(crit.reshape(1, -1), value - 0.5, value + 0.5))
        values.append(value)
    if not cardinality_first:
        values.insert(0, round(float(placed @ x)))
    return tuple(values)


# --------------------------------------------------------------------------- generators


def random_instance(
    rng: random.Random,
    people: int,
    n_workshops: int,
    max_wishes: int,
    sites: int = 1,
    pins: bool = False,
    closed: bool = False,
    groups: bool = False,
) -> tuple[list[Applicant], list[Seats]]:
    """Skewed random demand: a few popular workshops, small capacities."""
    workshops = [
        Seats(
            f"w{i}",
            f"s{i % sites}",
            rng.randint(0, 3) if people < 10 else rng.randint(1, max(2, 2 * people // n_workshops)),
            open=not (closed and rng.random() < 0.15),
        )
        for i in range(n_workshops)
    ]
    applicants = []
    for p in range(people):
        site = f"s{rng.randrange(sites)}"
        local = [w.id for w in workshops if w.site == site]
        weights = [1.0 / (k + 1) for k in range(len(local))]
        k = rng.randint(0, min(max_wishes, len(local)))
        wishes: list[str] = []
        while len(wishes) < k:
            w = rng.choices(local, weights)[0]
            if w not in wishes:
                wishes.append(w)
        applicants.append(Applicant(f"p{p}", site, tuple(wishes), category=rng.choice("ab")))
    if groups:
        for g in range(max(1, people // 5)):
            i = rng.randrange(people - 1)
            a, b = applicants[i], applicants[i + 1]
            if a.site == b.site and a.group is None and b.group is None:
                gid = f"g{g}"
                shared = a.wishes or b.wishes
                applicants[i] = Applicant(a.id, a.site, shared, group=gid)
                applicants[i + 1] = Applicant(b.id, b.site, shared, group=gid)
    if pins:
        load: Counter[str] = Counter()
        for i, a in enumerate(applicants):
            open_here = [w for w in workshops if w.site == a.site and w.open]
            if a.group is None and open_here and rng.random() < 0.1:
                w = rng.choice(open_here)
                if load[w.id] < w.capacity:
                    load[w.id] += 1
                    applicants[i] = Applicant(a.id, a.site, a.wishes, pinned=w.id)
    return applicants, workshops


def check_feasible(result: Assignment, applicants, workshops, allow_free=False) -> None:
    """Capacities, sites, closed workshops, wishes (unless free seats) are respected."""
    by_id = {w.id: w for w in workshops}
    load = Counter(w for w in result.placements.values() if w is not None)
    for wid, k in load.items():
        assert k <= by_id[wid].capacity
        assert by_id[wid].open
    for a in applicants:
        wid = result.placements[a.id]
        if wid is not None:
            assert by_id[wid].site == a.site
            if not allow_free and a.pinned is None:
                assert wid in a.wishes
        assert result.ranks[a.id] == (None if wid is None else _rank(a, wid))


# --------------------------------------------------------------------------- optimality


def test_profile_matches_exhaustive_search_on_tiny_instances() -> None:
    rng = random.Random(1)
    for _ in range(250):
        free = rng.random() < 0.3
        applicants, workshops = random_instance(
            rng, rng.randint(1, 6), rng.randint(1, 4), 3, pins=True, closed=True
        )
        result = assign(applicants, workshops, seed=rng.randrange(1000), allow_free_seats=free)
        check_feasible(result, applicants, workshops, free)
        assert result.profile() == exhaustive_profile(applicants, workshops, free)


def test_profile_matches_integer_programming_on_small_instances() -> None:
    rng = random.Random(2)
    for _ in range(30):
        free = rng.random() < 0.3
        applicants, workshops = random_instance(
            rng, rng.randint(20, 80), rng.randint(3, 10), rng.randint(1, 5), sites=2, pins=True
        )
        result = assign(applicants, workshops, seed=rng.randrange(1000), allow_free_seats=free)
        check_feasible(result, applicants, workshops, free)
        assert result.profile() == milp_profile(applicants, workshops, free)


def test_groups_profile_matches_exhaustive_search_on_tiny_instances() -> None:
    rng = random.Random(3)
    for _ in range(60):
        free = rng.random() < 0.3
        applicants, workshops = random_instance(
            rng, rng.randint(2, 6), rng.randint(1, 3), 2, groups=True
        )
        result = assign(applicants, workshops, seed=rng.randrange(1000), allow_free_seats=free)
        check_feasible(result, applicants, workshops, free)
        assert result.profile() == exhaustive_profile(applicants, workshops, free)


def test_groups_profile_matches_integer_programming_on_small_instances() -> None:
    rng = random.Random(4)
    for _ in range(8):
        applicants, workshops = random_instance(rng, 40, 6, 3, groups=True)
        result = assign(applicants, workshops, seed=rng.randrange(1000))
        check_feasible(result, applicants, workshops)
        assert result.profile() == milp_profile(applicants, workshops)


def test_twelve_wishes_do_not_overflow_and_stay_optimal(monkeypatch) -> None:
    rng = random.Random(5)
    applicants, workshops = random_instance(rng, 300, 30, 12)
    applicants = [a for a in applicants if a.wishes]
    # Make sure the instance really has 12 wishes for most people.
    applicants = [
        Applicant(a.id, a.site, tuple(rng.sample([w.id for w in workshops], 12)))
        for a in applicants
    ]
    plans: list[int] = []
    real_plan = assignment_module._plan

    def spy(*args, **kwargs):
        stages = real_plan(*args, **kwargs)
        plans.append(len(stages))
        return stages

    monkeypatch.setattr(assignment_module, "_plan", spy)
    result = assign(applicants, workshops, seed=7)
    assert max(plans) > 1  # 300**11 does not fit int64: solved in stages
    check_feasible(result, applicants, workshops)
    assert result.profile() == milp_profile(applicants, workshops)


def test_staged_solves_give_the_same_profile_as_a_single_solve(monkeypatch) -> None:
    rng = random.Random(6)
    cases = [random_instance(rng, 60, 8, 4, sites=2) for _ in range(5)]
    expected = [assign(a, w, seed=3, allow_free_seats=True).profile() for a, w in cases]
    # A tiny cost budget forces one stage per digit plus a separate tie-break stage.
    monkeypatch.setattr(assignment_module, "_cost_budget", lambda num_nodes: 200)
    for (applicants, workshops), want in zip(cases, expected, strict=True):
        result = assign(applicants, workshops, seed=3, allow_free_seats=True)
        check_feasible(result, applicants, workshops, allow_free=True)
        assert result.profile() == want


def test_skewed_demand_places_everyone_rank_maximal_would_leave_out() -> None:
    # Per block: Y loves W (also fine with V), Z wants U then W, X wants only U.
    # Giving Y and X their 1st wish leaves Z out; maximum cardinality places all three.
    applicants, workshops = [], []
    for b in range(10):
        workshops += [Seats(f"W{b}", "s", 1), Seats(f"V{b}", "s", 1), Seats(f"U{b}", "s", 1)]
        applicants += [
            Applicant(f"Y{b}", "s", (f"W{b}", f"V{b}")),
            Applicant(f"Z{b}", "s", (f"U{b}", f"W{b}")),
            Applicant(f"X{b}", "s", (f"U{b}",)),
        ]
    rank_maximal = milp_profile(applicants, workshops, cardinality_first=False)
    assert rank_maximal[0] == 20  # pure rank-maximal leaves 10 people out
    result = assign(applicants, workshops, seed=0)
    assert all(w is not None for w in result.placements.values())
    assert result.profile() == (30, 10, 20)


# --------------------------------------------------------------------------- rules


def test_capacities_are_never_exceeded() -> None:
    rng = random.Random(7)
    for _ in range(20):
        applicants, workshops = random_instance(rng, 100, 8, 3, sites=3, pins=True, closed=True)
        result = assign(applicants, workshops, seed=1, allow_free_seats=rng.random() < 0.5)
        load = Counter(w for w in result.placements.values() if w is not None)
        assert all(load[w.id] <= w.capacity for w in workshops)


def test_people_only_go_to_workshops_of_their_site() -> None:
    workshops = [Seats("a1", "A", 5), Seats("b1", "B", 5)]
    applicants = [Applicant(f"p{i}", "A", ()) for i in range(3)]
    result = assign(applicants, workshops, seed=0, allow_free_seats=True)
    assert set(result.placements.values()) == {"a1"}


def test_pinned_applicants_stay_where_pinned() -> None:
    workshops = [Seats("w1", "s", 2), Seats("w2", "s", 2)]
    applicants = [
        Applicant("boss", "s", ("w1",), pinned="w2"),
        Applicant("p1", "s", ("w2",)),
        Applicant("p2", "s", ("w2",)),
    ]
    result = assign(applicants, workshops, seed=0)
    assert result.placements["boss"] == "w2"
    assert result.ranks["boss"] == 0  # placed, but not in a wish
    assert sorted(result.placements.values(), key=str).count("w2") == 2


def test_pinning_over_capacity_is_an_error() -> None:
    workshops = [Seats("w1", "s", 1)]
    applicants = [Applicant("a", "s", pinned="w1"), Applicant("b", "s", pinned="w1")]
    with pytest.raises(ValueError, match="w1"):
        assign(applicants, workshops, seed=0)


def test_closed_workshop_receives_nobody() -> None:
    workshops = [Seats("w1", "s", 10, open=False), Seats("w2", "s", 10)]
    applicants = [Applicant(f"p{i}", "s", ("w1", "w2")) for i in range(5)]
    result = assign(applicants, workshops, seed=0, allow_free_seats=True)
    assert set(result.placements.values()) == {"w2"}
    assert set(result.ranks.values()) == {2}


def test_same_seed_gives_same_result() -> None:
    applicants, workshops = random_instance(random.Random(8), 200, 10, 3, sites=2)
    first = assign(applicants, workshops, seed=42)
    again = assign(applicants, workshops, seed=42)
    assert first.placements == again.placements
    assert first.seed == again.seed == 42


def test_input_order_does_not_matter() -> None:
    applicants, workshops = random_instance(random.Random(9), 200, 10, 3, sites=2)
    shuffled = applicants[:]
    random.Random(0).shuffle(shuffled)
    assert assign(applicants, workshops, seed=5).placements == (
        assign(shuffled, workshops[::-1], seed=5).placements
    )


def test_different_seeds_break_ties_differently() -> None:
    workshops = [Seats("w", "s", 1)]
    applicants = [Applicant("alice", "s", ("w",)), Applicant("bob", "s", ("w",))]
    winners = {
        next(p for p, w in assign(applicants, workshops, seed=s).placements.items() if w)
        for s in range(20)
    }
    assert winners == {"alice", "bob"}


def test_tie_break_is_fair() -> None:
    workshops = [Seats("w", "s", 2), Seats("v", "s", 10)]
    applicants = [Applicant(f"p{i}", "s", ("w", "v")) for i in range(4)]
    wins = Counter(
        p
        for s in range(400)
        for p, w in assign(applicants, workshops, seed=s).placements.items()
        if w == "w"
    )
    assert set(wins) == {"p0", "p1", "p2", "p3"}
    assert all(150 <= k <= 250 for k in wins.values())  # 200 expected for each


def test_late_registrations_move_nobody_already_confirmed() -> None:
    workshops = [Seats("w1", "s", 2), Seats("w2", "s", 2), Seats("w3", "s", 2)]
    confirmed = [
        Applicant("c1", "s", ("w1", "w2"), confirmed="w2"),
        Applicant("c2", "s", ("w1",), confirmed="w1"),
    ]
    late = [Applicant(f"n{i}", "s", ("w2", "w1", "w3")) for i in range(4)]
    result = assign(confirmed + late, workshops, seed=0, late=True)
    assert result.placements["c1"] == "w2"
    assert result.placements["c2"] == "w1"
    check_feasible(result, confirmed + late, workshops)
    assert result.profile()[0] == 6


def test_confirmed_is_ignored_outside_late_mode() -> None:
    workshops = [Seats("w1", "s", 1), Seats("w2", "s", 1)]
    applicants = [
        Applicant("c", "s", ("w1", "w2"), confirmed="w1"),
        Applicant("d", "s", ("w1",)),
    ]
    result = assign(applicants, workshops, seed=0)
    assert result.placements == {"c": "w2", "d": "w1"}


def test_workshop_below_minimum_is_closed_and_its_people_re_placed() -> None:
    workshops = [Seats("big", "s", 10), Seats("tiny", "s", 10, min_size=3)]
    applicants = [Applicant(f"p{i}", "s", ("big",)) for i in range(5)] + [
        Applicant("q1", "s", ("tiny", "big")),
        Applicant("q2", "s", ("tiny", "big")),
    ]
    result = assign(applicants, workshops, seed=0)
    assert result.closed == ("tiny",)
    assert set(result.placements.values()) == {"big"}
    assert result.ranks["q1"] == result.ranks["q2"] == 2
    assert result.report().fill[1].status == "below_minimum"


def test_closing_repeats_until_every_open_workshop_reaches_its_minimum() -> None:
    # Closing 'a' (2 people) moves them to 'b', which then reaches its minimum of 3.
    workshops = [
        Seats("a", "s", 5, min_size=3),
        Seats("b", "s", 5, min_size=3),
        Seats("c", "s", 5, min_size=4),
    ]
    applicants = (
        [Applicant(f"a{i}", "s", ("a", "b")) for i in range(2)]
        + [Applicant(f"b{i}", "s", ("b", "c")) for i in range(2)]
        + [Applicant(f"c{i}", "s", ("c",)) for i in range(3)]
    )
    result = assign(applicants, workshops, seed=0)
    assert set(result.closed) == {"a", "c"}
    assert Counter(result.placements.values()) == {"b": 4, None: 3}


def test_workshop_with_pinned_people_is_never_closed_for_its_minimum() -> None:
    workshops = [Seats("w", "s", 5, min_size=3)]
    applicants = [Applicant("boss", "s", pinned="w"), Applicant("p", "s", ("w",))]
    result = assign(applicants, workshops, seed=0)
    assert result.closed == ()
    assert result.placements == {"boss": "w", "p": "w"}


def test_group_members_land_in_the_same_workshop() -> None:
    workshops = [Seats("w1", "s", 3), Seats("w2", "s", 3)]
    applicants = [Applicant(f"g{i}", "s", ("w1", "w2"), group="team") for i in range(3)] + [
        Applicant("solo", "s", ("w1",))
    ]
    result = assign(applicants, workshops, seed=0)
    assert result.placements == {"g0": "w2", "g1": "w2", "g2": "w2", "solo": "w1"}


def test_group_stays_unplaced_rather_than_split() -> None:
    workshops = [Seats("w1", "s", 2), Seats("w2", "s", 1)]
    applicants = [Applicant(f"g{i}", "s", ("w1", "w2"), group="team") for i in range(3)]
    result = assign(applicants, workshops, seed=0)
    assert set(result.placements.values()) == {None}


def test_group_follows_its_pinned_member() -> None:
    workshops = [Seats("w1", "s", 3), Seats("w2", "s", 3)]
    applicants = [
        Applicant("lead", "s", ("w1",), group="team", pinned="w2"),
        Applicant("mate", "s", ("w1",), group="team"),
    ]
    result = assign(applicants, workshops, seed=0)
    assert result.placements == {"lead": "w2", "mate": "w2"}


def test_rounds_never_repeat_a_workshop() -> None:
    workshops = [Seats("w1", "s", 3), Seats("w2", "s", 3), Seats("w3", "s", 3)]
    applicants = [Applicant(f"p{i}", "s", ("w1", "w2", "w3")) for i in range(9)]
    rounds = assign_rounds([applicants] * 3, [workshops] * 3, seed=1, allow_free_seats=True)
    assert [r.seed for r in rounds] == [1, 2, 3]
    for a in applicants:
        seen = [r.placements[a.id] for r in rounds]
        assert None not in seen
        assert len(set(seen)) == 3
        assert sorted(r.ranks[a.id] for r in rounds) == [1, 2, 3]


def test_rounds_skip_wishes_already_attended() -> None:
    workshops = [Seats("w1", "s", 1), Seats("w2", "s", 1)]
    applicants = [Applicant("p", "s", ("w1", "w2"))]
    results = assign_rounds([applicants] * 3, [workshops] * 3, seed=0)
    # Which round gets which is the seeded tie-break: the profile is the same.
    got = [r.placements["p"] for r in results]
    assert set(got) == {"w1", "w2", None}
    assert {r.ranks["p"] for r in results} == {1, 2, None}


def test_free_seats_place_people_outside_their_wishes() -> None:
    workshops = [Seats("hot", "s", 1), Seats("cold", "s", 5)]
    applicants = [Applicant("a", "s", ("hot",)), Applicant("b", "s", ("hot",))]
    applicants.append(Applicant("nowish", "s", ()))
    strict = assign(applicants, workshops, seed=0)
    assert Counter(strict.ranks.values()) == {1: 1, None: 2}
    free = assign(applicants, workshops, seed=0, allow_free_seats=True)
    assert Counter(free.ranks.values()) == {1: 1, 0: 2}
    assert Counter(free.placements.values()) == {"hot": 1, "cold": 2}


def test_free_seats_come_after_every_wish() -> None:
    workshops = [Seats("w1", "s", 1), Seats("w2", "s", 1), Seats("w3", "s", 1)]
    applicants = [Applicant("a", "s", ("w1", "w2")), Applicant("b", "s", ("w1",))]
    result = assign(applicants, workshops, seed=0, allow_free_seats=True)
    assert result.placements == {"a": "w2", "b": "w1"}


# --------------------------------------------------------------------------- report


def test_report_counts_ranks_unplaced_no_wishes_and_fill() -> None:
    workshops = [Seats("w1", "s", 1), Seats("w2", "s", 2)]
    applicants = [
        Applicant("a", "s", ("w1", "w2")),
        Applicant("b", "s", ("w1", "w2")),
        Applicant("c", "s", ("w1",)),
        Applicant("d", "s", ()),
    ]
    rep = assign(applicants, workshops, seed=0).report()
    assert rep.overall.people == 4
    assert rep.overall.by_rank == (1, 2)  # c got w1; a and b their 2nd wish
    assert (rep.overall.without_wish, rep.overall.unplaced, rep.overall.no_wishes) == (0, 1, 1)
    assert rep.overall.as_dict()["by_rank_share"] == [0.25, 0.5]
    assert rep.overall.as_dict()["unplaced_share"] == 0.25
    fill = {f.workshop: (f.count, f.capacity) for f in rep.fill}
    assert fill == {"w1": (1, 1), "w2": (2, 2)}
    assert rep.as_dict()["fill"][1]["ratio"] == 1.0


def test_report_breaks_down_by_site_and_category() -> None:
    workshops = [Seats("a1", "A", 1), Seats("b1", "B", 5)]
    applicants = [
        Applicant("x", "A", ("a1",), category="elected"),
        Applicant("y", "A", ("a1",), category="public"),
        Applicant("z", "B", ("b1",), category="public"),
    ]
    rep = assign(applicants, workshops, seed=0).report()
    assert rep.by_site["A"].people == 2 and rep.by_site["A"].unplaced == 1
    assert rep.by_site["B"].by_rank == (1,)
    assert rep.by_category["public"].people == 2
    assert sum(t.unplaced for t in rep.by_category.values()) == 1


# --------------------------------------------------------------------------- input errors


@pytest.mark.parametrize(
    ("applicant", "fragment"),
    [
        (Applicant("ann", "A", ("nope",)), "unknown workshop 'nope'"),
        (Applicant("ann", "A", ("a1", "a1")), "'a1' more than once"),
        (Applicant("ann", "A", ("b1",)), "workshop 'b1' of site 'B'"),
        (Applicant("ann", "A", (), pinned="b1"), "'b1'"),
        (Applicant("ann", "A", (), pinned="zz"), "unknown workshop 'zz'"),
    ],
    ids=["unknown", "duplicate", "other-site", "pinned-other-site", "pinned-unknown"],
)
def test_input_errors_name_the_person_and_workshop(applicant: Applicant, fragment: str) -> None:
    workshops = [Seats("a1", "A", 3), Seats("b1", "B", 3)]
    with pytest.raises(ValueError, match="ann") as err:
        assign([applicant], workshops, seed=0)
    assert fragment in str(err.value)


def test_duplicate_ids_are_errors() -> None:
    with pytest.raises(ValueError, match="'p'"):
        assign([Applicant("p", "s"), Applicant("p", "s")], [Seats("w", "s", 1)], seed=0)
    with pytest.raises(ValueError, match="'w'"):
        assign([], [Seats("w", "s", 1), Seats("w", "s", 2)], seed=0)
