"""What every command's arguments share: strict parsing (no extra key, no coercion), and
the argument shapes several groups of commands use."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field, field_validator


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
