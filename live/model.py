"""The event definition: sites, themes, agenda steps and workshops, validated.

An organizer writes it as YAML; errors name the field and the line so it can be fixed
without guessing. Everything here is plain data with no I/O.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from live.event_checks import Invalid, Located, problems
from live.territories import Territories

StepKind = Literal[
    "welcome",
    "plenary",
    "round_table",
    "workshops",
    "break",
    "restitution",
    "synthesis",
    "closing",
    "custom",
]

SLUG = r"^[a-z0-9][a-z0-9_-]{0,63}$"
REPORT_ID = r"^$|" + SLUG  # a report's id may be left out (see `Report`)

# How large an event may be. Generous for a real day (the Grand Est regional day has 7
# sites, 8 steps, 15 workshops and 30 reports; a national day a few hundred workshops),
# and small enough that the largest event, every text at its bound, makes a `definition`
# frame under 2 MB, sent to every open page (tests/model/test_event_file_bounds.py builds it).
MAX_SITES = 60
MAX_THEMES = 30
MAX_STEPS = 60
MAX_WORKSHOPS = 300
MAX_SPEAKERS = 12  # per step
MAX_REPORTS = 40  # per step or per workshop
MAX_PRESENTERS = 5  # per report
MAX_CATEGORIES = 30
MAX_SEATS = 100_000  # a site's or a workshop's capacity (the assignment counts in int64)
# Totals across the event, which a bound per list would multiply (speakers per step times
# steps...), are rules across fields: `event_checks.EVENT_TOTALS`.

# Every text has a bound (characters).
ID_LENGTH = 64  # a reference to an id (a slug has 64 at most)
NAME_LENGTH = 120
TITLE_LENGTH = 200
ADDRESS_LENGTH = 300
URL_LENGTH = 500
TEMPLATE_LENGTH = 10_000  # the event's notes template
WORKSHOP_TEMPLATE_LENGTH = 2_000  # a workshop's own, at most hundreds of them

Ref = Annotated[str, Field(max_length=ID_LENGTH)]

NOTES_HEADINGS = ("Constats", "Propositions", "Freins", "Leviers", "Questions au plénier")
DEFAULT_NOTES_TEMPLATE = "".join(f"## {heading}" + "\n" * 3 for heading in NOTES_HEADINGS)

DEFAULT_CATEGORIES = (
    "élève",
    "parent",
    "professeur",
    "personnel d'encadrement",
    "agent",
    "collectivité",
    "association",
    "entreprise partenaire",
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Site(_Strict):
    id: str = Field(pattern=SLUG)
    name: str = Field(min_length=1, max_length=NAME_LENGTH)
    address: str = Field(default="", max_length=ADDRESS_LENGTH)
    capacity: int = Field(default=0, ge=0, le=MAX_SEATS)
    hub: bool = False


class Subject(_Strict):
    """A subject of a theme ("Égalité d'accès", "Inclusion"...): what proposals are filed
    under, and what the questionnaire asks people to rank."""

    id: str = Field(pattern=SLUG)
    title: str = Field(min_length=1, max_length=TITLE_LENGTH)


class Theme(_Strict):
    id: str = Field(pattern=SLUG)
    title: str = Field(min_length=1, max_length=TITLE_LENGTH)
    subjects: tuple[Subject, ...] = Field(default=(), max_length=12)

    def subject(self, subject_id: str) -> Subject | None:
        return next((s for s in self.subjects if s.id == subject_id), None)


class Speaker(_Strict):
    """Who speaks at a step, as the programme names them: "Mme X, rectrice de l'académie",
    where they stand (a site id) or that they speak remotely (en visio)."""

    name: str = Field(min_length=1, max_length=NAME_LENGTH)
    role: str = Field(default="", max_length=TITLE_LENGTH)
    site: Ref | None = None
    remote: bool = False


RoomName = Annotated[str, Field(min_length=1, max_length=NAME_LENGTH)]
PersonName = Annotated[str, Field(min_length=1, max_length=NAME_LENGTH)]
Category = Annotated[str, Field(max_length=NAME_LENGTH)]


class Report(_Strict):
    """An experience report ("retour d'expérience"): a school or a team shows what it did,
    in a few minutes, during a step (a round of reports, a restitution) or within a
    workshop. Reports are timed turns like restitution slots (see agenda.commands).

    `id` may be left out: it is then its owner's id and its rank (`ateliers-2`), stable
    as long as the list is not reordered."""

    id: str = Field(default="", pattern=REPORT_ID)
    title: str = Field(min_length=1, max_length=TITLE_LENGTH)
    presenters: tuple[PersonName, ...] = Field(default=(), max_length=MAX_PRESENTERS)
    site: Ref | None = None
    minutes: int = Field(default=5, ge=1, le=240)

    @model_validator(mode="before")
    @classmethod
    def _one_presenter(cls, data: Any) -> Any:
        """`presenter: Name` reads as `presenters: [Name]`."""
        if isinstance(data, dict) and "presenter" in data:
            data = dict(data)
            one = data.pop("presenter")
            if "presenters" in data:
                raise Invalid("one_presenter_list", "give either presenter or presenters")
            data["presenters"] = [one] if one else []
        return data


def _number_reports(owner: str, reports: tuple[Report, ...]) -> tuple[Report, ...]:
    return tuple(
        r if r.id else r.model_copy(update={"id": f"{owner}-{i}"}) for i, r in enumerate(reports, 1)
    )


class Step(_Strict):
    id: str = Field(pattern=SLUG)
    kind: StepKind
    title: str = Field(min_length=1, max_length=TITLE_LENGTH)
    start: time
    duration: int = Field(ge=1, le=24 * 60, description="minutes")
    # One speaker without a role (files written before `speakers`); with `speakers`, the
    # names joined ("A, B") for whoever shows a single line.
    speaker: str = Field(default="", max_length=NAME_LENGTH)  # it makes a `Speaker`
    speakers: tuple[Speaker, ...] = Field(default=(), max_length=MAX_SPEAKERS)
    sites: tuple[Ref, ...] = Field(default=(), max_length=MAX_SITES)
    # Where each site's people gather for a shared step: {site id: "Amphi A"}.
    rooms: dict[Ref, RoomName] = Field(default_factory=dict, max_length=MAX_SITES)
    video: bool = False
    slot: int | None = Field(default=None, ge=1, le=240, description="restitution minutes each")
    # An external visio room for this step (BigBlueButton, Jitsi, Teams...): pages and
    # screens show it with a QR code instead of the built-in relay's picture.
    visio_url: str | None = Field(default=None, max_length=URL_LENGTH)
    # A step that deliberately runs alongside another one on the same sites (parallel
    # tracks): the overlap is then a warning, not an error (see `_agenda_problems`).
    allow_overlap: bool = False
    # Experience reports presented in this step, one timed turn each, in this order.
    reports: tuple[Report, ...] = Field(default=(), max_length=MAX_REPORTS)
    # What a restitution calls in turn: its workshops (one slot each), or the experience
    # reports of its workshops. A step with its own `reports` calls those.
    queue: Literal["workshops", "reports"] = "workshops"
    # A restitution gives its first turn the floor as it starts (`auto`: the screens show
    # that workshop's notes and its slot from the first second), or waits for the régie to
    # call it (`called`).
    first_turn: Literal["auto", "called"] = "auto"

    @field_validator("visio_url")
    @classmethod
    def _https(cls, v: str | None) -> str | None:
        if v is None:
            return v
        url = urlsplit(v)
        if url.scheme != "https" or not url.hostname or re.search(r"\s", v):
            text = "must be an https:// address (https://visio.example.org/room)"
            raise Invalid("https_address", text)
        return v

    @model_validator(mode="after")
    def _one_speaker_list(self) -> Step:
        """`speaker:` alone is one speaker with no role; `speakers:` alone gives `speaker`
        as their names, so code that shows one line keeps working."""
        if self.speaker and not self.speakers:
            object.__setattr__(self, "speakers", (Speaker(name=self.speaker),))
        elif self.speakers and not self.speaker:
            object.__setattr__(self, "speaker", ", ".join(p.name for p in self.speakers))
        return self

    @model_validator(mode="after")
    def _report_ids(self) -> Step:
        object.__setattr__(self, "reports", _number_reports(self.id, self.reports))
        return self

    def room_at(self, site_id: str | None) -> str:
        """Where `site_id`'s people gather for this step ("" when the file does not say)."""
        return self.rooms.get(site_id, "") if site_id else ""

    @property
    def duration_ms(self) -> int:
        return self.duration * 60_000


