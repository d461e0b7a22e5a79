"""The run-of-show state machine, as a facilitator would describe it."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from live.agenda.commands import apply, replay
from live.agenda.state import EVERYONE, Rejected, State, Timer, phase, schedule, view
from live.event_file import parse_event
from live.model import Event, Timers

DEMO = Path(__file__).resolve().parents[2] / "live" / "demo"
ARIEGE = parse_event((DEMO / "ariege-2020.yaml").read_text())
POITIERS = parse_event((DEMO / "poitiers-2020.yaml").read_text())
MIN = 60_000
T0 = 1_700_000_000_000


class Run:
    """A facilitator's session: commands at given times, the log kept as it grows."""

    def __init__(self, event: Event = ARIEGE) -> None:
        self.event = event
        self.state = State()
        self.log: list[dict[str, Any]] = []

    def do(self, name: str, t: int = T0, **args: Any) -> State:
        entry = {"seq": self.state.seq + 1, "t": t, "name": name, "args": args}
        self.state = apply(self.state, entry, self.event)
        self.log.append(entry)
        return self.state


def step_id(run: Run) -> str:
    assert run.state.step is not None
    return run.event.agenda[run.state.step].id


def test_next_starts_the_first_step_and_its_countdown() -> None:
    run = Run()
    s = run.do("step.next", T0)
    assert step_id(run) == "pleniere"
    assert s.timer and s.timer.status == "running"
    assert s.timer.deadline == T0 + 45 * MIN


def test_next_and_previous_walk_the_agenda() -> None:
    run = Run()
    run.do("step.next")
    run.do("step.next")
    assert step_id(run) == "ateliers"
    run.do("step.previous")
    assert step_id(run) == "pleniere"
    with pytest.raises(Rejected) as exc:
        run.do("step.previous")
    assert exc.value.code == "at_first_step"


def test_next_past_the_last_step_is_refused() -> None:
    run = Run()
    run.do("step.goto", step="restitution")
    with pytest.raises(Rejected):
        run.do("step.next")


def test_goto_by_id_or_index_without_starting() -> None:
    run = Run()
    s = run.do("step.goto", step="pause", start=False)
    assert step_id(run) == "pause" and s.timer and s.timer.status == "idle"
    s = run.do("step.goto", index=0)
    assert step_id(run) == "pleniere" and s.timer and s.timer.status == "running"
    with pytest.raises(Rejected):
        run.do("step.goto", step="nope")


def test_pause_keeps_the_time_left_and_resume_sets_a_new_deadline() -> None:
    run = Run()
    run.do("step.next", T0)
    s = run.do("timer.pause", T0 + 10 * MIN)
    assert s.timer and s.timer.status == "paused" and s.timer.remaining_ms == 35 * MIN
    s = run.do("timer.resume", T0 + 20 * MIN)
    assert s.timer and s.timer.deadline == T0 + 55 * MIN


def test_pausing_twice_is_refused() -> None:
    run = Run()
    run.do("step.next")
    run.do("timer.pause")
    with pytest.raises(Rejected) as exc:
        run.do("timer.pause")
    assert exc.value.code == "not_running"


def test_extend_and_shorten_move_the_deadline() -> None:
    run = Run()
    run.do("step.next", T0)
    s = run.do("timer.adjust", T0, minutes=5)
    assert s.timer and s.timer.deadline == T0 + 50 * MIN
    s = run.do("timer.adjust", T0, minutes=-10)
    assert s.timer and s.timer.deadline == T0 + 40 * MIN


def test_reset_puts_the_step_back_to_its_full_duration() -> None:
    run = Run()
    run.do("step.next", T0)
    run.do("timer.adjust", T0, minutes=5)
    s = run.do("timer.reset", T0 + MIN)
    assert s.timer and s.timer.status == "idle" and s.timer.remaining_ms == 45 * MIN
    s = run.do("timer.start", T0 + 2 * MIN)
    assert s.timer and s.timer.deadline == T0 + 47 * MIN


def test_phases_go_normal_warning_danger_overtime() -> None:
    t = Timer(10 * MIN)
    t.start(T0)
    fixed = Timers(warning=300, danger=60)
    assert phase(t, T0, fixed) == "normal"
    assert phase(t, T0 + 5 * MIN + 1, fixed) == "warning"
    assert phase(t, T0 + 9 * MIN + 1, fixed) == "danger"
    assert phase(t, T0 + 10 * MIN, fixed) == "overtime"
    assert t.remaining(T0 + 11 * MIN) == -MIN  # overtime counts up


