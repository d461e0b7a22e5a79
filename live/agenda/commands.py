"""What each role may ask: one argument schema per command, checked before the agenda.

A command that passes here is then applied by `agenda.apply`, which may still reject it
for the current state (pausing a paused timer). Either way nothing is written.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from live.agenda import protocol as messages
from live.links import COMMANDERS


class CommandError(Exception):
    """A command refused before the agenda sees it (unknown, forbidden, bad arguments)."""

    def __init__(self, code: str, message: str, **params: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.params = params


class _Args(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class NoArgs(_Args):
    pass


class Move(_Args):
    start: bool = True


class Goto(_Args):
    index: int | None = Field(default=None, ge=0)
    step: str | None = Field(default=None, max_length=64)
    start: bool = True

    @model_validator(mode="after")
    def _one(self) -> Goto:
        if (self.index is None) == (self.step is None):
            raise ValueError("give either index or step")
        return self


def _minutes() -> Any:
    return Field(ge=-240, le=240)


class Adjust(_Args):
    minutes: int = _minutes()

    @model_validator(mode="after")
    def _nonzero(self) -> Adjust:
        if self.minutes == 0:
            raise ValueError("minutes must not be 0")
        return self


class WorkshopRef(_Args):
    workshop: str = Field(min_length=1, max_length=64)


class WorkshopAdjust(WorkshopRef, Adjust):
    pass


class QueueMove(WorkshopRef):
    position: int = Field(ge=0)


class Show(_Args):
    text: str = Field(min_length=1, max_length=280)
    site: str | None = Field(default=None, max_length=64)


class Undo(_Args):
    """Take back the last command; `seq` names it, so a late click undoes nothing else."""

    seq: int = Field(ge=1)


SCHEMAS: dict[str, type[_Args]] = {
    "step.goto": Goto,
    "step.next": Move,
    "step.previous": Move,
    "timer.start": NoArgs,
    "timer.pause": NoArgs,
    "timer.resume": NoArgs,
    "timer.adjust": Adjust,
    "timer.reset": NoArgs,
    "workshop.adjust": WorkshopAdjust,
    "workshop.close": WorkshopRef,
    "workshop.reopen": WorkshopRef,
    "queue.next": NoArgs,
    "queue.skip": WorkshopRef,
    "queue.move": QueueMove,
    "queue.adjust": Adjust,
    "message.show": Show,
    "message.hide": NoArgs,
    "event.end": NoArgs,
    "undo": Undo,
}

# Every agenda command changes what all sites see: only the régie may send them.
ROLES: dict[str, frozenset[str]] = {name: COMMANDERS for name in SCHEMAS}


def check(name: str, args: dict[str, Any], role: str) -> dict[str, Any]:
    """Validate a command for a role; return its normalized arguments."""
    schema = SCHEMAS.get(name)
    if schema is None:
        raise CommandError(messages.UNKNOWN_COMMAND, f"unknown command {name!r}", name=name)
    if role not in ROLES[name]:
        raise CommandError(messages.FORBIDDEN, f"role {role!r} may not send {name!r}", name=name)
    try:
        parsed = schema.model_validate(args)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "args"
        raise CommandError(
            messages.INVALID_ARGS, f"{name}: {where}: {first['msg']}", field=where
        ) from None
    return parsed.model_dump(exclude_none=True)
