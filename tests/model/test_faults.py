"""Event files with one mistake: the organizer is told exactly that mistake, at its line.

Valid events are generated as YAML text, line by line, by a builder that remembers the line
of every field; one fault is then injected into the generated event, and the parser must
report that fault alone, at the line the builder wrote it (and, for a fault spanning two
places such as a duplicate, an overlap or a second hub, name the other place's line too).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import get_args

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from live.event_file import DefinitionError, parse_event, parse_event_with_warnings
from live.model import StepKind

Loc = tuple[str | int, ...]

KINDS = get_args(StepKind)
IDS = st.from_regex(r"[a-z0-9][a-z0-9_-]{0,11}", fullmatch=True)
DAY = 24 * 60
SHORT = settings(max_examples=50, deadline=None)


# -- the event, as plain data an injected fault can change ------------------------------


@dataclass
class SiteSpec:
    id: str
    hub: bool = False


@dataclass
class StepSpec:
    id: str
    kind: str
    start: int  # minutes after midnight
    duration: int
    sites: list[str] = field(default_factory=list)  # none: every site

    @property
    def end(self) -> int:
        return self.start + self.duration


@dataclass
class WorkshopSpec:
    id: str
    theme: str
    site: str
    capacity: int


@dataclass
class EventSpec:
    sites: list[SiteSpec]
    themes: list[str]
    agenda: list[StepSpec]
    workshops: list[WorkshopSpec]


@st.composite
def events(
    draw: st.DrawFn, min_sites: int = 1, min_steps: int = 1, min_workshops: int = 0
) -> EventSpec:
    """A valid event: unique ids, one hub among several sites, steps in order without
    overlap, workshops of existing themes on existing sites."""
    site_ids = draw(st.lists(IDS, min_size=min_sites, max_size=4, unique=True))
    sites = [SiteSpec(ident) for ident in site_ids]
    if len(sites) > 1 or draw(st.booleans()):
        sites[draw(st.integers(0, len(sites) - 1))].hub = True
    themes = draw(st.lists(IDS, min_size=1 if min_workshops else 0, max_size=3, unique=True))
    agenda = []
    start = draw(st.integers(8 * 60, 9 * 60))
    for ident in draw(st.lists(IDS, min_size=min_steps, max_size=5, unique=True)):
        step = StepSpec(
            ident,
            draw(st.sampled_from(KINDS)),
            start,
            draw(st.integers(5, 120)),
            draw(st.lists(st.sampled_from(site_ids), unique=True)),
        )
        agenda.append(step)
        start = step.end + draw(st.integers(0, 60))  # the day ends before 23:00
    workshops = []
    if themes:
        for ident in draw(st.lists(IDS, min_size=min_workshops, max_size=4, unique=True)):
            theme, site = draw(st.sampled_from(themes)), draw(st.sampled_from(site_ids))
            workshops.append(WorkshopSpec(ident, theme, site, draw(st.integers(1, 50))))
    return EventSpec(sites, themes, agenda, workshops)


# -- the YAML text, written line by line --------------------------------------------------


class Builder:
    """Lines of YAML, remembering at which line each field was written."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.at: dict[Loc, int] = {}

    def line(self, text: str, loc: Loc | None = None) -> None:
        self.lines.append(text)
        if loc is not None:
            self.at[loc] = len(self.lines)

    @property
    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def q(ident: str) -> str:
    """Quoted, so that an id such as `123` or `on` stays text."""
    return f'"{ident}"'


def hhmm(minutes: int) -> str:
    return f"{minutes // 60 % 24:02d}:{minutes % 60:02d}"