def test_a_three_minute_slot_does_not_start_amber_when_the_event_sets_no_thresholds() -> None:
    slot = Timer(3 * MIN)
    slot.start(T0)
    relative = Timers()
    assert phase(slot, T0, relative) == "normal"
    assert phase(slot, T0 + 2 * MIN, relative) == "normal"
    assert phase(slot, T0 + 3 * MIN - 45_000 + 1, relative) == "warning"  # last quarter
    assert phase(slot, T0 + 3 * MIN - 18_000 + 1, relative) == "danger"  # last tenth


def test_a_long_step_turns_amber_five_minutes_before_its_end_and_red_one_minute_before() -> None:
    plenary = Timer(45 * MIN)
    plenary.start(T0)
    relative = Timers()
    assert phase(plenary, T0 + 40 * MIN - 1, relative) == "normal"
    assert phase(plenary, T0 + 40 * MIN + 1, relative) == "warning"
    assert phase(plenary, T0 + 44 * MIN + 1, relative) == "danger"


def test_an_extended_timer_measures_its_thresholds_on_its_new_length() -> None:
    slot = Timer(3 * MIN)
    slot.start(T0)
    slot.adjust(3 * MIN)  # a 6-minute slot now: amber in its last 90 seconds
    assert phase(slot, T0 + 4 * MIN, Timers()) == "normal"
    assert phase(slot, T0 + 4 * MIN + 31_000, Timers()) == "warning"


def test_a_workshops_step_runs_one_timer_per_workshop() -> None:
    run = Run()
    s = run.do("step.goto", step="ateliers", t=T0)
    assert list(s.workshops) == [w.id for w in ARIEGE.workshops]
    assert all(t.status == "running" and t.deadline == T0 + 120 * MIN for t in s.workshops.values())


def test_each_workshop_timer_can_be_extended_or_closed_on_its_own() -> None:
    run = Run()
    run.do("step.goto", step="ateliers", t=T0)
    s = run.do("workshop.adjust", T0, workshop="atelier-acces", minutes=10)
    assert s.workshops["atelier-acces"].deadline == T0 + 130 * MIN
    assert s.workshops["atelier-enseigner"].deadline == T0 + 120 * MIN
    s = run.do("workshop.close", T0 + 100 * MIN, workshop="atelier-enseigner")
    assert s.workshops["atelier-enseigner"].status == "done"
    running = [w for w, t in s.workshops.items() if t.status == "running"]
    assert "atelier-enseigner" not in running and len(running) == 4
    with pytest.raises(Rejected):
        run.do("workshop.adjust", T0, workshop="atelier-enseigner", minutes=1)
    s = run.do("workshop.reopen", T0 + 101 * MIN, workshop="atelier-enseigner")
    assert s.workshops["atelier-enseigner"].status == "running"


def test_workshop_commands_outside_a_workshops_step_are_refused() -> None:
    run = Run()
    run.do("step.next")
    with pytest.raises(Rejected) as exc:
        run.do("workshop.close", workshop="atelier-acces")
    assert exc.value.code == "not_workshops"


def test_pausing_the_step_pauses_every_workshop_timer() -> None:
    run = Run()
    run.do("step.goto", step="ateliers", t=T0)
    s = run.do("timer.pause", T0 + MIN)
    assert all(t.status == "paused" for t in s.workshops.values())
    s = run.do("timer.resume", T0 + 2 * MIN)
    assert all(t.deadline == T0 + 121 * MIN for t in s.workshops.values())


def test_a_restitution_holds_an_ordered_speaking_queue() -> None:
    run = Run()
    s = run.do("step.goto", step="restitution", t=T0)
    assert [slot.workshop for slot in s.queue] == [
        "atelier-acces",
        "atelier-enseigner",
        "atelier-ensemble",
        "atelier-responsable",
        "atelier-gouvernance",
    ]
    assert all(slot.duration_ms == 12 * MIN and slot.status == "pending" for slot in s.queue)


def test_next_speaker_gives_the_floor_in_order_with_a_timer() -> None:
    run = Run()
    run.do("step.goto", step="restitution", t=T0)
    s = run.do("queue.next", T0 + MIN)
    assert s.current_speaker == "atelier-acces"
    assert s.speaker and s.speaker.deadline == T0 + 13 * MIN
    s = run.do("queue.next", T0 + 12 * MIN)
    assert s.current_speaker == "atelier-enseigner"
    assert s.queue[0].status == "done"


