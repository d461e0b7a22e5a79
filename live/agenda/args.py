"""What every command's arguments share: strict parsing (no extra key, no coercion), and
the argument shapes several groups of commands use."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Args(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class Adjust(Args):
    """Extend (positive) or shorten (negative) a countdown, in minutes."""

    minutes: int = Field(ge=-240, le=240)

    @model_validator(mode="after")
    def _nonzero(self) -> Adjust:
        if self.minutes == 0:
            raise ValueError("minutes must not be 0")
        return self


class WorkshopRef(Args):
    workshop: str = Field(min_length=1, max_length=64)
