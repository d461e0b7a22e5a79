"""Registrations: what a person may submit, checked field by field, with no I/O.

The form, the CSV import and the personal update page all go through `check`, so the
same rules (known site, ranked wishes among that site's open workshops, no workshop
twice, consent, the registration window) hold whatever the door.

The seeds' questionnaire ("identifier les sujets que vous souhaitez voir aborder
prioritairement") is part of the registration: for a theme, the subjects a person wants
discussed first, ranked, at most `SUBJECT_CHOICES` (`Registration.subjects`); the desk
adds them up per workshop (`tallies.subject_rankings`).
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from live.errors import RelaisError
from live.model import Event, Theme, Workshop
from live.people import rounds
from live.people.address import BadAddress, email_address
from live.people.assignment import Applicant, Seats

# Subjects a person ranks per theme at most ("1er choix, 2e choix, 3e choix").
SUBJECT_CHOICES = 3

# Where `read_csv` puts the cells of a row beyond the header's columns (DictReader's restkey).
EXTRA_CELLS = "extra_cells"


@dataclass
class Registration:
    id: str
    name: str
    email: str
    category: str
    site: str
    wishes: list[str]
    accessibility: str = ""
    group: str = ""
    consent_at: str = ""
    created: str = ""
    updated: str = ""
    pinned: str | None = None
    confirmed: str | None = None
    link_id: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    # Double opt-in (when e-mail is sent): a registration from the public form waits until
    # its person opens the link mailed to them; until then it counts nowhere.
    awaiting_email: bool = False
    email_verified_at: str | None = None
    # Several workshop rounds: the workshop pinned and the one confirmed in each round, by
    # round (its workshops step id); `pinned` and `confirmed` are the one round's (see
    # people.rounds: a record without these reads as the round of the workshop it names).
    pins: dict[str, str] = field(default_factory=dict)
    confirmations: dict[str, str] = field(default_factory=dict)
    # The questionnaire: theme id -> the subject ids this person wants discussed first,
    # best first (at most SUBJECT_CHOICES; themes left unanswered are absent).
    subjects: dict[str, list[str]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        record = asdict(self)
        for optional in ("pins", "confirmations", "subjects"):
            if not record[optional]:
                del record[optional]  # none: the record as it always was
        return record

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Registration:
        return cls(**d)

    def applicant(self) -> Applicant:
        return Applicant(
            id=self.id,
            site=self.site,
            wishes=tuple(self.wishes),
            group=self.group or None,
            pinned=self.pinned,
            confirmed=self.confirmed,
            category=self.category,
        )


class Invalid(RelaisError, ValueError):
    """Field -> message key (translated by the page); nothing is stored."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("invalid", "; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def window_error(event: Event, now: datetime) -> str | None:
    """Why registration is not open at `now`, or None."""
    reg = event.registration
    opens = reg.opens.replace(tzinfo=reg.opens.tzinfo or event.tz) if reg.opens else None
    closes = reg.closes.replace(tzinfo=reg.closes.tzinfo or event.tz) if reg.closes else None
    if opens and now < opens:
        return "reg.not_open"
    if closes and now >= closes:
        return "reg.closed"
    return None


@dataclass
class WorkshopSettings:
    """The organizer's changes to the event file's workshops: seats, minimum sizes, and
    the workshops closed. Kept as record `workshops/{event}`."""

    capacity: dict[str, int] = field(default_factory=dict)
    min_size: dict[str, int] = field(default_factory=dict)
    closed: list[str] = field(default_factory=list)

    @classmethod
    def from_record(cls, d: dict[str, Any] | None) -> WorkshopSettings:
        d = d or {}
        return cls(
            dict(d.get("capacity", {})), dict(d.get("min_size", {})), list(d.get("closed", []))
        )

    def to_record(self) -> dict[str, Any]:
        return {"capacity": self.capacity, "min_size": self.min_size, "closed": self.closed}


def workshops_on(event: Event, site: str, settings: WorkshopSettings) -> list[str]:
    """Workshop ids a person of `site` may wish for (open ones only)."""
    closed = set(settings.closed)
    return [w.id for w in event.workshops if w.site == site and w.id not in closed]


def wish_slots(event: Event) -> int:
    """How many wishes a form asks: the event's number, in each round (`wish1`, `wish2`...
    numbered on through the rounds, so that a list's `wish` columns read the same)."""
    return event.registration.wishes * max(1, len(rounds.rounds(event)))


