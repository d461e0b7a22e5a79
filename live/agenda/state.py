"""The live state of an event and what screens derive from it, with no I/O.

Every change of an event's live state is a log entry `{seq, t, name, args}` where `t` is
the server's clock (epoch ms) when the command was accepted; `commands.apply` uses `t` as
"now", never the wall clock, so replaying the log always rebuilds the exact same state,
running timers included. Timers are data: a running one holds its `deadline`, a paused one
its `remaining_ms`; clients compute the countdown themselves (`phase` and `schedule` here
have their twins in static/js/clock.js).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Literal

from live.errors import RelaisError
from live.model import Event, Step, Timers

TimerStatus = Literal["idle", "running", "paused", "done"]
SlotStatus = Literal["pending", "speaking", "done", "skipped"]
Phase = Literal["idle", "normal", "warning", "danger", "overtime"]

MINUTE = 60_000


class Rejected(RelaisError):
    """A command that cannot apply to the current state; nothing is written."""


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
    """One turn in a speaking queue: a workshop's restitution, or an experience report
    (`report` is its id; `workshop` the workshop it belongs to, "" for a step's own)."""

    workshop: str
    duration_ms: int
    status: SlotStatus = "pending"
    report: str = ""

    @property
    def key(self) -> str:
        """What commands name the slot by: its report, else its workshop."""
        return self.report or self.workshop


@dataclass
class Lane:
    """A workshop's own queue of experience reports during a workshops step, and the
    countdown of the report presented now."""

    queue: list[Slot] = field(default_factory=list)
    speaker: Timer | None = None


@dataclass
class Message:
    text: str = ""
    site: str | None = None
    visible: bool = False


EVERYONE = "*"  # the régie's audience: every site's messages (see `view`)


@dataclass
class State:
    """The live state of an event. `last` names the command `undo` would take back (seq, name);
    `previous` is the state before it, kept for that undo and never sent to clients.
    `floor` is who the plenary shows (the relay follows it, see live/app.py); `requests`
    are the sites whose host asked for the floor."""

    seq: int = 0
    step: int | None = None
    timer: Timer | None = None
    workshops: dict[str, Timer] = field(default_factory=dict)
    queue: list[Slot] = field(default_factory=list)
    speaker: Timer | None = None
    message: Message = field(default_factory=Message)  # to every site
    site_messages: dict[str, Message] = field(default_factory=dict)  # shown, by site
    lanes: dict[str, Lane] = field(default_factory=dict)  # report queues, by workshop
    origin: int | None = None
    started: dict[str, int] = field(default_factory=dict)
    ended: int | None = None
    # The run-of-show as edited live (steps as JSON, see rundown.py); None: as the event
    # file says. Kept in snapshots, not sent with each event: pages get the event as they
    # see it in a `definition` frame when it changes (see agenda.live.Live).
    agenda: list[dict[str, Any]] | None = None
    floor: str = "speaker"  # the plenary feed on every screen: `speaker` or `site:<id>`
    requests: list[str] = field(default_factory=list)  # sites asking for the floor, in order
    last: dict[str, Any] | None = None
    previous: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """Everything, for snapshots: a restart keeps the undo too."""
        return asdict(self)

    def public(self) -> dict[str, Any]:
        """What clients receive: everything but the state kept for undo and the edited
        run-of-show (which reaches pages as part of the event, see `live_event`)."""
        d = asdict(self)
        del d["previous"], d["agenda"]
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> State:
        def timer(t: dict[str, Any] | None) -> Timer | None:
            return Timer(**t) if t else None

        message = Message(**d["message"])
        site_messages = {k: Message(**v) for k, v in d.get("site_messages", {}).items()}
        if message.site:  # a snapshot from before messages per site: one message, one site
            if message.visible:
                site_messages[message.site] = message
            message = Message()
        return cls(
            seq=d["seq"],
            step=d["step"],
            timer=timer(d["timer"]),
            workshops={k: Timer(**v) for k, v in d["workshops"].items()},
            queue=[Slot(**s) for s in d["queue"]],
            speaker=timer(d["speaker"]),
            message=message,
            site_messages=site_messages,
            lanes={
                k: Lane([Slot(**s) for s in v["queue"]], timer(v["speaker"]))
                for k, v in d.get("lanes", {}).items()
            },
            origin=d["origin"],
            started=dict(d["started"]),
            ended=d.get("ended"),
            agenda=d.get("agenda"),
            floor=d.get("floor", "speaker"),  # snapshots from before the plenary visio
            requests=list(d.get("requests", [])),
            last=d.get("last"),
            previous=d.get("previous"),
        )

    @property
    def current_speaker(self) -> str | None:
        return next((s.workshop for s in self.queue if s.status == "speaking"), None)


def view(public: dict[str, Any], audience: str) -> dict[str, Any]:
    """The public state as one audience may see it: a site's clients see the messages to
    every site and to theirs only; the régie (`EVERYONE`) sees them all; a client with no
    site ("") sees the message to every site. The text of a message to one site never
    reaches another site's clients."""
    shown = public["site_messages"]
    if audience == EVERYONE or not shown:
        return public
    mine = {k: v for k, v in shown.items() if k == audience}
    return {**public, "site_messages": mine}


_DERIVED: dict[tuple[int, str], tuple[Event, Event]] = {}


def live_event(state: State, event: Event) -> Event:
    """The event as it runs: the definition with the run-of-show edited live, if it was.
    Everything that reads the agenda (steps, planned times, drift) reads this one."""
    if state.agenda is None:
        return event
    key = (id(event), json.dumps(state.agenda, sort_keys=True, separators=(",", ":")))
    hit = _DERIVED.get(key)
    if hit is not None:
        return hit[1]
    steps = tuple(Step.model_validate(d) for d in state.agenda)
    derived = event.model_copy(update={"agenda": steps})
    if len(_DERIVED) >= 64:
        _DERIVED.pop(next(iter(_DERIVED)))
    _DERIVED[key] = (event, derived)  # holding `event` keeps its id from being reused
    return derived


def current_step(state: State, event: Event) -> Step:
    if state.step is None:
        raise Rejected("not_started", "the agenda has not started")
    return event.agenda[state.step]


def workshop_name(event: Event, wid: str) -> str:
    """A workshop's title for a refusal, or its id when the event has no such workshop."""
    w = event.workshop(wid)
    return event.workshop_title(w) if w else wid


def start_step(state: State, now: int, event: Event) -> None:
    """Start the current step's countdown (and its workshops'); the first start sets the
    day's origin: the planned start on the event's day, else now (a rehearsal)."""
    step = current_step(state, event)
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
