"""Properties of the studio's one validator and of its YAML: for generated events, the
export read back gives the same event and the same text, and an event with one fault is
refused by the browser's form exactly as `relais import` refuses the file (the same
problems at the same places, which the studio says in the page's language)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from live.event_checks import Loc, Problem
from live.event_file import DefinitionError, parse_event
from live.i18n import messages, plural_keys, translator
from live.studio import forms, validate
from live.studio.yaml_io import export
from tests.model.test_faults import KINDS, EventSpec, SiteSpec, WorkshopSpec, events, hhmm, render

IDS = st.from_regex(r"[a-z0-9][a-z0-9_-]{0,11}", fullmatch=True)
# Text as organizers type it: accents, quotes, colons, hashes, dashes, lines, spaces.
TEXT = st.text(
    st.one_of(
        st.characters(categories=("L", "N", "P", "S", "Zs")),
        st.sampled_from(list("'\":#-!&*?|>{}[],%@` \n")),
    ),
    min_size=1,
    max_size=24,
)
# What one line of a form holds: no line break, nothing around (the studio trims).
LINE = TEXT.map(lambda s: s.replace("\n", " ").strip()).filter(bool)
SOME = settings(max_examples=60, deadline=None)


# -- valid events, with every optional field the model knows --------------------------------


@st.composite
def rich_events(draw: st.DrawFn, text: st.SearchStrategy[str] = TEXT) -> dict[str, Any]:
    """A valid event as plain data: unique ids, one hub among several sites, steps in
    order without overlap, references to existing sites, themes and workshops."""
    site_ids = draw(st.lists(IDS, min_size=1, max_size=3, unique=True))
    sites: list[dict[str, Any]] = []
    for ident in site_ids:
        site: dict[str, Any] = {"id": ident, "name": draw(text)}
        if draw(st.booleans()):
            site["address"] = draw(text)
        if draw(st.booleans()):
            site["capacity"] = draw(st.integers(0, 500))
        sites.append(site)
    if len(sites) > 1 or draw(st.booleans()):
        sites[draw(st.integers(0, len(sites) - 1))]["hub"] = True
    theme_ids = draw(st.lists(IDS, max_size=3, unique=True))
    themes: list[dict[str, Any]] = [{"id": t, "title": draw(text)} for t in theme_ids]
    for theme in themes:  # a theme's subjects: what proposals and the questionnaire name
        subject_ids = draw(st.lists(IDS, max_size=4, unique=True))
        if subject_ids:
            theme["subjects"] = [{"id": i, "title": draw(text)} for i in subject_ids]
    report_ids: set[str] = set()

    def reports() -> list[dict[str, Any]]:
        out = []
        for _ in range(draw(st.integers(0, 2))):
            report: dict[str, Any] = {"title": draw(text)}
            if draw(st.booleans()):
                report["presenters"] = draw(st.lists(text, max_size=2))
            if draw(st.booleans()):
                report["site"] = draw(st.sampled_from(site_ids))
            if draw(st.booleans()):
                report["minutes"] = draw(st.integers(1, 30))
            if draw(st.booleans()):
                ident = draw(IDS.filter(lambda i: i not in report_ids and "-" not in i))
                report_ids.add(ident)
                report["id"] = ident
            out.append(report)
        return out

    agenda: list[dict[str, Any]] = []
    start = draw(st.integers(7 * 60, 9 * 60))
    step_ids = draw(st.lists(IDS, min_size=1, max_size=4, unique=True))
    for ident in step_ids:
        duration = draw(st.integers(5, 90))
        step: dict[str, Any] = {
            "id": ident,
            "kind": draw(st.sampled_from(KINDS)),
            "title": draw(text),
            "start": hhmm(start),
            "duration": duration,
        }
        taking_part = draw(st.lists(st.sampled_from(site_ids), unique=True))
        if taking_part:
            step["sites"] = taking_part
        speakers = []
        for _ in range(draw(st.integers(0, 2))):
            speaker: dict[str, Any] = {"name": draw(text)}
            if draw(st.booleans()):
                speaker["role"] = draw(text)
            if draw(st.booleans()):
                speaker["site"] = draw(st.sampled_from(site_ids))
            if draw(st.booleans()):
                speaker["remote"] = True
            speakers.append(speaker)
        if speakers and draw(st.booleans()):
            step["speakers"] = speakers
        elif draw(st.booleans()):
            step["speaker"] = draw(text)
        rooms = {s: draw(text) for s in (taking_part or site_ids) if draw(st.booleans())}
        if rooms:
            step["rooms"] = rooms
        for flag in ("video", "allow_overlap"):
            if draw(st.booleans()):
                step[flag] = True
        if draw(st.booleans()):
            step["slot"] = draw(st.integers(1, 20))
        if draw(st.booleans()):
            step["visio_url"] = f"https://visio.example.org/{draw(IDS)}"
        if draw(st.booleans()):
            step["reports"] = reports()
        agenda.append(step)
        start += duration + draw(st.integers(0, 30))
    workshops = []
    if themes:
        # not a step's id: their reports' derived ids (`{owner}-{n}`) would be the same
        others = IDS.filter(lambda i: i not in step_ids)
        for ident in draw(st.lists(others, max_size=3, unique=True)):
            w: dict[str, Any] = {
                "id": ident,
                "theme": draw(st.sampled_from(theme_ids)),
                "site": draw(st.sampled_from(site_ids)),
                "capacity": draw(st.integers(1, 60)),
            }
            for key in ("title", "room"):
                if draw(st.booleans()):
                    w[key] = draw(text)
            if draw(st.booleans()):
                w["min_size"] = draw(st.integers(0, 10))
            if draw(st.booleans()):
                w["visio_url"] = f"https://visio.example.org/{draw(IDS)}"
            if draw(st.booleans()):
                w["notes_template"] = draw(text)
            if draw(st.booleans()):
                w["reports"] = reports()
            workshops.append(w)
    data: dict[str, Any] = {
        "id": draw(IDS),
        "title": draw(text),
        "date": draw(st.dates(date(2020, 1, 1), date(2030, 12, 31))),
        "sites": sites,
        "agenda": agenda,
    }
    if draw(st.booleans()):
        data["timezone"] = draw(st.sampled_from(["Europe/Paris", "America/Cayenne", "UTC"]))
    if themes:
        data["themes"] = themes
    if workshops:
        data["workshops"] = workshops
    registration: dict[str, Any] = {}
    if draw(st.booleans()):
        registration["wishes"] = draw(st.integers(1, 5))
    if draw(st.booleans()):
        registration["categories"] = draw(st.lists(text, min_size=1, max_size=3))
    if draw(st.booleans()):
        registration["allow_free_seats"] = True
    if draw(st.booleans()):
        offset = timezone(timedelta(hours=draw(st.integers(-5, 5))))
        opens = draw(st.datetimes(datetime(2020, 1, 1), datetime(2030, 1, 1)))
        registration["opens"] = opens.replace(microsecond=0, tzinfo=offset)
    if registration:
        data["registration"] = registration
    if draw(st.booleans()):
        data["timers"] = {"warning": draw(st.integers(60, 300)), "danger": draw(st.integers(0, 59))}
    if draw(st.booleans()):
        data["notes_template"] = draw(text)
    return data


@SOME
@given(rich_events())
def test_an_export_read_back_is_the_same_event_and_exports_the_same_text(
    data: dict[str, Any],
) -> None:
    event = parse_event(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "event.yaml")
    text = export(event)
    again = parse_event(text, "export.yaml")
    assert again == event, text
    assert export(again) == text


@SOME
@given(rich_events(LINE))
def test_the_form_shows_an_event_as_it_is_and_saves_it_unchanged(data: dict[str, Any]) -> None:
    """Opened in the studio and saved without a change, an event stays the same event
    (its texts as one line of a form holds them; longer ones travel in `_extra`)."""
    from live.studio.yaml_io import event_data

    event = parse_event(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "event.yaml")
    raw = forms.from_data(event_data(event))
    posted = list(fields_of(raw).items())
    saved, problems = validate.check(forms.to_data(forms.parse(posted)))
    assert problems == [] and saved == event


def fields_of(raw: forms.Raw, prefix: str = "") -> dict[str, str]:
    """The fields a browser posts for `raw` (unchecked boxes are not posted)."""
    out: dict[str, str] = {}
    for key, value in raw.items():
        name = f"{prefix}{key}"
        if isinstance(value, list):
            for i, row in enumerate(value):
                out.update(fields_of(row, f"{name}.{i}."))
        elif isinstance(value, dict):
            out.update(fields_of(value, f"{name}."))
        elif key in forms.BOOLS and not value:
            continue
        else:
            out[name] = value
    return out


# -- one fault, refused alike by the form and by the file ------------------------------------


def spec_fields(spec: EventSpec) -> dict[str, str]:
    """What the studio's form posts for the event `render(spec)` writes as YAML."""
    fields = {"id": "generated", "title": "Generated event", "date": "2026-11-23"}
    fields["registration.wishes"] = "1"
    for i, site in enumerate(spec.sites):
        fields |= {f"sites.{i}.id": site.id, f"sites.{i}.name": f"Site {i + 1}"}
        if site.hub:
            fields[f"sites.{i}.hub"] = "on"
    for i, theme in enumerate(spec.themes):
        fields |= {f"themes.{i}.id": theme, f"themes.{i}.title": f"Theme {i + 1}"}
    for i, step in enumerate(spec.agenda):
        fields |= {
            f"agenda.{i}.id": step.id,
            f"agenda.{i}.kind": step.kind,
            f"agenda.{i}.title": f"Step {i + 1}",
            f"agenda.{i}.start": hhmm(step.start),
            f"agenda.{i}.duration": str(step.duration),
            f"agenda.{i}.sites": ", ".join(step.sites),
        }
    for i, w in enumerate(spec.workshops):
        fields |= {
            f"workshops.{i}.id": w.id,
            f"workshops.{i}.theme": w.theme,
            f"workshops.{i}.site": w.site,
            f"workshops.{i}.capacity": str(w.capacity),
        }
    return fields


