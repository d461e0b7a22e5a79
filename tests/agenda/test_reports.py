"""Experience reports ("retours d'expériences"): in the event file, and run turn by turn
like restitution slots — from the régie, or by the rapporteur of the workshop."""

from __future__ import annotations

from typing import Any

import pytest

from live.agenda.commands import CommandError, apply, check
from live.agenda.state import MINUTE, Rejected, State
from live.event_file import DefinitionError, parse_event
from live.model import Event

T0 = 1_700_000_000_000

EVENT = """
id: rex
title: Retours d'expériences
date: 2020-10-13
sites:
  - {id: nancy, name: Nancy, hub: true}
  - {id: reims, name: Reims}
themes:
  - {id: enseigner, title: Enseigner avec le numérique}
agenda:
  - id: pleniere
    kind: plenary
    title: Trois retours remarquables
    start: "09:00"
    duration: 20
    reports:
      - {title: Lycée 4.0 au lycée Loritz, presenter: Mme Klein, site: nancy, minutes: 6}
      - {id: ent, title: Mon bureau numérique, presenters: [M. Roth, Mme Weber], minutes: 7}
  - {id: ateliers, kind: workshops, title: Ateliers, start: "09:30", duration: 60}
  - id: restitution
    kind: restitution
    title: Restitution
    start: "10:30"
    duration: 20
    queue: reports
workshops:
  - id: enseigner-nancy
    theme: enseigner
    site: nancy
    capacity: 30
    reports:
      - {title: Moodle en seconde, presenter: Équipe du lycée Poincaré, minutes: 4}
      - {title: Classe inversée, minutes: 5}
  - {id: enseigner-reims, theme: enseigner, site: reims, capacity: 30}
"""


def event(text: str = EVENT) -> Event:
    return parse_event(text, "rex.yaml")


class Run:
    def __init__(self) -> None:
        self.event = event()
        self.state = State()

    def do(self, name: str, t: int = T0, **args: Any) -> State:
        entry = {"seq": self.state.seq + 1, "t": t, "name": name, "args": args}
        self.state = apply(self.state, entry, self.event)
        return self.state


def test_a_report_has_a_title_presenters_a_site_and_minutes() -> None:
    ev = event()
    first, second = ev.agenda[0].reports
    assert (first.title, first.presenters, first.site, first.minutes) == (
        "Lycée 4.0 au lycée Loritz",
        ("Mme Klein",),
        "nancy",
        6,
    )
    assert second.presenters == ("M. Roth", "Mme Weber") and second.site is None


def test_a_report_without_an_id_is_named_after_its_owner_and_rank() -> None:
    ev = event()
    assert [r.id for r in ev.agenda[0].reports] == ["pleniere-1", "ent"]
    assert [r.id for r in ev.workshops[0].reports] == ["enseigner-nancy-1", "enseigner-nancy-2"]
    assert ev.report("ent") is not None


def test_a_report_id_used_twice_is_refused_at_the_duplicate() -> None:
    text = EVENT.replace("{id: ent,", "{id: pleniere-1,")
    with pytest.raises(DefinitionError) as exc:
        event(text)
    line = next(i for i, x in enumerate(text.splitlines(), 1) if "{id: pleniere-1," in x)
    assert exc.value.problems == [
        f"rex.yaml:{line}: agenda[0].reports[1].id: duplicate report id 'pleniere-1', "
        f"already used at line {line - 1}"
    ]


def test_a_report_at_an_unknown_site_is_refused_at_its_line() -> None:
    text = EVENT.replace("site: nancy, minutes: 6", "site: metz, minutes: 6")
    with pytest.raises(DefinitionError) as exc:
        event(text)
    line = next(i for i, x in enumerate(text.splitlines(), 1) if "site: metz" in x)
    assert exc.value.problems == [
        f"rex.yaml:{line}: agenda[0].reports[0].site: unknown site 'metz'"
    ]


def test_presenter_and_presenters_together_are_refused() -> None:
    with pytest.raises(DefinitionError) as exc:
        event(EVENT.replace("presenter: Mme Klein", "presenter: Mme Klein, presenters: [X]"))
    assert "give either presenter or presenters" in exc.value.problems[0]


def test_only_a_restitution_queues_reports() -> None:
    text = EVENT.replace("title: Ateliers, start", "title: Ateliers, queue: reports, start")
    with pytest.raises(DefinitionError) as exc:
        event(text)
    assert "only a restitution calls reports in turn" in exc.value.problems[0]


