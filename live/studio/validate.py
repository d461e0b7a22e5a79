"""The one validator, for a form as for a file: the event model and its cross-field rules
(`live/event_checks.py`), each problem at its place (`loc`, such as ("agenda", 2, "start")).

`relais import` reads a file and says `file:line: field: reason` (`file_lines`, in the
terminal's language; the studio's import says the same lines in the page's); the studio
builds the same data from its form, gets the same problems (`event_file.problems_of`,
which the import uses too), and shows each next to the field at that place in the page's
language: the sentence `studio.problem.<code>` of the catalogs, filled with the problem's
values (ids, limits) and, for a reference to another place, the field's name ("Site 1 ›
Identifiant") where a file names its line ("ligne 12"). A property test
(tests/studio/test_properties.py) holds the form and the file to the same problems.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from live.event_checks import Loc, Problem, dotted, warnings
from live.event_file import Found, problems_of
from live.i18n import LANGS, catalog, messages, plural_keys
from live.model import Event

PREFIX = "studio.problem."
FALLBACK = "invalid"  # the sentence of a code that has none: "Valeur invalide."
# Values that name a message of the catalogs, shown as that message ("break": "Pause").
NAMED = {"kind": "kind."}


def check(data: dict[str, Any]) -> tuple[Event | None, list[Problem]]:
    """The event, or None and every problem that keeps it from being used."""
    try:
        return Event.model_validate(data), []
    except ValidationError as exc:
        return None, problems_of(exc)


def warned(event: Event) -> list[Problem]:
    """What the event cannot satisfy as written (it still loads): the import's warnings."""
    return warnings(event)


def file_lines(found: Sequence[Found], lang: str) -> list[str]:
    """A file's problems as `relais import` prints them and the studio's import shows
    them: `file:line: field: reason` (the field as the file names it), the reason in
    `lang`, another place it refers to by its line ("ligne 12")."""
    lang = lang if lang in LANGS else "fr"
    word = messages(lang)["file.line"]
    out = []
    for f in found:
        said = reason(f.problem, lang, _by_line(f, word))
        where = f"{dotted(list(f.problem.loc))}: " if f.problem.loc else ""
        out.append(f"{f.source}:{f.line}: {where}{said}")
    return out


def _by_line(found: Found, word: str) -> Callable[[Loc], str]:
    """How a file's line names another place: by its line ("ligne 12")."""
    lines = dict(zip(found.problem.refs, found.ref_lines, strict=False))
    return lambda loc: word.format(n=lines.get(loc, "?"))


def reason(problem: Problem, lang: str, refer: Callable[[Loc], str]) -> str:
    """The problem's sentence in `lang`, its values quoted as the language quotes them,
    each other place it refers to named by `refer` (the form's name for that field)."""
    lang = lang if lang in LANGS else "fr"
    table = messages(lang)
    params = {k: _word(k, v, table) for k, v in problem.params.items() if k != "items"}
    if problem.refs:
        params["ref"] = refer(problem.refs[0])
    items = problem.params.get("items")
    if items:
        item = table.get(f"{PREFIX}{problem.code}.item", "{ref}")
        filled = [
            _fill(item, {**{k: _word(k, v, table) for k, v in each.items()}, "ref": refer(r)})
            for each, r in zip(items, problem.refs, strict=False)
        ]
        params["items"] = ", ".join(f or "" for f in filled)
    if "field" in params:
        params["field"] = _label(problem.loc, table)
    key = PREFIX + problem.code
    if key in plural_keys():
        n = int(problem.params.get("n") or 0)
        template: str | None = catalog(lang).ngettext(key, key, n)
    else:
        template = table.get(key)
    said = _fill(template, params) if template else None
    return said if said is not None else table[PREFIX + FALLBACK]


def _fill(template: str, params: Mapping[str, Any]) -> str | None:
    """The template with its values, or None if it asks for one the problem lacks."""
    try:
        return template.format(**params)
    except (KeyError, IndexError, ValueError):
        return None


def _word(key: str, value: Any, table: Mapping[str, str]) -> Any:
    """A value as the sentence shows it: a kind of step by its name, a list of choices
    each quoted ("« a », « b » ou « c »"), anything else as it is."""
    if key in NAMED:
        return table.get(NAMED[key] + str(value), value)
    if isinstance(value, tuple | list):
        return _choices([str(v) for v in value], table)
    return value


def _choices(values: Iterable[str], table: Mapping[str, str]) -> str:
    quoted = [table[PREFIX + "quoted"].format(v) for v in values]
    if len(quoted) < 2:
        return "".join(quoted)
    return f"{', '.join(quoted[:-1])}{table[PREFIX + 'or']}{quoted[-1]}"


def _label(loc: Loc, table: Mapping[str, str]) -> str:
    """The name the form gives the field at `loc` (its key when it has none)."""
    key = str(loc[-1]) if loc else ""
    section = table.get(f"studio.s.{key}") if len(loc) == 1 else None
    return section or table.get(f"studio.f.{key}") or key
