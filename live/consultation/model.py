"""A consultation and what its events publish, validated with bounds on every list and text.

A consultation (the "États généraux du numérique") groups events over territories: each
event belongs to one territory (a département, an académie, a région académique, the
nation, or a local network the consultation adds below a département). Its themes and
their subjects are the consultation's, shared by its events.

After an event an organizer publishes its `Contribution`: the proposals it keeps (with
supports and arguments, nobody's name or key), its experience reports (presenters only
when they agreed) and the synthesis of each workshop (rapporteurs only when they agreed).
A proposal of an upper event may carry forward proposals of the territories below it (a
"reprise", merged or reworded): `origins` names them, so the national synthesis traces each
proposal back to the départements it came from.

Plain data with no I/O. What is checked here holds for one document alone (ids, bounds,
a reprise's shape); what needs the other contributions (origins that exist, are published
and come from within the event's territory) is `publish.check`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from functools import lru_cache
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from live.errors import RelaisError
from live.model import NAME_LENGTH, SLUG, TITLE_LENGTH, Theme
from live.territories import Territories

# A territory's code: fr, ra-occitanie, ac-toulouse, dep-09, dep-2a, loc-pamiers...
TERRITORY = r"^[a-z0-9][a-z0-9-]{0,63}$"
# A published proposal's id: its event's id, a slash, its id in that event ("p12", "r3").
PROPOSAL_ID = r"^[a-z0-9][a-z0-9_-]{0,63}/[a-z0-9][a-z0-9_-]{0,31}$"

# Bounds. A consultation of 30 académies × 8 départements, their académies, régions and
# the national day is ~300 events; a département's afternoon ~100 proposals.
MAX_EVENTS = 2_000  # per consultation
MAX_LOCALS = 2_000  # local territories a consultation adds
MAX_PROPOSALS = 1_000  # per contribution
MAX_ARGUMENTS = 50  # published per proposal (the organizer picks; by default the first)
MAX_ORIGINS = 100  # proposals one reprise carries forward
MAX_REPORTS = 200  # per contribution
MAX_SYNTHESES = 300  # one per workshop
MAX_PRESENTERS = 5
MAX_RAPPORTEURS = 5
MAX_SUPPORTS = 10_000_000

PROPOSAL_TITLE_LENGTH = 200
BODY_LENGTH = 2_000  # a merged proposal says more than one of a workshop (1,000)
ARGUMENT_LENGTH = 600
SUMMARY_LENGTH = 2_000
SYNTHESIS_LENGTH = 100_000  # one workshop's notes (two hours of typing: under 100 KB)
# The whole contribution, every text added up: one record, read by every process.
CONTRIBUTION_CHARS = 4_000_000

Stance = Literal["pour", "contre", "nuance"]
Reprise = Literal["merged", "reworded"]
Code = Annotated[str, Field(pattern=TERRITORY)]
ProposalId = Annotated[str, Field(pattern=PROPOSAL_ID)]
Name = Annotated[str, Field(min_length=1, max_length=NAME_LENGTH)]


class ConsultationRefused(RelaisError):
    """A consultation, contribution or reprise refused; nothing was stored. Codes:
    `consultation.<why>` (params say which id)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LocalTerritory(_Strict):
    """A network or bassin the consultation adds below a département (or another local)."""

    code: str = Field(pattern=r"^loc-[a-z0-9][a-z0-9-]{0,59}$")
    name: str = Field(min_length=1, max_length=NAME_LENGTH)
    parent: Code


class EventPlace(_Strict):
    """An event of the consultation and the territory it belongs to."""

    event: str = Field(pattern=SLUG)
    territory: Code


class Consultation(_Strict):
    id: str = Field(pattern=SLUG)
    title: str = Field(min_length=1, max_length=TITLE_LENGTH)
    territory: Code = "fr"  # its root: the nation, or one académie's own consultation
    themes: tuple[Theme, ...] = Field(default=(), max_length=30)
    locals: tuple[LocalTerritory, ...] = Field(default=(), max_length=MAX_LOCALS)
    events: tuple[EventPlace, ...] = Field(default=(), max_length=MAX_EVENTS)

    @model_validator(mode="after")
    def _unique(self) -> Consultation:
        for what, ids in (
            ("theme", [t.id for t in self.themes]),
            ("local", [t.code for t in self.locals]),
            ("event", [e.event for e in self.events]),
        ):
            if len(set(ids)) != len(ids):
                twice = next(i for i in ids if ids.count(i) > 1)
                raise ValueError(f"{what} {twice!r} is listed twice")
        return self

    def theme(self, theme_id: str) -> Theme | None:
        return next((t for t in self.themes if t.id == theme_id), None)

    def territory_of(self, event_id: str) -> str | None:
        """The territory an event of the consultation belongs to (None: not one of its)."""
        return next((e.territory for e in self.events if e.event == event_id), None)

    def territories(self) -> Territories:
        """The reference tree with this consultation's local territories added (built once
        per set of locals: every page asks)."""
        return _tree(self.locals)


@lru_cache(maxsize=64)
def _tree(locals: tuple[LocalTerritory, ...]) -> Territories:
    tree = Territories.reference()
    return tree.with_local((t.code, t.name, t.parent) for t in locals) if locals else tree


