"""The organizer's desk, as rules: workshop settings, pins, lists imported from a file, a
person's data. Plain checks over the people store, with no HTTP: the desk's handlers
(web/organize.py) parse a form, call these, and reply. A rule that refuses raises
`Refused` with a message key and its arguments, and nothing is written.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

from live.errors import RelaisError, http_status
from live.links.signing import LinkBook, LinkError
from live.model import Event, Workshop
from live.people import rounds
from live.people.registration import (
    EXTRA_CELLS,
    Invalid,
    Registration,
    WorkshopSettings,
    check,
    read_csv,
    seats,
    window_error,
)
from live.people.store import Duplicate, People

MAX_SEATS = 100_000
MAX_SEED = 2**63 - 1
# The address a participant's link opens, from the event id and the link's token: the
# app's URL builder gives it (the domain builds no address itself).
Address = Callable[[str, str], str]
MAX_UPLOAD = 2 * 1024 * 1024  # an imported list's bytes


class Refused(RelaisError):
    """Organizer input that cannot be applied: an i18n key with its arguments.

    Arguments named `*_key` are i18n keys themselves and get translated too.
    """

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key, key, **params)
        self.key = key

    @property
    def status(self) -> int:
        """The HTTP status of this refusal: the one table's (`live/errors.py`)."""
        return http_status(self.code)


def integer(raw: str, label_key: str, minimum: int, maximum: int = MAX_SEATS) -> int:
    """A whole number within bounds (ASCII digits only), or Refused naming the field."""
    if re.fullmatch(r"[0-9]{1,19}", raw) and minimum <= int(raw) <= maximum:
        return int(raw)
    raise Refused("org.bad_integer", field_key=label_key, value=raw[:40], minimum=minimum)


def seed(raw: str | None) -> int | None:
    """A run's seed: blank -> None (the run draws a fresh one); else a non-negative integer."""
    return integer(raw, "org.seed", 0, MAX_SEED) if raw else None


async def save_attendance(event: Event, people: People, raw: Mapping[str, str | None]) -> int:
    """People present at each site, from the form's text by site id (blank: not counted),
    all checked before they are kept; how many in all."""
    counts = {
        site.id: integer(text, "org.attendance", 0)
        for site in event.sites
        if (text := raw.get(site.id))
    }
    await people.save_attendance(counts)
    return sum(counts.values())


def workshop(event: Event, wid: str) -> Workshop:
    w = event.workshop(wid)
    if w is None:
        raise Refused("org.unknown_workshop", id=wid[:80])
    return w


async def person(people: People, pid: str) -> Registration:
    reg = await people.get(pid) if pid else None
    if reg is None:
        raise Refused("org.unknown_person", id=pid[:80])
    return reg


def fixed(regs: Iterable[Registration], wid: str, but: str = "") -> int:
    """People the solver cannot move out of a workshop: pinned or confirmed there (in its
    round: a workshop runs in one round only, so any of a person's rounds will do)."""
    return sum(
        1
        for r in regs
        if r.id != but
        and (wid in (r.pinned, r.confirmed) or wid in (*r.pins.values(), *r.confirmations.values()))
    )


def _apply_workshop(
    event: Event,
    settings: WorkshopSettings,
    regs: list[Registration],
    wid: str,
    raw: dict[str, str | None],
    is_open: bool,
) -> None:
    """Check one workshop's new capacity / minimum / open state and write it into
    `settings` (a copy): never fewer seats than people pinned or confirmed there."""
    w = workshop(event, wid)
    current = next(s for s in seats(event, settings) if s.id == wid)
    capacity, minimum = raw["capacity"], raw["min_size"]
    cap = current.capacity if capacity is None else integer(capacity, "org.capacity", 1)
    low = current.min_size if minimum is None else integer(minimum, "org.min_size", 0)
    title = event.workshop_short_title(w)
    if low > cap:
        raise Refused("org.min_over_capacity", workshop=title, minimum=low, capacity=cap)
    held = fixed(regs, wid)
    if cap < held:
        raise Refused("org.capacity_below_fixed", workshop=title, n=held)
    if not is_open and held:
        raise Refused("org.close_fixed", workshop=title, n=held)
    settings.capacity[wid] = cap
    settings.min_size[wid] = low
    closed = set(settings.closed)
    if is_open:
        closed.discard(wid)
    else:
        closed.add(wid)
    settings.closed = sorted(closed)


