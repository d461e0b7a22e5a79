"""A restitution starts with its first speaker: the régie enters the step and the first
workshop's notes and slot are on screen from the first second, unless the event file says
the régie calls the first turn itself."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from live.agenda.commands import apply, check
from live.agenda.state import MINUTE, State
from live.event_file import parse_event
from live.model import Event

DEMO = Path(__file__).resolve().parents[2] / "live" / "demo"
ARIEGE_TEXT = (DEMO / "ariege-2020.yaml").read_text()
ARIEGE = parse_event(ARIEGE_TEXT)
GRAND_EST = parse_event((DEMO / "grand-est-2020.yaml").read_text())
T0 = 1_700_000_000_000


class Regie:
    """The console: every command goes through the edge (`check`) as the server's do."""

    def __init__(self, event: Event = ARIEGE) -> None:
        self.event = event
        self.state = State()
        self.log: list[dict[str, Any]] = []

    def do(self, name: str, t: int = T0, **args: Any) -> State:
        clean = check(name, args, "facilitator")
        entry = {"seq": self.state.seq + 1, "t": t, "name": name, "args": clean}
        self.state = apply(self.state, entry, self.event)
        self.log.append(entry)
        return self.state


def test_entering_a_restitution_gives_the_first_workshop_the_floor_with_its_slot() -> None:
    regie = Regie()
    s = regie.do("step.goto", step="restitution")
    assert s.current_speaker == "atelier-acces"
    assert s.speaker is not None and s.speaker.status == "running"
    assert s.speaker.deadline == T0 + 12 * MINUTE  # the slot, not the step's 60 minutes
    assert [x.status for x in s.queue][:2] == ["speaking", "pending"]


def test_next_from_the_break_starts_the_restitution_with_its_first_speaker() -> None:
    regie = Regie()
    regie.do("step.goto", step="pause")
    s = regie.do("step.next")
    assert s.current_speaker == "atelier-acces"
    assert s.speaker is not None and s.speaker.deadline == T0 + 12 * MINUTE


def test_the_next_speaker_after_the_first_is_the_second_workshop() -> None:
    regie = Regie()
    regie.do("step.goto", step="restitution")
    s = regie.do("queue.next", T0 + 12 * MINUTE)
    assert s.current_speaker == "atelier-enseigner"
    assert s.queue[0].status == "done"


def test_a_restitution_entered_without_starting_calls_nobody_until_its_timer_starts() -> None:
    regie = Regie()
    s = regie.do("step.goto", step="restitution", start=False)
    assert s.current_speaker is None and s.speaker is None
    s = regie.do("timer.start", T0 + MINUTE)
    assert s.current_speaker == "atelier-acces"
    assert s.speaker is not None and s.speaker.deadline == T0 + 13 * MINUTE


def test_a_reset_restitution_starts_again_with_its_first_speaker() -> None:
    regie = Regie()
    regie.do("step.goto", step="restitution")
    regie.do("queue.next")
    s = regie.do("timer.reset")
    assert s.current_speaker is None
    s = regie.do("timer.start", T0 + MINUTE)
    assert s.current_speaker == "atelier-acces"


def test_the_event_file_can_leave_the_first_turn_to_the_regie() -> None:
    text = ARIEGE_TEXT.replace("    slot: 12\n", "    slot: 12\n    first_turn: called\n")
    regie = Regie(parse_event(text))
    s = regie.do("step.goto", step="restitution")
    assert s.current_speaker is None and s.speaker is None
    assert s.timer is not None and s.timer.status == "running"
    s = regie.do("queue.next")
    assert s.current_speaker == "atelier-acces"


def test_a_console_may_enter_a_restitution_without_calling_anyone() -> None:
    regie = Regie()
    s = regie.do("step.goto", step="restitution", first_turn=False)
    assert s.current_speaker is None


def test_a_round_table_of_reports_waits_for_the_regie_to_call_the_first() -> None:
    regie = Regie(GRAND_EST)
    s = regie.do("step.goto", step="remarquables")
    assert s.queue and all(x.status == "pending" for x in s.queue)


def test_a_restitution_of_reports_starts_with_its_first_report() -> None:
    text = (DEMO / "grand-est-2020.yaml").read_text()
    text = text.replace("    queue: workshops  #", "    queue: reports  #")
    regie = Regie(parse_event(text))
    s = regie.do("step.goto", step="restitution")
    assert s.queue[0].report and s.queue[0].status == "speaking"
    assert s.speaker is not None and s.speaker.duration_ms == s.queue[0].duration_ms


def test_a_log_written_before_restitutions_started_themselves_replays_as_it_ran() -> None:
    state = State()
    for seq, (name, args) in enumerate(
        [("step.goto", {"step": "restitution", "start": True}), ("queue.next", {})], 1
    ):
        state = apply(state, {"seq": seq, "t": T0, "name": name, "args": args}, ARIEGE)
    assert state.current_speaker == "atelier-acces"


def test_replaying_the_log_rebuilds_the_first_speaker_and_its_deadline() -> None:
    regie = Regie()
    regie.do("step.goto", step="restitution", t=T0 + 5)
    state = State()
    for entry in regie.log:
        state = apply(state, entry, ARIEGE)
    assert state.to_dict() == regie.state.to_dict()


def test_undo_takes_back_the_step_and_its_first_speaker_together() -> None:
    regie = Regie()
    regie.do("step.goto", step="ateliers")
    s = regie.do("step.next")
    s = regie.do("undo", seq=s.seq)
    assert s.current_speaker is None and s.queue == []
