"""Every agenda command, declared once: its arguments, who may send it, what it does.

A command is checked at the edge (`check`: the sender's role, then its arguments, parsed
into a typed model), then applied by `apply`, which may still refuse it for the current
state (pausing a paused timer). Either way nothing is written. `apply` is also how a log is
replayed: the same function, with the same time `t` read from each entry, rebuilds the
exact state, running timers included.

This module is one piece on purpose: the registry at the bottom is the one place that says
what a command is, and its handlers are the reducer's cases; splitting them would declare
each command twice again. Groups of commands with cases of their own live beside it and
are registered here like the others: the plenary's floor (`floor.py`), the speaking queues
(`queues.py`) and the live edits of the run-of-show (`rundown.py`). Every case receives the
event as it runs (`state.live_event`: the run-of-show as edited live).
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from typing import Any, ClassVar

from pydantic import BaseModel, Field, model_validator

from live.agenda import floor, protocol, queues, rundown
from live.agenda.args import Adjust, Args, WorkshopRef, parse
from live.agenda.state import (
    MINUTE,
    Lane,
    Message,
    Rejected,
    State,
    Timer,
    current_step,
    live_event,
    start_step,
    workshop_name,
)
from live.errors import RelaisError
from live.links.signing import COMMANDERS
from live.model import Event


class CommandError(RelaisError):
    """A command refused before the agenda sees it (unknown, forbidden, bad arguments)."""


# -- arguments ---------------------------------------------------------------------------


class NoArgs(Args):
    pass


class FirstTurn(Args):
    """`first_turn`: a restitution entered or started now gives its first turn the floor
    (`queues.call_first`). The edge stamps it on every new command (`check`), so a log
    written before restitutions started by themselves replays as it ran; a console may
    send `false` to enter without calling anyone."""

    AT_EDGE: ClassVar[dict[str, Any]] = {"first_turn": True}
    first_turn: bool | None = None


class Move(FirstTurn):
    start: bool = True


class Goto(FirstTurn):
    ONE_OF = ("index", "step")
    index: int | None = Field(default=None, ge=0)
    step: str | None = Field(default=None, max_length=64)
    start: bool = True

    @model_validator(mode="after")
    def _one(self) -> Goto:
        if (self.index is None) == (self.step is None):
            raise ValueError("give either index or step")
        return self


class WorkshopAdjust(WorkshopRef, Adjust):
    pass


class Show(Args):
    text: str = Field(min_length=1, max_length=280)
    site: str | None = Field(default=None, max_length=64)


class Hide(Args):
    site: str | None = Field(default=None, max_length=64)


class Undo(Args):
    """Take back the last command; `seq` names it, so a late click undoes nothing else."""

    seq: int = Field(ge=1)


# -- the reducer's cases ------------------------------------------------------------------


def _enter(
    state: State, index: int, now: int, event: Event, start: bool, first_turn: bool = False
) -> None:
    """Go to step `index`: fresh timers for it, its workshops or its speaking queue; a
    restitution started with `first_turn` gives its first turn the floor."""
    if not 0 <= index < len(event.agenda):
        raise Rejected(
            "no_such_step", f"no step {index}; the agenda has {len(event.agenda)}", step=index
        )
    step = event.agenda[index]
    state.step = index
    state.ended = None
    state.timer = Timer(step.duration_ms)
    state.workshops = {}
    state.speaker = None
    state.lanes = {}
    state.queue = queues.step_turns(event, step)
    if not state.queue and step.kind == "workshops":
        chosen = event.workshops_for(step)
        state.workshops = {w.id: Timer(step.duration_ms) for w in chosen}
        state.lanes = {
            w.id: Lane([queues.report_slot(r, w) for r in w.reports]) for w in chosen if w.reports
        }
    if start:
        _start(state, now, event, first_turn)


def _start(state: State, now: int, event: Event, first_turn: bool) -> None:
    """Start the step's countdown; with `first_turn`, its first speaking turn too."""
    start_step(state, now, event)
    if first_turn:
        queues.call_first(state, now, event)


