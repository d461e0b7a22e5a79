"""Editing the run-of-show live, as agenda commands: insert, remove, reorder or change a
step that has not started, rename the current one.

On the day a speaker is late, a step is dropped, a break is added. Each edit is a command
in the log like the others, so every screen, the drift and the projected end follow at
once and a restart keeps them. The edited agenda is part of the state (`State.agenda`,
see `state.live_event`); the event file is not rewritten.

What an edit may touch: steps after the current one (all of them before the day starts),
and the current step's title. The running step's countdown is never touched: its length
changes with `timer.adjust`. Steps already run stay as they were. A step holding the
workshops (registration's rounds refer to it) is changed in the studio, not live.

Times: an inserted or moved step starts when the step before it ends; each later step
then starts at its planned time, or when the one before it ends if that is later (a
longer step pushes what follows, a removed one leaves a gap: lunch stays at noon).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import time

from pydantic import Field, model_validator

from live.agenda.args import Args
from live.agenda.state import Rejected, State
from live.model import Event, Step, StepKind

LAST_MINUTE = 24 * 60 - 1


class StepRef(Args):
    step: str = Field(min_length=1, max_length=64)


class NewStep(Args):
    """A step to insert after `after` (the current step or a later one)."""

    after: str = Field(min_length=1, max_length=64)
    title: str = Field(min_length=1, max_length=200)
    kind: StepKind = "custom"
    duration: int = Field(ge=1, le=24 * 60)


class StepMove(StepRef):
    position: int = Field(ge=0)


class StepEdit(StepRef):
    title: str | None = Field(default=None, min_length=1, max_length=200)
    duration: int | None = Field(default=None, ge=1, le=24 * 60)

    @model_validator(mode="after")
    def _something(self) -> StepEdit:
        if self.title is None and self.duration is None:
            raise ValueError("give a title, a duration or both")
        return self


def insert(state: State, args: NewStep, now: int, event: Event) -> None:
    steps = list(event.agenda)
    after = _index(steps, args.after)
    if state.step is not None and after < state.step:
        raise Rejected("step_done", "a step can only be added after the current one")
    if args.kind == "workshops":
        raise Rejected("not_live", "workshops are set in the studio, not during the event")
    step = Step(
        id=_new_id(args.title, {s.id for s in steps}),
        kind=args.kind,
        title=args.title,
        start=_clock(_end(steps[after])),
        duration=args.duration,
        sites=steps[after].sites,
    )
    steps.insert(after + 1, step)
    _save(state, steps, after + 1)


def remove(state: State, args: StepRef, now: int, event: Event) -> None:
    steps = list(event.agenda)
    index = _future(state, steps, args.step)
    if steps[index].kind == "workshops":
        raise Rejected("not_live", "workshops are set in the studio, not during the event")
    if len(steps) == 1:
        raise Rejected("last_step", "the agenda keeps at least one step")
    del steps[index]
    _save(state, steps, index)


def move(state: State, args: StepMove, now: int, event: Event) -> None:
    steps = list(event.agenda)
    index = _future(state, steps, args.step)
    first = 0 if state.step is None else state.step + 1
    if not first <= args.position < len(steps):
        last = len(steps) - 1
        raise Rejected(
            "bad_position", f"position must be between {first} and {last}", first=first, last=last
        )
    step = steps.pop(index)
    position = args.position
    if position > 0:
        step = step.model_copy(update={"start": _clock(_end(steps[position - 1]))})
    else:
        step = step.model_copy(update={"start": steps[0].start})
    steps.insert(position, step)
    _save(state, steps, min(index, position))


def edit(state: State, args: StepEdit, now: int, event: Event) -> None:
    """A later step's title or duration; the current step's title only (its countdown is
    changed with ±minutes)."""
    steps = list(event.agenda)
    index = _index(steps, args.step)
    if state.step is not None and index < state.step:
        raise Rejected("step_done", "this step is over: it stays as it ran")
    if index == state.step and args.duration is not None:
        raise Rejected(
            "step_running", "the current step's length changes with its countdown (± min)"
        )
    update: dict[str, object] = {}
    if args.title is not None:
        update["title"] = args.title
    if args.duration is not None:
        update["duration"] = args.duration
    steps[index] = steps[index].model_copy(update=update)
    _save(state, steps, index)


# -- helpers --------------------------------------------------------------------------------


def _index(steps: list[Step], step_id: str) -> int:
    for i, s in enumerate(steps):
        if s.id == step_id:
            return i
    raise Rejected("no_such_step", f"unknown step {step_id!r}", step=step_id)


def _future(state: State, steps: list[Step], step_id: str) -> int:
    """The index of a step that has not started (after the current one)."""
    index = _index(steps, step_id)
    if state.step is not None and index <= state.step:
        raise Rejected("step_done", "only a step that has not started can change this way")
    if steps[index].id in state.started:
        raise Rejected("step_done", "only a step that has not started can change this way")
    return index


def _minutes(t: time) -> int:
    return t.hour * 60 + t.minute


def _end(step: Step) -> int:
    return _minutes(step.start) + step.duration


def _clock(minutes: int) -> time:
    minutes = min(minutes, LAST_MINUTE)
    return time(minutes // 60, minutes % 60)


def _save(state: State, steps: list[Step], changed: int) -> None:
    """Keep the edited agenda, each step from `changed` on starting no earlier than the
    one before it ends (steps running beside another, `allow_overlap`, keep their time)."""
    out = steps[: changed + 1]
    ends = [_end(s) for s in out if not s.allow_overlap]
    end = ends[-1] if ends else 0
    for step in steps[changed + 1 :]:
        if not step.allow_overlap and _minutes(step.start) < end:
            step = step.model_copy(update={"start": _clock(end)})
        if not step.allow_overlap:
            end = _end(step)
        out.append(step)
    state.agenda = [s.model_dump(mode="json") for s in out]


def _new_id(title: str, taken: set[str]) -> str:
    """A step id from its title: `pause-cafe`, then `pause-cafe-2`..."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    base = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")[:40] or "etape"
    ident, n = base, 2
    while ident in taken:
        ident, n = f"{base}-{n}", n + 1
    return ident
