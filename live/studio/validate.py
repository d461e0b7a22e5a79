"""The one validator, for a form as for a file: the event model and its cross-field rules
(`live/event_checks.py`), each problem at its place (`loc`, such as ("agenda", 2, "start")).

`relais import` reads a file and says `file:line: field: reason`; the studio builds the
same data from its form, and shows each reason next to the field at that place. The
reasons are the model's own, word for word; only a reference to another place differs:
a file names its line, the form names the field ("Site 1 › Identifiant").

`problems_of` mirrors the loop of `model.parse_event_with_warnings` that turns pydantic's
errors into located problems (the same errors skipped, the same prefix removed); a
property test (tests/test_studio_properties.py) holds the two to the same messages.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from live.event_checks import Loc, Located, Problem, warnings
from live.model import Event

# How a problem names another place in a file ("already used at line 12").
_LINE_REF = re.compile(r"\bline \{\}")


def check(data: dict[str, Any]) -> tuple[Event | None, list[Problem]]:
    """The event, or None and every problem that keeps it from being used."""
    try:
        return Event.model_validate(data), []
    except ValidationError as exc:
        return None, problems_of(exc)


def problems_of(exc: ValidationError) -> list[Problem]:
    """pydantic's errors as located problems, as `parse_event` reports them: a list "too
    short" only when nothing inside it failed, cross-field problems each at its place."""
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
        found.append(Problem(loc, err["msg"].removeprefix("Value error, ")))
    return found


def warned(event: Event) -> list[Problem]:
    """What the event cannot satisfy as written (it still loads): the import's warnings."""
    return warnings(event)


def reason(problem: Problem, refer: Callable[[Loc], str]) -> str:
    """The problem's sentence, each other place it refers to named by `refer` instead of
    by a line number."""
    if not problem.refs:
        return problem.text  # pydantic's own text: never formatted (it may quote braces)
    return _LINE_REF.sub("{}", problem.text).format(*(refer(r) for r in problem.refs))
