"""The studio's form and the event's data, both ways, and each problem at its field.

Every input is named by the place of its value in the event file: `title`,
`registration.wishes`, `sites.0.name`, `agenda.2.start`, `agenda.2.speakers.0.site`. So a
problem the model reports at ("agenda", 2, "start") belongs to the input `agenda.2.start`;
one at a place with no input (a step's rooms, which the form does not show) goes to the
nearest enclosing place that is shown: its row, else the top of its section.

A theme's subjects are a text area, one title per line (`themes.0.subjects`); their ids
are made from the titles as other ids are, and kept through a save: the ids the form was
shown with travel in the hidden `themes.0.subject_ids` (JSON of [id, title] pairs), and a
line keeps the id of the subject of the same title, or of the one it replaced in place
(a title corrected keeps its id, so proposals and answers filed under it stay there).

What the form does not show (a step's `rooms` and experience `reports`, a workshop's
notes template, the event's `timers`...) travels with its row in a hidden `_extra` field
(JSON), so that a step moved, or an event saved from the studio, loses none of it.

The posted form is read into `Raw` (nested dicts and lists of text, exactly what was
typed, for showing it again) and turned into the event's data for the model (`to_data`).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterable
from typing import Any

from live.event_checks import Loc, Problem
from live.studio.ids import joined, unique_id, words_of

Raw = dict[str, Any]

EVENT_KEYS = ("id", "title", "date", "timezone", "territory")
REGISTRATION_KEYS = (
    "wishes",
    "opens",
    "closes",
    "allow_free_seats",
    "same_theme_twice",
    "categories",
)
ROWS: dict[str, tuple[str, ...]] = {
    "sites": ("id", "name", "address", "capacity", "hub"),
    "themes": ("id", "title", "subjects", "subject_ids"),
    "agenda": (
        "id",
        "kind",
        "title",
        "start",
        "duration",
        "sites",
        "video",
        "slot",
        "visio_url",
        "allow_overlap",
    ),
    "speakers": ("name", "role", "site", "remote"),
    "workshops": (
        "id",
        "title",
        "theme",
        "site",
        "step",
        "room",
        "capacity",
        "min_size",
        "visio_url",
    ),
}
LISTS = ("sites", "themes", "agenda", "workshops")  # the sections made of rows
NESTED = {"agenda": "speakers"}  # a step's speakers: rows within its row
SECTIONS = ("event", *LISTS, "registration")
INTS = frozenset({"capacity", "duration", "slot", "min_size", "wishes"})
BOOLS = frozenset(
    {"hub", "video", "allow_overlap", "remote", "allow_free_seats", "same_theme_twice"}
)
EXTRA = "_extra"
MAX_ROWS = 500  # rows read per list (a form past it is not an event anyone types)


# -- reading the posted form ---------------------------------------------------------------


def blank_row(section: str) -> Raw:
    row: Raw = dict.fromkeys(ROWS[section], "")
    if section in NESTED:
        row[NESTED[section]] = []
    return row


def blank() -> Raw:
    raw: Raw = dict.fromkeys(EVENT_KEYS, "")
    raw["registration"] = dict.fromkeys((*REGISTRATION_KEYS, EXTRA), "")
    raw.update({section: [] for section in LISTS})
    raw[EXTRA] = ""
    return raw


def parse(items: Iterable[tuple[str, Any]]) -> Raw:
    """The posted fields as nested text, rows in the order of their numbers (gaps closed):
    what the organizer typed, to validate and to show again. Unknown names are ignored."""
    raw = blank()
    rows: dict[str, dict[int, Raw]] = {section: {} for section in LISTS}
    nested: dict[tuple[str, int], dict[int, Raw]] = {}
    for name, value in items:
        if not isinstance(value, str):
            continue
        parts = name.split(".")
        if len(parts) == 1 and (name in EVENT_KEYS or name == EXTRA):
            raw[name] = value
        elif len(parts) == 2 and parts[0] == "registration" and parts[1] in raw["registration"]:
            raw["registration"][parts[1]] = value
        elif len(parts) >= 3 and parts[0] in rows and _index(parts[1]) is not None:
            section, i = parts[0], int(parts[1])
            row = rows[section].setdefault(i, blank_row(section))
            key = parts[2]
            if len(parts) == 3 and (key in ROWS[section] or key == EXTRA):
                row[key] = value
            elif len(parts) == 5 and NESTED.get(section) == key and _index(parts[3]) is not None:
                sub = NESTED[section]
                inner = nested.setdefault((section, i), {})
                cell = inner.setdefault(int(parts[3]), blank_row(sub))
                if parts[4] in ROWS[sub]:
                    cell[parts[4]] = value
    for section, found in rows.items():
        raw[section] = [found[i] for i in sorted(found)]
        if section in NESTED:
            for i, row in zip(sorted(found), raw[section], strict=True):
                inner = nested.get((section, i), {})
                row[NESTED[section]] = [inner[j] for j in sorted(inner)]
    return raw


def _index(text: str) -> int | None:
    return int(text) if text.isdecimal() and int(text) < MAX_ROWS else None


# -- rows added, removed and moved without script (the script does the same in place) ------


def apply_op(raw: Raw, op: str) -> str | None:
    """Apply `add:agenda`, `add:agenda.2.speakers`, `remove:sites.1`, `up:agenda.3` or
    `down:agenda.3` to `raw`; the name of the row to put the focus on, or None if the
    operation means nothing."""
    verb, _, where = op.partition(":")
    parts = where.split(".")
    if verb == "add":
        rows, section = _rows_at(raw, parts)
        if rows is None or len(rows) >= MAX_ROWS:
            return None
        rows.append(blank_row(section))
        return f"{where}.{len(rows) - 1}"
    if verb not in ("remove", "up", "down") or len(parts) < 2 or _index(parts[-1]) is None:
        return None
    rows, _ = _rows_at(raw, parts[:-1])
    i = int(parts[-1])
    if rows is None or i >= len(rows):
        return None
    prefix = ".".join(parts[:-1])
    if verb == "remove":
        del rows[i]
        return f"{prefix}.{min(i, len(rows) - 1)}" if rows else prefix
    j = i - 1 if verb == "up" else i + 1
    if 0 <= j < len(rows):
        rows[i], rows[j] = rows[j], rows[i]
        return f"{prefix}.{j}"
    return f"{prefix}.{i}"


FIRST = {"sites": "name", "themes": "title", "agenda": "title", "speakers": "name"}


def first_input(place: str) -> str:
    """The input a row starts with (`agenda.2` -> `agenda.2.title`): where the focus
    goes after a row is added or moved without script."""
    parts = place.split(".")
    if len(parts) < 2 or not parts[-1].isdecimal():
        return ""
    return f"{place}.{FIRST.get(parts[-2], 'theme')}"


def _rows_at(raw: Raw, parts: list[str]) -> tuple[list[Raw] | None, str]:
    if len(parts) == 1 and parts[0] in LISTS:
        return raw[parts[0]], parts[0]
    if len(parts) == 3 and NESTED.get(parts[0]) == parts[2] and _index(parts[1]) is not None:
        rows = raw[parts[0]]
        i = int(parts[1])
        if i < len(rows):
            return rows[i][parts[2]], parts[2]
    return None, ""


# -- the event's data, from the form -------------------------------------------------------


def to_data(raw: Raw, event_id: str | None = None) -> dict[str, Any]:
    """The event's data as a file would hold it, for the model to validate. Blank optional
    fields are left out (their defaults apply); a blank required one is left out too, so
    the model says it is required; numbers that do not read as numbers are passed as typed,
    so the model says why. A blank id is made from the row's name (and written back into
    `raw`, so the organizer sees it). `event_id` (an existing event) wins over the form."""
    owned = {*EVENT_KEYS, *LISTS, "registration"}  # the form's own: never from `_extra`
    data = {k: v for k, v in _extras(raw.get(EXTRA, "")).items() if k not in owned}
    for key in EVENT_KEYS:
        _put(data, key, raw.get(key, ""))
    if event_id is not None:
        data["id"] = event_id
    for section in LISTS:
        rows = raw.get(section, [])
        _fill_ids(section, rows)
        if rows:
            data[section] = [_row_data(section, row) for row in rows]
    posted = raw.get("registration", {})
    registration = {
        k: v for k, v in _extras(posted.get(EXTRA, "")).items() if k not in REGISTRATION_KEYS
    }
    for key in REGISTRATION_KEYS:
        value = posted.get(key, "")
        if key == "categories":
            lines = [line.strip() for line in value.splitlines() if line.strip()]
            if lines:
                registration[key] = lines
        else:
            _put(registration, key, value)
    if registration:
        data["registration"] = registration
    return data


def _row_data(section: str, row: Raw) -> dict[str, Any]:
    owned = {*ROWS[section], NESTED.get(section, "")}
    out = {k: v for k, v in _extras(row.get(EXTRA, "")).items() if k not in owned}
    for key in ROWS[section]:
        value = row.get(key, "")
        if section == "themes" and key == "subject_ids":
            continue  # read with `subjects`
        if section == "themes" and key == "subjects":
            subjects = subjects_data(value, row.get("subject_ids", ""))
            if subjects:
                out[key] = subjects
        elif section == "agenda" and key == "sites":
            listed = [s.strip() for s in value.split(",") if s.strip()]
            if listed:
                out[key] = listed
        else:
            _put(out, key, value)
    sub = NESTED.get(section)
    if sub and row.get(sub):
        out[sub] = [_row_data(sub, r) for r in row[sub]]
    return out


def subjects_data(text: str, shown: str) -> list[dict[str, str]]:
    """A theme's subjects from its text area (one title per line, blank lines skipped).
    Each line keeps an id it was shown with (`shown`: JSON [id, title] pairs): first the
    id of a subject of the same title, else that of the subject it replaced at its place
    (its title corrected); other lines get an id made from their title, unique in the
    theme."""
    titles = [line.strip() for line in text.splitlines() if line.strip()]
    before = _pairs(shown)
    by_title: dict[str, list[str]] = {}
    for ident, title in before:
        by_title.setdefault(title, []).append(ident)
    ids: list[str | None] = [None] * len(titles)
    taken: set[str] = set()
    for i, title in enumerate(titles):  # the same title: the same id
        free = [x for x in by_title.get(title, []) if x not in taken]
        if free:
            ids[i] = free[0]
            taken.add(free[0])
    kept = set(titles)
    for i in range(len(titles)):  # a title corrected in place keeps its id
        if ids[i] is None and i < len(before):
            ident, old = before[i]
            if ident not in taken and old not in kept:
                ids[i] = ident
                taken.add(ident)
    out = []
    for given, title in zip(ids, titles, strict=True):
        if given is None:
            words = words_of(title) or ["sujet"]
            given = unique_id(functools.partial(joined, words), taken)
            taken.add(given)
        out.append({"id": given, "title": title})
    return out


def _pairs(text: str) -> list[tuple[str, str]]:
    """The [id, title] pairs a theme's subjects were shown with; anything else: none."""
    try:
        value = json.loads(text) if text else []
    except (ValueError, RecursionError):
        return []
    if not isinstance(value, list):
        return []
    return [
        (p[0], p[1])
        for p in value
        if isinstance(p, list) and len(p) == 2 and all(isinstance(x, str) for x in p)
    ]


