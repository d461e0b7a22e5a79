"""Event definition files: the demo events load, and mistakes are located precisely."""

from __future__ import annotations

from datetime import time
from pathlib import Path

import pytest

from live.event_file import DefinitionError, parse_event, parse_event_with_warnings
from live.model import DEFAULT_NOTES_TEMPLATE

DEMO = Path(__file__).resolve().parents[2] / "live" / "demo"

MINIMAL = """\
id: test
title: Test
date: 2026-11-23
sites:
  - id: hub
    name: Hub
agenda:
  - id: open
    kind: plenary
    title: Ouverture
    start: "09:00"
    duration: 30
"""


def problems(text: str) -> list[str]:
    with pytest.raises(DefinitionError) as exc:
        parse_event(text, "event.yaml")
    return exc.value.problems


def test_the_ariege_demo_follows_the_invitation() -> None:
    e = parse_event((DEMO / "ariege-2020.yaml").read_text())
    assert [(s.kind, s.start) for s in e.agenda] == [
        ("plenary", time(13, 30)),
        ("workshops", time(14, 15)),
        ("break", time(16, 15)),
        ("restitution", time(16, 30)),
    ]
    assert e.agenda[0].video and "Recteur" in e.agenda[0].speaker
    assert len(e.themes) == 5 and len(e.workshops) == 5
    assert e.timezone == "Europe/Paris"


def test_the_poitiers_demo_has_four_linked_sites() -> None:
    e = parse_event((DEMO / "poitiers-2020.yaml").read_text())
    assert len(e.sites) == 4 and e.hub.id == "poitiers"
    assert e.agenda[0].start == time(8, 30) and e.agenda[-1].start == time(12, 45)


def test_defaults_timezone_and_notes_template() -> None:
    e = parse_event(MINIMAL)
    assert e.timezone == "Europe/Paris"
    assert "## Constats" in e.notes_template and e.notes_template == DEFAULT_NOTES_TEMPLATE


def test_unquoted_times_are_read_as_clock_times() -> None:
    e = parse_event(MINIMAL.replace('"09:00"', "9:00"))
    assert e.agenda[0].start == time(9, 0)


def test_a_wrong_field_is_named_with_its_line() -> None:
    (problem,) = problems(MINIMAL.replace("kind: plenary", "kind: party"))
    assert problem.startswith("event.yaml:9: agenda[0].kind:")


def test_an_unknown_site_in_a_step_is_named_with_its_line() -> None:
    text = MINIMAL + "    sites: [lyon]\n"
    (problem,) = problems(text)
    assert problem.startswith("event.yaml:13: agenda[0].sites:") and "lyon" in problem


def test_a_workshop_of_an_unknown_theme_is_refused() -> None:
    text = MINIMAL + "workshops:\n  - {id: w, theme: nope, site: hub, capacity: 10}\n"
    (problem,) = problems(text)
    assert "workshops[0].theme" in problem and ":14:" in problem


def test_every_problem_is_listed_at_once() -> None:
    text = MINIMAL.replace("duration: 30", "duration: 0").replace("name: Hub", "name: ''")
    found = problems(text)
    assert len(found) == 2
    assert any("sites[0].name" in p for p in found) and any("duration" in p for p in found)


def test_invalid_yaml_reports_its_line() -> None:
    (problem,) = problems(MINIMAL + "  - [unclosed\n")
    assert problem.startswith("event.yaml:") and "invalid YAML" in problem


def test_steps_out_of_order_and_unknown_timezones_are_refused() -> None:
    text = MINIMAL.replace('"09:00"', '"09:00"') + (
        "  - {id: b, kind: break, title: Pause, start: '08:00', duration: 10}\n"
    )
    assert any("chronological" in p for p in problems(text))
    assert any("timezone" in p for p in problems(MINIMAL + "timezone: Mars/Olympus\n"))


def test_duplicate_ids_are_refused() -> None:
    text = MINIMAL + "  - {id: open, kind: break, title: Pause, start: '10:00', duration: 10}\n"
    assert any("duplicate id 'open'" in p for p in problems(text))


