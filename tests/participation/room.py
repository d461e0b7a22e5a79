"""A workshop's room for the tests: people with their links, commands at given times,
the log kept as it grows, and refusals checked to leave the state as it was."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from live.errors import RelaisError
from live.event_file import parse_event
from live.participation.commands import Actor, check, prepare
from live.participation.state import Participation

DEMO = Path(__file__).resolve().parents[2] / "live" / "demo"
ARIEGE = parse_event((DEMO / "ariege-2020.yaml").read_text())
T0 = 1_700_000_000_000
STEP = 11_000  # past the interval between two proposals of one person

ACCES, ENSEIGNER = "atelier-acces", "atelier-enseigner"
ALICE = Actor("person:alice", "participant", ACCES, "foix")
BOB = Actor("person:bob", "participant", ACCES, "foix")
CLARA = Actor("device:clara", "participant", ENSEIGNER, "foix")
RAPPORTEUR = Actor("rapporteur:acces", "rapporteur", ACCES, "foix")
OTHER_RAPPORTEUR = Actor("rapporteur:enseigner", "rapporteur", ENSEIGNER, "foix")
FACILITATOR = Actor("facilitator", "facilitator")
SCREEN = Actor("", "screen", None, "foix")
HOST = Actor("host:foix", "host", None, "foix")


class Room:
    def __init__(self) -> None:
        self.state = Participation()
        self.log: list[dict[str, Any]] = []
        self.t = T0

    def entry(self, actor: Actor, name: str, t: int | None = None, **args: Any) -> dict[str, Any]:
        """The log entry the edge would make of a command: checked, next in the log."""
        return {
            "seq": self.state.seq + 1,
            "t": self.t if t is None else t,
            "name": name,
            "args": check(name, args, actor, ARIEGE),
            "actor": actor.to_dict(),
        }

    def do(self, actor: Actor, name: str, t: int | None = None, **args: Any) -> Participation:
        """Send a command as the edge would: checked, prepared (which changes nothing),
        committed and logged."""
        entry = self.entry(actor, name, t, **args)
        before = self.state.to_dict()
        commit = prepare(self.state, entry)
        assert self.state.to_dict() == before
        commit()
        self.log.append(entry)
        self.t = entry["t"] + STEP
        return self.state

    def refused(
        self, code: str, actor: Actor, name: str, t: int | None = None, **args: Any
    ) -> None:
        """The command is refused with `code`, and nothing changed."""
        before = self.state.to_dict()
        with pytest.raises(RelaisError) as refusal:
            self.do(actor, name, t, **args)
        assert refusal.value.code == code
        assert self.state.to_dict() == before

    def propose(self, actor: Actor = ALICE, title: str = "Du wifi", **args: Any) -> str:
        self.do(actor, "propose", title=title, **args)
        return list(self.state.proposals)[-1]

    def supports(self, pid: str) -> int:
        return self.state.proposals[pid].supports