@st.composite
def one_fault(draw: st.DrawFn) -> EventSpec:
    """A valid event with one mistake an organizer makes (see test_model_faults.py)."""
    spec = draw(events(min_sites=2, min_steps=2, min_workshops=1))
    fault = draw(st.sampled_from(range(9)))
    steps, ws = spec.agenda, spec.workshops
    k = draw(st.integers(1, len(steps) - 1))
    if fault == 0:  # a duplicate site id
        spec.sites.insert(draw(st.integers(1, len(spec.sites))), SiteSpec(spec.sites[0].id))
    elif fault == 1:  # a duplicate step id
        steps[k].id = steps[draw(st.integers(0, k - 1))].id
    elif fault == 2:  # a duplicate workshop id
        ws.append(WorkshopSpec(ws[0].id, ws[0].theme, ws[0].site, ws[0].capacity))
    elif fault == 3:  # a second hub
        next(s for s in spec.sites if not s.hub).hub = True
    elif fault == 4:  # a step before the previous one, overlapping nothing
        steps[k].start = draw(st.integers(0, steps[0].start - steps[k].duration))
    elif fault == 5:  # a step starting while the previous one runs on its sites
        steps[k].sites = list(steps[k - 1].sites)
        steps[k].start = draw(st.integers(steps[k - 1].start, steps[k - 1].end - 1))
    elif fault == 6:  # a workshop of an unknown theme, or at an unknown site
        if draw(st.booleans()):
            ws[0].theme = draw(IDS.filter(lambda t: t not in spec.themes))
        else:
            ws[0].site = draw(IDS.filter(lambda s: s not in {x.id for x in spec.sites}))
    elif fault == 7:  # an unknown kind
        steps[k].kind = draw(IDS.filter(lambda x: x not in KINDS))
    else:  # a negative duration
        steps[k].duration = draw(st.integers(-1440, -1))
    return spec


