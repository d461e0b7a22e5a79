"""Speaking queues, as agenda commands: a restitution's workshops or experience reports
called in turn, and each workshop's own reports during a workshops step (its `Lane`).

A turn is a `Slot` with its own countdown (`speaker`); calling the next closes the one
speaking. The régie calls turns in any queue (`queue.*`); a workshop's rapporteur says
its report is over (`report.next`), only when the turn is its workshop's. These are the
reducer's cases; `commands.py` registers them with who may send each.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from live.agenda.args import Adjust, Args, WorkshopRef
from live.agenda.state import (
    MINUTE,
    Lane,
    Rejected,
    Slot,
    State,
    Timer,
    start_step,
    workshop_name,
)
from live.model import Event, Report, Step, Workshop


def _ref() -> Any:
    return Field(default=None, min_length=1, max_length=64)


class LaneRef(Args):
    """Which queue: the step's (no `lane`), or a workshop's reports (`lane`: its id)."""

    lane: str | None = _ref()


class LaneAdjust(LaneRef, Adjust):
    pass


class SlotRef(LaneRef):
    """A turn in a queue, named by its workshop or by its report."""

    ONE_OF = ("workshop", "report")
    workshop: str | None = _ref()
    report: str | None = _ref()

    @model_validator(mode="after")
    def _one(self) -> SlotRef:
        if (self.workshop is None) == (self.report is None):
            raise ValueError("give either workshop or report")
        return self

    @property
    def key(self) -> str:
        return self.report or self.workshop or ""


class QueueMove(SlotRef):
    position: int = Field(ge=0)


def report_slot(report: Report, workshop: Workshop | None) -> Slot:
    return Slot(workshop.id if workshop else "", report.minutes * MINUTE, report=report.id)


def step_turns(event: Event, step: Step) -> list[Slot]:
    """The turns a step calls in its own queue, in order: its experience reports, or for a
    restitution its workshops' (`queue: reports`) or its workshops, one slot each (the
    step's length shared out when it sets no `slot`). Empty for any other step."""
    reports = event.reports_for(step)
    if reports:
        return [report_slot(r, w) for r, w in reports]
    if step.kind != "restitution":
        return []
    chosen = event.workshops_for(step)
    slot = step.slot * MINUTE if step.slot else step.duration_ms // max(1, len(chosen))
    return [Slot(w.id, slot) for w in chosen]


def call_first(state: State, now: int, event: Event) -> None:
    """A restitution starting for the first time gives its first turn the floor at once,
    so screens show that workshop's notes and its slot from the first second instead of
    the whole step's countdown, unless the event file says the régie calls it
    (`first_turn: called`). A step already under way (a turn spoken) is left alone."""
    if state.step is None or not state.queue:
        return
    step = event.agenda[state.step]
    if step.kind != "restitution" or step.first_turn != "auto":
        return
    if any(s.status != "pending" for s in state.queue) or state.speaker is not None:
        return
    lane = _lane(state, None)
    _advance(state, lane, now, event)
    _put_back(state, None, lane)


def _lane(state: State, lane: str | None) -> Lane:
    """The queue a command acts on. The step's own queue is lent as a Lane: write its
    speaker back with `_put_back`."""
    if lane is None:
        if not state.queue:
            raise Rejected("no_queue", "the current step has no speaking queue")
        return Lane(state.queue, state.speaker)
    found = state.lanes.get(lane)
    if found is None:
        raise Rejected(
            "no_such_lane", f"workshop {lane!r} presents no reports in this step", workshop=lane
        )
    return found


def _put_back(state: State, lane_id: str | None, lane: Lane) -> None:
    if lane_id is None:
        state.speaker = lane.speaker


def _slot(lane: Lane, key: str) -> Slot:
    slot = next((s for s in lane.queue if s.key == key), None)
    if slot is None:
        raise Rejected("no_such_slot", f"{key!r} is not in the speaking queue", slot=key)
    return slot


def _slot_title(event: Event, slot: Slot) -> str:
    if slot.report:
        report = event.report(slot.report)
        return report.title if report else slot.report
    return workshop_name(event, slot.workshop)


def _advance(state: State, lane: Lane, now: int, event: Event) -> None:
    """Close the current turn and give the floor to the next one waiting."""
    speaking = [s for s in lane.queue if s.status == "speaking"]
    nxt = next((s for s in lane.queue if s.status == "pending"), None)
    if nxt is None and not speaking:
        raise Rejected("queue_empty", "nobody is waiting to speak")
    for s in speaking:
        s.status = "done"
    lane.speaker = None
    if nxt is None:
        return
    nxt.status = "speaking"
    lane.speaker = Timer(nxt.duration_ms)
    lane.speaker.start(now)
    if state.timer is not None and state.timer.status == "idle":
        start_step(state, now, event)
    elif state.timer is not None and state.timer.status == "paused":
        lane.speaker.pause(now)


def next_turn(state: State, args: LaneRef, now: int, event: Event) -> None:
    lane = _lane(state, args.lane)
    _advance(state, lane, now, event)
    _put_back(state, args.lane, lane)


def report_next(state: State, args: WorkshopRef, now: int, event: Event) -> None:
    """A workshop's rapporteur says its report is over (or starts its first one): the
    workshop's own reports during a workshops step, or the step's queue while the turn
    speaking (or, when nobody speaks, the next one waiting) is the workshop's."""
    wid = args.workshop
    if wid in state.lanes:
        _advance(state, state.lanes[wid], now, event)
        return
    queue = state.queue
    turn = next((s for s in queue if s.status == "speaking"), None) or next(
        (s for s in queue if s.status == "pending"), None
    )
    if turn is None or turn.workshop != wid:
        raise Rejected("not_your_turn", "it is not your workshop's turn to present")
    lane = _lane(state, None)
    _advance(state, lane, now, event)
    _put_back(state, None, lane)


def skip(state: State, args: SlotRef, now: int, event: Event) -> None:
    lane = _lane(state, args.lane)
    slot = _slot(lane, args.key)
    if slot.status in ("done", "skipped"):
        title = _slot_title(event, slot)
        raise Rejected("already_done", f"{title!r} has already been called", workshop=title)
    if slot.status == "speaking":
        lane.speaker = None
    slot.status = "skipped"
    _put_back(state, args.lane, lane)


def move(state: State, args: QueueMove, now: int, event: Event) -> None:
    """Reorder the queue; moving a skipped turn puts it back in line."""
    lane = _lane(state, args.lane)
    slot = _slot(lane, args.key)
    position = args.position
    if not 0 <= position < len(lane.queue):
        last = len(lane.queue) - 1
        raise Rejected("bad_position", f"position must be between 0 and {last}", last=last)
    if slot.status == "skipped":
        slot.status = "pending"
    lane.queue.remove(slot)
    lane.queue.insert(position, slot)


def adjust(state: State, args: LaneAdjust, now: int, event: Event) -> None:
    lane = _lane(state, args.lane) if args.lane or state.queue else Lane()
    if lane.speaker is None:
        raise Rejected("nobody_speaking", "nobody is speaking")
    delta = args.minutes * MINUTE
    lane.speaker.adjust(delta)
    for s in lane.queue:
        if s.status == "speaking":
            s.duration_ms = max(0, s.duration_ms + delta)