def test_a_step_may_name_an_external_visio_room_at_an_https_address() -> None:
    good = MINIMAL + "    visio_url: https://visio.example.org/pleniere\n"
    assert parse_event(good).agenda[0].visio_url == "https://visio.example.org/pleniere"
    for bad in ("http://visio.example.org/p", "javascript:alert(1)", "https://", "visio"):
        (problem,) = problems(MINIMAL + f"    visio_url: '{bad}'\n")
        assert problem.startswith("event.yaml:13: agenda[0].visio_url:") and "https://" in problem


# -- validation across fields: each problem named at its own line (issue 11) -------------

# Line 13 of MINIMAL + one step: a 90-minute round table from 09:30, over the 10:30 step.
ROUND_TABLE = (
    "  - {id: table, kind: round_table, title: Table ronde, start: '09:30', duration: 90}\n"
)
WORKSHOPS = "  - {id: ateliers, kind: workshops, title: Ateliers, start: '10:30', duration: 60}\n"


def test_overlapping_steps_are_refused_naming_both_steps_and_lines() -> None:
    (problem,) = problems(MINIMAL + ROUND_TABLE + WORKSHOPS)
    assert problem.startswith("event.yaml:14: agenda[2].start:")
    assert "'ateliers'" in problem and "'table' (line 13)" in problem and "11:00" in problem


def test_a_step_marked_allow_overlap_runs_in_parallel_with_a_warning() -> None:
    text = MINIMAL + ROUND_TABLE + WORKSHOPS.replace("duration: 60}", "duration: 60,\n")
    text += "     allow_overlap: true}\n"
    event, warnings = parse_event_with_warnings(text, "event.yaml")
    assert [s.id for s in event.agenda] == ["open", "table", "ateliers"]
    (warning,) = warnings
    assert warning.startswith("event.yaml:14: agenda[2].start:") and "'table' (line 13)" in warning


def test_steps_on_different_sites_may_run_at_the_same_time() -> None:
    text = MINIMAL.replace(
        "    name: Hub\n", "    name: Hub\n    hub: true\n  - {id: loin, name: Loin}\n"
    )
    text += "  - {id: a, kind: workshops, title: A, start: '09:30', duration: 60, sites: [hub]}\n"
    text += "  - {id: b, kind: break, title: B, start: '09:45', duration: 15, sites: [loin]}\n"
    assert parse_event_with_warnings(text)[1] == []


def test_steps_out_of_order_are_refused_naming_both_steps_and_lines() -> None:
    text = MINIMAL + "  - {id: tot, kind: break, title: Pause, start: '08:00', duration: 10}\n"
    (problem,) = problems(text)
    assert problem.startswith("event.yaml:13: agenda[1].start:")
    assert "'tot'" in problem and "'open' (line 11" in problem and "chronological" in problem


def test_a_duplicate_step_id_is_reported_at_the_duplicate() -> None:
    text = MINIMAL + "  - {id: open, kind: break, title: Pause, start: '10:00', duration: 10}\n"
    (problem,) = problems(text)
    assert problem.startswith("event.yaml:13: agenda[1].id: duplicate id 'open'")
    assert "line 8" in problem


def test_a_duplicate_site_or_workshop_id_is_reported_at_the_duplicate() -> None:
    text = MINIMAL.replace(
        "    name: Hub\n", "    name: Hub\n    hub: true\n  - {id: hub, name: B}\n"
    )
    (problem,) = problems(text)
    assert (
        problem.startswith("event.yaml:8: sites[1].id: duplicate id 'hub'") and "line 5" in problem
    )
    text = MINIMAL + (
        "themes: [{id: t, title: T}]\n"
        "workshops:\n"
        "  - {id: w, theme: t, site: hub, capacity: 10}\n"
        "  - {id: w, theme: t, site: hub, capacity: 10}\n"
    )
    (problem,) = problems(text)
    assert problem.startswith("event.yaml:16: workshops[1].id: duplicate id 'w'")
    assert "line 15" in problem


