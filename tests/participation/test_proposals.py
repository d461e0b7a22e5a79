"""Proposals in a workshop, as the people in the room would say it: propose, support
once, withdraw, argue; and the moderation: merge, hide with a reason, correct, retain."""

from __future__ import annotations

import json

import pytest

from live.participation.commands import Actor
from live.participation.views import moderator_view, participant_view, screen_view
from tests.participation.room import (
    ACCES,
    ALICE,
    BOB,
    CLARA,
    ENSEIGNER,
    FACILITATOR,
    HOST,
    OTHER_RAPPORTEUR,
    RAPPORTEUR,
    SCREEN,
    T0,
    Room,
)


def cards(view: dict) -> dict[str, dict]:
    return {c["id"]: c for c in view["proposals"]}


def test_a_participant_proposes_and_her_workshop_sees_it() -> None:
    room = Room()
    pid = room.propose(ALICE, "Du wifi dans chaque école", body="Partout.", subject="reseaux")
    p = room.state.proposals[pid]
    assert (p.workshop, p.subject, p.title, p.body, p.created) == (
        ACCES,
        "reseaux",
        "Du wifi dans chaque école",
        "Partout.",
        T0,
    )
    mine, seen_by_bob = (
        cards(participant_view(room.state, ALICE))[pid],
        cards(participant_view(room.state, BOB))[pid],
    )
    assert mine["mine"] and not seen_by_bob["mine"]
    assert seen_by_bob["title"] == "Du wifi dans chaque école" and seen_by_bob["supports"] == 0
    assert participant_view(room.state, CLARA)["proposals"] == []  # another workshop


def test_titles_are_trimmed_and_ids_are_numbered_in_order() -> None:
    room = Room()
    assert room.propose(ALICE, "  Un titre  ") == "p1"
    assert room.state.proposals["p1"].title == "Un titre"
    assert room.propose(BOB) == "p2"


def test_support_once_twice_is_one() -> None:
    room = Room()
    pid = room.propose(ALICE)
    room.do(BOB, "support", proposal=pid)
    room.refused("part.already_supported", BOB, "support", proposal=pid)
    assert room.supports(pid) == 1
    assert cards(participant_view(room.state, BOB))[pid]["supported"] is True
    assert cards(participant_view(room.state, ALICE))[pid]["supported"] is False


def test_a_support_is_withdrawn() -> None:
    room = Room()
    pid = room.propose(ALICE)
    room.do(BOB, "support", proposal=pid)
    room.do(BOB, "unsupport", proposal=pid)
    assert room.supports(pid) == 0
    room.refused("part.not_supported", BOB, "unsupport", proposal=pid)
    room.do(BOB, "support", proposal=pid)  # and given again
    assert room.supports(pid) == 1


def test_arguments_pour_contre_nuance_are_counted() -> None:
    room = Room()
    pid = room.propose(ALICE)
    room.do(BOB, "argue", proposal=pid, stance="pour", text="Indispensable.")
    room.do(ALICE, "argue", proposal=pid, stance="nuance", text="Sauf en maternelle.")
    room.do(RAPPORTEUR, "argue", proposal=pid, stance="contre", text="Les ondes.")
    card = cards(participant_view(room.state, BOB))[pid]
    assert card["stances"] == {"pour": 1, "contre": 1, "nuance": 1}
    assert [(a["stance"], a["mine"]) for a in card["arguments"]] == [
        ("pour", True),
        ("nuance", False),
        ("contre", False),
    ]


def test_merging_duplicates_counts_a_person_who_supported_both_once() -> None:
    room = Room()
    a, b = room.propose(ALICE, "Du wifi"), room.propose(BOB, "Le wifi partout")
    room.do(ALICE, "support", proposal=b)
    room.do(BOB, "support", proposal=a)
    room.do(BOB, "support", proposal=b)
    room.do(BOB, "argue", proposal=a, stance="pour", text="Oui.")
    room.do(RAPPORTEUR, "merge", source=a, target=b)
    source, target = room.state.proposals[a], room.state.proposals[b]
    assert target.supports == 2 and source.supports == 0
    assert (source.status, source.merged_into) == ("merged", b)
    assert [x.text for x in target.arguments] == ["Oui."]
    room.refused("part.merged", ALICE, "support", proposal=a)
    room.refused("part.already_supported", BOB, "support", proposal=b)
    # Alice sees where her proposal went; Bob does not see Alice's merged one.
    assert cards(participant_view(room.state, ALICE))[a]["merged_into"] == b
    assert a not in cards(participant_view(room.state, BOB))
    assert cards(moderator_view(room.state, ACCES))[a]["status"] == "merged"


def test_merge_stays_in_one_workshop_and_not_into_itself() -> None:
    room = Room()
    a, c = room.propose(ALICE), room.propose(CLARA)
    room.refused("part.different_workshops", FACILITATOR, "merge", source=a, target=c)
    room.refused("part.same_proposal", FACILITATOR, "merge", source=a, target=a)