async def set_workshops(
    event: Event, people: People, changes: dict[str, dict[str, str | None]], opened: set[str]
) -> None:
    """New capacity, minimum size and open/closed for the workshops in `changes` (raw
    form text by field); all checked before any is kept."""
    if not changes:
        raise Refused("org.no_workshop")
    settings = await people.settings()  # a fresh copy: kept only if every change passes
    regs = await people.all()
    for wid, raw in changes.items():
        _apply_workshop(event, settings, regs, wid, raw, wid in opened)
    await people.save_settings(settings)


async def pin(event: Event, people: People, pid: str, wid: str, round_key: str = "") -> bool:
    """Pin a person to a workshop (True), or unpin them when `wid` is empty (False): in
    round `round_key`, or in every round when it is empty. Pinning a confirmed person
    elsewhere withdraws their confirmation (in that round): the next run moves them, the
    next confirmation tells them. Nobody is pinned twice in one theme, unless allowed."""
    reg = await person(people, pid)
    if not wid:
        if round_key:
            rounds.set_pinned(event, reg, round_key, None)
        else:
            reg.pinned, reg.pins = None, {}
        await people.save(reg)
        return False
    w = workshop(event, wid)
    title = event.workshop_short_title(w)
    if w.site != reg.site:
        raise Refused("org.pin_other_site", workshop=title, name=reg.name)
    current = next(s for s in seats(event, await people.settings()) if s.id == wid)
    if not current.open:
        raise Refused("org.pin_closed", workshop=title)
    if fixed(await people.all(), wid, but=reg.id) >= current.capacity:
        raise Refused("org.pin_full", workshop=title)
    key = rounds.key_of(event, wid) or ""
    if not event.registration.same_theme_twice:
        for rnd in rounds.rounds(event):
            held = [rounds.pinned_in(event, reg, rnd.key), rounds.confirmed_in(event, reg, rnd.key)]
            other = next((event.workshop(h) for h in held if rnd.key != key and h), None)
            if other is not None and other.theme == w.theme:
                raise Refused("org.pin_same_theme", workshop=title, name=reg.name,
                    other=event.workshop_short_title(other),
                )  # fmt: skip
    rounds.set_pinned(event, reg, key, wid)
    confirmed = rounds.confirmed_in(event, reg, key)
    if confirmed and confirmed != wid:
        rounds.set_confirmed(event, reg, key, None)
    await people.save(reg)
    return True