def _put(out: dict[str, Any], key: str, value: str) -> None:
    value = value.strip()
    if key in BOOLS:
        if value and value not in ("0", "false", "off"):
            out[key] = True
    elif not value:
        return
    elif key in INTS and re.fullmatch(r"[+-]?\d{1,9}", value):
        out[key] = int(value)
    else:
        out[key] = value


def _extras(text: str) -> dict[str, Any]:
    """The hidden fields the form does not show (a JSON object); anything else is dropped:
    the model then says what is missing, if anything is."""
    try:
        value = json.loads(text) if text else {}
    except (ValueError, RecursionError):  # RecursionError: a field nested 100,000 deep
        return {}
    return value if isinstance(value, dict) else {}


def _fill_ids(section: str, rows: list[Raw]) -> None:
    """A blank id made from the row's name or title (a workshop's: its theme and site),
    unique in its list, `-2`, `-3`… added within the same length."""
    taken = {row["id"].strip() for row in rows if row.get("id", "").strip()}
    for row in rows:
        if row.get("id", "").strip():
            continue
        if section == "workshops":
            made = "-".join(p.strip() for p in (row.get("theme", ""), row.get("site", "")) if p)
            words = words_of(made, stop_words=False) or words_of(row.get("title", ""))
        else:
            words = words_of(row.get("name", "") or row.get("title", ""))
        if not words:
            continue
        row["id"] = ident = unique_id(functools.partial(joined, words), taken)
        taken.add(ident)