def render(event: EventSpec) -> Builder:
    b = Builder()
    b.line('id: "generated"')
    b.line('title: "Generated event"')
    b.line("date: 2026-11-23")
    b.line("registration:")
    b.line("  wishes: 1")  # no site short of workshops to wish for: no warning
    b.line("sites:")
    for i, site in enumerate(event.sites):
        b.line(f"  - id: {q(site.id)}", ("sites", i, "id"))
        b.line(f'    name: "Site {i + 1}"')
        if site.hub:
            b.line("    hub: true", ("sites", i, "hub"))
    if event.themes:
        b.line("themes:")
        for i, theme in enumerate(event.themes):
            b.line(f"  - id: {q(theme)}", ("themes", i, "id"))
            b.line(f'    title: "Theme {i + 1}"')
    b.line("agenda:")
    for i, step in enumerate(event.agenda):
        b.line(f"  - id: {q(step.id)}", ("agenda", i, "id"))
        b.line(f"    kind: {q(step.kind)}", ("agenda", i, "kind"))
        b.line(f'    title: "Step {i + 1}"')
        b.line(f'    start: "{hhmm(step.start)}"', ("agenda", i, "start"))
        b.line(f"    duration: {step.duration}", ("agenda", i, "duration"))
        if step.sites:
            b.line(f"    sites: [{', '.join(q(s) for s in step.sites)}]", ("agenda", i, "sites"))
    if event.workshops:
        b.line("workshops:")
        for i, w in enumerate(event.workshops):
            b.line(f"  - id: {q(w.id)}", ("workshops", i, "id"))
            b.line(f"    theme: {q(w.theme)}", ("workshops", i, "theme"))
            b.line(f"    site: {q(w.site)}", ("workshops", i, "site"))
            b.line(f"    capacity: {w.capacity}", ("workshops", i, "capacity"))
    return b


# -- one fault, and what the organizer must read about it ---------------------------------


@dataclass
class Fault:
    """Where the problem is reported, and its exact text with `{}` for each referred line
    (or, for a field the schema refuses, words the reason must contain)."""

    loc: Loc
    text: str = ""
    refs: tuple[Loc, ...] = ()
    contains: str = ""
    injected: Loc | None = None  # the changed line, when it is not where it is reported


def field_name(loc: Loc) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".")


def assert_reports_exactly(event: EventSpec, fault: Fault) -> None:
    b = render(event)
    with pytest.raises(DefinitionError) as exc:
        parse_event(b.text, "event.yaml")
    (problem,) = exc.value.problems
    line, refs = b.at[fault.loc], [b.at[r] for r in fault.refs]
    prefix = f"event.yaml:{line}: {field_name(fault.loc)}: "
    if fault.text:
        assert problem == prefix + fault.text.format(*refs), b.text
    else:
        assert problem.startswith(prefix) and fault.contains in problem, b.text
    assert b.at[fault.injected or fault.loc] in (line, *refs)


def pick(data: st.DataObject, low: int, high: int) -> int:
    return data.draw(st.integers(low, high))


# -- properties ---------------------------------------------------------------------------


@SHORT
@given(events())
def test_a_generated_valid_event_loads_warning_only_of_its_workshops_without_a_room(
    spec: EventSpec,
) -> None:
    """The generated workshops name no room (nor visio): each is warned at its row, as an
    organizer would be; nothing else is."""
    b = render(spec)
    event, warnings = parse_event_with_warnings(b.text, "event.yaml")
    assert warnings == [
        f"event.yaml:{b.at[('workshops', i, 'id')]}: workshops[{i}].room: no room: "
        "participants will not know where to go (give `room`, or `visio_url`)"
        for i in range(len(spec.workshops))
    ]
    assert [s.id for s in event.sites] == [s.id for s in spec.sites]
    assert [hhmm(s.start.hour * 60 + s.start.minute) for s in event.agenda] == [
        hhmm(s.start) for s in spec.agenda
    ]
    assert [w.id for w in event.workshops] == [w.id for w in spec.workshops]
    hubs = [s for s in spec.sites if s.hub]
    assert event.hub.id == (hubs[0].id if hubs else spec.sites[0].id)


@SHORT
@given(events(), st.data())
def test_a_duplicate_site_id_is_reported_at_the_duplicate_naming_the_first(
    spec: EventSpec, data: st.DataObject
) -> None:
    j = pick(data, 0, len(spec.sites) - 1)
    at = pick(data, j + 1, len(spec.sites))
    spec.sites.insert(at, SiteSpec(spec.sites[j].id))
    if not any(s.hub for s in spec.sites):
        spec.sites[0].hub = True  # two sites now: one must lead, as in a valid event
    text = f"duplicate id {spec.sites[j].id!r}, already used at line {{}}"
    assert_reports_exactly(spec, Fault(("sites", at, "id"), text, (("sites", j, "id"),)))


