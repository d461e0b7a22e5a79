"""Reading an event file: YAML in, an `Event` out, or every problem at its line.

The model (`model.py`) says what an event is; this module says where a file gets it
wrong. A file is bounded before anything is built from it (`_BoundedLoader`): its size,
how deep it nests and how much its aliases repeat, since a few kilobytes of YAML can
otherwise name millions of values, or nest past Python's recursion.

Every problem has a stable code and its values (`Problem`), the file's problems their
line too (`Found`): `relais import` says them in the terminal's language and the studio in
the page's (`studio/validate.py`, `file_lines`: `file:line: field: reason`), both from the
catalogs' `studio.problem.<code>`. The English `text` stays for logs and developers.
`problems_of` is the one translation of pydantic's errors into located problems for both.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, NamedTuple

import yaml
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from live.errors import RelaisError
from live.event_checks import NO_PARAMS, Invalid, Located, Problem, dotted, warnings
from live.model import REPORT_ID, SLUG, Event

try:
    from yaml import CSafeLoader as _SafeLoader
except ImportError:  # PyYAML built without libyaml: the same, slower
    from yaml import SafeLoader as _SafeLoader  # type: ignore[assignment]

# Bounds on the file itself, checked while it is read. Its length in characters, not
# bytes: every event the model allows must read back once exported (the largest exports
# in 1.6 million characters, 2.7 MB of accented text), and a character costs the parser
# the same whatever its bytes. The studio's upload takes 2 MiB at most.
MAX_CHARS = 4 * 1024 * 1024
MAX_DEPTH = 20  # an event nests 7 levels: agenda, a step, its reports, one, its presenters
MAX_NODES = 50_000  # values (the largest event the model allows holds about 17,000)
MAX_REPEATED = 100_000  # values and characters repeated by aliases, in all
MAX_NUMBER = 32  # characters of an integer (a long one costs quadratic time to read)


class Found(NamedTuple):
    """A problem at its line of a file, and the lines of the places it refers to."""

    source: str
    line: int
    problem: Problem
    ref_lines: tuple[int, ...] = ()

    @property
    def text(self) -> str:
        """`file:line: field: reason` in English (logs, developers' tests)."""
        p = self.problem
        # Only a text that refers to other places has `{}` to fill; the others may quote
        # the file's values, braces included, as they are.
        reason = p.text.format(*self.ref_lines) if p.refs else p.text
        where = f"{dotted(list(p.loc))}: " if p.loc else ""
        return f"{self.source}:{self.line}: {where}{reason}"


class DefinitionError(RelaisError, ValueError):
    """An event file that cannot be used, with every problem located: `found` to say them
    in a person's language (`studio.validate.file_lines`), `problems` in English."""

    def __init__(self, found: list[Found]) -> None:
        self.found = found
        self.problems = [f.text for f in found]
        super().__init__("invalid", "\n".join(self.problems))


def _file_problem(
    source: str, line: int, code: str, text: str, params: Mapping[str, Any] = NO_PARAMS
) -> DefinitionError:
    """The file refused as a whole at `line` (its syntax, its bounds): no field to name."""
    return DefinitionError([Found(source, line, Problem((), text, (), code, params))])


def parse_event(text: str, source: str = "<event>") -> Event:
    """Parse and validate YAML text; errors read `file:line: field: reason`."""
    return read_event(text, source)[0]


def parse_event_with_warnings(text: str, source: str = "<event>") -> tuple[Event, list[str]]:
    """The event and, in English, what it cannot satisfy as written (`read_event`)."""
    event, warned = read_event(text, source)
    return event, [w.text for w in warned]


def read_event(text: str, source: str = "<event>") -> tuple[Event, list[Found]]:
    """The event and what it cannot satisfy as written, each at its line, for whoever
    shows them to the organizer: `relais import`, the studio.

    Refused (DefinitionError): invalid fields, duplicate ids (at the duplicate's line),
    unknown references, no hub or two hubs among several sites, steps out of order, steps
    that overlap on a common site. A step marked `allow_overlap: true` may run alongside
    another (parallel tracks): that overlap is a warning. Warned: more wishes than a
    site's workshops, a workshop with more seats than its site holds, a workshop with no
    room (nor visio)."""
    root, data = read_yaml(text, source)
    if not isinstance(data, dict):
        raise _file_problem(
            source, 1, "not_a_mapping", "the file must be a mapping with event fields"
        )
    data = _stringify_times(data)
    try:
        event = Event.model_validate(data)
    except ValidationError as exc:
        raise DefinitionError([_found(p, root, source) for p in problems_of(exc)]) from None
    return event, [_found(p, root, source) for p in warnings(event)]


def read_yaml(text: str, source: str = "<event>") -> tuple[yaml.Node | None, Any]:
    """The file's root node (for its lines) and its data, if the file keeps within the
    bounds above; else DefinitionError with the line where it passes one."""
    if len(text) > MAX_CHARS:
        reason = f"{len(text)} characters, more than the {MAX_CHARS} an event file may have"
        params = {"count": len(text), "limit": MAX_CHARS}
        raise _file_problem(source, 1, "file_too_long", reason, params)
    try:
        _measure(text)
        loader = _Loader(text)
        try:
            root = loader.get_single_node()
            return root, (loader.construct_document(root) if root is not None else None)
        finally:
            loader.dispose()
    except _Refused as exc:
        raise _file_problem(source, exc.line, exc.code, exc.reason, exc.params) from None
    except yaml.YAMLError as exc:
        raise _yaml_problem(exc, source) from None
    except UnicodeError:  # a lone surrogate, which libyaml cannot take as UTF-8
        raise _file_problem(source, 1, "not_text", "a character of the file is not text") from None
    except RecursionError:  # the depth bound comes first; never a 500 all the same
        reason = f"nested more than {MAX_DEPTH} levels deep"
        raise _file_problem(source, 1, "too_deep", reason, {"limit": MAX_DEPTH}) from None


class _Refused(Exception):
    """A file refused while it is read: at which line, why (in English), and its code."""

    def __init__(self, mark: Any, code: str, reason: str, **params: Any) -> None:
        super().__init__(reason)
        self.line = mark.line + 1 if mark is not None else 1
        self.code = code
        self.reason = reason
        self.params = params


def _measure(text: str) -> None:
    """Go through the file's parse events (flat: no node is built, nothing recurses) and
    refuse it at the first bound it passes: nested deeper than MAX_DEPTH, more than
    MAX_NODES values, aliases repeating more than MAX_REPEATED values and characters.

    A "billion laughs" file of a few kilobytes names millions of values through aliases
    of aliases; each would be validated, shown on pages and sent to every open page. So
    an alias counts as all its anchor holds, and what aliases repeat is bounded."""
    parser = _Loader(text)
    try:
        depth = nodes = repeated = 0
        held: dict[str, tuple[int, int]] = {}  # an anchor's (values, characters)
        opened: list[tuple[str | None, int, int]] = []  # (anchor, values, chars) at start
        chars = 0
        while (event := parser.get_event()) is not None:
            if isinstance(event, yaml.AliasEvent):
                if any(event.anchor == anchor for anchor, _, _ in opened):
                    reason = f"alias *{event.anchor} is inside its own anchor"
                    raise _Refused(event.start_mark, "alias_loop", reason, alias=event.anchor)
                if event.anchor not in held:
                    continue  # undefined: the loader says so
                values, length = held[event.anchor]
                nodes, chars, repeated = nodes + values, chars + length, repeated + values + length
                if repeated > MAX_REPEATED:
                    raise _Refused(
                        event.start_mark,
                        "alias_repeats",
                        f"aliases repeat more than {MAX_REPEATED} values and characters "
                        f"(*{event.anchor} here): write the values out, or repeat less",
                        limit=MAX_REPEATED,
                        alias=event.anchor,
                    )
            elif isinstance(event, yaml.ScalarEvent | yaml.CollectionStartEvent):
                if depth >= MAX_DEPTH:
                    reason = f"nested more than {MAX_DEPTH} levels deep"
                    raise _Refused(event.start_mark, "too_deep", reason, limit=MAX_DEPTH)
                if isinstance(event, yaml.ScalarEvent):
                    if event.anchor is not None:
                        held[event.anchor] = (1, len(event.value))
                    nodes, chars = nodes + 1, chars + len(event.value)
                else:
                    opened.append((event.anchor, nodes, chars))
                    depth, nodes = depth + 1, nodes + 1
            elif isinstance(event, yaml.CollectionEndEvent):
                anchor, first, first_chars = opened.pop()
                depth -= 1
                if anchor is not None:
                    held[anchor] = (nodes - first, chars - first_chars)
            if nodes > MAX_NODES:
                reason = f"more than {MAX_NODES} values in one file"
                raise _Refused(event.start_mark, "too_many_values", reason, limit=MAX_NODES)
    finally:
        parser.dispose()


class _Loader(_SafeLoader):
    """The safe loader (libyaml's when PyYAML has it: ten times faster), where a value
    Python cannot make is the file's fault at its line."""

    def construct_object(self, node: Any, deep: bool = False) -> Any:
        """`2020-13-45` read as a date: a refusal at its line, not the server's error."""
        try:
            return super().construct_object(node, deep)
        except (ValueError, OverflowError) as exc:
            reason = f"cannot read this value: {exc}"
            value = node.value if isinstance(node, yaml.ScalarNode) else ""
            raise _Refused(node.start_mark, "unreadable_value", reason, value=value) from None


def _bounded_int(loader: Any, node: yaml.Node) -> Any:
    """An integer of reasonable length: `1:2:3:...` is read in base 60 in quadratic time."""
    if not isinstance(node, yaml.ScalarNode):  # `!!int [1, 2]`
        raise _Refused(node.start_mark, "integer", "invalid YAML: a number is expected")
    if len(node.value) > MAX_NUMBER:
        reason = f"a number of more than {MAX_NUMBER} characters"
        raise _Refused(node.start_mark, "long_number", reason, limit=MAX_NUMBER)
    return yaml.SafeLoader.construct_yaml_int(loader, node)


_Loader.add_constructor("tag:yaml.org,2002:int", _bounded_int)


def problems_of(exc: ValidationError) -> list[Problem]:
    """pydantic's errors as located problems, for a file as for the studio's form: a list
    "too short" only when nothing inside it failed (that error says more), cross-field
    problems each at its place, pydantic's English sentence with a code and its values."""
    found: list[Problem] = []
    errors = exc.errors()
    for err in errors:
        loc = tuple(err["loc"])
        if err["type"] == "too_short" and any(
            len(o["loc"]) > len(loc) and tuple(o["loc"][: len(loc)]) == loc for o in errors
        ):
            continue
        located = (err.get("ctx") or {}).get("error")
        if isinstance(located, Located):
            found += located.problems
            continue
        code, params = _code_of(err)
        found.append(Problem(loc, err["msg"].removeprefix("Value error, "), (), code, params))
    return found


# pydantic's error types, by the code of the studio's sentence (`studio.problem.<code>`).
PYDANTIC_CODES = {
    "missing": "missing",
    "extra_forbidden": "unknown_field",
    "int_parsing": "integer",
    "int_type": "integer",
    "int_from_float": "integer",
    "greater_than_equal": "at_least",
    "less_than_equal": "at_most",
    "string_too_long": "too_long",
    "too_long": "too_many",  # a list or a mapping
    "string_type": "text",
    "literal_error": "choice",
    "bool_parsing": "boolean",
    "bool_type": "boolean",
    "date_parsing": "date",
    "date_type": "date",
    "date_from_datetime_parsing": "date",
    "date_from_datetime_inexact": "date",
    "time_parsing": "time",
    "time_type": "time",
    "datetime_parsing": "datetime",
    "datetime_type": "datetime",
    "datetime_from_date_parsing": "datetime",
    "datetime_object_invalid": "datetime",
    "dict_type": "mapping",
    "model_type": "mapping",
    "model_attributes_type": "mapping",
    "list_type": "list",
    "tuple_type": "list",
    "iterable_type": "list",
}


def _code_of(err: ErrorDetails) -> tuple[str, dict[str, Any]]:
    """The code and values of a translated sentence for one of pydantic's errors; a type
    not in the table is "invalid" (a generic sentence, never pydantic's English)."""
    kind = err["type"]
    ctx = err.get("ctx") or {}
    value = err.get("input")
    if kind == "value_error" and isinstance(ctx.get("error"), Invalid):
        return ctx["error"].code, dict(ctx["error"].params)
    if kind == "string_too_short" and ctx.get("min_length") == 1:
        return "empty", {}
    if kind == "too_short" and ctx.get("min_length") == 1:
        return "empty_list", {}
    if kind == "string_pattern_mismatch" and ctx.get("pattern") in (SLUG, REPORT_ID):
        return "slug", {"value": value}
    if kind == "literal_error":
        expected = tuple(re.findall(r"'([^']*)'", str(ctx.get("expected", ""))))
        return "choice", {"value": value, "expected": expected}
    code = PYDANTIC_CODES.get(kind, "invalid")
    if code == "unknown_field":
        return code, {"key": str(err["loc"][-1]) if err["loc"] else ""}
    if code == "missing":
        return code, {"field": str(err["loc"][-1]) if err["loc"] else ""}
    if code in ("at_least", "at_most"):
        return code, {"limit": ctx.get("ge", ctx.get("le"))}
    if code in ("too_long", "too_many"):
        return code, {"n": ctx.get("max_length")}
    return code, {}


def _found(problem: Problem, root: Any, source: str) -> Found:
    refs = tuple(_line_of(root, list(r)) for r in problem.refs)
    return Found(source, _line_of(root, list(problem.loc)), problem, refs)


# What the parser says (libyaml's words, or PyYAML's), by the code of a sentence that
# tells an organizer what to change; anything else is `yaml_syntax`.
YAML_CODES = (
    ("tab", "yaml_tab"),
    ("mapping values are not allowed", "yaml_colon"),
    ("unknown escape", "yaml_escape"),
    ("quoted scalar", "yaml_quote"),
    ("undefined alias", "yaml_alias"),
    ("constructor for the tag", "yaml_tag"),
    ("another document", "yaml_documents"),
    ("flow sequence", "yaml_bracket"),
    ("flow mapping", "yaml_bracket"),
    ("cannot start any token", "yaml_character"),
)


def _yaml_problem(exc: yaml.YAMLError, source: str) -> DefinitionError:
    """The parser's complaint at its line (without its `in "<unicode string>"` marks), by
    code, with the column where it stopped."""
    mark = getattr(exc, "problem_mark", None)
    line = mark.line + 1 if mark is not None else 1
    if isinstance(exc, yaml.MarkedYAMLError):
        parts = [exc.context, exc.problem]
        reason = ", ".join(p for p in parts if p) or "syntax error"
    else:
        reason = str(exc)
    code = next((c for words, c in YAML_CODES if words in reason), "yaml_syntax")
    params = {"column": mark.column + 1 if mark is not None else 1, "detail": reason}
    return _file_problem(source, line, code, f"invalid YAML: {reason}", params)


def _stringify_times(data: dict[str, Any]) -> dict[str, Any]:
    """YAML reads `13:30` as a sexagesimal int; keep times as text for the validator."""
    agenda = data.get("agenda")
    if isinstance(agenda, list):
        for step in agenda:
            if not isinstance(step, dict):
                continue
            start = step.get("start")
            if isinstance(start, int):
                step["start"] = f"{start // 60:02d}:{start % 60:02d}"
            elif isinstance(start, str) and re.fullmatch(r"\d:\d\d", start.strip()):
                step["start"] = "0" + start.strip()
    return data


def _line_of(node: Any, loc: list[Any]) -> int:
    """The 1-based line of the deepest YAML node that `loc` reaches."""
    line = node.start_mark.line + 1 if node is not None else 1
    for part in loc:
        child = None
        if isinstance(node, yaml.MappingNode) and isinstance(part, str):
            for key, value in node.value:
                if key.value == part:
                    child = value
                    line = key.start_mark.line + 1
                    break
        elif (
            isinstance(node, yaml.SequenceNode)
            and isinstance(part, int)
            and 0 <= part < len(node.value)
        ):
            child = node.value[part]
            line = child.start_mark.line + 1
        if child is None:
            break
        node = child
    return line