def test_a_step_with_reports_calls_them_in_turn_each_with_its_minutes() -> None:
    run = Run()
    s = run.do("step.next")
    assert [(slot.report, slot.duration_ms) for slot in s.queue] == [
        ("pleniere-1", 6 * MINUTE),
        ("ent", 7 * MINUTE),
    ]
    s = run.do("queue.next", T0 + 1000)
    assert s.queue[0].status == "speaking" and s.speaker is not None
    assert s.speaker.deadline == T0 + 1000 + 6 * MINUTE
    s = run.do("queue.next", T0 + 2000)
    assert [slot.status for slot in s.queue] == ["done", "speaking"]
    assert s.speaker is not None and s.speaker.duration_ms == 7 * MINUTE


def test_a_report_can_be_skipped_or_moved_by_its_id() -> None:
    run = Run()
    run.do("step.next")
    s = run.do("queue.move", report="ent", position=0)
    assert [slot.report for slot in s.queue] == ["ent", "pleniere-1"]
    s = run.do("queue.skip", report="ent")
    assert s.queue[0].status == "skipped"
    with pytest.raises(Rejected) as exc:
        run.do("queue.skip", report="nope")
    assert exc.value.code == "no_such_slot"


def test_a_restitution_may_queue_the_reports_of_its_workshops() -> None:
    run = Run()
    s = run.do("step.goto", step="restitution")
    assert [(slot.workshop, slot.report) for slot in s.queue] == [
        ("enseigner-nancy", "enseigner-nancy-1"),
        ("enseigner-nancy", "enseigner-nancy-2"),
    ]
    assert [slot.duration_ms for slot in s.queue] == [4 * MINUTE, 5 * MINUTE]


def test_each_workshop_presents_its_own_reports_during_the_workshops() -> None:
    run = Run()
    s = run.do("step.goto", step="ateliers")
    assert set(s.workshops) == {"enseigner-nancy", "enseigner-reims"}
    assert list(s.lanes) == ["enseigner-nancy"]  # Reims has no report to present
    s = run.do("queue.next", T0 + 5000, lane="enseigner-nancy")
    lane = s.lanes["enseigner-nancy"]
    assert lane.queue[0].status == "speaking"
    assert lane.speaker is not None and lane.speaker.deadline == T0 + 5000 + 4 * MINUTE
    assert s.speaker is None  # the step's own queue is untouched
    with pytest.raises(Rejected) as exc:
        run.do("queue.next", lane="enseigner-reims")
    assert exc.value.code == "no_such_lane"


def test_pausing_the_step_pauses_the_report_being_presented() -> None:
    run = Run()
    run.do("step.goto", step="ateliers")
    run.do("queue.next", T0, lane="enseigner-nancy")
    s = run.do("timer.pause", T0 + MINUTE)
    lane = s.lanes["enseigner-nancy"]
    assert lane.speaker is not None and lane.speaker.status == "paused"
    assert lane.speaker.remaining_ms == 3 * MINUTE


def test_the_rapporteur_advances_its_own_workshops_reports() -> None:
    run = Run()
    run.do("step.goto", step="ateliers")
    args = check("report.next", {}, "rapporteur", workshop="enseigner-nancy")
    assert args == {"workshop": "enseigner-nancy"}
    s = run.do("report.next", **args)
    assert s.lanes["enseigner-nancy"].queue[0].status == "speaking"
    s = run.do("report.next", **args)
    assert [x.status for x in s.lanes["enseigner-nancy"].queue] == ["done", "speaking"]


def test_a_rapporteur_may_not_advance_another_workshop() -> None:
    with pytest.raises(CommandError) as exc:
        check(
            "report.next", {"workshop": "enseigner-reims"}, "rapporteur", workshop="enseigner-nancy"
        )
    assert exc.value.code == "forbidden"
    with pytest.raises(CommandError):
        check("report.next", {}, "screen", site="nancy")
    with pytest.raises(CommandError):
        check("queue.next", {"lane": "enseigner-nancy"}, "rapporteur", workshop="enseigner-nancy")


def test_in_a_restitution_the_rapporteur_advances_only_on_its_workshops_turn() -> None:
    run = Run()
    run.do("step.goto", step="restitution")
    s = run.do("report.next", workshop="enseigner-nancy")  # nobody speaks: its turn is next
    assert s.queue[0].status == "speaking"
    with pytest.raises(Rejected) as exc:
        run.do("report.next", workshop="enseigner-reims")
    assert exc.value.code == "not_your_turn"


def test_ending_the_event_closes_every_report_being_presented() -> None:
    run = Run()
    run.do("step.goto", step="ateliers")
    run.do("queue.next", lane="enseigner-nancy")
    s = run.do("event.end", T0 + 1000)
    assert s.lanes["enseigner-nancy"].queue[0].status == "done"
    lane = s.lanes["enseigner-nancy"]
    assert lane.speaker is not None and lane.speaker.status == "done"


def test_lanes_survive_a_snapshot() -> None:
    run = Run()
    run.do("step.goto", step="ateliers")
    s = run.do("queue.next", lane="enseigner-nancy")
    assert State.from_dict(s.to_dict()) == s