class Workshop(_Strict):
    id: str = Field(pattern=SLUG)
    theme: Ref
    site: Ref
    # The workshops step (the round) this workshop runs in; unset: the only workshops
    # step of its site. Morning and afternoon workshops are two rounds: one wish list,
    # one placement each (see `Event.rounds`).
    step: str | None = Field(default=None, pattern=SLUG)
    title: str = Field(default="", max_length=TITLE_LENGTH)
    room: str = Field(default="", max_length=NAME_LENGTH)
    capacity: int = Field(ge=1, le=MAX_SEATS)
    min_size: int = Field(default=0, ge=0, le=MAX_SEATS)
    visio_url: str | None = Field(default=None, max_length=URL_LENGTH)
    notes_template: str | None = Field(default=None, max_length=WORKSHOP_TEMPLATE_LENGTH)
    # Experience reports presented in this workshop (in turn, during the workshops step),
    # or called in a restitution whose `queue` is `reports`.
    reports: tuple[Report, ...] = Field(default=(), max_length=MAX_REPORTS)

    @field_validator("visio_url")
    @classmethod
    def _http(cls, v: str | None) -> str | None:
        if v is not None and not re.match(r"^https?://", v):
            raise Invalid("http_address", "must start with http:// or https://")
        return v

    @model_validator(mode="after")
    def _report_ids(self) -> Workshop:
        object.__setattr__(self, "reports", _number_reports(self.id, self.reports))
        return self