def derived_first(problems: list[Problem]) -> list[Problem]:
    """A row whose blank id could not be made (its name or title is missing or wrong too)
    is told about that field only: the help says the id is made from it."""
    rows = {p.loc[:2] for p in problems if len(p.loc) >= 3 and p.loc[2] != "id"}
    return [
        p
        for p in problems
        if not (p.code == "missing" and len(p.loc) == 3 and p.loc[2] == "id" and p.loc[:2] in rows)
    ]


# -- the form, from the event's data --------------------------------------------------------


def from_data(data: dict[str, Any]) -> Raw:
    """What the form shows for an event's data (`yaml_io.event_data`: defaults left out)."""
    raw = blank()
    for key in EVENT_KEYS:
        raw[key] = _text(data.get(key, ""))
    raw["timezone"] = raw["timezone"] or "Europe/Paris"
    registration = data.get("registration", {})
    for key in REGISTRATION_KEYS:
        raw["registration"][key] = _text(registration.get(key, ""))
    raw["registration"]["categories"] = "\n".join(registration.get("categories", ()))
    kept = {k: v for k, v in registration.items() if k not in REGISTRATION_KEYS}
    raw["registration"][EXTRA] = _extra_json(kept)
    shown = {*EVENT_KEYS, *LISTS, "registration"}
    raw[EXTRA] = _extra_json({k: v for k, v in data.items() if k not in shown})
    for section in LISTS:
        raw[section] = [_row_raw(section, row) for row in data.get(section, [])]
    return raw