def test_a_hidden_proposal_shows_its_reason_to_its_author_only() -> None:
    room = Room()
    pid = room.propose(ALICE, "Hors sujet")
    room.do(BOB, "support", proposal=pid)
    room.do(RAPPORTEUR, "hide", proposal=pid, reason="Hors du thème de l'atelier")
    theirs = cards(participant_view(room.state, ALICE))[pid]
    assert (theirs["status"], theirs["hide_reason"]) == ("hidden", "Hors du thème de l'atelier")
    assert pid not in cards(participant_view(room.state, BOB))
    assert cards(moderator_view(room.state, ACCES))[pid]["hide_reason"].startswith("Hors")
    room.refused("part.hidden", BOB, "support", proposal=pid)
    room.do(RAPPORTEUR, "unhide", proposal=pid)
    assert cards(participant_view(room.state, BOB))[pid]["supports"] == 1  # kept meanwhile


def test_a_hidden_argument_shows_to_its_author_only_and_is_not_counted() -> None:
    room = Room()
    pid = room.propose(ALICE)
    room.do(BOB, "argue", proposal=pid, stance="contre", text="Insulte")
    aid = room.state.proposals[pid].arguments[0].id
    room.do(FACILITATOR, "hide", argument=aid, reason="Propos injurieux")
    assert cards(participant_view(room.state, ALICE))[pid]["arguments"] == []
    bobs = cards(participant_view(room.state, BOB))[pid]
    assert bobs["arguments"][0]["hide_reason"] == "Propos injurieux"
    assert bobs["stances"]["contre"] == 0


def test_a_correction_keeps_what_it_replaced() -> None:
    room = Room()
    pid = room.propose(ALICE, "Du wiif", body="Partout")
    room.do(RAPPORTEUR, "correct", T0 + 60_000, proposal=pid, title="Du wifi")
    p = room.state.proposals[pid]
    assert (p.title, p.body) == ("Du wifi", "Partout")
    assert moderator_view(room.state, ACCES)["proposals"][0]["history"] == [
        {"t": T0 + 60_000, "title": "Du wiif", "body": "Partout"}
    ]
    room.refused("part.unchanged", RAPPORTEUR, "correct", proposal=pid, title="Du wifi")


def test_retained_proposals_show_on_the_screens_most_supported_first() -> None:
    room = Room()
    a, b, c = room.propose(ALICE, "A"), room.propose(BOB, "B"), room.propose(ALICE, "C")
    room.do(BOB, "support", proposal=b)
    room.do(ALICE, "support", proposal=b)
    room.do(ALICE, "support", proposal=a)
    for pid in (a, b):
        room.do(RAPPORTEUR, "retain", proposal=pid)
    shown = screen_view(room.state, ACCES)["retained"]
    assert [(x["title"], x["supports"]) for x in shown] == [("B", 2), ("A", 1)]
    room.refused("part.already_retained", RAPPORTEUR, "retain", proposal=a)
    room.do(RAPPORTEUR, "unretain", proposal=a)
    assert [x["title"] for x in screen_view(room.state, ACCES)["retained"]] == ["B"]
    assert c not in {x["id"] for x in shown}
    assert screen_view(room.state, ENSEIGNER)["retained"] == []


def test_a_rapporteur_cannot_moderate_another_workshop() -> None:
    room = Room()
    pid = room.propose(ALICE)
    for name, args in [
        ("hide", {"proposal": pid, "reason": "non"}),
        ("correct", {"proposal": pid, "title": "Autre"}),
        ("retain", {"proposal": pid}),
    ]:
        room.refused("part.other_workshop", OTHER_RAPPORTEUR, name, **args)
    room.do(FACILITATOR, "retain", proposal=pid)  # a facilitator moderates every workshop


def test_a_participant_cannot_act_in_another_workshop() -> None:
    room = Room()
    pid = room.propose(ALICE)
    room.refused("part.other_workshop", CLARA, "support", proposal=pid)
    room.refused("part.other_workshop", CLARA, "argue", proposal=pid, stance="pour", text="x")


@pytest.mark.parametrize("actor", [SCREEN, HOST])
def test_screens_and_hosts_send_nothing(actor: Actor) -> None:
    room = Room()
    room.refused("forbidden", actor, "propose", title="x")


def test_participants_do_not_moderate_and_facilitators_do_not_propose() -> None:
    room = Room()
    pid = room.propose(ALICE)
    room.refused("forbidden", BOB, "hide", proposal=pid, reason="non")
    room.refused("forbidden", FACILITATOR, "propose", title="x")
    room.refused(
        "forbidden",
        RAPPORTEUR,
        "poll_open",
        scope="everyone",
        kind="one",
        question="?",
        options=["a", "b"],
    )


def test_no_view_carries_a_person_key() -> None:
    room = Room()
    pid = room.propose(ALICE)
    room.do(BOB, "support", proposal=pid)
    room.do(BOB, "argue", proposal=pid, stance="pour", text="Oui")
    room.do(RAPPORTEUR, "retain", proposal=pid)
    views = [
        participant_view(room.state, ALICE),
        participant_view(room.state, BOB),
        moderator_view(room.state, ACCES),
        screen_view(room.state, ACCES),
    ]
    text = json.dumps(views)
    assert "person:" not in text and "rapporteur:" not in text