class PublishedArgument(_Strict):
    """An argument as published: its stance and text, never who gave it."""

    stance: Stance
    text: str = Field(min_length=1, max_length=ARGUMENT_LENGTH)


class PublishedProposal(_Strict):
    """A proposal as the territorial space shows it. `id` is `event/proposal` (stable:
    the participation's own id, or `r<n>` for a reprise made at publication). A reprise
    carries forward `origins` (published ids of events below), merged or reworded."""

    id: ProposalId
    theme: str = Field(pattern=SLUG)
    subject: str = Field(default="", pattern=r"^$|" + SLUG)
    title: str = Field(min_length=1, max_length=PROPOSAL_TITLE_LENGTH)
    body: str = Field(default="", max_length=BODY_LENGTH)
    supports: int = Field(default=0, ge=0, le=MAX_SUPPORTS)
    arguments: tuple[PublishedArgument, ...] = Field(default=(), max_length=MAX_ARGUMENTS)
    origins: tuple[ProposalId, ...] = Field(default=(), max_length=MAX_ORIGINS)
    reprise: Reprise | None = None

    @model_validator(mode="after")
    def _reprise(self) -> PublishedProposal:
        if len(set(self.origins)) != len(self.origins):
            raise ValueError("an origin is listed twice")
        if self.reprise is None and self.origins:
            raise ValueError("origins without a reprise kind (merged or reworded)")
        if self.reprise == "reworded" and len(self.origins) != 1:
            raise ValueError("a reworded proposal carries exactly one origin")
        if self.reprise == "merged" and len(self.origins) < 2:
            raise ValueError("a merged proposal carries at least two origins")
        return self

    @property
    def event(self) -> str:
        return self.id.partition("/")[0]


class ExperienceReport(_Strict):
    """A "retour d'expérience": presenters are named only when they agreed."""

    id: str = Field(pattern=SLUG)
    theme: str = Field(default="", pattern=r"^$|" + SLUG)
    title: str = Field(min_length=1, max_length=TITLE_LENGTH)
    presenters: tuple[Name, ...] = Field(default=(), max_length=MAX_PRESENTERS)
    site: str = Field(default="", max_length=NAME_LENGTH)
    summary: str = Field(default="", max_length=SUMMARY_LENGTH)


class WorkshopSynthesis(_Strict):
    """What a workshop's notes said; rapporteurs are named only when they agreed."""

    workshop: str = Field(pattern=SLUG)
    theme: str = Field(pattern=SLUG)
    title: str = Field(min_length=1, max_length=TITLE_LENGTH)
    text: str = Field(default="", max_length=SYNTHESIS_LENGTH)
    rapporteurs: tuple[Name, ...] = Field(default=(), max_length=MAX_RAPPORTEURS)


class Contribution(_Strict):
    """What one event of a consultation published, as one document: publishing again
    replaces it whole."""

    consultation: str = Field(pattern=SLUG)
    event: str = Field(pattern=SLUG)
    event_title: str = Field(min_length=1, max_length=TITLE_LENGTH)
    event_date: date
    territory: Code
    published: datetime
    proposals: tuple[PublishedProposal, ...] = Field(default=(), max_length=MAX_PROPOSALS)
    reports: tuple[ExperienceReport, ...] = Field(default=(), max_length=MAX_REPORTS)
    syntheses: tuple[WorkshopSynthesis, ...] = Field(default=(), max_length=MAX_SYNTHESES)

    @model_validator(mode="after")
    def _ids(self) -> Contribution:
        ids = [p.id for p in self.proposals]
        if len(set(ids)) != len(ids):
            raise ValueError("a proposal id is listed twice")
        stranger = next((i for i in ids if not i.startswith(self.event + "/")), None)
        if stranger is not None:
            raise ValueError(f"proposal {stranger!r} is not of event {self.event!r}")
        own = next(
            (o for p in self.proposals for o in p.origins if o.startswith(self.event + "/")), None
        )
        if own is not None:
            raise ValueError(f"origin {own!r} is of this event: it carries forward other events'")
        reports = [r.id for r in self.reports]
        if len(set(reports)) != len(reports):
            raise ValueError("a report id is listed twice")
        if self.chars() > CONTRIBUTION_CHARS:
            raise ValueError(
                f"the contribution is too large (over {CONTRIBUTION_CHARS} characters)"
            )
        return self

    def chars(self) -> int:
        """Every text of the contribution added up (the bound on one record)."""
        n = 0
        for p in self.proposals:
            n += len(p.title) + len(p.body) + sum(len(a.text) for a in p.arguments)
        for r in self.reports:
            n += len(r.title) + len(r.summary) + len(r.site) + sum(map(len, r.presenters))
        for s in self.syntheses:
            n += len(s.title) + len(s.text) + sum(map(len, s.rapporteurs))
        return n

    def proposal(self, proposal_id: str) -> PublishedProposal | None:
        return next((p for p in self.proposals if p.id == proposal_id), None)


def listed_elsewhere(consultation: Consultation, others: Iterable[Consultation]) -> dict[str, str]:
    """The events of `consultation` another consultation lists already (event -> that
    consultation's id): an event feeds one consultation, its contribution has one place."""
    mine = {e.event for e in consultation.events}
    return {
        e.event: other.id
        for other in others
        if other.id != consultation.id
        for e in other.events
        if e.event in mine
    }