def _goto(state: State, args: Goto, now: int, event: Event) -> None:
    index = args.index
    if args.step is not None:
        ids = [s.id for s in event.agenda]
        if args.step not in ids:
            raise Rejected("no_such_step", f"unknown step {args.step!r}", step=args.step)
        index = ids.index(args.step)
    assert index is not None  # the model asks for one of the two
    _enter(state, index, now, event, args.start, bool(args.first_turn))


def _next(state: State, args: Move, now: int, event: Event) -> None:
    index = 0 if state.step is None else state.step + 1
    if index >= len(event.agenda):
        raise Rejected("at_last_step", "already at the last step: end the event instead")
    _enter(state, index, now, event, args.start, bool(args.first_turn))


def _previous(state: State, args: Move, now: int, event: Event) -> None:
    if not state.step:
        raise Rejected("at_first_step", "already at the first step")
    _enter(state, state.step - 1, now, event, args.start, bool(args.first_turn))


def _timer_start(state: State, args: FirstTurn, now: int, event: Event) -> None:
    """Start the step's countdown (the first step's, before the day began); a restitution
    entered without starting gives its first turn the floor now."""
    if state.step is None:
        _enter(state, 0, now, event, True, bool(args.first_turn))
        return
    _start(state, now, event, bool(args.first_turn))


def _running_timers(state: State) -> list[Timer]:
    lanes = [lane.speaker for lane in state.lanes.values()]
    timers = [state.timer, state.speaker, *state.workshops.values(), *lanes]
    return [t for t in timers if t is not None]


def _pause(state: State, args: NoArgs, now: int, event: Event) -> None:
    current_step(state, event)
    if state.timer is None or state.timer.status != "running":
        raise Rejected("not_running", "the timer is not running")
    for t in _running_timers(state):
        t.pause(now)


def _resume(state: State, args: NoArgs, now: int, event: Event) -> None:
    current_step(state, event)
    if state.timer is None or state.timer.status != "paused":
        raise Rejected("not_paused", "the timer is not paused")
    for t in _running_timers(state):
        t.resume(now)


def _adjust(state: State, args: Adjust, now: int, event: Event) -> None:
    """Extend (or shorten) the step: the step timer and its workshops still running."""
    current_step(state, event)
    delta = args.minutes * MINUTE
    assert state.timer is not None
    state.timer.adjust(delta)
    for t in state.workshops.values():
        if t.status != "done":
            t.adjust(delta)


def _reset(state: State, args: NoArgs, now: int, event: Event) -> None:
    current_step(state, event)
    assert state.step is not None
    _enter(state, state.step, now, event, False)


def _workshop(state: State, wid: str) -> Timer:
    if not state.workshops:
        raise Rejected("not_workshops", "the current step has no workshop timers")
    if wid not in state.workshops:
        raise Rejected("no_such_workshop", f"no workshop {wid!r} in this step", workshop=wid)
    return state.workshops[wid]


def _workshop_adjust(state: State, args: WorkshopAdjust, now: int, event: Event) -> None:
    t = _workshop(state, args.workshop)
    if t.status == "done":
        title = workshop_name(event, args.workshop)
        raise Rejected("closed", f"workshop {title!r} is closed; reopen it first", workshop=title)
    t.adjust(args.minutes * MINUTE)


def _workshop_close(state: State, args: WorkshopRef, now: int, event: Event) -> None:
    t = _workshop(state, args.workshop)
    if t.status == "done":
        title = workshop_name(event, args.workshop)
        raise Rejected("closed", f"workshop {title!r} is already closed", workshop=title)
    t.close(now)


def _workshop_reopen(state: State, args: WorkshopRef, now: int, event: Event) -> None:
    t = _workshop(state, args.workshop)
    if t.status != "done":
        title = workshop_name(event, args.workshop)
        raise Rejected("not_closed", f"workshop {title!r} is not closed", workshop=title)
    t.status = "paused"
    if state.timer is not None and state.timer.status == "running":
        t.resume(now)


def _message_show(state: State, args: Show, now: int, event: Event) -> None:
    """Show a message to every site, or to one: both can show at once, one per site."""
    site = args.site
    if site is None:
        state.message = Message(text=args.text, visible=True)
        return
    if event.site(site) is None:
        raise Rejected("no_such_site", f"unknown site {site!r}", site=site)
    state.site_messages[site] = Message(text=args.text, site=site, visible=True)