def test_two_hubs_are_refused_naming_both_lines() -> None:
    text = MINIMAL.replace(
        "    name: Hub\n",
        "    name: Hub\n    hub: true\n  - {id: b, name: B, hub: true}\n",
    )
    (problem,) = problems(text)
    assert problem.startswith("event.yaml:8: sites[1].hub: a second hub")
    assert "'hub' at line 7" in problem


def test_several_sites_without_a_hub_are_refused() -> None:
    (problem,) = problems(
        MINIMAL.replace("    name: Hub\n", "    name: Hub\n  - {id: b, name: B}\n")
    )
    assert problem.startswith("event.yaml:4: sites:") and "hub: true" in problem


def test_more_wishes_than_a_sites_workshops_is_a_warning() -> None:
    text = MINIMAL + (
        "themes: [{id: t, title: T}]\n"
        "workshops:\n"
        "  - {id: w1, theme: t, site: hub, capacity: 10, room: A1}\n"
        "  - {id: w2, theme: t, site: hub, capacity: 10, room: A2}\n"
        "registration: {wishes: 3}\n"
    )
    event, (warning,) = parse_event_with_warnings(text, "event.yaml")
    assert event.registration.wishes == 3
    assert warning.startswith("event.yaml:17: registration.wishes: 3 wishes")
    assert "'hub' has 2 (line 5)" in warning


def test_a_workshop_larger_than_its_site_is_a_warning() -> None:
    text = MINIMAL.replace("    name: Hub\n", "    name: Hub\n    capacity: 20\n") + (
        "themes: [{id: t, title: T}]\n"
        "workshops:\n"
        "  - {id: w1, theme: t, site: hub, capacity: 30, room: Amphi}\n"
        "registration: {wishes: 1}\n"
    )
    _, (warning,) = parse_event_with_warnings(text, "event.yaml")
    assert warning.startswith("event.yaml:16: workshops[0].capacity: 30 seats")
    assert "(20, line 7)" in warning


def test_a_workshop_without_a_room_is_a_warning_at_its_room() -> None:
    """Without a room, the confirmation, the personal page and the site sheet cannot say
    where to go: the organizer is told; a workshop held over visio needs none."""
    text = MINIMAL + (
        "themes: [{id: t, title: T}]\n"
        "workshops:\n"
        "  - {id: w1, theme: t, site: hub, capacity: 10}\n"
        "  - {id: w2, theme: t, site: hub, capacity: 10, visio_url: 'https://visio.example.org/w2'}\n"
        "  - {id: w3, theme: t, site: hub, capacity: 10, room: '  '}\n"
        "registration: {wishes: 1}\n"
    )
    _, warnings = parse_event_with_warnings(text, "event.yaml")
    assert [w.split(": ")[:2] for w in warnings] == [
        ["event.yaml:15", "workshops[0].room"],
        ["event.yaml:17", "workshops[2].room"],
    ]
    assert all("no room" in w for w in warnings)


def test_a_yaml_syntax_error_reads_without_the_parsers_noise() -> None:
    (problem,) = problems(MINIMAL + "  - [unclosed\n")
    assert problem.startswith("event.yaml:14: invalid YAML:")
    assert "<unicode string>" not in problem and "line" not in problem.split("YAML:")[1]


def test_the_demo_events_load_without_errors() -> None:
    for path in sorted(DEMO.glob("*.yaml")):
        event, _ = parse_event_with_warnings(path.read_text(), path.name)
        assert event.agenda


SPEAKERS = (
    MINIMAL.replace(
        "  - id: hub\n    name: Hub\n",
        "  - id: hub\n    name: Hub\n    hub: true\n  - id: niort\n    name: Niort\n",
    )
    + """\
    speakers:
      - {name: Mme Martin, role: "rectrice de l'académie", remote: true}
      - {name: M. Durand, role: député, site: niort}
    rooms: {hub: Amphi A, niort: "12"}
"""
)


