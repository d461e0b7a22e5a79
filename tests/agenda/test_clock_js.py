"""The browser's timer maths agree with the server's: `static/js/clock.js` (phase, thresholds,
schedule) and `show.js` (which countdown a place shows, who speaks) run under Node on cases
produced here by the Python domain, and must give the same answers."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from live.agenda.commands import apply
from live.agenda.protocol import event_info
from live.agenda.state import State, phase, schedule
from live.event_file import parse_event
from live.model import Timers
from tests.support.servers import ROOT, unavailable

pytestmark = pytest.mark.node
DEMO = ROOT / "live" / "demo"
POITIERS = parse_event((DEMO / "poitiers-2020.yaml").read_text())
T0 = 1_700_000_000_000
MIN = 60_000


def run(event_log: list[tuple[str, int, dict[str, Any]]]) -> list[State]:
    """The states after each command of a run-of-show."""
    state, states = State(), []
    for i, (name, t, args) in enumerate(event_log, start=1):
        state = apply(state, {"seq": i, "t": t, "name": name, "args": args}, POITIERS)
        states.append(state)
    return states


def node(cases: dict[str, Any]) -> dict[str, Any]:
    if shutil.which("node") is None:
        unavailable("node is not installed")
    script = Path(ROOT / "tests" / "js" / "clock-cases.mjs")
    done = subprocess.run(
        ["node", str(script)], input=json.dumps(cases), capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_clock_js_computes_what_the_server_computes() -> None:
    states = run(
        [
            ("step.goto", T0, {"step": "ateliers"}),
            ("workshop.adjust", T0 + MIN, {"workshop": "enseigner-niort", "minutes": 5}),
            ("timer.pause", T0 + 20 * MIN, {}),
            ("timer.resume", T0 + 25 * MIN, {}),
            ("step.goto", T0 + 70 * MIN, {"step": "restitutions"}),
            ("queue.next", T0 + 70 * MIN, {}),
            ("queue.adjust", T0 + 71 * MIN, {"minutes": 2}),
            ("timer.adjust", T0 + 72 * MIN, {"minutes": -3}),
        ]
    )
    instants = [0, 2 * MIN, 30 * MIN, 58 * MIN, 64 * MIN, 71 * MIN, 74 * MIN, 90 * MIN]
    phase_cases, expected_phases = [], []
    for state in states:
        for timer in [state.timer, state.speaker, *state.workshops.values()]:
            for timers in (Timers(), Timers(warning=600, danger=120)):
                for dt in instants:
                    phase_cases.append(
                        {
                            "timer": timer and timer.__dict__,
                            "now": T0 + dt,
                            "timers": timers.model_dump(),
                        }
                    )
                    expected_phases.append(
                        {
                            "phase": phase(timer, T0 + dt, timers),
                            "thresholds": list(timers.for_duration(timer.duration_ms))
                            if timer
                            else None,
                        }
                    )
    schedule_cases = [
        {"state": s.public(), "now": T0 + dt} for s in states for dt in (MIN, 45 * MIN, 95 * MIN)
    ]
    places = [
        {"state": s.public(), "site": site, "workshop": workshop}
        for s in states
        for site, workshop in (("niort", None), ("poitiers", None), (None, "acces-poitiers"))
    ]
    got = node(
        {
            "event": event_info(POITIERS),
            "phases": phase_cases,
            "schedules": schedule_cases,
            "places": places,
        }
    )
    assert got["phases"] == expected_phases
    assert got["schedules"] == [
        schedule(s, POITIERS, T0 + dt) for s in states for dt in (MIN, 45 * MIN, 95 * MIN)
    ]
    assert got["formats"] == ["00:00", "00:01", "00:01", "01:00", "1:00:00", "+00:00", "+01:01"]
    # A site with one workshop shows that workshop's own countdown (its +5 included); a
    # site with two shows the step's; the speaker's takes over during a restitution.
    workshops_step = got["places"][3:6]  # after the +5 on enseigner-niort
    assert workshops_step[0]["timer"] == states[1].workshops["enseigner-niort"].__dict__
    assert workshops_step[1]["timer"] == states[1].timer.__dict__  # type: ignore[union-attr]
    assert workshops_step[2]["timer"] == states[1].workshops["acces-poitiers"].__dict__
    restitution = got["places"][-3:]
    assert all(p["timer"] == states[-1].speaker.__dict__ for p in restitution)  # type: ignore[union-attr]
    assert restitution[0]["speaking"] == states[-1].current_speaker