def _message_hide(state: State, args: Hide, now: int, event: Event) -> None:
    """Hide the message to one site, or the one to every site. A hidden site message is
    dropped, not kept: its text then reaches nobody. (Without a site and with no message
    to every site shown, it hides the site messages: the log of a version that showed one
    message at a time replays the same.)"""
    if args.site is not None:
        if state.site_messages.pop(args.site, None) is None:
            raise Rejected("no_message", "no message is shown")
    elif state.message.visible:
        state.message.visible = False
    elif state.site_messages:
        state.site_messages.clear()
    else:
        raise Rejected("no_message", "no message is shown")


def _end(state: State, args: NoArgs, now: int, event: Event) -> None:
    """Close the day: every timer stops where it is and every screen says it is over.
    Going back to a step (goto, previous) reopens it; so does undo."""
    current_step(state, event)
    for t in _running_timers(state):
        if t.status != "idle":
            t.close(now)
    for slot in [*state.queue, *(s for lane in state.lanes.values() for s in lane.queue)]:
        if slot.status == "speaking":
            slot.status = "done"
    state.ended = now


def _undo(state: State, args: Undo, now: int, event: Event) -> None:
    """Put back the state before the last command, as if it had never been sent.

    Timers keep their deadlines, so a step that a stray key interrupted carries on as
    if nothing happened. `args.seq` names the command to take back: if another command
    came in between, the undo is refused rather than taking back the wrong one."""
    if state.previous is None or state.last is None:
        raise Rejected("nothing_to_undo", "there is nothing to undo")
    if args.seq != state.last["seq"]:
        raise Rejected("undo_stale", "another command came since: nothing was undone")
    restored = State.from_dict(state.previous)
    for f in fields(State):
        setattr(state, f.name, getattr(restored, f.name))
    state.previous = None  # one level: an undo is never undone by another
    state.last = None


# -- the registry --------------------------------------------------------------------------


@dataclass(frozen=True)
class Command:
    """What a command is: its arguments, who may send it, and its case of the reducer.

    `after_end`: it still applies once the event has ended (going back to a step reopens
    the day; a message can still show the way out). `undoable`: `undo` can take it back.
    `site_request`: a site's own request (asking for the floor): a host link sends it for
    its own site (its `site` comes from the link, never from the arguments), and the
    régie's undo does not take it back (it applies to the state undo would restore too).
    `workshop_request`: a rapporteur link sends it for its own workshop (`workshop` comes
    from the link): saying its experience report is over."""

    args: type[BaseModel]
    handler: Callable[[State, Any, int, Event], None]
    roles: frozenset[str] = COMMANDERS  # every agenda command changes what all sites see
    after_end: bool = False
    undoable: bool = True
    site_request: bool = False
    workshop_request: bool = False


SITE_LINKS = frozenset({"host"})  # links that act for their own site
WORKSHOP_LINKS = frozenset({"rapporteur"})  # links that act for their own workshop


