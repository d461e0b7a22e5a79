"""Editing the run-of-show live, as a facilitator would on the day: a break added, a step
dropped or moved, a title changed — while the running step's countdown is left alone."""

from __future__ import annotations

import json
from datetime import time
from pathlib import Path

import pytest

from live.agenda.commands import replay
from live.agenda.state import MINUTE, Rejected, State, live_event, schedule
from live.event_file import parse_event
from tests.agenda.test_catalogue import REGIE, SCREEN, Client, hub_with_demo
from tests.agenda.test_run_of_show import ARIEGE, T0, Run


def steps(run: Run) -> list[tuple[str, str, int]]:
    ev = live_event(run.state, run.event)
    return [(s.id, s.start.strftime("%H:%M"), s.duration) for s in ev.agenda]


def test_a_break_inserted_after_the_running_step_pushes_what_follows() -> None:
    run = Run(ARIEGE)
    before = run.do("step.next", T0)
    s = run.do("agenda.insert", T0 + MINUTE, after="pleniere", title="Pause café", duration=10)
    assert steps(run) == [
        ("pleniere", "13:30", 45),
        ("pause-cafe", "14:15", 10),
        ("ateliers", "14:25", 120),
        ("pause", "16:25", 15),
        ("restitution", "16:40", 60),
    ]
    assert s.step == 0 and s.timer == before.timer  # the running countdown is untouched
    assert live_event(s, run.event).agenda[1].kind == "custom"


def test_the_drift_and_projected_end_follow_an_insert() -> None:
    run = Run(ARIEGE)
    run.do("step.next", T0)
    now = T0 + MINUTE
    end_before = schedule(run.state, live_event(run.state, run.event), now)["projected_end"]
    s = run.do("agenda.insert", now, after="pleniere", title="Pause café", duration=10)
    end_after = schedule(s, live_event(s, run.event), now)["projected_end"]
    assert end_before is not None and end_after == end_before + 10 * MINUTE


def test_next_goes_to_the_inserted_step() -> None:
    run = Run(ARIEGE)
    run.do("step.next", T0)
    run.do("agenda.insert", after="pleniere", title="Intervention imprévue", duration=5)
    s = run.do("step.next", T0 + 2 * MINUTE)
    assert live_event(s, run.event).agenda[s.step or 0].id == "intervention-imprevue"
    assert s.timer is not None and s.timer.duration_ms == 5 * MINUTE


def test_a_step_that_has_not_started_can_be_removed_leaving_a_gap() -> None:
    run = Run(ARIEGE)
    run.do("step.next", T0)
    run.do("agenda.remove", step="pause")
    assert steps(run) == [
        ("pleniere", "13:30", 45),
        ("ateliers", "14:15", 120),
        ("restitution", "16:30", 60),  # still at its time: a removal leaves a gap
    ]


def test_the_running_step_and_past_ones_cannot_be_removed() -> None:
    run = Run(ARIEGE)
    run.do("step.goto", step="pause")
    for step in ("pleniere", "pause"):
        with pytest.raises(Rejected) as exc:
            run.do("agenda.remove", step=step)
        assert exc.value.code == "step_done"


def test_the_workshops_step_is_changed_in_the_studio_not_live() -> None:
    run = Run(ARIEGE)
    with pytest.raises(Rejected) as exc:
        run.do("agenda.remove", step="ateliers")
    assert exc.value.code == "not_live"


def test_a_later_step_can_be_moved_and_its_time_follows() -> None:
    run = Run(ARIEGE)
    run.do("step.next", T0)
    run.do("agenda.move", step="pause", position=1)
    assert steps(run) == [
        ("pleniere", "13:30", 45),
        ("pause", "14:15", 15),
        ("ateliers", "14:30", 120),
        ("restitution", "16:30", 60),
    ]
    with pytest.raises(Rejected) as exc:
        run.do("agenda.move", step="restitution", position=0)  # before the running step
    assert exc.value.code == "bad_position"


def test_a_later_step_is_retitled_or_resized_and_the_current_one_renamed() -> None:
    run = Run(ARIEGE)
    run.do("step.next", T0)
    run.do("agenda.edit", step="ateliers", duration=90)
    run.do("agenda.edit", step="pleniere", title="Ouverture par M. le Recteur")
    assert steps(run)[:3] == [
        ("pleniere", "13:30", 45),
        ("ateliers", "14:15", 90),
        ("pause", "16:15", 15),  # a shorter step leaves its planned time to the next
    ]
    assert live_event(run.state, run.event).agenda[0].title == "Ouverture par M. le Recteur"
    with pytest.raises(Rejected) as exc:
        run.do("agenda.edit", step="pleniere", duration=60)
    assert exc.value.code == "step_running"


def test_an_edit_is_undone_like_any_command() -> None:
    run = Run(ARIEGE)
    run.do("step.next", T0)
    s = run.do("agenda.insert", after="pleniere", title="Pause café", duration=10)
    s = run.do("undo", seq=s.seq)
    assert s.agenda is None and live_event(s, run.event) is run.event


def test_edits_replay_from_the_log_and_survive_a_snapshot() -> None:
    run = Run(ARIEGE)
    run.do("step.next", T0)
    run.do("agenda.insert", after="pleniere", title="Pause café", duration=10)
    run.do("agenda.edit", step="restitution", title="Restitutions des ateliers")
    replayed = replay(
        [
            {"seq": i + 1, "t": T0, "name": n, "args": a}
            for i, (n, a) in enumerate(
                [
                    ("step.next", {}),
                    ("agenda.insert", {"after": "pleniere", "title": "Pause café", "duration": 10}),
                    ("agenda.edit", {"step": "restitution", "title": "Restitutions des ateliers"}),
                ]
            )
        ],
        run.event,
    )
    assert replayed.agenda == run.state.agenda
    assert State.from_dict(run.state.to_dict()).agenda == run.state.agenda
    assert live_event(replayed, run.event).agenda[-1].start == time(16, 40)


def test_an_edit_of_the_agenda_is_not_sent_with_every_event() -> None:
    run = Run(ARIEGE)
    s = run.do("agenda.insert", after="pleniere", title="Pause café", duration=10)
    assert "agenda" not in s.public()


async def test_open_pages_receive_the_edited_event_once_before_the_event_itself() -> None:
    hub = await hub_with_demo()
    live = hub.events["ariege-2020"]
    screen = Client(SCREEN, maxsize=16)
    live.clients.add(screen)
    rev = live.rev
    await live.command("step.next", {}, REGIE, "a")
    args = {"after": "pleniere", "title": "Pause café", "duration": 10}
    await live.command("agenda.insert", args, REGIE, "b")
    frames = [json.loads(f) for f in screen.frames]
    assert [f["type"] for f in frames] == ["event", "definition", "event"]
    definition = frames[1]
    assert definition["rev"] == live.rev != rev
    assert [s["id"] for s in definition["event"]["agenda"]][:2] == ["pleniere", "pause-cafe"]
    assert json.loads(live.snapshot())["rev"] == live.rev  # a page that missed it refetches


async def test_a_new_definition_reaches_open_pages() -> None:
    hub = await hub_with_demo()
    live = hub.events["ariege-2020"]
    screen = Client(SCREEN, maxsize=16)
    live.clients.add(screen)
    text = (Path(__file__).resolve().parents[2] / "live" / "demo" / "ariege-2020.yaml").read_text()
    live.redefine(parse_event(text.replace("title: ", "title: Nouveau · ", 1)))
    (frame,) = [json.loads(f) for f in screen.frames]
    assert frame["type"] == "definition" and frame["event"]["title"].startswith("Nouveau · ")
