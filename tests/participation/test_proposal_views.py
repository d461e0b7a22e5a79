"""One proposal for each audience, for sending one change rather than a whole view:
anyone of the workshop, its author, its moderators. No person key in any."""

from __future__ import annotations

import json

from live.participation.views import (
    moderator_view,
    participant_view,
    proposal_card,
    proposal_for_author,
    proposal_for_moderator,
    proposal_public,
)
from tests.participation.room import ACCES, ALICE, BOB, RAPPORTEUR, Room
from tests.participation.test_replay import busy_room

STRANGER = "person:nobody"


def no_person_key(room: Room, d: object) -> None:
    text = json.dumps(d)
    for entry in room.log:
        person = entry["actor"]["person"]
        assert not person or person not in text


def test_the_public_proposal_is_what_someone_with_no_part_in_it_sees() -> None:
    room = Room()
    pid = room.propose(ALICE, "Du wifi", body="Partout")
    room.do(BOB, "support", proposal=pid)
    room.do(BOB, "argue", proposal=pid, stance="pour", text="Oui")
    room.do(ALICE, "argue", proposal=pid, stance="contre", text="Hors sujet")
    hidden = room.state.proposals[pid].arguments[1].id
    room.do(RAPPORTEUR, "hide", argument=hidden, reason="Doublon")
    p = room.state.proposals[pid]
    public = proposal_public(p)
    assert public["supports"] == 1 and public["status"] == "open"
    assert [a["id"] for a in public["arguments"]] == [p.arguments[0].id]  # hidden: left out
    # Someone with no part in it sees the same, with her flags all false.
    theirs = proposal_card(p, STRANGER)
    assert theirs is not None
    assert not theirs.pop("mine") and not theirs.pop("supported")
    assert [a.pop("mine") for a in theirs["arguments"]] == [False]
    assert theirs == public
    no_person_key(room, public)


def test_a_hidden_or_merged_proposal_is_reduced_for_the_public() -> None:
    room = Room()
    a, b = room.propose(ALICE, "A"), room.propose(BOB, "B")
    room.do(RAPPORTEUR, "hide", proposal=a, reason="Hors sujet")
    assert proposal_public(room.state.proposals[a]) == {"id": a, "status": "hidden"}
    room.do(RAPPORTEUR, "unhide", proposal=a)
    room.do(RAPPORTEUR, "merge", source=a, target=b)
    assert proposal_public(room.state.proposals[a]) == {
        "id": a,
        "status": "merged",
        "merged_into": b,
    }


def test_its_author_sees_her_hidden_proposal_with_the_reason() -> None:
    room = Room()
    pid = room.propose(ALICE)
    room.do(ALICE, "support", proposal=pid)
    room.do(RAPPORTEUR, "hide", proposal=pid, reason="Hors sujet")
    card = proposal_for_author(room.state.proposals[pid])
    assert card["status"] == "hidden" and card["hide_reason"] == "Hors sujet"
    assert card["mine"] and card["supported"]
    assert card == next(c for c in participant_view(room.state, ALICE)["proposals"])
    assert proposal_card(room.state.proposals[pid], BOB.person) is None  # not his
    no_person_key(room, card)


def test_the_views_are_made_of_the_single_proposals() -> None:
    room = busy_room()
    for p in room.state.in_workshop(ACCES):
        assert proposal_for_moderator(p) in moderator_view(room.state, ACCES)["proposals"]
        assert proposal_card(p, ALICE.person) in [
            *participant_view(room.state, ALICE)["proposals"],
            None,
        ]
    moderated = [proposal_for_moderator(p) for p in room.state.proposals.values()]
    hidden = next(m for m in moderated if m["status"] == "hidden")
    assert hidden["hide_reason"] == "Hors sujet"
    merged = next(m for m in moderated if m["status"] == "merged")
    assert merged["merged_into"]
    no_person_key(room, moderated)
    no_person_key(room, [proposal_public(p) for p in room.state.proposals.values()])