def _decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), else Windows-1252 as spreadsheets on Windows save it."""
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise Refused("org.import_encoding")


def read_list(data: bytes) -> list[dict[str, Any]]:
    """An uploaded list's rows (see `registration.read_csv`), or Refused: too big (over
    `MAX_UPLOAD`), in no encoding a spreadsheet saves, unreadable as CSV, or empty.
    CPU-bound (70 ms for 2,000 rows): callers run it in a thread."""
    if len(data) > MAX_UPLOAD:
        raise Refused("org.import_too_big", size=MAX_UPLOAD // 1024 // 1024)
    try:
        rows = read_csv(_decode(data))
    except csv.Error:
        raise Refused("org.import_unreadable") from None
    if not rows:
        raise Refused("org.import_empty")
    return rows


def _import_time(event: Event) -> datetime:
    """An organizer's list is not bound by the public registration window: check rows
    at a moment inside it (now if open, else its opening, else just before it closes)."""
    reg, tz = event.registration, event.tz
    opens = reg.opens.replace(tzinfo=reg.opens.tzinfo or tz) if reg.opens else None
    closes = reg.closes.replace(tzinfo=reg.closes.tzinfo or tz) if reg.closes else None
    now = datetime.now(tz)
    for when in (now, opens, closes - timedelta(seconds=1) if closes else None):
        if when is not None and window_error(event, when) is None:
            return when
    return now


async def import_rows(event: Event, people: People, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Each row through `check`, like the public form: valid ones stored, the others
    reported with their line (the header is line 1), known e-mails never duplicated. A row
    with more cells than the header is refused whole: its cells may have shifted."""
    settings = await people.settings()
    when = _import_time(event)
    stored: list[str] = []
    duplicates: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    for line, row in enumerate(rows, start=2):
        who = str(row.get("email") or row.get("name") or "")[:200]
        if row.get(EXTRA_CELLS):
            errors.append({"line": line, "who": who, "errors": {"form": "org.import_extra_cells"}})
            continue
        try:
            reg = await people.create(check(event, row, when, settings))
        except Invalid as exc:
            errors.append({"line": line, "who": who, "errors": exc.errors})
        except Duplicate:
            duplicates.append({"line": line, "who": who})
        else:
            stored.append(reg.name)
    return {"stored": stored, "duplicates": duplicates, "errors": errors}


# -- a person's own link, and their data ----------------------------------------------------


async def personal_link(
    links: LinkBook, address: Address, people: People, reg: Registration
) -> str:
    """A fresh signed link for this person; the previous one is revoked.

    The link is kept in `reg.extra["link"]` so that the confirmation e-mail and the
    organizer's confirmations CSV hand out this same link instead of minting (and so
    revoking) another one."""
    event = people.event.id
    token = links.signer.sign(event, "participant", site=reg.site, person=reg.id)
    if reg.link_id:
        await links.revoke(event, reg.link_id)
    reg.link_id = links.signer.verify(token, event).id
    link = address(event, token)
    reg.extra["link"] = link
    await people.save(reg)
    return link


async def working_link(links: LinkBook, address: Address, people: People, reg: Registration) -> str:
    """The person's stored link while it still opens their page, else a new one (which
    revokes the old): the CSV, the e-mail and the person all keep the same link."""
    link = reg.extra.get("link")
    if isinstance(link, str):
        try:
            claims = await links.verify(token_of(link), people.event.id)
            if claims.person == reg.id:
                return link
        except LinkError:
            pass
    return await personal_link(links, address, people, reg)


def token_of(text: str) -> str:
    """The token of a pasted link (its `k` parameter), or the text itself if bare."""
    text = text.strip()
    if "?" in text or "://" in text:
        values = parse_qs(urlsplit(text).query).get("k")
        return values[0] if values else ""
    return text


async def personal_data(links: LinkBook, people: People, reg: Registration) -> dict[str, Any]:
    """Everything stored on a person (right of access)."""
    run = await people.result()
    revoked = await links.revocations.of(people.event.id)
    assignment: dict[str, Any] | None = None
    if run and rounds.several(people.event):
        parts = {
            key: {"placement": part.placements.get(reg.id), "rank": part.ranks.get(reg.id),
                  "seed": part.seed}
            for key, part in run.parts(people.event).items()
            if reg.id in part.placements
        }  # fmt: skip
        assignment = {"rounds": parts, "at": run.at} if parts else None
    elif run and reg.id in run.placements:
        assignment = {
            "placement": run.placements.get(reg.id),
            "rank": run.ranks.get(reg.id),
            "seed": run.seed,
            "at": run.at,
        }
    return {
        "event": people.event.id,
        "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "registration": reg.to_dict(),
        "assignment": assignment,
        "link_revoked": bool(reg.link_id) and reg.link_id in revoked,
    }