COMMANDS: dict[str, Command] = {
    "step.goto": Command(Goto, _goto, after_end=True),
    "step.next": Command(Move, _next),
    "step.previous": Command(Move, _previous, after_end=True),
    "timer.start": Command(FirstTurn, _timer_start),
    "timer.pause": Command(NoArgs, _pause),
    "timer.resume": Command(NoArgs, _resume),
    "timer.adjust": Command(Adjust, _adjust),
    "timer.reset": Command(NoArgs, _reset),
    "workshop.adjust": Command(WorkshopAdjust, _workshop_adjust),
    "workshop.close": Command(WorkshopRef, _workshop_close),
    "workshop.reopen": Command(WorkshopRef, _workshop_reopen),
    "queue.next": Command(queues.LaneRef, queues.next_turn),
    "queue.skip": Command(queues.SlotRef, queues.skip),
    "queue.move": Command(queues.QueueMove, queues.move),
    "queue.adjust": Command(queues.LaneAdjust, queues.adjust),
    "report.next": Command(
        WorkshopRef, queues.report_next, COMMANDERS | WORKSHOP_LINKS, workshop_request=True
    ),
    "message.show": Command(Show, _message_show, after_end=True),
    "message.hide": Command(Hide, _message_hide, after_end=True),
    "event.end": Command(NoArgs, _end),
    "undo": Command(Undo, _undo, after_end=True, undoable=False),
    "floor.ask": Command(floor.SiteArgs, floor.ask, SITE_LINKS, undoable=False, site_request=True),
    "floor.cancel": Command(
        floor.SiteArgs,
        floor.cancel,
        SITE_LINKS | COMMANDERS,
        after_end=True,
        undoable=False,
        site_request=True,
    ),
    "floor.give": Command(floor.FeedArgs, floor.give),
    "agenda.insert": Command(rundown.NewStep, rundown.insert),
    "agenda.remove": Command(rundown.StepRef, rundown.remove),
    "agenda.move": Command(rundown.StepMove, rundown.move),
    "agenda.edit": Command(rundown.StepEdit, rundown.edit),
    "floor.back": Command(NoArgs, floor.back, after_end=True),
}


def _parse(name: str, command: Command, args: dict[str, Any]) -> BaseModel:
    return parse(name, command.args, args, CommandError)


def check(
    name: str,
    args: dict[str, Any],
    role: str,
    site: str | None = None,
    workshop: str | None = None,
) -> dict[str, Any]:
    """Validate a command for a role (and the site or workshop of its link, if any);
    return its normalized arguments (what the log keeps)."""
    command = COMMANDS.get(name)
    if command is None:
        raise CommandError(protocol.UNKNOWN_COMMAND, f"unknown command {name!r}", name=name)
    if role not in command.roles:
        raise CommandError(protocol.FORBIDDEN, f"role {role!r} may not send {name!r}", name=name)
    if command.site_request and role in SITE_LINKS:
        if not site or args.get("site", site) != site:
            raise CommandError(
                protocol.FORBIDDEN, f"a {role} link asks for its own site only", name=name
            )
        args = {**args, "site": site}
    if command.workshop_request and role in WORKSHOP_LINKS:
        if not workshop or args.get("workshop", workshop) != workshop:
            raise CommandError(
                protocol.FORBIDDEN, f"a {role} link acts for its own workshop only", name=name
            )
        args = {**args, "workshop": workshop}
    args = {**getattr(command.args, "AT_EDGE", {}), **args}  # what a new command means
    return _parse(name, command, args).model_dump(exclude_none=True)


def apply(state: State, entry: dict[str, Any], event: Event) -> State:
    """Return the state after `entry`; raise Rejected if it cannot apply."""
    if entry["seq"] != state.seq + 1:
        raise Rejected("seq_gap", f"expected seq {state.seq + 1}, got {entry['seq']}")
    name = entry["name"]
    command = COMMANDS.get(name)
    if command is None:
        raise Rejected("unknown_command", f"unknown command {name!r}", name=name)
    try:
        args = _parse(name, command, entry.get("args") or {})
    except CommandError as exc:
        raise Rejected(exc.code, exc.message, **exc.params) from None
    if state.ended is not None and not command.after_end:
        raise Rejected("ended", "the event has ended: go back to a step to reopen it")
    # One level of undo: a command is applied to a copy of the state without its own
    # `previous` (which then becomes it); `undo` itself needs that `previous`.
    alone = replace(state, previous=None) if command.undoable else state
    new = copy.deepcopy(alone)
    command.handler(new, args, int(entry["t"]), live_event(state, event))
    if command.site_request and new.previous is not None:
        before = State.from_dict(new.previous)  # what undo would restore keeps it too
        with contextlib.suppress(Rejected):
            command.handler(before, args, int(entry["t"]), live_event(before, event))
        new.previous = before.to_dict()
    new.seq = entry["seq"]
    if command.undoable:
        new.previous = alone.to_dict()
        new.last = {"seq": entry["seq"], "name": name}  # all the console needs to offer undo
    return new


def replay(entries: list[dict[str, Any]], event: Event, state: State | None = None) -> State:
    state = state or State()
    for entry in entries:
        state = apply(state, entry, event)
    return state
