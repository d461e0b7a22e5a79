"""What a committed entry changed, for broadcasting it to that workshop's viewers only."""

from __future__ import annotations

from typing import Any

from live.participation.changes import Changed, changed
from live.participation.commands import COMMANDS
from tests.participation.room import (
    ACCES,
    ALICE,
    ARIEGE,
    BOB,
    CLARA,
    ENSEIGNER,
    FACILITATOR,
    RAPPORTEUR,
    Room,
)

WORKSHOPS = tuple(w.id for w in ARIEGE.workshops)


def last(room: Room) -> Changed:
    return changed(room.state, room.log[-1], ARIEGE)


def test_each_proposal_command_names_its_workshop_and_proposal() -> None:
    room = Room()
    seen: set[str] = set()

    def check(names: tuple[str, ...], workshop: str = ACCES) -> None:
        entry = room.log[-1]
        seen.add(entry["name"])
        assert last(room) == Changed(entry["seq"], workshops=(workshop,), proposals=names)

    a = room.propose(ALICE, "A")
    check((a,))
    b = room.propose(BOB, "B")
    check((b,))
    c = room.propose(CLARA, "C")
    check((c,), ENSEIGNER)
    room.do(BOB, "support", proposal=a)
    check((a,))
    room.do(BOB, "unsupport", proposal=a)
    check((a,))
    room.do(ALICE, "argue", proposal=b, stance="pour", text="Oui")
    check((b,))
    argument = room.state.proposals[b].arguments[0].id
    room.do(RAPPORTEUR, "hide", argument=argument, reason="Doublon")
    check((b,))  # an argument's proposal
    room.do(RAPPORTEUR, "unhide", argument=argument)
    check((b,))
    room.do(RAPPORTEUR, "hide", proposal=a, reason="Hors sujet")
    check((a,))
    room.do(RAPPORTEUR, "unhide", proposal=a)
    check((a,))
    room.do(RAPPORTEUR, "correct", proposal=a, title="A corrigé")
    check((a,))
    room.do(RAPPORTEUR, "retain", proposal=a)
    check((a,))
    room.do(RAPPORTEUR, "unretain", proposal=a)
    check((a,))
    room.do(FACILITATOR, "merge", source=a, target=b)
    check((a, b))
    assert seen == {n for n in COMMANDS if not n.startswith("poll_") and n != "vote"}


def test_a_poll_names_itself_and_the_audience_it_is_asked_to() -> None:
    room = Room()
    room.do(
        FACILITATOR,
        "poll_open",
        scope="workshop",
        target=ACCES,
        kind="one",
        question="?",
        options=["a", "b"],
    )
    q = next(reversed(room.state.polls))
    assert last(room) == Changed(
        room.state.seq, workshops=(ACCES,), polls=(q,), scope="workshop", target=ACCES
    )
    room.do(ALICE, "vote", poll=q, choices=[1])
    assert last(room) == Changed(
        room.state.seq, workshops=(ACCES,), polls=(q,), scope="workshop", target=ACCES
    )
    room.do(FACILITATOR, "poll_close", poll=q)
    assert last(room).polls == (q,) and last(room).workshops == (ACCES,)

    ask: dict[str, Any] = {"kind": "one", "question": "?", "options": ["a", "b"]}
    room.do(FACILITATOR, "poll_open", scope="site", target="foix", **ask)
    site = next(reversed(room.state.polls))
    assert site != q
    assert last(room) == Changed(
        room.state.seq, workshops=WORKSHOPS, polls=(site,), scope="site", target="foix"
    )
    room.do(FACILITATOR, "poll_open", scope="everyone", **ask)
    everyone = next(reversed(room.state.polls))
    assert last(room) == Changed(
        room.state.seq, workshops=WORKSHOPS, polls=(everyone,), scope="everyone"
    )
    # Without the event, a site's or everyone's poll names no workshop: its scope says.
    assert changed(room.state, room.log[-1]).workshops == ()


def test_an_entry_of_another_capability_changes_nothing_here() -> None:
    room = Room()
    room.propose()
    entry = {"seq": 9, "t": 0, "name": "step.next", "args": {}}
    assert changed(room.state, entry) == Changed(9)
