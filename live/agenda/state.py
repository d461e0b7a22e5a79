"""The run-of-show state machine: `apply(state, entry, event) -> state`, with no I/O.

Every change of an event's live state is a log entry `{seq, t, name, args}` where `t` is
the server's clock (epoch ms) when the command was accepted. `apply` uses `t` as "now",
never the wall clock, so replaying the log always rebuilds the exact same state, running
timers included. Timers are data: a running one holds its `deadline`, a paused one its
`remaining_ms`; clients compute the countdown themselves.
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Any, Literal

from live.model import Event, Step, Timers

TimerStatus = Literal["idle", "running", "paused", "done"]
SlotStatus = Literal["pending", "speaking", "done", "skipped"]
Phase = Literal["idle", "normal", "warning", "danger", "overtime"]

MINUTE = 60_000


class Rejected(Exception):
    """A command that cannot apply to the current state; nothing is written.

    `code` is stable (clients and translations key on it); `params` fill the translated
    sentence (`error.{code}` in the string tables); `message` is the English fallback.
    """

    def __init__(self, code: str, message: str, **params: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.params = params


@dataclass
class Timer:
    """A countdown held as data: a deadline while running, the time left otherwise."""

    duration_ms: int
    status: TimerStatus = "idle"
    started_at: int | None = None
    deadline: int | None = None
    remaining_ms: int = 0

    def __post_init__(self) -> None:
        if self.status == "idle" and not self.remaining_ms:
            self.remaining_ms = self.duration_ms

    def remaining(self, now: int) -> int:
        """Milliseconds left at `now`; negative once in overtime."""
        if self.status == "running" and self.deadline is not None:
            return self.deadline - now
        return self.remaining_ms

    def start(self, now: int) -> None:
        self.status = "running"
        self.started_at = now
        self.deadline = now + self.remaining_ms

    def pause(self, now: int) -> None:
        if self.status != "running":
            return
        self.remaining_ms = self.remaining(now)
        self.status = "paused"
        self.deadline = None

    def resume(self, now: int) -> None:
        if self.status != "paused":
            return
        self.status = "running"
        self.deadline = now + self.remaining_ms

    def adjust(self, delta_ms: int) -> None:
        self.duration_ms = max(0, self.duration_ms + delta_ms)
        if self.status == "running" and self.deadline is not None:
            self.deadline += delta_ms
        else:
            self.remaining_ms += delta_ms

    def close(self, now: int) -> None:
        self.remaining_ms = self.remaining(now)
        self.status = "done"
        self.deadline = None

    def reset(self) -> None:
        self.status = "idle"
        self.started_at = None
        self.deadline = None
        self.remaining_ms = self.duration_ms


def phase(timer: Timer | None, now: int, thresholds: Timers) -> Phase:
    """Which colour a countdown shows: normal, warning, danger, then overtime.

    The thresholds are those of the event file, or relative to the timer's own duration
    (see `Timers.for_duration`): a 3-minute slot must not start amber."""
    if timer is None or timer.status == "idle":
        return "idle"
    left = timer.remaining(now)
    if left <= 0:
        return "overtime"
    warning_s, danger_s = thresholds.for_duration(timer.duration_ms)
    if left <= danger_s * 1000:
        return "danger"
    if left <= warning_s * 1000:
        return "warning"
    return "normal"


@dataclass
class Slot:
    """One workshop's turn in a restitution."""

    workshop: str
    duration_ms: int
    status: SlotStatus = "pending"


@dataclass
class Message:
    text: str = ""
    site: str | None = None
    visible: bool = False


@dataclass
class State:
    """The live state of an event. `last` names the command `undo` would take back (seq, name);
    `previous` is the state before it, kept for that undo and never sent to clients."""

    seq: int = 0
    step: int | None = None
    timer: Timer | None = None
    workshops: dict[str, Timer] = field(default_factory=dict)
    queue: list[Slot] = field(default_factory=list)
    speaker: Timer | None = None
    message: Message = field(default_factory=Message)
    origin: int | None = None
    started: dict[str, int] = field(default_factory=dict)
    ended: int | None = None
    last: dict[str, Any] | None = None
    previous: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """Everything, for snapshots: a restart keeps the undo too."""
        return asdict(self)

    def public(self) -> dict[str, Any]:
        """What clients receive: everything but the state kept for undo."""
        d = asdict(self)
        del d["previous"]
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> State:
        def timer(t: dict[str, Any] | None) -> Timer | None:
            return Timer(**t) if t else None

        return cls(
            seq=d["seq"],
            step=d["step"],
            timer=timer(d["timer"]),
            workshops={k: Timer(**v) for k, v in d["workshops"].items()},
            queue=[Slot(**s) for s in d["queue"]],
            speaker=timer(d["speaker"]),
            message=Message(**d["message"]),
            origin=d["origin"],
            started=dict(d["started"]),
            ended=d.get("ended"),
            last=d.get("last"),
            previous=d.get("previous"),
        )

    @property
    def current_speaker(self) -> str | None:
        return next((s.workshop for s in self.queue if s.status == "speaking"), None)