@SHORT
@given(events(min_steps=2), st.data())
def test_a_duplicate_step_id_is_reported_at_the_duplicate_naming_the_first(
    spec: EventSpec, data: st.DataObject
) -> None:
    k = pick(data, 1, len(spec.agenda) - 1)
    j = pick(data, 0, k - 1)
    spec.agenda[k].id = spec.agenda[j].id
    text = f"duplicate id {spec.agenda[j].id!r}, already used at line {{}}"
    assert_reports_exactly(spec, Fault(("agenda", k, "id"), text, (("agenda", j, "id"),)))


@SHORT
@given(events(min_workshops=1), st.data())
def test_a_duplicate_workshop_id_is_reported_at_the_duplicate_naming_the_first(
    spec: EventSpec, data: st.DataObject
) -> None:
    j = pick(data, 0, len(spec.workshops) - 1)
    at = pick(data, j + 1, len(spec.workshops))
    first = spec.workshops[j]
    spec.workshops.insert(at, WorkshopSpec(first.id, first.theme, first.site, first.capacity))
    text = f"duplicate id {first.id!r}, already used at line {{}}"
    assert_reports_exactly(spec, Fault(("workshops", at, "id"), text, (("workshops", j, "id"),)))


@SHORT
@given(events(min_sites=2), st.data())
def test_a_second_hub_is_reported_naming_the_first_hub_and_its_line(
    spec: EventSpec, data: st.DataObject
) -> None:
    (hub,) = [i for i, s in enumerate(spec.sites) if s.hub]
    k = data.draw(st.sampled_from([i for i in range(len(spec.sites)) if i != hub]))
    spec.sites[k].hub = True
    first, second = sorted((hub, k))  # the later one in the file is the second hub
    text = f"a second hub: site {spec.sites[first].id!r} at line {{}} is the hub already"
    fault = Fault(("sites", second, "hub"), text, (("sites", first, "hub"),))
    fault.injected = ("sites", k, "hub")
    assert_reports_exactly(spec, fault)


@SHORT
@given(events(min_steps=2), st.data())
def test_a_step_starting_before_the_previous_one_is_reported_naming_it(
    spec: EventSpec, data: st.DataObject
) -> None:
    k = pick(data, 1, len(spec.agenda) - 1)
    step, prev = spec.agenda[k], spec.agenda[k - 1]
    # Moved before the whole day and ending by its first start: out of order, no overlap.
    step.start = pick(data, 0, spec.agenda[0].start - step.duration)
    text = (
        f"step {step.id!r} starts at {hhmm(step.start)}, before step {prev.id!r} "
        f"(line {{}}, {hhmm(prev.start)}): steps must be in chronological order"
    )
    assert_reports_exactly(spec, Fault(("agenda", k, "start"), text, (("agenda", k - 1, "start"),)))


def overlap_text(step: StepSpec, prev: StepSpec) -> str:
    return (
        f"step {step.id!r} starts at {hhmm(step.start)}, while step {prev.id!r} "
        f"(line {{}}) runs until {hhmm(prev.end)} "
        "(shorten it, or add `allow_overlap: true` to a parallel step)"
    )


@SHORT
@given(events(min_steps=2), st.data())
def test_a_step_starting_while_the_previous_one_runs_on_its_sites_is_reported(
    spec: EventSpec, data: st.DataObject
) -> None:
    k = pick(data, 0, len(spec.agenda) - 2)
    prev, step = spec.agenda[k], spec.agenda[k + 1]
    step.sites = list(prev.sites)
    step.start = pick(data, prev.start, prev.end - 1)
    fault = Fault(("agenda", k + 1, "start"), overlap_text(step, prev), (("agenda", k, "start"),))
    assert_reports_exactly(spec, fault)