def test_a_step_lists_its_speakers_with_their_roles_sites_and_remoteness() -> None:
    e = parse_event(SPEAKERS)
    step = e.agenda[0]
    assert [(p.name, p.role, p.site, p.remote) for p in step.speakers] == [
        ("Mme Martin", "rectrice de l'académie", None, True),
        ("M. Durand", "député", "niort", False),
    ]
    assert step.speaker == "Mme Martin, M. Durand", "one line for whoever shows one"
    assert [e.speaker_label(p) for p in step.speakers] == [
        "Mme Martin, rectrice de l'académie — à distance",
        "M. Durand, député (Niort)",
    ]


def test_a_single_speaker_string_still_loads_as_one_speaker_without_a_role() -> None:
    step = parse_event(MINIMAL + "    speaker: Monsieur le Recteur\n").agenda[0]
    assert step.speaker == "Monsieur le Recteur"
    assert [(p.name, p.role, p.remote) for p in step.speakers] == [
        ("Monsieur le Recteur", "", False)
    ]


def test_a_shared_step_says_in_which_room_each_site_gathers() -> None:
    step = parse_event(SPEAKERS).agenda[0]
    assert step.rooms == {"hub": "Amphi A", "niort": "12"}
    assert step.room_at("niort") == "12" and step.room_at("elsewhere") == ""


def test_a_room_for_an_unknown_site_is_refused_at_its_line() -> None:
    text = SPEAKERS.replace('niort: "12"', 'nort: "12"')
    line = text.splitlines().index('    rooms: {hub: Amphi A, nort: "12"}') + 1
    assert problems(text) == [f"event.yaml:{line}: agenda[0].rooms.nort: unknown site 'nort'"]


def test_a_room_for_a_site_outside_the_step_is_refused() -> None:
    text = SPEAKERS.replace("    speakers:", "    sites: [hub]\n    speakers:").replace(
        "site: niort", "site: hub"
    )
    (problem,) = problems(text)
    assert "agenda[0].rooms.niort: site 'niort' does not take part in this step" in problem


def test_a_speaker_at_an_unknown_site_is_refused_at_its_line() -> None:
    text = SPEAKERS.replace("site: niort", "site: nantes")
    line = next(i for i, t in enumerate(text.splitlines(), 1) if "nantes" in t)
    assert problems(text) == [
        f"event.yaml:{line}: agenda[0].speakers[1].site: unknown site 'nantes'"
    ]


def test_a_speaker_needs_a_name() -> None:
    (problem,) = problems(SPEAKERS.replace("name: M. Durand, ", ""))
    assert "agenda[0].speakers[1].name" in problem


def test_the_grand_est_demo_is_a_seven_site_day_of_thirty_experience_reports() -> None:
    e, warned = parse_event_with_warnings((DEMO / "grand-est-2020.yaml").read_text())
    assert warned == []
    assert e.id == "grand-est-2020" and len(e.sites) == 7
    assert [s.id for s in e.sites if s.hub] == [e.hub.id] == ["nancy"]
    assert len(e.reports_by_id()) >= 25, "about thirty retours d'expériences"
    (table,) = [s for s in e.agenda if s.kind == "round_table"]
    assert 3 <= len(e.reports_for(table)) <= 4, "a round of remarkable reports, in turn"
    opening = e.agenda[[s.kind for s in e.agenda].index("plenary")]
    assert [(p.name, p.site, p.remote) for p in opening.speakers] == [
        ("Jean-Marc Huart", "nancy", False),
        ("Bruno Studer", "strasbourg", False),
        ("Atissar Hibour", None, True),
    ]
    shared = [s for s in e.agenda if s.video]
    assert {"plenary", "round_table", "restitution"} <= {s.kind for s in shared}
    for step in shared:
        assert set(step.rooms) == {s.id for s in e.sites}, step.id
    for site in e.sites:
        assert len([w for w in e.workshops if w.site == site.id]) >= e.registration.wishes


def test_a_value_with_braces_is_quoted_as_it_is_in_the_error() -> None:
    text = (
        (DEMO / "ariege-2020.yaml")
        .read_text()
        .replace("kind: break", "kind: break\n    sites: ['{0}']", 1)
    )
    with pytest.raises(DefinitionError) as exc:
        parse_event(text, "ariege.yaml")
    assert any("unknown site '{0}'" in p for p in exc.value.problems)