def wish_rounds(
    event: Event, settings: WorkshopSettings, form: dict[str, Any]
) -> list[tuple[rounds.Round | None, list[Workshop], list[str], int]]:
    """What the form's wish lists show, round by round: (round, its open workshops, the
    wishes chosen, the number of its first `wish` field). One round: the event's open
    workshops and the wishes as posted; several: each round's, from `wish{n*k+1}` on."""
    closed = set(settings.closed)
    n = event.registration.wishes
    every = rounds.rounds(event)
    chosen = list(form.get("wishes") or [])
    if not rounds.several(event):
        offered = [w for w in event.workshops if w.id not in closed]
        return [(every[0] if every else None, offered, chosen, 1)]
    posted = len(chosen) == n * len(every)  # a posted form keeps its blanks in place
    out: list[tuple[rounds.Round | None, list[Workshop], list[str], int]] = []
    for k, rnd in enumerate(every):
        if posted:
            mine = chosen[k * n : (k + 1) * n]
        else:  # as stored: one list, each wish in its workshop's round
            mine = [w for w in chosen if w and rounds.key_of(event, w) == rnd.key]
        offered = [w for w in rnd.workshops if w.id not in closed]
        out.append((rnd, offered, mine, k * n + 1))
    return out


def questionnaire(event: Event) -> list[tuple[Theme, int]]:
    """The themes the questionnaire asks about (those with subjects and workshops), each
    with how many ranked choices it offers (`SUBJECT_CHOICES`, fewer with fewer subjects)."""
    held = {w.theme for w in event.workshops}
    return [
        (t, min(SUBJECT_CHOICES, len(t.subjects)))
        for t in event.themes
        if t.subjects and t.id in held
    ]


def ranked_subjects(event: Event, raw: Any) -> tuple[dict[str, list[str]], str | None]:
    """The questionnaire's answers, clean (theme -> subject ids, blanks closed up, themes
    unanswered left out), or the message key of what is wrong: a theme or subject the
    event does not ask about, more than `SUBJECT_CHOICES` for a theme, a subject twice."""
    if raw is None:
        return {}, None
    if not isinstance(raw, dict):
        return {}, "reg.subjects_unknown"
    asked = {t.id: t for t, _ in questionnaire(event)}
    out: dict[str, list[str]] = {}
    for theme_id, chosen in raw.items():
        picked = [str(s).strip() for s in (chosen if isinstance(chosen, list) else [chosen])]
        picked = [s for s in picked if s]
        if not picked:
            continue
        theme = asked.get(str(theme_id))
        if theme is None or any(theme.subject(s) is None for s in picked):
            return {}, "reg.subjects_unknown"
        if len(picked) > SUBJECT_CHOICES:
            return {}, "reg.subjects_too_many"
        if len(set(picked)) != len(picked):
            return {}, "reg.subjects_twice"
        out[theme.id] = picked
    return out, None


def keep_site(reg: Registration, fields: dict[str, Any]) -> None:
    """A person confirmed in some round keeps their site (their own page's update)."""
    if rounds.confirmed_any(reg) and fields["site"] != reg.site:
        raise Invalid({"site": "reg.confirmed_site"})