# -- the reducer ---------------------------------------------------------------------------


def apply(state: State, entry: dict[str, Any], event: Event) -> State:
    """Return the state after `entry`; raise Rejected if it cannot apply."""
    if entry["seq"] != state.seq + 1:
        raise Rejected("seq_gap", f"expected seq {state.seq + 1}, got {entry['seq']}")
    name = entry["name"]
    args = entry.get("args") or {}
    if name == "undo":
        return _undo(state, args, entry["seq"])
    handler = _HANDLERS.get(name)
    if handler is None:
        raise Rejected("unknown_command", f"unknown command {name!r}", name=name)
    if state.ended is not None and name not in _AFTER_THE_END:
        raise Rejected("ended", "the event has ended: go back to a step to reopen it")
    alone = replace(state, previous=None)  # one level of undo: copy the state without its own
    new = copy.deepcopy(alone)
    handler(new, args, int(entry["t"]), event)
    new.seq = entry["seq"]
    new.previous = alone.to_dict()
    new.last = {"seq": entry["seq"], "name": name}  # all the console needs to offer undo
    return new


def _undo(state: State, args: dict[str, Any], seq: int) -> State:
    """Put back the state before the last command, as if it had never been sent.

    Timers keep their deadlines, so a step that a stray key interrupted carries on as
    if nothing happened. `args.seq` names the command to take back: if another command
    came in between, the undo is refused rather than taking back the wrong one."""
    if state.previous is None or state.last is None:
        raise Rejected("nothing_to_undo", "there is nothing to undo")
    if args.get("seq") != state.last["seq"]:
        raise Rejected("undo_stale", "another command came since: nothing was undone")
    restored = State.from_dict(state.previous)
    restored.seq = seq
    restored.previous = None
    restored.last = None
    return restored


def replay(entries: list[dict[str, Any]], event: Event, state: State | None = None) -> State:
    state = state or State()
    for entry in entries:
        state = apply(state, entry, event)
    return state


def _step(state: State, event: Event) -> Step:
    if state.step is None:
        raise Rejected("not_started", "the agenda has not started")
    return event.agenda[state.step]


def _title(event: Event, wid: str) -> str:
    w = event.workshop(wid)
    return event.workshop_title(w) if w else wid


def _enter(state: State, index: int, now: int, event: Event, start: bool) -> None:
    """Go to step `index`: fresh timers for it, its workshops or its speaking queue."""
    if not 0 <= index < len(event.agenda):
        raise Rejected(
            "no_such_step", f"no step {index}; the agenda has {len(event.agenda)}", step=index
        )
    step = event.agenda[index]
    state.step = index
    state.ended = None
    state.timer = Timer(step.duration_ms)
    state.workshops = {}
    state.queue = []
    state.speaker = None
    if step.kind == "workshops":
        state.workshops = {w.id: Timer(step.duration_ms) for w in event.workshops_for(step)}
    elif step.kind == "restitution":
        chosen = event.workshops_for(step)
        slot = step.slot * MINUTE if step.slot else step.duration_ms // max(1, len(chosen))
        state.queue = [Slot(w.id, slot) for w in chosen]
    if start:
        _start(state, now, event)


def _start(state: State, now: int, event: Event) -> None:
    step = _step(state, event)
    assert state.timer is not None
    if state.timer.status == "running":
        raise Rejected("already_running", "the timer is already running")
    if state.timer.status == "paused":
        raise Rejected("paused", "the timer is paused: resume it, or reset it first")
    if state.timer.status == "done":
        raise Rejected("ended", "the event has ended: go back to a step to reopen it")
    state.timer.start(now)
    for t in state.workshops.values():
        if t.status == "idle":
            t.start(now)
    state.started.setdefault(step.id, now)
    if state.origin is None:
        offset = event.planned_start_ms(state.step or 0) - event.planned_start_ms(0)
        on_the_day = datetime.fromtimestamp(now / 1000, event.tz).date() == event.date
        state.origin = event.planned_start_ms(0) if on_the_day else now - offset


def _goto(state: State, args: dict[str, Any], now: int, event: Event) -> None:
    index = args.get("index")
    if "step" in args:
        ids = [s.id for s in event.agenda]
        if args["step"] not in ids:
            raise Rejected("no_such_step", f"unknown step {args['step']!r}", step=args["step"])
        index = ids.index(args["step"])
    if not isinstance(index, int):
        raise Rejected("invalid_args", "give a step id or an index", field="step")
    _enter(state, index, now, event, args.get("start", True))