class Timers(_Strict):
    """When a countdown turns to warning, then danger (seconds left).

    Unset, each is relative to the countdown's own length: a quarter of it (at most five
    minutes) for warning, a tenth (at most one minute) for danger. A 45-minute plenary
    turns amber 5 minutes before the end, a 3-minute restitution slot 45 seconds before,
    not from its first second as a fixed 5 minutes would."""

    warning: int | None = Field(default=None, ge=0, le=24 * 3600)
    danger: int | None = Field(default=None, ge=0, le=24 * 3600)

    @model_validator(mode="after")
    def _order(self) -> Timers:
        if self.danger is not None and self.warning is not None and self.danger > self.warning:
            raise Invalid("danger_after_warning", "danger must not exceed warning")
        return self

    def for_duration(self, duration_ms: int) -> tuple[float, float]:
        """(warning, danger) in seconds for a countdown of `duration_ms`."""
        seconds = duration_ms / 1000
        warning = self.warning if self.warning is not None else min(300, seconds / 4)
        danger = self.danger if self.danger is not None else min(60, seconds / 10)
        return warning, min(danger, warning)


class RegistrationRules(_Strict):
    """When registration opens and closes, how many wishes, which categories."""

    opens: datetime | None = None
    closes: datetime | None = None
    wishes: int = Field(default=3, ge=1, le=20)
    categories: tuple[Category, ...] = Field(default=DEFAULT_CATEGORIES, max_length=MAX_CATEGORIES)
    allow_free_seats: bool = False
    # Several rounds: may one person be placed twice in workshops of the same theme?
    same_theme_twice: bool = False


