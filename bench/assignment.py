"""Benchmark the assignment (live.people.assignment) on skewed demand, checked independently.

Usage: .venv/bin/python bench/assignment.py [--participants 2000 --workshops 35 --seats 60 ...]

Cases: a 2,000-person event (35 workshops x 60 seats, 3 ranked wishes, Zipf popularity)
and a 20,000-person one (300 workshops, total seats ~ participants). The 2,000 result is
checked against SciPy: max flow for the number placed (max-cardinality) and staged
lexicographic integer programs (HiGHS) for the full rank profile. A two-round case (2,000
people wishing 3 of 15 themes at 10:30 and again at 14:00, the same themes popular in both,
seats for 1.05 times the people, nobody twice in one theme) is placed together and checked
against staged integer programs over both rounds (SciPy). The last printed line is one
JSON object.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse.csgraph import maximum_flow

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from live.people.assignment import Applicant, Assignment, Seats, assign
from live.people.rounds_assignment import assign_rounds


def make_instance(
    participants: int, workshops: int, seats: int, wishes: int, sites: int, zipf: float, seed: int
) -> tuple[list[Applicant], list[Seats]]:
    """Participants spread over sites; wishes drawn without replacement, Zipf-weighted."""
    rng = np.random.default_rng(seed)
    ws = [Seats(f"w{i:03d}", f"site{i % sites}", seats) for i in range(workshops)]
    by_site = [[w for w in ws if w.site == f"site{s}"] for s in range(sites)]
    site_of = rng.integers(0, sites, size=participants)
    applicants: list[Applicant] = []
    for s, local in enumerate(by_site):
        who = np.flatnonzero(site_of == s)
        if not local or who.size == 0:
            continue
        order = rng.permutation(len(local))  # which workshop of the site is popular
        logp = -zipf * np.log(np.arange(1, len(local) + 1))[order]
        # Gumbel top-k = weighted sampling without replacement, vectorised.
        keys = logp + rng.gumbel(size=(who.size, len(local)))
        k = min(wishes, len(local))
        top = np.argsort(-keys, axis=1)[:, :k]
        for person, row in zip(who.tolist(), top.tolist(), strict=True):
            applicants.append(
                Applicant(f"p{person:06d}", f"site{s}", tuple(local[j].id for j in row))
            )
    applicants.sort(key=lambda a: a.id)
    return applicants, ws


def time_assign(
    applicants: list[Applicant], workshops: list[Seats], runs: int, seed: int
) -> tuple[float, Assignment]:
    """Best of `runs` wall-clock times."""
    best, result = math.inf, None
    for _ in range(runs):
        start = time.perf_counter()
        result = assign(applicants, workshops, seed=seed)
        best = min(best, time.perf_counter() - start)
    assert result is not None
    return best, result


def _pairs(applicants: list[Applicant], workshops: list[Seats]) -> tuple[np.ndarray, ...]:
    index = {w.id: i for i, w in enumerate(workshops)}
    rows, cols, ranks = [], [], []
    for p, a in enumerate(applicants):
        for r, wid in enumerate(a.wishes, start=1):
            rows.append(p)
            cols.append(index[wid])
            ranks.append(r)
    return np.array(rows), np.array(cols), np.array(ranks)


def max_cardinality(applicants: list[Applicant], workshops: list[Seats]) -> int:
    """Independent max flow (SciPy): how many people can be placed in one of their wishes."""
    rows, cols, _ = _pairs(applicants, workshops)
    n, m = len(applicants), len(workshops)
    source, sink = n + m, n + m + 1
    tails = np.concatenate([np.full(n, source), rows, n + np.arange(m)])
    heads = np.concatenate([np.arange(n), n + cols, np.full(m, sink)])
    caps = np.concatenate([np.ones(n), np.ones(rows.size), [w.capacity for w in workshops]])
    graph = sp.csr_matrix((caps.astype(np.int32), (tails, heads)), shape=(n + m + 2, n + m + 2))
    return int(maximum_flow(graph, source, sink).flow_value)


def milp_profile(applicants: list[Applicant], workshops: list[Seats]) -> tuple[int, ...]:
    """Independent lexicographic optimum: staged integer programs (placed, rank 1, rank 2...)."""
    rows, cols, ranks = _pairs(applicants, workshops)
    nv, n, m = rows.size, len(applicants), len(workshops)
    a_people = sp.csr_matrix((np.ones(nv), (rows, np.arange(nv))), shape=(n, nv))
    a_ws = sp.csr_matrix((np.ones(nv), (cols, np.arange(nv))), shape=(m, nv))
    constraints = [
        LinearConstraint(a_people, 0, 1),
        LinearConstraint(a_ws, 0, [w.capacity for w in workshops]),
    ]
    depth = int(ranks.max(initial=0))
    criteria = [np.ones(nv)] + [(ranks == r).astype(float) for r in range(1, depth + 1)]
    values = []
    for crit in criteria:
        res = milp(-crit, constraints=constraints, integrality=np.ones(nv), bounds=Bounds(0, 1))
        if res.status != 0:
            raise RuntimeError(res.message)
        value = round(-res.fun)
        constraints.append(LinearConstraint(sp.csr_matrix(crit), value - 0.5, value + 0.5))
        values.append(value)
    return tuple(values)


def rank_profile(result: Assignment) -> dict[str, int]:
    """People per obtained wish rank, plus unplaced."""
    prof = result.profile()
    out = {str(r): c for r, c in enumerate(prof[1:], start=1)}
    out["unplaced"] = len(result.placements) - prof[0]
    return out


def two_rounds(
    participants: int, themes: int, wishes: int, slack: float, zipf: float, seed: int
) -> tuple[list[list[Applicant]], list[list[Seats]], dict[str, str]]:
    """Two rounds with one workshop per theme each; people wish the same popular themes."""
    rng = np.random.default_rng(seed)
    cap = math.ceil(participants * slack / themes)
    seats = [[Seats(f"r{r}t{t:02d}", "site0", cap) for t in range(themes)] for r in range(2)]
    apart = {w.id: w.id[2:] for here in seats for w in here}
    logp = -zipf * np.log(np.arange(1, themes + 1))[rng.permutation(themes)]
    people: list[list[Applicant]] = [[], []]
    for p in range(participants):
        for r in range(2):
            top = np.argsort(-(logp + rng.gumbel(size=themes)))[:wishes]
            people[r].append(Applicant(f"p{p:06d}", "site0", tuple(f"r{r}t{t:02d}" for t in top)))
    return people, seats, apart


def milp_rounds(
    people: list[list[Applicant]], seats: list[list[Seats]], apart: dict[str, str]
) -> tuple[int, ...]:
    """Independent lexicographic optimum over both rounds: staged integer programs."""
    cols = [(r, a, w) for r, group in enumerate(people) for a in group for w in a.wishes]
    nv = len(cols)
    families: list[dict[object, list[int]]] = [{}, {}, {}]
    for k, (r, a, w) in enumerate(cols):
        families[0].setdefault((r, a.id), []).append(k)
        families[1].setdefault((a.id, apart[w]), []).append(k)
        families[2].setdefault(w, []).append(k)

    def matrix(groups: dict[object, list[int]]) -> sp.csr_matrix:
        rows = [g for g, ks in enumerate(groups.values()) for _ in ks]
        cols_ = [k for ks in groups.values() for k in ks]
        return sp.csr_matrix((np.ones(len(cols_)), (rows, cols_)), shape=(len(groups), nv))

    caps = {w.id: w.capacity for here in seats for w in here}
    constraints = [
        LinearConstraint(matrix(families[0]), 0, 1),
        LinearConstraint(matrix(families[1]), 0, 1),
        LinearConstraint(matrix(families[2]), 0, [caps[w] for w in families[2]]),
    ]
    rank = np.array([a.wishes.index(w) + 1 for _, a, w in cols])
    depth = int(rank.max(initial=0))
    values = []
    for crit in [np.ones(nv), *[(rank == r).astype(float) for r in range(1, depth + 1)]]:
        res = milp(-crit, constraints=constraints, integrality=np.ones(nv), bounds=Bounds(0, 1))
        if res.status != 0:
            raise RuntimeError(res.message)
        value = round(-res.fun)
        constraints.append(LinearConstraint(sp.csr_matrix(crit), value - 0.5, value + 0.5))
        values.append(value)
    return tuple(values)


def rounds_case(args: argparse.Namespace) -> dict[str, object]:
    """The two-round case: timed (wall, best of runs, and CPU), then checked."""
    people, seats, apart = two_rounds(args.participants, 15, args.wishes, 1.05, args.zipf, 3)
    best, cpu, results = math.inf, math.inf, None
    for _ in range(max(1, args.runs // 2)):
        start, start_cpu = time.perf_counter(), time.process_time()
        results = assign_rounds(people, seats, seed=args.seed, apart=apart)
        best = min(best, time.perf_counter() - start)
        cpu = min(cpu, time.process_time() - start_cpu)
    assert results is not None
    ranks = [r for a in results for r in a.ranks.values() if r is not None]
    ours = (len(ranks), *(ranks.count(r) for r in range(1, args.wishes + 1)))
    print(f"two rounds: {best * 1000:.0f} ms wall, {cpu * 1000:.0f} ms CPU; profile {ours}")
    expected = milp_rounds(people, seats, apart)
    print(f"check: milp profile {expected} -> {'optimal' if ours == expected else 'MISMATCH'}")
    return {
        "rounds_participants": args.participants,
        "rounds_seconds": round(best, 3),
        "rounds_cpu_seconds": round(cpu, 3),
        "rounds_profile": list(ours),
        "rounds_milp_profile": list(expected),
        "rounds_optimal": int(ours == expected),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=2000)
    parser.add_argument("--workshops", type=int, default=35)
    parser.add_argument("--seats", type=int, default=60)
    parser.add_argument("--wishes", type=int, default=3)
    parser.add_argument("--sites", type=int, default=1)
    parser.add_argument("--zipf", type=float, default=1.0, help="popularity skew exponent")
    parser.add_argument("--large-participants", type=int, default=20000)
    parser.add_argument("--large-workshops", type=int, default=300)
    parser.add_argument("--large-seats", type=int, default=0, help="0: participants/workshops")
    parser.add_argument("--runs", type=int, default=5, help="best of N timings")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--skip-large", action="store_true")
    parser.add_argument("--verify-large", action="store_true", help="also MILP-check 20k")
    parser.add_argument("--skip-rounds", action="store_true", help="no two-round case")
    args = parser.parse_args()

    out: dict[str, object] = {
        "participants": args.participants,
        "workshops": args.workshops,
        "seats": args.seats,
        "wishes": args.wishes,
        "sites": args.sites,
    }
    applicants, workshops = make_instance(
        args.participants, args.workshops, args.seats, args.wishes, args.sites, args.zipf, args.seed
    )
    print(f"{len(applicants)} participants, {len(workshops)} workshops x {args.seats} seats")
    seconds, result = time_assign(applicants, workshops, args.runs, args.seed)
    profile = rank_profile(result)
    print(f"assign: {seconds * 1000:.1f} ms (best of {args.runs}); profile {profile}")

    start = time.perf_counter()
    by_site: dict[str, tuple[list[Applicant], list[Seats]]] = {}
    for w in workshops:
        by_site.setdefault(w.site, ([], []))[1].append(w)
    for a in applicants:
        by_site[a.site][0].append(a)
    flow_total = 0
    milp_total: list[int] = []
    for site_people, site_ws in by_site.values():
        flow_total += max_cardinality(site_people, site_ws)
        prof = milp_profile(site_people, site_ws)
        milp_total = [x + y for x, y in zip(milp_total or [0] * len(prof), prof, strict=False)]
    expected = tuple(milp_total) + (0,) * (len(result.profile()) - len(milp_total))
    optimal = int(result.profile() == expected and result.profile()[0] == flow_total)
    print(
        f"check: max flow {flow_total}, milp profile {expected}, ours {result.profile()} -> "
        f"{'optimal' if optimal else 'MISMATCH'} ({time.perf_counter() - start:.1f} s)"
    )
    out.update(
        seconds=round(seconds, 5),
        profile=profile,
        unplaced=profile["unplaced"],
        max_cardinality=flow_total,
        optimal=optimal,
    )

    if not args.skip_large:
        seats = args.large_seats or math.ceil(args.large_participants / args.large_workshops)
        large_people, large_ws = make_instance(
            args.large_participants,
            args.large_workshops,
            seats,
            args.wishes,
            args.sites,
            args.zipf,
            args.seed + 1,
        )
        print(f"{len(large_people)} participants, {len(large_ws)} workshops x {seats} seats")
        large_seconds, large = time_assign(
            large_people, large_ws, max(1, args.runs // 2), args.seed
        )
        large_profile = rank_profile(large)
        print(f"assign: {large_seconds * 1000:.1f} ms; profile {large_profile}")
        large_flow = sum(
            max_cardinality(
                [a for a in large_people if a.site == s], [w for w in large_ws if w.site == s]
            )
            for s in {w.site for w in large_ws}
        )
        large_ok = large.profile()[0] == large_flow
        if args.verify_large:
            large_ok = large_ok and (
                args.sites > 1 or large.profile() == milp_profile(large_people, large_ws)
            )
        print(f"check: max flow {large_flow} -> {'ok' if large_ok else 'MISMATCH'}")
        out.update(
            large_participants=len(large_people),
            large_workshops=len(large_ws),
            large_seats=seats,
            large_seconds=round(large_seconds, 5),
            large_profile=large_profile,
            large_max_cardinality=large_flow,
            large_optimal=int(large_ok),
        )
    if not args.skip_rounds:
        out.update(rounds_case(args))
    print(json.dumps(out))


if __name__ == "__main__":
    main()