def in_the_words_of_a_file(problem: Problem, refer: Callable[[Loc], str]) -> str:
    """The problem's English text, as `relais import` prints it, each other place named
    by the form's name for it instead of by its line."""
    if not problem.refs:
        return problem.text
    return re.sub(r"\bline \{\}", "{}", problem.text).format(*(refer(r) for r in problem.refs))


@SOME
@given(one_fault())
def test_the_form_and_the_file_refuse_one_fault_with_the_same_messages(spec: EventSpec) -> None:
    built = render(spec)
    try:
        parse_event(built.text, "event.yaml")
    except DefinitionError as exc:
        from_file = exc.problems
    else:
        raise AssertionError("the fault was not refused")
    at_line = {line: loc for loc, line in built.at.items()}
    refer = forms.labeller(translator("fr"))
    expected: dict[str, list[str]] = {}
    for problem in from_file:
        match = re.fullmatch(r"event\.yaml:\d+: (\S+): (.*)", problem, re.S)
        assert match, problem
        place = re.sub(r"\[(\d+)\]", r".\1", match.group(1))
        said = re.sub(r"line (\d+)", lambda m: refer(at_line[int(m.group(1))]), match.group(2))
        expected.setdefault(place, []).append(said)

    raw = forms.parse(spec_fields(spec).items())
    event, problems = validate.check(forms.to_data(raw))
    assert event is None
    english = forms.place_errors(problems, raw, lambda p: in_the_words_of_a_file(p, refer))
    assert english == expected  # the same problems, at the same places, in the same words

    french = forms.place_errors(problems, raw, lambda p: validate.reason(p, "fr", refer))
    assert {k: len(v) for k, v in french.items()} == {k: len(v) for k, v in expected.items()}
    for problem in problems:  # each said by its own sentence, every value filled in
        key = f"studio.problem.{problem.code}"
        assert problem.code != "invalid" and (key in messages("fr") or key in plural_keys())
        said = validate.reason(problem, "fr", refer)
        assert "{" not in said and said != messages("fr")["studio.problem.invalid"], said


def test_a_reference_names_the_other_field_as_the_form_labels_it() -> None:
    refer = forms.labeller(translator("fr"))
    assert refer(("agenda", 1, "start")) == "Étape 2 › Début"
    assert refer(("sites", 0, "hub")) == "Site 1 › Site pivot (il mène l'événement)"
    assert forms.labeller(translator("en"))(("workshops", 2, "id")) == "Workshop 3 › Identifier"