def _row_raw(section: str, row: dict[str, Any]) -> Raw:
    out = blank_row(section)
    for key in ROWS[section]:
        value = row.get(key, "")
        if section == "themes" and key == "subjects":
            subjects = [s for s in value or [] if isinstance(s, dict)]
            out[key] = "\n".join(_text(s.get("title", "")) for s in subjects)
            pairs = [[_text(s.get("id", "")), _text(s.get("title", ""))] for s in subjects]
            out["subject_ids"] = json.dumps(pairs, ensure_ascii=False) if pairs else ""
        elif section == "themes" and key == "subject_ids":
            continue  # made with `subjects`
        else:
            out[key] = ", ".join(value) if isinstance(value, list) else _text(value)
    sub = NESTED.get(section)
    if sub:
        out[sub] = [_row_raw(sub, r) for r in row.get(sub, [])]
    shown = {*ROWS[section], *([sub] if sub else [])}
    out[EXTRA] = _extra_json({k: v for k, v in row.items() if k not in shown})
    return out


def _text(value: Any) -> str:
    if value is True:
        return "on"
    if value is False or value is None:
        return ""
    return str(value)


def _extra_json(values: dict[str, Any]) -> str:
    return json.dumps(values, ensure_ascii=False, default=str) if values else ""


def extra_keys(text: str) -> list[str]:
    """What a row keeps that the form does not show (to say so next to it)."""
    return list(_extras(text))


# -- problems, each at its place in the form -----------------------------------------------


def places(raw: Raw) -> set[str]:
    """Every place a problem can be shown at: each input, each row, each section."""
    out = set(SECTIONS) | set(EVENT_KEYS)
    out |= {f"registration.{k}" for k in REGISTRATION_KEYS}
    for section in LISTS:
        for i, row in enumerate(raw.get(section, [])):
            out.add(f"{section}.{i}")
            out |= {f"{section}.{i}.{k}" for k in ROWS[section]}
            sub = NESTED.get(section)
            for j, _ in enumerate(row.get(sub, []) if sub else []):
                out.add(f"{section}.{i}.{sub}.{j}")
                out |= {f"{section}.{i}.{sub}.{j}.{k}" for k in ROWS[sub or ""]}
    return out


def place_of(loc: Loc, known: set[str]) -> str:
    """The input at `loc`, else the nearest enclosing row or section shown; what belongs
    to the event as a whole (its timers, a file with no site) goes to `event`."""
    parts = [str(p) for p in loc]
    for n in range(len(parts), 0, -1):
        name = ".".join(parts[:n])
        if name in known and name not in SECTIONS:
            return name
    head = parts[0] if parts else ""
    return head if head in SECTIONS and head != "event" else "event"


def place_errors(
    problems: list[Problem], raw: Raw, say: Callable[[Problem], str]
) -> dict[str, list[str]]:
    """Each problem's sentence (`say`: `validate.reason` in the page's language), by the
    place it is shown at (see `place_of`)."""
    known = places(raw)
    out: dict[str, list[str]] = {}
    for problem in problems:
        out.setdefault(place_of(problem.loc, known), []).append(say(problem))
    return out


def summary(placed: dict[str, list[str]], t: Callable[[str], str]) -> list[tuple[str, str, str]]:
    """(anchor, place's name, sentence) of each problem, for the list atop the form that
    leads to each field."""
    refer = labeller(t)
    out = []
    for place, sentences in placed.items():
        if place in SECTIONS:
            anchor, name = f"s-{place}", t(f"studio.s.{place}")
        else:
            loc = tuple(int(p) if p.isdecimal() else p for p in place.split("."))
            row = place.rsplit(".", 1)[-1].isdecimal()
            anchor, name = ("r-" if row else "f-") + place, refer(loc)
        out += [(anchor, name, sentence) for sentence in sentences]
    return out


def labeller(t: Callable[[str], str]) -> Callable[[Loc], str]:
    """How the form names a place another problem refers to: "Étape 1 › Début"."""

    def refer(loc: Loc) -> str:
        words: list[str] = []
        parts = list(loc)
        while parts:
            part = parts.pop(0)
            if isinstance(part, str) and parts and isinstance(parts[0], int):
                words.append(t(f"studio.row.{part}").format(n=int(parts.pop(0)) + 1))
            elif isinstance(part, str):
                words.append(t(f"studio.f.{part}"))
        return " › ".join(words)

    return refer
