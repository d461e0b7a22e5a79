"""What every command's arguments share: strict parsing (no extra key, no coercion), and
the argument shapes several groups of commands use."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from live.agenda.protocol import INVALID_ARGS
from live.errors import RelaisError


class Args(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    # Fields of which exactly one must be given: a refusal of the whole arguments names
    # them ("index/step"), not "args", so the page can say what to fix.
    ONE_OF: ClassVar[tuple[str, ...]] = ()


class Adjust(Args):
    """Extend (positive) or shorten (negative) a countdown, in minutes."""

    minutes: int = Field(ge=-240, le=240)

    @field_validator("minutes")
    @classmethod
    def _nonzero(cls, minutes: int) -> int:
        """Checked on the field, so that a refusal names `minutes`, not the arguments."""
        if minutes == 0:
            raise ValueError("minutes must not be 0")
        return minutes


class WorkshopRef(Args):
    workshop: str = Field(min_length=1, max_length=64)


def parse(
    name: str, model: type[BaseModel], args: dict[str, Any], error: type[RelaisError]
) -> BaseModel:
    """A command's arguments as its model reads them, or `error("invalid_args")` naming
    the first field at fault (or the fields of which one must be given: "index/step"),
    so that a page can say what to fix. Shared by every command registry (the agenda's,
    the participation's)."""
    try:
        return model.model_validate(args)
    except ValidationError as exc:
        first = exc.errors()[0]
        one_of = "/".join(getattr(model, "ONE_OF", ()))
        where = ".".join(str(p) for p in first["loc"]) or one_of or "args"
        raise error(INVALID_ARGS, f"{name}: {where}: {first['msg']}", field=where) from None
