"""Event files and events are bounded: a file is measured before anything is built from
it (its length, how deep it nests, how many values it names, how much its aliases
repeat), refused at the line where it passes a bound; every text and every list of the
event has a bound at the schema, so that no valid event makes a page, a `definition`
frame or an export of several megabytes. The same sentences in the studio as in
`relais import`."""

from __future__ import annotations

import html
import re
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from live import model as m
from live.agenda.protocol import definition, event_info, revision
from live.event_checks import EVENT_TOTALS
from live.event_file import (
    MAX_CHARS,
    MAX_DEPTH,
    MAX_NODES,
    MAX_REPEATED,
    DefinitionError,
    parse_event,
)
from live.model import Event
from live.studio import validate
from live.studio.yaml_io import export
from tests.model.test_model import MINIMAL
from tests.studio.test_studio import import_problems, save, studio_page
from tests.support.servers import LiveServer
from tests.support.studio_forms import form_fields, notes_at

DEMO = Path(__file__).resolve().parents[2] / "live" / "demo"
ARIEGE = "ariege-2020"


AFTER = len(MINIMAL.splitlines()) + 1  # the line of what a test appends


def refused(text: str) -> list[str]:
    with pytest.raises(DefinitionError) as exc:
        parse_event(text, "event.yaml")
    return exc.value.problems


def laughs(levels: int = 9) -> str:
    """A "billion laughs" event file: each level an alias list of ten of the one below,
    9^9 titles named in 1 KB, under a key the model would refuse anyway."""
    lines = [MINIMAL.rstrip("\n"), 'lol0: &lol0 ["lol", "lol", "lol", "lol", "lol"]']
    for n in range(1, levels + 1):
        lines.append(f"lol{n}: &lol{n} [" + ", ".join([f"*lol{n - 1}"] * 10) + "]")
    return "\n".join(lines) + "\n"


@pytest.fixture
def http(live_server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_server.url, timeout=30) as client:
        yield client


def shown_lines(page: str) -> list[str]:
    """The file's lines a refused import shows (as `relais import` prints them)."""
    found = re.search(r'<pre class="lines">(.*?)</pre>', page, re.S)
    assert found is not None, "no refused lines in the page"
    return html.unescape(found.group(1)).strip().splitlines()


# -- the file, measured before anything is built ---------------------------------------------


def test_an_alias_bomb_is_refused_at_its_line_without_building_what_it_names() -> None:
    text = laughs()
    assert len(text) < 2000
    tracemalloc.start()
    try:
        (problem,) = refused(text)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    line = re.fullmatch(r"event\.yaml:(\d+): aliases repeat more than (\d+) .*", problem)
    assert line is not None, problem
    assert int(line.group(2)) == MAX_REPEATED
    assert text.splitlines()[int(line.group(1)) - 1].startswith("lol")  # the alias's line
    assert peak < 20 * 1024 * 1024  # a few lists read, never the billion titles


def test_aliases_repeating_a_little_still_read() -> None:
    """An anchor reused for the same speakers at two steps is ordinary YAML."""
    text = MINIMAL + (
        "    speakers: &officials\n"
        "      - {name: Mme Rectrice, role: rectrice}\n"
        "      - {name: M. Préfet}\n"
        "  - id: close\n"
        "    kind: closing\n"
        "    title: Clôture\n"
        '    start: "17:00"\n'
        "    duration: 15\n"
        "    speakers: *officials\n"
    )
    event = parse_event(text, "event.yaml")
    assert event.agenda[0].speakers == event.agenda[1].speakers
    assert event.agenda[1].speaker == "Mme Rectrice, M. Préfet"


def test_an_alias_inside_its_own_anchor_is_refused_at_its_line() -> None:
    (problem,) = refused(MINIMAL + "themes: &t [{id: a, title: A}, *t]\n")
    assert problem == f"event.yaml:{AFTER}: alias *t is inside its own anchor"


@pytest.mark.parametrize("style", ["flow", "block"])
def test_a_file_nested_500_deep_is_refused_at_the_line_where_it_passes_the_bound(
    style: str,
) -> None:
    if style == "flow":
        text = MINIMAL + "themes: " + "[" * 500 + "]" * 500 + "\n"
        line = AFTER
    else:
        text = MINIMAL + "themes:\n" + "".join("  " * i + "-\n" for i in range(1, 501))
        # the themes (level 2 in the event) open a line below, each deeper list a line
        # further: level MAX_DEPTH + 1 is the first refused
        line = AFTER + MAX_DEPTH
    (problem,) = refused(text)
    assert problem == f"event.yaml:{line}: nested more than {MAX_DEPTH} levels deep"


