"""What one committed log entry changed, and whose viewers should hear of it.

A live event broadcasts each change only to those it concerns: the proposals of one
workshop go to that workshop's viewers (each audience reading them through `views`),
a poll to the audience it is asked to. `changed` says which, from the entry and the
state it was just committed to, so that the sender never sends a whole view again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from live.model import Event
from live.participation.commands import COMMANDS
from live.participation.state import Argument, Participation, Scope


@dataclass(frozen=True)
class Changed:
    """The workshops whose viewers see the change, the proposals and polls it changed
    (their ids), and for a poll the audience it is asked to (`scope`, `target`, "" for
    everyone). A site's or everyone's poll names its workshops only if `changed` was
    given the event; nothing is changed for another capability's entry."""

    seq: int
    workshops: tuple[str, ...] = ()
    proposals: tuple[str, ...] = ()
    polls: tuple[str, ...] = ()
    scope: Scope | None = None
    target: str = ""


def changed(state: Participation, entry: dict[str, Any], event: Event | None = None) -> Changed:
    """What `entry`, just committed to `state`, changed. Read after the commit: a new
    proposal's or poll's id is the last one the state numbered."""
    seq, name, args = int(entry["seq"]), entry["name"], entry.get("args") or {}
    if name not in COMMANDS:
        return Changed(seq)
    if name.startswith("poll_") or name == "vote":
        qid = f"q{state.next_id - 1}" if name == "poll_open" else args["poll"]
        poll = state.polls[qid]
        return Changed(
            seq,
            workshops=_asked(poll.scope, poll.target, event),
            polls=(qid,),
            scope=poll.scope,
            target=poll.target,
        )
    if name == "propose":
        pids: tuple[str, ...] = (f"p{state.next_id - 1}",)
    elif name == "merge":
        pids = (args["source"], args["target"])
    elif "argument" in args:  # hide or unhide an argument: its proposal changed
        pids = (next(p.id for p in state.proposals.values() if _holds(p.arguments, args)),)
    else:
        pids = (args["proposal"],)
    return Changed(seq, workshops=(state.proposals[pids[0]].workshop,), proposals=pids)


def _holds(arguments: list[Argument], args: dict[str, Any]) -> bool:
    return any(a.id == args["argument"] for a in arguments)


def _asked(scope: Scope, target: str, event: Event | None) -> tuple[str, ...]:
    """The workshops a poll is asked to (all of a site's, or all, given the event)."""
    if scope == "workshop":
        return (target,)
    if event is None:
        return ()
    return tuple(w.id for w in event.workshops if scope == "everyone" or w.site == target)
