"""The arguments of every participation command: strict (no extra key, no coercion),
strings trimmed then bounded, so that the log keeps only what was checked at the edge
(`commands.check`)."""

from __future__ import annotations

import re
from typing import Annotated, ClassVar

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from live.model import SLUG
from live.participation.state import (
    ARGUMENT_MAX,
    BODY_MAX,
    OPTION_MAX,
    OPTIONS_MAX,
    OPTIONS_MIN,
    QUESTION_MAX,
    REASON_MAX,
    TITLE_MAX,
    Kind,
    Scope,
    Stance,
)

ID_MAX = 32  # ids of proposals, arguments and polls ("p12", "a13", "q14")
PLACE_MAX = 64  # ids of workshops and sites, as the event file's slugs


class Args(BaseModel):
    """Strict: no extra key, no coercion; strings trimmed, then bounded."""

    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=True)
    ONE_OF: ClassVar[tuple[str, ...]] = ()


Id = Annotated[str, Field(min_length=1, max_length=ID_MAX)]


class Propose(Args):
    title: str = Field(min_length=1, max_length=TITLE_MAX)
    body: str = Field(default="", max_length=BODY_MAX)
    subject: str = Field(default="", max_length=PLACE_MAX)

    @field_validator("subject")
    @classmethod
    def _slug(cls, subject: str) -> str:
        if subject and not re.match(SLUG, subject):
            raise ValueError("a subject is a slug (a-z, 0-9, - and _)")
        return subject


class ProposalRef(Args):
    proposal: Id


class Argue(Args):
    proposal: Id
    stance: Stance
    text: str = Field(min_length=1, max_length=ARGUMENT_MAX)


class Target(Args):
    """A proposal or one of its arguments: exactly one."""

    ONE_OF = ("proposal", "argument")
    proposal: str | None = Field(default=None, min_length=1, max_length=ID_MAX)
    argument: str | None = Field(default=None, min_length=1, max_length=ID_MAX)

    @model_validator(mode="after")
    def _one(self) -> Target:
        if (self.proposal is None) == (self.argument is None):
            raise ValueError("give either proposal or argument")
        return self


class Hide(Target):
    reason: str = Field(min_length=1, max_length=REASON_MAX)


class Correct(Args):
    ONE_OF = ("title", "body")
    proposal: Id
    title: str | None = Field(default=None, min_length=1, max_length=TITLE_MAX)
    body: str | None = Field(default=None, max_length=BODY_MAX)

    @model_validator(mode="after")
    def _some(self) -> Correct:
        if self.title is None and self.body is None:
            raise ValueError("give a title, a body or both")
        return self


class Merge(Args):
    source: Id
    target: Id


class PollOpen(Args):
    scope: Scope
    target: str = Field(default="", max_length=PLACE_MAX)  # "" for everyone
    kind: Kind
    question: str = Field(min_length=1, max_length=QUESTION_MAX)
    options: list[str] = Field(min_length=OPTIONS_MIN, max_length=OPTIONS_MAX)

    @field_validator("options")
    @classmethod
    def _options(cls, options: list[str]) -> list[str]:
        options = [o.strip() for o in options]
        if any(not o or len(o) > OPTION_MAX for o in options):
            raise ValueError(f"each option has 1 to {OPTION_MAX} characters")
        if len(set(options)) != len(options):
            raise ValueError("two options are the same")
        return options

    @model_validator(mode="after")
    def _target(self) -> PollOpen:
        if (self.scope == "everyone") != (self.target == ""):
            raise ValueError("a poll to everyone has no target; to a workshop or site, one")
        return self


class PollRef(Args):
    poll: Id


class Vote(PollRef):
    """Option indexes: one for "one", distinct ones for "several", every index once in
    order of preference for "ranking"."""

    choices: list[int] = Field(min_length=1, max_length=OPTIONS_MAX)