def test_a_file_naming_too_many_values_is_refused_where_it_passes_the_bound() -> None:
    text = MINIMAL + "themes:\n" + "  - x\n" * (MAX_NODES + 10)
    (problem,) = refused(text)
    assert problem.endswith(f": more than {MAX_NODES} values in one file")
    line = int(problem.split(":")[1])
    assert AFTER < line < AFTER + MAX_NODES  # where the count passed the bound, not the end


def test_a_file_longer_than_the_bound_is_refused_before_it_is_read() -> None:
    (problem,) = refused(MINIMAL + "# " + "x" * MAX_CHARS + "\n")
    assert problem.startswith("event.yaml:1: ")
    assert f"more than the {MAX_CHARS} an event file may have" in problem


def test_a_number_of_thousands_of_digits_is_refused_at_its_line() -> None:
    """Read in base 60 (`1:2:3`) such a number would take minutes."""
    for number in ("9" * 5000, ":".join(["59"] * 200_000)):
        text = MINIMAL.replace("duration: 30", f"duration: {number}")
        assert refused(text) == ["event.yaml:12: a number of more than 32 characters"]


def test_a_value_python_cannot_make_is_refused_at_its_line() -> None:
    (problem,) = refused(MINIMAL.replace("date: 2026-11-23", "date: 2026-13-45"))
    assert problem == "event.yaml:3: cannot read this value: month must be in 1..12"


def test_a_character_that_is_not_text_is_refused_not_an_error_500() -> None:
    """A lone surrogate (text decoded leniently somewhere) cannot be read as UTF-8."""
    assert refused(MINIMAL.replace("Ouverture", "Ouv\ud800")) == [
        "event.yaml:1: a character of the file is not text"
    ]


# -- the event, bounded at the schema --------------------------------------------------------


def ident(prefix: str, i: int) -> str:
    return f"{prefix}{i}-".ljust(64, "x")


def text_of(n: int, i: int = 0) -> str:
    """`n` characters, accented (two bytes each in UTF-8, as French text is at worst)."""
    return (f"{i} " + "é" * n)[:n]


