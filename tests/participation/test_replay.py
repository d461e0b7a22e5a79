"""The log is the truth: replaying it rebuilds the same state, a snapshot round-trips
exactly, and support counts stay exact under any mix of supports, withdrawals and
merges."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from live.participation.commands import apply, replay
from live.participation.state import Participation, Rejected
from tests.participation.room import (
    ALICE,
    BOB,
    CLARA,
    FACILITATOR,
    RAPPORTEUR,
    Room,
)


def busy_room() -> Room:
    """A workshop that used every command."""
    room = Room()
    a, b, c = (
        room.propose(ALICE, "A", subject="reseaux"),
        room.propose(BOB, "B"),
        room.propose(CLARA),
    )
    room.do(BOB, "support", proposal=a)
    room.do(ALICE, "support", proposal=b)
    room.do(BOB, "support", proposal=b)
    room.do(BOB, "unsupport", proposal=a)
    room.do(CLARA, "support", proposal=c)
    room.do(ALICE, "argue", proposal=b, stance="nuance", text="Oui, mais")
    argument = room.state.proposals[b].arguments[0].id
    room.do(RAPPORTEUR, "hide", argument=argument, reason="Doublon")
    room.do(RAPPORTEUR, "unhide", argument=argument)
    room.do(RAPPORTEUR, "correct", proposal=a, body="Corrigé")
    room.do(RAPPORTEUR, "retain", proposal=b)
    room.do(RAPPORTEUR, "unretain", proposal=b)
    room.do(RAPPORTEUR, "retain", proposal=a)
    room.do(RAPPORTEUR, "merge", source=a, target=b)
    room.do(FACILITATOR, "hide", proposal=c, reason="Hors sujet")
    room.do(
        FACILITATOR, "poll_open", scope="everyone", kind="ranking", question="?", options=["x", "y"]
    )
    poll = next(iter(room.state.polls))
    room.do(ALICE, "vote", poll=poll, choices=[1, 0])
    room.do(FACILITATOR, "poll_close", poll=poll)
    return room


def test_replaying_the_log_gives_the_same_state() -> None:
    room = busy_room()
    again = replay(room.log)
    assert again == room.state
    assert again.to_dict() == room.state.to_dict()


def test_a_snapshot_round_trips_exactly_through_json() -> None:
    room = busy_room()
    d = json.loads(json.dumps(room.state.to_dict()))
    assert Participation.from_dict(d) == room.state
    assert Participation.from_dict(d).to_dict() == d


def test_a_snapshot_then_the_rest_of_the_log_gives_the_same_state() -> None:
    room = busy_room()
    half = len(room.log) // 2
    snapshot = replay(room.log[:half]).to_dict()
    assert replay(room.log[half:], Participation.from_dict(snapshot)) == room.state


def test_replay_skips_other_commands_and_refuses_an_old_entry() -> None:
    room = busy_room()
    other = {"seq": 10_000, "t": 0, "name": "step.next", "args": {}}
    state = replay([*room.log, other])
    assert state.seq == room.state.seq  # not one of ours: skipped
    with pytest.raises(Rejected) as refusal:
        apply(state, room.log[-1])
    assert refusal.value.code == "part.seq_stale"


def test_an_entry_with_a_gap_in_seq_applies() -> None:
    """The event's log also carries the agenda's commands: our entries' seq grows with
    gaps."""
    room = Room()
    entry = {"seq": 7, "t": 1, "name": "propose", "args": {"title": "x"}, "actor": ALICE.to_dict()}
    assert apply(room.state, entry).seq == 7


# -- the property: counts are exact ----------------------------------------------------

PEOPLE = [replace(ALICE, person=f"person:{i}") for i in range(4)]
N = 4  # proposals, made first by people 0..3

support = st.tuples(
    st.sampled_from(["support", "unsupport"]), st.integers(0, 3), st.integers(0, N - 1)
)
merge = st.tuples(st.just("merge"), st.integers(0, N - 1), st.integers(0, N - 1))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(support, support, merge), max_size=40))
def test_support_counts_are_exact_after_any_supports_withdrawals_and_merges(
    actions: list[tuple[str, int, int]],
) -> None:
    """Each proposal's count is the number of distinct persons whose last support
    action on it, or on a proposal merged into it, was a support. Said exactly (a person
    who supported both duplicates and withdrew from one still supports the merged one):
    a person supports a group of merged proposals when she supported any of them at the
    merge, and her supports and withdrawals since then on the group decide. The oracle
    below keeps that as a yes/no per person and group, apart from the reducer's sets."""
    room = Room()
    ids = [room.propose(PEOPLE[i], f"Idée {i}") for i in range(N)]
    merged: set[str] = set()
    yes: dict[tuple[int, str], bool] = {}
    last: dict[tuple[int, str], str] = {}  # person, proposal -> her last accepted action
    members = {pid: {pid} for pid in ids}  # group root -> the proposals merged into it
    for action, x, y in actions:
        if action == "merge":
            source, target = ids[x], ids[y]
            ok = source != target and not merged & {source, target}
            if not ok:
                with pytest.raises(Rejected):
                    room.do(RAPPORTEUR, "merge", source=source, target=target)
                continue
            room.do(RAPPORTEUR, "merge", source=source, target=target)
            for person in range(len(PEOPLE)):
                yes[person, target] = yes.get((person, target), False) or yes.get(
                    (person, source), False
                )
                yes[person, source] = False
            merged.add(source)
            members[target] |= members.pop(source)
            continue
        person, pid = x, ids[y]
        want = action == "support"
        ok = pid not in merged and yes.get((person, pid), False) != want
        if not ok:
            with pytest.raises(Rejected):
                room.do(PEOPLE[person], action, proposal=pid)
            continue
        room.do(PEOPLE[person], action, proposal=pid)
        yes[person, pid] = want
        last[person, pid] = action
    for root, group in members.items():
        count = room.state.proposals[root].supports
        assert count == sum(yes.get((p, root), False) for p in range(len(PEOPLE)))
        # As the brief says it: whoever's last action on the group was a support counts.
        for p in range(len(PEOPLE)):
            mine = [
                e
                for e in room.log
                if e["actor"]["person"] == PEOPLE[p].person
                and e["name"] in ("support", "unsupport")
                and e["args"]["proposal"] in group
            ]
            if mine and mine[-1]["name"] == "support":
                assert PEOPLE[p].person in room.state.proposals[root].supporters
    for pid in merged:
        assert room.state.proposals[pid].supports == 0
    assert replay(room.log) == room.state