def _next(state: State, args: dict[str, Any], now: int, event: Event) -> None:
    index = 0 if state.step is None else state.step + 1
    if index >= len(event.agenda):
        raise Rejected("at_last_step", "already at the last step: end the event instead")
    _enter(state, index, now, event, args.get("start", True))


def _previous(state: State, args: dict[str, Any], now: int, event: Event) -> None:
    if not state.step:
        raise Rejected("at_first_step", "already at the first step")
    _enter(state, state.step - 1, now, event, args.get("start", True))


def _timer_start(state: State, args: dict[str, Any], now: int, event: Event) -> None:
    if state.step is None:
        _enter(state, 0, now, event, True)
    else:
        _start(state, now, event)


def _running_timers(state: State) -> list[Timer]:
    timers = [state.timer, state.speaker, *state.workshops.values()]
    return [t for t in timers if t is not None]


def _pause(state: State, args: dict[str, Any], now: int, event: Event) -> None:
    _step(state, event)
    if state.timer is None or state.timer.status != "running":
        raise Rejected("not_running", "the timer is not running")
    for t in _running_timers(state):
        t.pause(now)


def _resume(state: State, args: dict[str, Any], now: int, event: Event) -> None:
    _step(state, event)
    if state.timer is None or state.timer.status != "paused":
        raise Rejected("not_paused", "the timer is not paused")
    for t in _running_timers(state):
        t.resume(now)


def _adjust(state: State, args: dict[str, Any], now: int, event: Event) -> None:
    """Extend (or shorten) the step: the step timer and its workshops still running."""
    _step(state, event)
    delta = int(args["minutes"]) * MINUTE
    assert state.timer is not None
    state.timer.adjust(delta)
    for t in state.workshops.values():
        if t.status != "done":
            t.adjust(delta)


def _reset(state: State, args: dict[str, Any], now: int, event: Event) -> None:
    _step(state, event)
    assert state.step is not None
    _enter(state, state.step, now, event, False)


def _workshop(state: State, args: dict[str, Any]) -> Timer:
    wid = args.get("workshop")
    if not state.workshops:
        raise Rejected("not_workshops", "the current step has no workshop timers")
    if wid not in state.workshops:
        raise Rejected("no_such_workshop", f"no workshop {wid!r} in this step", workshop=wid)
    return state.workshops[wid]


def _workshop_adjust(state: State, args: dict[str, Any], now: int, event: Event) -> None:
    t = _workshop(state, args)
    if t.status == "done":
        title = _title(event, args["workshop"])
        raise Rejected("closed", f"workshop {title!r} is closed; reopen it first", workshop=title)
    t.adjust(int(args["minutes"]) * MINUTE)


def _workshop_close(state: State, args: dict[str, Any], now: int, event: Event) -> None:
    t = _workshop(state, args)
    if t.status == "done":
        title = _title(event, args["workshop"])
        raise Rejected("closed", f"workshop {title!r} is already closed", workshop=title)
    t.close(now)


def _workshop_reopen(state: State, args: dict[str, Any], now: int, event: Event) -> None:
    t = _workshop(state, args)
    if t.status != "done":
        title = _title(event, args["workshop"])
        raise Rejected("not_closed", f"workshop {title!r} is not closed", workshop=title)
    t.status = "paused"
    if state.timer is not None and state.timer.status == "running":
        t.resume(now)


def _slot(state: State, wid: str) -> Slot:
    if not state.queue:
        raise Rejected("no_queue", "the current step has no speaking queue")
    slot = next((s for s in state.queue if s.workshop == wid), None)
    if slot is None:
        raise Rejected(
            "no_such_workshop", f"no workshop {wid!r} in the speaking queue", workshop=wid
        )
    return slot


def _queue_next(state: State, args: dict[str, Any], now: int, event: Event) -> None:
    """Close the current speaker's turn and give the floor to the next one waiting."""
    if not state.queue:
        raise Rejected("no_queue", "the current step has no speaking queue")
    speaking = [s for s in state.queue if s.status == "speaking"]
    nxt = next((s for s in state.queue if s.status == "pending"), None)
    if nxt is None and not speaking:
        raise Rejected("queue_empty", "nobody is waiting to speak")
    for s in speaking:
        s.status = "done"
    state.speaker = None
    if nxt is None:
        return
    nxt.status = "speaking"
    state.speaker = Timer(nxt.duration_ms)
    state.speaker.start(now)
    if state.timer is not None and state.timer.status == "idle":
        _start(state, now, event)
    elif state.timer is not None and state.timer.status == "paused":
        state.speaker.pause(now)