def largest() -> dict[str, Any]:
    """The largest event the model allows: every list and every text at its bound,
    every total of the event reached, every id 64 characters long."""
    url = "https://visio.example.org/" + "a" * (m.URL_LENGTH - 26)
    sites = [
        {
            "id": ident("s", i),
            "name": text_of(m.NAME_LENGTH, i),
            "address": text_of(m.ADDRESS_LENGTH),
            "capacity": m.MAX_SEATS,
            "hub": i == 0,
        }
        for i in range(m.MAX_SITES)
    ]
    themes = [
        {"id": ident("t", i), "title": text_of(m.TITLE_LENGTH, i)} for i in range(m.MAX_THEMES)
    ]
    speakers, reports = EVENT_TOTALS["speakers"], EVENT_TOTALS["reports"]
    agenda = []
    for i in range(m.MAX_STEPS):
        mine = max(0, min(m.MAX_SPEAKERS, speakers - i * m.MAX_SPEAKERS))
        agenda.append(
            {
                "id": ident("a", i),
                "kind": "workshops" if i == 0 else "plenary",
                "title": text_of(m.TITLE_LENGTH, i),
                "start": f"{i * 14 // 60:02d}:{i * 14 % 60:02d}",
                "duration": 14,
                "speaker": text_of(m.NAME_LENGTH, i) if mine else "",
                "speakers": [
                    {
                        "name": text_of(m.NAME_LENGTH, j),
                        "role": text_of(m.TITLE_LENGTH, j),
                        "site": sites[j]["id"],
                        "remote": True,
                    }
                    for j in range(mine)
                ],
                "sites": [s["id"] for s in sites[: EVENT_TOTALS["sites"] // m.MAX_STEPS]],
                "rooms": {
                    s["id"]: text_of(m.NAME_LENGTH)
                    for s in sites[: EVENT_TOTALS["rooms"] // m.MAX_STEPS]
                },
                "video": True,
                "visio_url": url,
            }
        )
    workshops = [
        {
            "id": ident("w", i),
            "theme": themes[i % m.MAX_THEMES]["id"],
            "site": sites[0]["id"],
            "step": agenda[0]["id"],
            "title": text_of(m.TITLE_LENGTH, i),
            "room": text_of(m.NAME_LENGTH, i),
            "capacity": m.MAX_SEATS,
            "min_size": 1,
            "visio_url": url,
            "notes_template": text_of(m.WORKSHOP_TEMPLATE_LENGTH, i),
            "reports": [
                {
                    "id": ident("r", i),
                    "title": text_of(m.TITLE_LENGTH, i),
                    "presenters": [text_of(m.NAME_LENGTH, j) for j in range(m.MAX_PRESENTERS)],
                    "site": sites[0]["id"],
                    "minutes": 240,
                }
            ]
            if i < reports
            else [],
        }
        for i in range(m.MAX_WORKSHOPS)
    ]
    return {
        "id": "largest",
        "title": text_of(m.TITLE_LENGTH),
        "date": "2026-11-23",
        "timezone": "America/Argentina/ComodRivadavia",
        "sites": sites,
        "themes": themes,
        "agenda": agenda,
        "workshops": workshops,
        "timers": {"warning": 300, "danger": 60},
        "registration": {
            "wishes": 20,
            "categories": [text_of(m.NAME_LENGTH, i) for i in range(m.MAX_CATEGORIES)],
        },
        "notes_template": text_of(m.TEMPLATE_LENGTH),
    }


def test_the_largest_event_allowed_makes_a_definition_frame_under_two_megabytes() -> None:
    event = Event.model_validate(largest())
    assert len(event.workshops) == m.MAX_WORKSHOPS
    assert len(event.all_reports()) == EVENT_TOTALS["reports"]
    info = event_info(event)
    assert len(definition(info, revision(info)).encode()) < 2_000_000


def test_the_largest_event_allowed_exports_a_file_that_reads_back() -> None:
    """A save in the studio stores the export, read again at every start."""
    event = Event.model_validate(largest())
    text = export(event)
    assert parse_event(text, "largest.yaml") == event


def test_one_more_than_a_list_bound_is_refused_at_that_list() -> None:
    data = largest()
    data["workshops"].append({**data["workshops"][-1], "id": "one-more"})
    event, problems = validate.check(data)
    assert event is None
    (problem,) = problems
    assert problem.loc == ("workshops",) and problem.code == "too_many"
    fr = validate.reason(problem, "fr", str)
    en = validate.reason(problem, "en", str)
    assert fr == f"Trop d'éléments : {m.MAX_WORKSHOPS} au plus."
    assert en == f"Too many items: {m.MAX_WORKSHOPS} at most."


def test_one_more_than_an_event_total_is_refused_at_the_list_that_passes_it() -> None:
    data = largest()
    extra = dict(data["agenda"][-1]["speakers"] or data["agenda"][0]["speakers"][0:1][0])
    data["agenda"][-1]["speakers"] = [extra]
    data["agenda"][-1]["speaker"] = ""
    event, problems = validate.check(data)
    assert event is None
    (problem,) = problems
    last = m.MAX_STEPS - 1
    assert problem.loc == ("agenda", last, "speakers") and problem.code == "event_too_many"
    fr = validate.reason(problem, "fr", str)
    n = EVENT_TOTALS["speakers"]
    assert fr == f"Trop de « Intervenants » pour un seul événement : {n} au plus en tout."
    assert problem.text == f"more than {EVENT_TOTALS['speakers']} speakers in the whole event"


# -- through relais import and the studio, on the real server --------------------------------


def test_an_alias_bomb_is_refused_by_relais_import_the_studio_and_the_admin_import(
    live_server: LiveServer,
    http: httpx.Client,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    demo = (DEMO / f"{ARIEGE}.yaml").read_text(encoding="utf-8")
    bomb = demo.replace(
        "title:",
        "lol0: &lol0 [lol, lol, lol, lol, lol]\n"
        + "".join(
            f"lol{n}: &lol{n} [" + ", ".join([f"*lol{n - 1}"] * 10) + "]\n" for n in range(1, 10)
        )
        + "title:",
        1,
    )
    (line,) = import_problems(bomb, tmp_path, monkeypatch, capsys)
    said = r".*event\.yaml:\d+: Les alias répètent plus de \d+ valeurs et caractères .*"
    assert re.fullmatch(said, line), line

    info = http.get(f"/api/events/{ARIEGE}/info").text
    files = {"file": ("event.yaml", bomb.encode(), "application/yaml")}
    token = live_server.link(ARIEGE, "organizer")
    r = http.post(f"/e/{ARIEGE}/studio/import", params={"k": token}, files=files)
    assert r.status_code == 422
    assert shown_lines(r.text) == [line.replace(str(tmp_path / "event.yaml"), "event.yaml")]
    assert http.get(f"/api/events/{ARIEGE}/info").text == info  # nothing changed

    r = http.post("/studio/import", params={"k": live_server.signer.sign_admin()}, files=files)
    assert r.status_code == 422
    (shown,) = shown_lines(r.text)
    assert "Les alias répètent plus de" in shown
    r = http.post(
        "/studio/import", params={"k": live_server.signer.sign_admin(), "lang": "en"}, files=files
    )
    (shown,) = shown_lines(r.text)
    assert "Aliases repeat more than" in shown  # in the page's language


def test_a_file_nested_500_deep_is_refused_by_the_studio_at_its_line_not_with_an_error_500(
    live_server: LiveServer, http: httpx.Client
) -> None:
    demo = (DEMO / f"{ARIEGE}.yaml").read_text(encoding="utf-8")
    deep = demo + "extra: " + "[" * 500 + "]" * 500 + "\n"
    line = len(demo.splitlines()) + 1
    token = live_server.link(ARIEGE, "organizer")
    files = {"file": ("deep.yaml", deep.encode(), "application/yaml")}
    r = http.post(f"/e/{ARIEGE}/studio/import", params={"k": token}, files=files)
    assert r.status_code == 422
    assert shown_lines(r.text) == [
        f"deep.yaml:{line}: Imbriqué sur plus de {MAX_DEPTH} niveaux : un événement n'en "
        "demande jamais autant."
    ]


def test_a_studio_form_field_nested_100000_deep_is_dropped_not_an_error_500(
    live_server: LiveServer, http: httpx.Client
) -> None:
    """What a row keeps that the form does not show travels as a JSON object; one nested
    past Python's recursion is dropped like any other that is not an object."""
    fields = form_fields(studio_page(live_server, http, ARIEGE))
    fields["workshops.0._extra"] = "[" * 100_000 + "]" * 100_000
    r = save(live_server, http, ARIEGE, fields)
    assert r.status_code == 303
    assert http.get(r.headers["location"]).status_code == 200


LONG = "x" * 100_000
TOO_LONG = {
    # form field: (text in the demo file, what it becomes, its bound)
    "workshops.0.title": ("theme: acces,", f"title: {LONG}, theme: acces,", m.TITLE_LENGTH),
    "workshops.0.room": ("room: Amphi A,", f"room: {LONG},", m.NAME_LENGTH),
    "sites.0.address": ("address: 4, avenue", f"address: {LONG} 4, avenue", m.ADDRESS_LENGTH),
}


@pytest.mark.parametrize("field", list(TOO_LONG))
def test_a_text_of_100000_characters_is_refused_by_import_and_by_the_studio_next_to_its_field(
    live_server: LiveServer,
    http: httpx.Client,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    field: str,
) -> None:
    old, new, bound = TOO_LONG[field]
    demo = (DEMO / f"{ARIEGE}.yaml").read_text(encoding="utf-8")
    assert demo.count(old) == 1
    (problem,) = import_problems(demo.replace(old, new, 1), tmp_path, monkeypatch, capsys)
    place = field.replace(".0.", "[0].")
    assert problem.endswith(f": {place}: Trop long : {bound} caractères au plus.")

    fields = form_fields(studio_page(live_server, http, ARIEGE))
    fields[field] = LONG
    r = save(live_server, http, ARIEGE, fields)
    assert r.status_code == 422
    assert notes_at(r.text, field) == [f"Trop long : {bound} caractères au plus."]
    assert LONG not in http.get(f"/e/{ARIEGE}").text  # nothing stored


def test_every_studio_input_of_a_bounded_text_says_its_bound(
    live_server: LiveServer, http: httpx.Client
) -> None:
    """The browser stops typing where the model would refuse (`maxlength`)."""
    page = studio_page(live_server, http, "grand-est-2020")
    models: dict[str, type[Any]] = {
        "sites": m.Site,
        "themes": m.Theme,
        "agenda": m.Step,
        "speakers": m.Speaker,
        "workshops": m.Workshop,
    }
    checked = set()
    for tag in re.findall(r"<input [^>]*>", page):
        name = re.search(r'name="([^"]+)"', tag)
        if name is None or ('type="text"' not in tag and 'type="url"' not in tag):
            continue
        parts = name.group(1).split(".")
        model = models.get(parts[-3]) if len(parts) >= 3 else Event
        field = (model.model_fields if model else {}).get(parts[-1])
        if field is None or field.annotation not in (str, str | None) or "readonly" in tag:
            continue  # a list typed as text (a step's sites) is bounded in items
        bound = next((c.max_length for c in field.metadata if hasattr(c, "max_length")), None)
        if (
            bound is None
            and field.metadata
            and any(getattr(c, "pattern", None) == m.SLUG for c in field.metadata)
        ):
            bound = m.ID_LENGTH  # a slug
        if bound is None:
            continue
        maxlength = re.search(r'maxlength="(\d+)"', tag)
        assert maxlength is not None and int(maxlength.group(1)) == bound, tag
        checked.add(f"{parts[-3] if len(parts) >= 3 else ''}.{parts[-1]}")
    assert {"sites.address", "workshops.title", "workshops.room", "agenda.title"} <= checked
    assert {".title", "speakers.role"} <= checked