def check(
    event: Event,
    form: dict[str, Any],
    now: datetime,
    settings: WorkshopSettings | None = None,
) -> dict[str, Any]:
    """Validate a submission; return the clean fields or raise Invalid (field -> key)."""
    settings = settings or WorkshopSettings()
    errors: dict[str, str] = {}
    limit = event.registration.wishes
    if (reason := window_error(event, now)) is not None:
        raise Invalid({"form": reason})
    name = str(form.get("name", "")).strip()
    raw_email = str(form.get("email", ""))
    category = str(form.get("category", "")).strip()
    site = str(form.get("site", "")).strip()
    accessibility = str(form.get("accessibility", "")).strip()
    group = str(form.get("group", "")).strip()
    if not name:
        errors["name"] = "reg.required"
    elif len(name) > 120:
        errors["name"] = "reg.too_long"
    try:
        email = email_address(raw_email)
    except BadAddress:
        email, errors["email"] = "", "reg.email"
    if category not in event.registration.categories:
        errors["category"] = "reg.category"
    if event.site(site) is None:
        errors["site"] = "reg.site"
    if len(accessibility) > 500:
        errors["accessibility"] = "reg.too_long"
    if len(group) > 60:
        errors["group"] = "reg.too_long"
    if str(form.get("consent", "")).lower() not in ("on", "yes", "true", "1", "oui"):
        errors["consent"] = "reg.consent_required"
    raw = form.get("wishes")
    if raw is None:
        raw = [form.get(f"wish{i}", "") for i in range(1, wish_slots(event) + 1)]
    wishes = [str(w).strip() for w in raw if str(w).strip()]
    allowed = workshops_on(event, site, settings) if "site" not in errors else []
    per_round = Counter(rounds.key_of(event, w) for w in wishes)
    if len(wishes) > wish_slots(event) or max(per_round.values(), default=0) > limit:
        errors["wishes"] = "reg.too_many"
    elif len(set(wishes)) != len(wishes):
        errors["wishes"] = "reg.twice"
    elif any(event.workshop(w) is None for w in wishes):
        errors["wishes"] = "reg.unknown_workshop"
    elif "site" not in errors and any(w not in allowed for w in wishes):
        errors["wishes"] = "reg.other_site"
    subjects, wrong = ranked_subjects(event, form.get("subjects"))
    if wrong:
        errors["subjects"] = wrong
    if errors:
        raise Invalid(errors)
    return {
        "name": name,
        "email": email,
        "category": category,
        "site": site,
        "wishes": wishes,
        "accessibility": accessibility,
        "group": group,
        "subjects": subjects,
    }


# French column names (as the organizer desk exports them, accents or not) -> field names.
COLUMNS = {
    "nom": "name",
    "courriel": "email",
    "adresse electronique": "email",
    "categorie": "category",
    "accessibilite": "accessibility",
    "groupe": "group",
}


def _column(name: str) -> str:
    """A column name as a field: lower case, accents and spaces aside; `voeu 2` -> wish2."""
    plain = unicodedata.normalize("NFKD", name.strip().lower().replace("œ", "oe"))
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    wish = re.fullmatch(r"(?:wish|voeu)\s*_?\s*(\d+)", plain)
    if wish:
        return f"wish{wish.group(1)}"
    return COLUMNS.get(plain, plain)


def _dialect(text: str) -> type[csv.Dialect] | csv.Dialect:
    """The separator as the header line shows it: the rows may be ragged (a cell too many
    on one line must be that line's error, not make the whole file unreadable)."""
    header = text.lstrip("\ufeff").split("\n", 1)[0]
    if not header.strip():
        return csv.excel
    try:
        return csv.Sniffer().sniff(header, delimiters=";,")
    except csv.Error:  # a single column: no separator to see
        return csv.excel


def read_csv(text: str) -> list[dict[str, Any]]:
    """Rows of an organizer's list (`;` or `,` separated, header line), as form dicts.

    Columns: name, email, category, site, wish1..wishN (or voeu1..), accessibility, group.
    A row with more cells than the header keeps them under `EXTRA_CELLS` (a list), for the
    import to refuse that row.
    """
    rows = []
    for row in csv.DictReader(io.StringIO(text), dialect=_dialect(text), restkey=EXTRA_CELLS):
        extra = row.pop(EXTRA_CELLS, None)
        clean: dict[str, Any] = {_column(k or ""): (v or "").strip() for k, v in row.items()}
        if isinstance(extra, list):
            clean[EXTRA_CELLS] = extra
        columns = sorted(
            (k for k in clean if re.fullmatch(r"wish\d+", k)), key=lambda k: int(k[4:])
        )
        wishes = [clean[k] for k in columns]  # wish10 after wish9
        clean["wishes"] = [w for w in wishes if w]
        clean.setdefault("consent", "yes")  # the organizer collected it with the list
        rows.append(clean)
    return rows


def seats(event: Event, settings: WorkshopSettings) -> list[Seats]:
    """The workshops as the solver sees them, with the organizer's overrides."""
    capacity, minimum, closed = settings.capacity, settings.min_size, set(settings.closed)
    return [
        Seats(
            id=w.id,
            site=w.site,
            capacity=int(capacity.get(w.id, w.capacity)),
            min_size=int(minimum.get(w.id, w.min_size)),
            open=w.id not in closed,
        )
        for w in event.workshops
    ]
