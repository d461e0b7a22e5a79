"""Questions to the room: one choice, several, a ranking of subjects; asked to one
workshop, one site or everyone; results per option, a ranking as Borda points."""

from __future__ import annotations

from dataclasses import replace

from live.participation.views import poll_results, polls_for
from tests.participation.room import ACCES, ALICE, BOB, CLARA, FACILITATOR, Room

SUBJECTS = ["Réseaux", "Matériel", "Formation"]


def open_poll(room: Room, kind: str, scope: str = "everyone", target: str = "") -> str:
    room.do(
        FACILITATOR,
        "poll_open",
        scope=scope,
        target=target,
        kind=kind,
        question="Par quoi commencer ?",
        options=SUBJECTS,
    )
    return list(room.state.polls)[-1]


def test_one_choice_counts_each_persons_vote() -> None:
    room = Room()
    q = open_poll(room, "one")
    room.do(ALICE, "vote", poll=q, choices=[0])
    room.do(BOB, "vote", poll=q, choices=[2])
    room.do(CLARA, "vote", poll=q, choices=[0])
    [result] = poll_results(room.state, "everyone")
    assert (result["counts"], result["voters"]) == ([2, 0, 1], 3)
    room.refused("part.one_choice", ALICE, "vote", poll=q, choices=[0, 1])


def test_a_new_vote_replaces_the_old_one() -> None:
    room = Room()
    q = open_poll(room, "one")
    room.do(ALICE, "vote", poll=q, choices=[0])
    room.do(ALICE, "vote", poll=q, choices=[1])
    assert poll_results(room.state, "everyone")[0]["counts"] == [0, 1, 0]
    assert polls_for(room.state, ALICE)[0]["mine"] == [1]
    assert polls_for(room.state, BOB)[0]["mine"] is None


def test_several_choices_count_once_each() -> None:
    room = Room()
    q = open_poll(room, "several")
    room.do(ALICE, "vote", poll=q, choices=[0, 2])
    room.do(BOB, "vote", poll=q, choices=[2])
    assert poll_results(room.state, "everyone")[0]["counts"] == [1, 0, 2]
    room.refused("part.repeated_option", ALICE, "vote", poll=q, choices=[1, 1])


def test_a_ranking_gives_borda_points() -> None:
    room = Room()
    q = open_poll(room, "ranking")
    room.do(ALICE, "vote", poll=q, choices=[2, 0, 1])  # Formation 2, Réseaux 1, Matériel 0
    room.do(BOB, "vote", poll=q, choices=[0, 2, 1])  # Réseaux 2, Formation 1, Matériel 0
    result = poll_results(room.state, "everyone")[0]
    assert result["points"] == [3, 0, 3] and "counts" not in result
    room.refused("part.not_a_ranking", ALICE, "vote", poll=q, choices=[2, 0])
    room.refused("part.repeated_option", ALICE, "vote", poll=q, choices=[2, 0, 0])


def test_an_option_out_of_range_is_refused() -> None:
    room = Room()
    q = open_poll(room, "one")
    room.refused("part.no_such_option", ALICE, "vote", poll=q, choices=[3])
    room.refused("invalid_args", ALICE, "vote", poll=q, choices=[])


def test_a_closed_poll_takes_no_vote() -> None:
    room = Room()
    q = open_poll(room, "one")
    room.do(ALICE, "vote", poll=q, choices=[0])
    room.do(FACILITATOR, "poll_close", poll=q)
    room.refused("part.poll_closed", BOB, "vote", poll=q, choices=[1])
    room.refused("part.poll_closed", FACILITATOR, "poll_close", poll=q)
    assert poll_results(room.state, "everyone")[0]["status"] == "closed"


def test_a_poll_reaches_only_the_workshop_or_site_it_is_asked_to() -> None:
    room = Room()
    q = open_poll(room, "one", "workshop", ACCES)
    room.do(ALICE, "vote", poll=q, choices=[1])
    room.refused("part.not_asked", CLARA, "vote", poll=q, choices=[1])
    assert [p["id"] for p in polls_for(room.state, CLARA)] == []
    s = open_poll(room, "one", "site", "foix")
    room.do(CLARA, "vote", poll=s, choices=[1])
    elsewhere = replace(CLARA, person="device:eve", site="pamiers")
    room.refused("part.not_asked", elsewhere, "vote", poll=s, choices=[1])
    assert [r["id"] for r in poll_results(room.state, "workshop", ACCES)] == [q]
    assert [r["id"] for r in poll_results(room.state, "site", "foix")] == [s]