def test_the_queue_can_be_reordered_skipped_and_the_speaker_extended() -> None:
    run = Run()
    run.do("step.goto", step="restitution", t=T0)
    s = run.do("queue.move", T0, workshop="atelier-gouvernance", position=0)
    assert s.queue[0].workshop == "atelier-gouvernance"
    s = run.do("queue.skip", T0, workshop="atelier-acces")
    s = run.do("queue.next", T0)
    assert s.current_speaker == "atelier-gouvernance"
    s = run.do("queue.next", T0)
    assert s.current_speaker == "atelier-enseigner"  # the skipped one is not called
    s = run.do("queue.adjust", T0, minutes=3)
    assert s.speaker and s.speaker.deadline == T0 + 15 * MIN
    s = run.do("queue.move", T0, workshop="atelier-acces", position=4)
    assert [x.status for x in s.queue if x.workshop == "atelier-acces"] == ["pending"]


def test_the_last_speaker_can_be_closed_then_the_queue_is_empty() -> None:
    run = Run()
    run.do("step.goto", step="restitution", t=T0)
    for _ in range(5):
        run.do("queue.next", T0)
    s = run.do("queue.next", T0)
    assert s.current_speaker is None and all(x.status == "done" for x in s.queue)
    with pytest.raises(Rejected) as exc:
        run.do("queue.next", T0)
    assert exc.value.code == "queue_empty"


def test_a_message_to_all_sites_and_one_per_site_show_at_once() -> None:
    run = Run(POITIERS)
    run.do("message.show", text="Reprise à 14 h")
    run.do("message.show", text="Café en salle B", site="niort")
    s = run.do("message.show", text="Navette à 17 h", site="angouleme")
    assert s.message.visible and s.message.text == "Reprise à 14 h"
    assert {k: m.text for k, m in s.site_messages.items()} == {
        "niort": "Café en salle B",
        "angouleme": "Navette à 17 h",
    }
    with pytest.raises(Rejected) as exc:
        run.do("message.show", text="x", site="lyon")
    assert exc.value.code == "no_such_site"


def test_hiding_one_message_leaves_the_others() -> None:
    run = Run(POITIERS)
    run.do("message.show", text="Reprise à 14 h")
    run.do("message.show", text="Café en salle B", site="niort")
    s = run.do("message.hide", site="niort")
    assert "niort" not in s.site_messages  # dropped: its text reaches nobody any more
    assert s.message.visible
    s = run.do("message.hide")
    assert not s.message.visible
    with pytest.raises(Rejected) as exc:
        run.do("message.hide")
    assert exc.value.code == "no_message"
    with pytest.raises(Rejected):
        run.do("message.hide", site="niort")


def test_a_site_sees_only_its_own_message_and_the_regie_sees_all() -> None:
    run = Run(POITIERS)
    run.do("message.show", text="Reprise à 14 h")
    run.do("message.show", text="Café en salle B", site="niort")
    public = run.state.public()
    assert view(public, "niort")["site_messages"].keys() == {"niort"}
    assert view(public, "angouleme")["site_messages"] == {}
    assert view(public, "")["site_messages"] == {}
    assert view(public, "")["message"]["text"] == "Reprise à 14 h"
    assert view(public, EVERYONE)["site_messages"].keys() == {"niort"}


def test_a_snapshot_from_before_messages_per_site_loads_its_message_as_a_site_one() -> None:
    old = State().to_dict()
    del old["site_messages"], old["lanes"]
    old["message"] = {"text": "Café", "site": "niort", "visible": True}
    s = State.from_dict(old)
    assert not s.message.visible and s.site_messages["niort"].text == "Café"


def test_drift_says_how_far_behind_the_schedule_is() -> None:
    run = Run()
    run.do("step.next", T0)  # a rehearsal: the schedule is anchored on this start
    assert schedule(run.state, ARIEGE, T0)["drift_ms"] == 0
    run.do("timer.adjust", T0, minutes=10)
    sch = schedule(run.state, ARIEGE, T0)
    assert sch["drift_ms"] == 10 * MIN
    assert sch["projected_end"] == sch["planned_end"] + 10 * MIN  # type: ignore[operator]
    # Overtime keeps pushing the end back while nobody moves on.
    assert schedule(run.state, ARIEGE, T0 + 60 * MIN)["drift_ms"] == 15 * MIN