def _queue_skip(state: State, args: dict[str, Any], now: int, event: Event) -> None:
    slot = _slot(state, args.get("workshop", ""))
    if slot.status in ("done", "skipped"):
        title = _title(event, slot.workshop)
        raise Rejected("already_done", f"{title!r} has already been called", workshop=title)
    if slot.status == "speaking":
        state.speaker = None
    slot.status = "skipped"


def _queue_move(state: State, args: dict[str, Any], now: int, event: Event) -> None:
    """Reorder the queue; moving a skipped workshop puts it back in line."""
    slot = _slot(state, args.get("workshop", ""))
    position = int(args["position"])
    if not 0 <= position < len(state.queue):
        last = len(state.queue) - 1
        raise Rejected("bad_position", f"position must be between 0 and {last}", last=last)
    if slot.status == "skipped":
        slot.status = "pending"
    state.queue.remove(slot)
    state.queue.insert(position, slot)


def _queue_adjust(state: State, args: dict[str, Any], now: int, event: Event) -> None:
    if state.speaker is None:
        raise Rejected("nobody_speaking", "nobody is speaking")
    delta = int(args["minutes"]) * MINUTE
    state.speaker.adjust(delta)
    for s in state.queue:
        if s.status == "speaking":
            s.duration_ms = max(0, s.duration_ms + delta)


def _message_show(state: State, args: dict[str, Any], now: int, event: Event) -> None:
    site = args.get("site")
    if site is not None and event.site(site) is None:
        raise Rejected("no_such_site", f"unknown site {site!r}", site=site)
    state.message = Message(text=args["text"], site=site, visible=True)


def _message_hide(state: State, args: dict[str, Any], now: int, event: Event) -> None:
    if not state.message.visible:
        raise Rejected("no_message", "no message is shown")
    state.message.visible = False


def _end(state: State, args: dict[str, Any], now: int, event: Event) -> None:
    """Close the day: every timer stops where it is and every screen says it is over.
    Going back to a step (goto, previous) reopens it; so does undo."""
    _step(state, event)
    for t in _running_timers(state):
        if t.status != "idle":
            t.close(now)
    for slot in state.queue:
        if slot.status == "speaking":
            slot.status = "done"
    state.ended = now


# Commands that still apply once the event has ended: going back to a step reopens it,
# and a message can still be put on the screens (the way out, the next meeting).
_AFTER_THE_END = frozenset({"step.goto", "step.previous", "message.show", "message.hide"})

_HANDLERS = {
    "step.goto": _goto,
    "step.next": _next,
    "step.previous": _previous,
    "timer.start": _timer_start,
    "timer.pause": _pause,
    "timer.resume": _resume,
    "timer.adjust": _adjust,
    "timer.reset": _reset,
    "workshop.adjust": _workshop_adjust,
    "workshop.close": _workshop_close,
    "workshop.reopen": _workshop_reopen,
    "queue.next": _queue_next,
    "queue.skip": _queue_skip,
    "queue.move": _queue_move,
    "queue.adjust": _queue_adjust,
    "message.show": _message_show,
    "message.hide": _message_hide,
    "event.end": _end,
}


# -- what screens derive: countdown phase, drift, projected end ---------------------------


def step_end(state: State, event: Event, now: int) -> int | None:
    """When the current step will really end, given its timers and its speaking queue."""
    if state.step is None or state.timer is None:
        return None
    t = state.timer
    end = now + max(0, t.remaining(now))
    if t.status == "running" and t.deadline is not None:
        end = max(t.deadline, now)
    if state.queue:
        left = state.speaker.remaining(now) if state.speaker else 0
        waiting = sum(s.duration_ms for s in state.queue if s.status == "pending")
        end = max(end, now + max(0, left) + waiting)
    return end


def schedule(state: State, event: Event, now: int) -> dict[str, int | None]:
    """Drift (ms, positive = behind) and projected end of the whole agenda, at `now`."""
    if state.step is None or state.origin is None:
        return {"drift_ms": None, "projected_end": None, "planned_end": None}
    base = event.planned_start_ms(0)
    step = event.agenda[state.step]
    planned_step_end = state.origin + event.planned_start_ms(state.step) - base + step.duration_ms
    last = event.agenda[-1]
    planned_end = (
        state.origin + event.planned_start_ms(len(event.agenda) - 1) - base + last.duration_ms
    )
    end = step_end(state, event, now)
    assert end is not None
    drift = end - planned_step_end
    return {"drift_ms": drift, "projected_end": planned_end + drift, "planned_end": planned_end}