@SHORT
@given(events(min_steps=2), st.data())
def test_a_step_lengthened_over_the_next_one_on_its_sites_is_reported(
    spec: EventSpec, data: st.DataObject
) -> None:
    k = pick(data, 0, len(spec.agenda) - 2)
    step, nxt = spec.agenda[k], spec.agenda[k + 1]
    nxt.sites = list(step.sites)
    # Over the next step only: it ends by the start of the one after.
    until = spec.agenda[k + 2].start if k + 2 < len(spec.agenda) else DAY
    step.duration = pick(data, nxt.start + 1, until) - step.start
    fault = Fault(("agenda", k + 1, "start"), overlap_text(nxt, step), (("agenda", k, "start"),))
    fault.injected = ("agenda", k, "start")  # the lengthened step is named by its start line
    assert_reports_exactly(spec, fault)


@SHORT
@given(events(min_workshops=1), st.data())
def test_a_workshop_of_an_unknown_theme_is_reported_at_its_theme(
    spec: EventSpec, data: st.DataObject
) -> None:
    i = pick(data, 0, len(spec.workshops) - 1)
    spec.workshops[i].theme = data.draw(IDS.filter(lambda t: t not in spec.themes))
    text = f"unknown theme {spec.workshops[i].theme!r}"
    assert_reports_exactly(spec, Fault(("workshops", i, "theme"), text))


@SHORT
@given(events(min_workshops=1), st.data())
def test_a_workshop_on_an_unknown_site_is_reported_at_its_site(
    spec: EventSpec, data: st.DataObject
) -> None:
    i = pick(data, 0, len(spec.workshops) - 1)
    site_ids = {s.id for s in spec.sites}
    spec.workshops[i].site = data.draw(IDS.filter(lambda s: s not in site_ids))
    text = f"unknown site {spec.workshops[i].site!r}"
    assert_reports_exactly(spec, Fault(("workshops", i, "site"), text))


@SHORT
@given(events(), st.data())
def test_a_duplicate_theme_id_is_reported_at_the_duplicate_naming_the_first(
    spec: EventSpec, data: st.DataObject
) -> None:
    spec.themes = spec.themes or [data.draw(IDS)]
    j = pick(data, 0, len(spec.themes) - 1)
    at = pick(data, j + 1, len(spec.themes))
    spec.themes.insert(at, spec.themes[j])
    text = f"duplicate id {spec.themes[j]!r}, already used at line {{}}"
    assert_reports_exactly(spec, Fault(("themes", at, "id"), text, (("themes", j, "id"),)))


@SHORT
@given(events(), st.data())
def test_an_unknown_step_kind_is_reported_at_its_kind_listing_the_known_ones(
    spec: EventSpec, data: st.DataObject
) -> None:
    i = pick(data, 0, len(spec.agenda) - 1)
    spec.agenda[i].kind = data.draw(IDS.filter(lambda k: k not in KINDS))
    known = ", ".join(repr(k) for k in KINDS[:-1]) + f" or {KINDS[-1]!r}"
    assert_reports_exactly(spec, Fault(("agenda", i, "kind"), contains=known))


@SHORT
@given(events(), st.data())
def test_a_negative_duration_is_reported_at_its_duration(
    spec: EventSpec, data: st.DataObject
) -> None:
    i = pick(data, 0, len(spec.agenda) - 1)
    spec.agenda[i].duration = pick(data, -DAY, -1)
    fault = Fault(("agenda", i, "duration"), contains="greater than or equal to 1")
    assert_reports_exactly(spec, fault)


def test_a_subject_id_used_twice_in_a_theme_is_refused_at_the_duplicate() -> None:
    demo = Path(__file__).resolve().parents[2] / "live" / "demo" / "ariege-2020.yaml"
    text = demo.read_text(encoding="utf-8")
    assert parse_event(text).themes[0].subjects  # the demo's themes carry subjects
    twice = text.replace("{id: parentalite,", "{id: egalite,", 1)
    with pytest.raises(DefinitionError) as exc:
        parse_event(twice)
    (found,) = exc.value.found
    assert found.problem.code == "duplicate_id"
    assert found.problem.loc[:3] == ("themes", 0, "subjects")