def test_on_the_day_the_schedule_is_the_planned_clock_time() -> None:
    run = Run()
    planned = ARIEGE.planned_start_ms(0)
    run.do("step.next", planned + 7 * MIN)  # the plenary starts 7 minutes late
    assert run.state.origin == planned
    assert schedule(run.state, ARIEGE, planned + 7 * MIN)["drift_ms"] == 7 * MIN


def test_an_entry_out_of_sequence_is_refused() -> None:
    with pytest.raises(Rejected) as exc:
        apply(State(), {"seq": 2, "t": T0, "name": "step.next", "args": {}}, ARIEGE)
    assert exc.value.code == "seq_gap"


def test_state_survives_a_round_trip_through_its_snapshot() -> None:
    run = Run()
    run.do("step.goto", step="restitution", t=T0)
    run.do("queue.next", T0)
    assert State.from_dict(run.state.to_dict()) == run.state


def test_ending_the_event_stops_every_timer_and_refuses_to_go_on() -> None:
    run = Run()
    run.do("step.goto", step="restitution", t=T0)
    run.do("queue.next", T0)
    s = run.do("event.end", T0 + 5 * MIN)
    assert s.ended == T0 + 5 * MIN
    assert s.timer and s.timer.status == "done" and s.timer.remaining(T0 + 90 * MIN) == 55 * MIN
    assert s.speaker and s.speaker.status == "done"
    assert [slot.status for slot in s.queue][:2] == ["done", "pending"]
    for name in ("step.next", "timer.start", "timer.adjust", "queue.next", "event.end"):
        with pytest.raises(Rejected) as exc:
            run.do(name, T0 + 6 * MIN, **({"minutes": 5} if name == "timer.adjust" else {}))
        assert exc.value.code == "ended"
    s = run.do("message.show", T0 + 6 * MIN, text="Merci, à bientôt")  # still allowed
    assert s.message.visible


def test_going_back_to_a_step_reopens_an_ended_event() -> None:
    run = Run()
    run.do("step.goto", step="restitution", t=T0)
    run.do("event.end", T0 + MIN)
    s = run.do("step.goto", T0 + 2 * MIN, step="restitution")
    assert s.ended is None and s.timer and s.timer.status == "running"


def test_next_at_the_last_step_says_to_end_the_event() -> None:
    run = Run()
    run.do("step.goto", step="restitution")
    with pytest.raises(Rejected) as exc:
        run.do("step.next")
    assert exc.value.code == "at_last_step"


def test_undo_puts_back_a_step_left_by_mistake_with_its_deadline_unchanged() -> None:
    run = Run()
    run.do("step.next", T0)
    before = run.do("timer.adjust", T0 + MIN, minutes=5)
    run.do("step.next", T0 + 10 * MIN)  # a stray → during the plenary
    s = run.do("undo", T0 + 10 * MIN + 3000, seq=run.state.seq)
    assert step_id(run) == "pleniere"
    assert s.timer == before.timer and s.timer and s.timer.deadline == T0 + 50 * MIN
    assert s.seq == 4  # the undo is itself an entry of the log


def test_undo_of_a_reset_gives_back_the_speaking_queue() -> None:
    run = Run(POITIERS)
    run.do("step.goto", step="restitutions", t=T0)
    run.do("queue.next", T0)
    run.do("queue.next", T0 + 3 * MIN)
    queue = list(run.state.queue)
    run.do("timer.reset", T0 + 4 * MIN)  # R pressed by mistake
    s = run.do("undo", T0 + 4 * MIN, seq=run.state.seq)
    assert s.queue == queue and s.speaker and s.speaker.status == "running"


def test_undo_names_the_command_it_takes_back_and_refuses_a_stale_one() -> None:
    run = Run()
    s = run.do("step.next", T0)
    assert s.last is not None and s.last["name"] == "step.next" and s.last["seq"] == 1
    run.do("timer.pause", T0 + MIN)
    with pytest.raises(Rejected) as exc:  # a second facilitator paused in between
        run.do("undo", T0 + MIN, seq=1)
    assert exc.value.code == "undo_stale"


def test_an_undo_cannot_be_undone_and_there_is_nothing_to_undo_at_first() -> None:
    run = Run()
    with pytest.raises(Rejected) as exc:
        run.do("undo", T0, seq=1)
    assert exc.value.code == "nothing_to_undo"
    run.do("step.next", T0)
    s = run.do("undo", T0, seq=1)
    assert s.step is None and s.last is None
    with pytest.raises(Rejected) as exc:
        run.do("undo", T0, seq=2)
    assert exc.value.code == "nothing_to_undo"


