"""Every bound, refused with a stable code and nothing changed: lengths, a person's
proposals and arguments, a workshop's proposals, a proposal's arguments, the pace of
proposing, the event's polls."""

from __future__ import annotations

from dataclasses import replace

import pytest

from live.participation.state import (
    ARGUMENTS_PER_PERSON,
    ARGUMENTS_PER_PROPOSAL,
    POLLS_PER_EVENT,
    PROPOSALS_PER_PERSON,
    PROPOSALS_PER_WORKSHOP,
    PROPOSE_INTERVAL_MS,
)
from tests.participation.room import ALICE, BOB, FACILITATOR, RAPPORTEUR, Room

EVERYONE = {"scope": "everyone", "kind": "one", "question": "Pour ou contre ?"}


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("propose", {"title": "x" * 121}),
        ("propose", {"title": "   "}),
        ("propose", {"title": "ok", "body": "x" * 1001}),
        ("propose", {"title": "ok", "subject": "Pas un slug"}),
        ("propose", {"title": "ok", "extra": 1}),
        ("propose", {"title": 3}),
        ("argue", {"proposal": "p1", "stance": "pour", "text": "x" * 601}),
        ("argue", {"proposal": "p1", "stance": "peut-être", "text": "x"}),
        ("support", {"proposal": "p" * 33}),
    ],
)
def test_lengths_and_shapes_are_refused(name: str, args: dict) -> None:
    room = Room()
    room.propose(ALICE)
    room.refused("invalid_args", BOB, name, **args)


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("hide", {"proposal": "p1", "reason": "x" * 201}),
        ("hide", {"proposal": "p1"}),
        ("hide", {"proposal": "p1", "argument": "a2", "reason": "x"}),
        ("correct", {"proposal": "p1", "title": "x" * 121}),
        ("correct", {"proposal": "p1"}),
        ("poll_open", {**EVERYONE, "options": ["a"]}),
        ("poll_open", {**EVERYONE, "options": [str(i) for i in range(13)]}),
        ("poll_open", {**EVERYONE, "options": ["a", "x" * 121]}),
        ("poll_open", {**EVERYONE, "options": ["a", "a"]}),
        ("poll_open", {**EVERYONE, "question": "x" * 201, "options": ["a", "b"]}),
        ("poll_open", {**EVERYONE, "target": "foix", "options": ["a", "b"]}),
        ("poll_open", {**EVERYONE, "scope": "site", "options": ["a", "b"]}),
    ],
)
def test_moderation_and_poll_shapes_are_refused(name: str, args: dict) -> None:
    room = Room()
    room.propose(ALICE)
    room.refused("invalid_args", FACILITATOR, name, **args)


def test_a_poll_to_an_unknown_place_is_refused() -> None:
    room = Room()
    site = {**EVERYONE, "options": ["a", "b"], "scope": "site", "target": "x"}
    room.refused("part.no_such_site", FACILITATOR, "poll_open", **site)
    workshop = {**site, "scope": "workshop"}
    room.refused("part.no_such_workshop", FACILITATOR, "poll_open", **workshop)


def test_a_person_proposes_at_most_ten_times_in_a_workshop() -> None:
    room = Room()
    for i in range(PROPOSALS_PER_PERSON):
        room.propose(ALICE, f"Idée {i}")
    room.refused("part.too_many_proposals", ALICE, "propose", title="Encore une")
    room.propose(BOB, "Bob peut encore")


def test_a_workshop_takes_at_most_three_hundred_proposals() -> None:
    room = Room()
    for i in range(PROPOSALS_PER_WORKSHOP):
        room.propose(replace(ALICE, person=f"person:{i}"), f"Idée {i}")
    room.refused("part.workshop_full", BOB, "propose", title="Une de trop")


def test_a_person_waits_ten_seconds_between_two_proposals() -> None:
    room = Room()
    room.do(ALICE, "propose", 1_000_000, title="Une")
    room.refused(
        "part.too_soon", ALICE, "propose", 1_000_000 + PROPOSE_INTERVAL_MS - 1, title="Deux"
    )
    room.do(BOB, "propose", 1_000_001, title="Bob, lui, peut")
    room.do(ALICE, "propose", 1_000_000 + PROPOSE_INTERVAL_MS, title="Deux")


def test_a_person_argues_at_most_thirty_times_in_a_workshop() -> None:
    room = Room()
    a, b = room.propose(ALICE), room.propose(BOB)
    for i in range(ARGUMENTS_PER_PERSON):
        room.do(ALICE, "argue", proposal=(a, b)[i % 2], stance="pour", text=f"Oui {i}")
    room.refused("part.too_many_arguments", ALICE, "argue", proposal=a, stance="pour", text="x")


def test_a_proposal_takes_at_most_two_hundred_arguments() -> None:
    room = Room()
    pid = room.propose(ALICE)
    for i in range(ARGUMENTS_PER_PROPOSAL):
        room.do(
            replace(BOB, person=f"person:{i}"), "argue", proposal=pid, stance="pour", text="Oui"
        )
    room.refused("part.proposal_full", BOB, "argue", proposal=pid, stance="contre", text="Non")


def test_an_event_takes_at_most_fifty_polls() -> None:
    room = Room()
    for i in range(POLLS_PER_EVENT):
        room.do(FACILITATOR, "poll_open", **EVERYONE, options=[f"a{i}", "b"])
    room.refused("part.too_many_polls", FACILITATOR, "poll_open", **EVERYONE, options=["a", "b"])


def test_unknown_things_are_refused_by_code() -> None:
    room = Room()
    room.refused("unknown_command", ALICE, "shout")
    room.refused("part.no_such_proposal", BOB, "support", proposal="p9")
    room.refused("part.no_such_argument", RAPPORTEUR, "hide", argument="a9", reason="x")
    room.refused("part.no_such_poll", BOB, "vote", poll="q9", choices=[0])


def test_a_link_without_a_workshop_cannot_propose() -> None:
    room = Room()
    room.refused("part.no_workshop", replace(ALICE, workshop=None), "propose", title="x")