class Event(_Strict):
    id: str = Field(pattern=SLUG)
    title: str = Field(min_length=1, max_length=TITLE_LENGTH)
    date: date
    timezone: str = Field(default="Europe/Paris", max_length=ID_LENGTH)
    # Where the event belongs (live/territories.py: `fr`, `ac-poitiers`, `dep-09`...): who
    # may run it (an organizer of this territory or one above) and where its contribution goes.
    territory: str | None = Field(default=None, pattern=SLUG)
    sites: tuple[Site, ...] = Field(min_length=1, max_length=MAX_SITES)
    themes: tuple[Theme, ...] = Field(default=(), max_length=MAX_THEMES)
    agenda: tuple[Step, ...] = Field(min_length=1, max_length=MAX_STEPS)
    workshops: tuple[Workshop, ...] = Field(default=(), max_length=MAX_WORKSHOPS)
    timers: Timers = Timers()
    registration: RegistrationRules = RegistrationRules()
    notes_template: str = Field(default=DEFAULT_NOTES_TEMPLATE, max_length=TEMPLATE_LENGTH)

    @field_validator("territory")
    @classmethod
    def _territory(cls, v: str | None) -> str | None:
        # The reference's, or a local network a consultation adds (`loc-...`).
        if v is not None and not v.startswith("loc-") and v not in Territories.reference():
            raise Invalid("unknown_territory", f"unknown territory {v!r}", territory=v)
        return v

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise Invalid("unknown_timezone", f"unknown timezone {v!r}", timezone=v) from None
        return v

    @model_validator(mode="after")
    def _references(self) -> Event:
        found = problems(self)
        if found:
            raise Located(found)
        return self

    # -- lookups used by the rest of the domain -------------------------------------------

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def site(self, site_id: str) -> Site | None:
        return next((s for s in self.sites if s.id == site_id), None)

    def theme(self, theme_id: str) -> Theme | None:
        return next((t for t in self.themes if t.id == theme_id), None)

    def workshop(self, workshop_id: str) -> Workshop | None:
        return next((w for w in self.workshops if w.id == workshop_id), None)

    def steps_at(self, site_id: str) -> list[Step]:
        """The agenda as one site lives it: steps listing no site concern every site."""
        return [s for s in self.agenda if not s.sites or site_id in s.sites]

    def workshops_for(self, step: Step) -> list[Workshop]:
        """The workshops a step concerns, ordered by theme then workshop (the report order):
        a workshops step, the workshops of its round only."""
        order = {t.id: i for i, t in enumerate(self.themes)}
        chosen = [w for w in self.workshops if not step.sites or w.site in step.sites]
        if step.kind == "workshops":
            chosen = [w for w in chosen if (s := self.workshop_step(w)) is None or s.id == step.id]
        return sorted(chosen, key=lambda w: (order.get(w.theme, 999), w.id))

    def workshop_step(self, w: Workshop) -> Step | None:
        """The workshops step a workshop runs in: the one it names, else the only workshops
        step its site takes part in. None if its site has none, or several and the file
        names no round: then it runs in all of them, as one round (files before rounds)."""
        if w.step is not None:
            return next((s for s in self.agenda if s.id == w.step), None)
        steps = [s for s in self.steps_at(w.site) if s.kind == "workshops"]
        return steps[0] if len(steps) == 1 else None

    @property
    def rounds(self) -> list[Step]:
        """The workshops steps some workshop runs in, in agenda order: each is a round,
        where every person of its sites wishes and is placed once."""
        used = {s.id for w in self.workshops if (s := self.workshop_step(w))}
        return [s for s in self.agenda if s.id in used]

    def report(self, report_id: str) -> Report | None:
        return self.reports_by_id().get(report_id)

    def all_reports(self) -> list[tuple[Report, Workshop | None]]:
        """Every experience report of the event with its workshop (None for a step's
        own), steps' first."""
        steps: list[tuple[Report, Workshop | None]] = [
            (r, None) for s in self.agenda for r in s.reports
        ]
        return steps + [(r, w) for w in self.workshops for r in w.reports]

    def reports_by_id(self) -> dict[str, Report]:
        return {r.id: r for r, _ in self.all_reports()}

    def reports_for(self, step: Step) -> list[tuple[Report, Workshop | None]]:
        """The reports a step calls in turn, each with its workshop: the step's own, or
        for a restitution queueing reports, those of its workshops in report order."""
        if step.reports:
            return [(r, None) for r in step.reports]
        if step.kind == "restitution" and step.queue == "reports":
            return [(r, w) for w in self.workshops_for(step) for r in w.reports]
        return []

    def workshop_title(self, w: Workshop) -> str:
        """A workshop's name across sites: its title, else its theme and its site."""
        if w.title:
            return w.title
        theme = self.theme(w.theme)
        name = theme.title if theme else w.theme
        if len(self.sites) == 1:
            return name  # one site: naming it after every title says nothing
        site = self.site(w.site)
        return f"{name} — {site.name if site else w.site}"

    def planned_start(self, step: Step) -> datetime:
        return datetime.combine(self.date, step.start, tzinfo=self.tz)

    def planned_end(self, step: Step) -> datetime:
        return self.planned_start(step) + timedelta(minutes=step.duration)

    def planned_start_ms(self, index: int) -> int:
        return int(self.planned_start(self.agenda[index]).timestamp() * 1000)

    def workshop_short_title(self, w: Workshop) -> str:
        """A workshop's name where its site goes without saying (that site's screen)."""
        theme = self.theme(w.theme)
        return w.title or (theme.title if theme else w.theme)

    def speaker_label(self, speaker: Speaker, remote: str = "à distance") -> str:
        """One speaker as pages, screens and the .ics show them, the same everywhere:
        `Name, role (Site) — à distance` (`remote` is the page language's word)."""
        site = self.site(speaker.site) if speaker.site else None
        label = ", ".join(p for p in (speaker.name, speaker.role) if p)
        if site is not None:
            label += f" ({site.name})"
        return f"{label} — {remote}" if speaker.remote else label

    @property
    def hub(self) -> Site:
        return next((s for s in self.sites if s.hub), self.sites[0])
