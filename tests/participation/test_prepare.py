"""The reducer in two phases: an entry is prepared (every check, no change) before its
append to the log and committed once the store took it; a preparation dropped because
another process appended first leaves no trace, and the command is prepared again on
top of the others' entries."""

from __future__ import annotations

import json
from typing import Any

import pytest

from live.participation.commands import COMMANDS, apply, prepare, replay
from live.participation.state import Participation, Rejected
from tests.participation.room import ALICE, BOB, CLARA, FACILITATOR, RAPPORTEUR, Room
from tests.participation.test_replay import busy_room


def test_preparing_any_command_changes_nothing_and_its_commit_is_apply() -> None:
    """Replaying a log that used every command kind, one entry at a time: preparing
    leaves the state as it was (its snapshot too), committing gives what apply gives."""
    log = busy_room().log
    assert {e["name"] for e in log} == set(COMMANDS)
    state, applied = Participation(), Participation()
    for entry in log:
        before = state.to_dict()
        commit = prepare(state, entry)
        assert state.to_dict() == before
        commit()
        assert state.seq == entry["seq"]
        assert state == apply(applied, entry)
    assert state == replay(log)


def test_a_refused_entry_is_refused_at_preparation() -> None:
    room = Room()
    pid = room.propose(ALICE)
    room.do(BOB, "support", proposal=pid)
    before = room.state.to_dict()
    with pytest.raises(Rejected) as refusal:
        prepare(room.state, room.entry(BOB, "support", proposal=pid))
    assert refusal.value.code == "part.already_supported"
    assert room.state.to_dict() == before


def test_a_dropped_preparation_takes_no_id() -> None:
    """Ids come from the state's counter at commit: a proposal prepared, then dropped
    when another process's proposal took the seq, gets the next id when prepared again."""
    room = Room()
    mine = room.entry(ALICE, "propose", title="La mienne")
    prepare(room.state, mine)  # dropped: the append was refused
    assert room.state.next_id == 1
    room.do(BOB, "propose", title="La sienne")  # the other process's, read from the log
    assert room.state.proposals["p1"].title == "La sienne"
    again = {**mine, "seq": room.state.seq + 1}
    prepare(room.state, again)()
    assert room.state.proposals["p2"].title == "La mienne"
    assert replay([*room.log, again]) == room.state


def test_a_command_prepared_again_on_top_of_others_may_be_refused() -> None:
    """Bob's support is prepared; meanwhile a rapporteur hid the proposal elsewhere: on
    top of that, his support is refused, and nothing of it remains."""
    room = Room()
    pid = room.propose(ALICE)
    support = room.entry(BOB, "support", proposal=pid)
    prepare(room.state, support)
    room.do(RAPPORTEUR, "hide", proposal=pid, reason="Hors sujet")
    with pytest.raises(Rejected) as refusal:
        prepare(room.state, {**support, "seq": room.state.seq + 1})
    assert refusal.value.code == "part.hidden"
    assert room.state.proposals[pid].supporters == set()


def test_a_commit_applies_only_on_the_state_it_was_prepared_on_and_once() -> None:
    room = Room()
    pid = room.propose(ALICE)
    stale = prepare(room.state, room.entry(BOB, "support", proposal=pid))
    room.do(CLARA, "propose", title="Ailleurs")
    before = room.state.to_dict()
    with pytest.raises(RuntimeError):
        stale()
    assert room.state.to_dict() == before
    commit = prepare(room.state, room.entry(BOB, "support", proposal=pid))
    commit()
    with pytest.raises(RuntimeError):
        commit()
    assert room.supports(pid) == 1


def test_two_preparations_of_one_state_are_independent_until_one_commits() -> None:
    """Preparations are pure: two prepared on one state leave it as it was, and after one
    commits the other no longer applies (it must be prepared again)."""
    room = Room()
    pid = room.propose(ALICE)
    a = prepare(room.state, room.entry(BOB, "support", proposal=pid))
    b = prepare(room.state, room.entry(ALICE, "support", proposal=pid))
    a()
    with pytest.raises(RuntimeError):
        b()
    assert room.state.proposals[pid].supporters == {BOB.person}


def test_the_seq_is_kept_by_a_snapshot() -> None:
    room = busy_room()
    d: dict[str, Any] = json.loads(json.dumps(room.state.to_dict()))
    assert d["seq"] == room.log[-1]["seq"]
    restored = Participation.from_dict(d)
    assert restored.seq == room.state.seq
    with pytest.raises(Rejected) as refusal:
        prepare(restored, room.log[-1])
    assert refusal.value.code == "part.seq_stale"
    entry = room.entry(
        FACILITATOR, "poll_open", scope="everyone", kind="one", question="?", options=["a", "b"]
    )
    prepare(restored, entry)()
    assert restored.seq == entry["seq"]