def test_the_state_kept_for_undo_is_not_sent_to_clients() -> None:
    run = Run()
    run.do("step.next", T0)
    run.do("step.next", T0)
    public = run.state.public()
    assert "previous" not in public and public["last"]["name"] == "step.next"
    assert run.state.previous is not None and run.state.previous["previous"] is None


# -- properties ------------------------------------------------------------------------

COMMANDS = st.one_of(
    st.tuples(
        st.sampled_from(
            [
                "step.next",
                "step.previous",
                "timer.start",
                "timer.pause",
                "timer.resume",
                "timer.reset",
                "queue.next",
                "message.hide",
                "event.end",
                "undo",
            ]
        ),
        st.just({}),
    ),
    st.tuples(
        st.just("timer.adjust"),
        st.fixed_dictionaries({"minutes": st.integers(-30, 30).filter(bool)}),
    ),
    st.tuples(st.just("step.goto"), st.fixed_dictionaries({"index": st.integers(0, 8)})),
    st.tuples(
        st.sampled_from(["workshop.close", "workshop.reopen", "queue.skip"]),
        st.fixed_dictionaries({"workshop": st.sampled_from([w.id for w in POITIERS.workshops])}),
    ),
    st.tuples(
        st.just("workshop.adjust"),
        st.fixed_dictionaries(
            {
                "workshop": st.sampled_from([w.id for w in POITIERS.workshops]),
                "minutes": st.integers(1, 10),
            }
        ),
    ),
    st.tuples(
        st.just("queue.move"),
        st.fixed_dictionaries(
            {
                "workshop": st.sampled_from([w.id for w in POITIERS.workshops]),
                "position": st.integers(0, 4),
            }
        ),
    ),
    st.tuples(st.just("message.show"), st.fixed_dictionaries({"text": st.text(min_size=1)})),
    st.tuples(
        st.sampled_from(["floor.ask", "floor.cancel"]),
        st.fixed_dictionaries({"site": st.sampled_from([s.id for s in POITIERS.sites])}),
    ),
    st.tuples(
        st.just("floor.give"),
        st.fixed_dictionaries(
            {"feed": st.sampled_from(["speaker", *(f"site:{s.id}" for s in POITIERS.sites)])}
        ),
    ),
    st.tuples(st.just("floor.back"), st.just({})),
)
SESSIONS = st.lists(st.tuples(COMMANDS, st.integers(0, 20 * MIN)), max_size=40)


def play(session: list[Any]) -> Run:
    run = Run(POITIERS)
    t = T0
    for (name, args), gap in session:
        t += gap
        if name == "undo":
            args = {"seq": run.state.last["seq"] if run.state.last else 1}
        with contextlib.suppress(Rejected):
            run.do(name, t, **args)
    return run


@settings(max_examples=200, deadline=None)
@given(SESSIONS)
def test_replaying_the_log_from_scratch_equals_the_live_state(session: list[Any]) -> None:
    run = play(session)
    assert replay(run.log, POITIERS) == run.state
    # and from any snapshot along the way
    cut = len(run.log) // 2
    snap = State.from_dict(replay(run.log[:cut], POITIERS).to_dict())
    assert replay(run.log[cut:], POITIERS, snap) == run.state


@settings(max_examples=200, deadline=None)
@given(SESSIONS, st.lists(st.integers(0, 200 * MIN), min_size=2, max_size=20))
def test_a_countdown_never_goes_backwards(session: list[Any], instants: list[int]) -> None:
    """Between commands, time left only decreases as time passes; pause freezes it."""
    state = play(session).state
    last_t = T0 + sum(g for _, g in session)
    for timer in [state.timer, state.speaker, *state.workshops.values()]:
        if timer is None:
            continue
        left = [timer.remaining(last_t + dt) for dt in sorted(instants)]
        assert left == sorted(left, reverse=True)
        if timer.status != "running":
            assert len(set(left)) == 1


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 100 * MIN), st.integers(0, 100 * MIN), st.integers(0, 100 * MIN))
def test_pause_and_resume_lose_no_time(before: int, paused: int, after: int) -> None:
    t = Timer(45 * MIN)
    t.start(T0)
    t.pause(T0 + before)
    t.resume(T0 + before + paused)
    assert t.remaining(T0 + before + paused + after) == 45 * MIN - before - after
