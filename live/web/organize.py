"""The organizer's desk: registrations, workshop settings, the assignment, confirmations
with personal links, CSV import, revoked links, personal data (the report and the CSV
downloads are in `organize_exports`).

Every route needs an organizer link (`?k=`, on POSTs too: the signed token in the URL is
what a cross-site form cannot know). Handlers parse, authorize, call `People` and render.
Bad input raises `Refused`, shown on the dashboard with a 4xx status; each handler checks
everything before its single write, so a refused request changes nothing.
"""

from __future__ import annotations

import csv
import functools
import re
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from live.agenda.hub import Live
from live.errors import RelaisError
from live.i18n import plural, plural_keys, translator
from live.links import Claims, LinkError, Signer
from live.model import Event, Workshop
from live.people.registration import Invalid, Registration, check, read_csv, seats, window_error
from live.people.store import Duplicate, People, Run
from live.web.common import lang_of, render, with_link
from live.web.registration import personal_link

MAX_UPLOAD = 2 * 1024 * 1024
MAX_SEATS = 100_000
MAX_SEED = 2**63 - 1
DONE = ("workshops", "pin", "unpin", "assign", "publish", "revoke", "erase", "attendance")
# CSV columns (the registrations CSV re-imports: same names as `registration.read_csv`).
REPORT_TAIL = ("without_wish", "unplaced", "no_wishes", "capacity", "min_size", "status")
PERSON_HEAD = ("id", "name", "email", "category", "site")
PERSON_TAIL = ("accessibility", "group", "pinned", "placement", "rank", "confirmed", "created")
CONFIRMATION_HEAD = ("name", "email", "site", "workshop", "room", "times", "visio", "link")

Handler = Callable[[Request, Live, People], Awaitable[Response]]


class Refused(RelaisError):
    """Organizer input that cannot be applied: an i18n key with its arguments.

    Arguments named `*_key` are i18n keys themselves and get translated too.
    """

    def __init__(self, status: int, key: str, **params: Any) -> None:
        super().__init__(key, key, **params)
        self.status, self.key = status, key


def _say(request: Request, key: str, params: dict[str, Any]) -> str:
    """A message in the page language; `*_key` arguments are translated first; a message
    with a form per number takes the one for `n`."""
    lang = lang_of(request)
    t = translator(lang)
    values = {k: t(v) if k.endswith("_key") else v for k, v in params.items()}
    if key in plural_keys() and isinstance(values.get("n"), int):
        n = int(values.pop("n"))
        return plural(lang)(key, n, **values)
    return str(t(key)).format(**values)


# What the dashboard says after an action: counts that need their plural first.
COUNTED = {
    "assign": {"placed": ("org.n_placed", "n"), "unplaced": ("org.n_unplaced", "m")},
    "publish": {"confirmed": ("org.n_confirmed", "n"), "mails": ("org.n_mails", "m")},
    "attendance": {"people": ("org.n_people", "n")},
}


def organizer(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """Organizer links only (checked before anything is read or written); `Refused` ->
    the dashboard with the reason."""

    @with_link("organizer")
    @functools.wraps(handler)
    async def endpoint(request: Request, live: Live, claims: Claims) -> Response:
        people = People(request.app.state.backend, live.event)
        try:
            return await handler(request, live, people)
        except Refused as exc:
            error = _say(request, exc.key, exc.params)
            return await _dashboard(request, live, people, status=exc.status, error=error)

    return endpoint


# -- small pure helpers ----------------------------------------------------------------


def short_title(event: Event, w: Workshop) -> str:
    """The workshop's own title or its theme's, without the site (tables have a column)."""
    theme = event.theme(w.theme)
    return w.title or (theme.title if theme else w.id)


def site_name(event: Event, site_id: str) -> str:
    site = event.site(site_id)
    return site.name if site else site_id


def workshop_times(event: Event, site_id: str) -> str:
    """When workshops run at a site, from the agenda's workshop steps."""
    return ", ".join(
        f"{s.start:%H:%M}–{event.planned_end(s):%H:%M}"
        for s in event.steps_at(site_id)
        if s.kind == "workshops"
    )


def local_time(event: Event, iso: str | None) -> str:
    """A stored UTC timestamp as the organizers read it: the event's time zone."""
    if not iso:
        return ""
    try:
        return datetime.fromisoformat(iso).astimezone(event.tz).strftime("%d/%m/%Y %H:%M:%S")
    except ValueError:
        return iso


def token_of(text: str) -> str:
    """The token of a pasted link (its `k` parameter), or the text itself if bare."""
    text = text.strip()
    if "?" in text or "://" in text:
        values = parse_qs(urlsplit(text).query).get("k")
        return values[0] if values else ""
    return text


def _field(form: FormData, name: str) -> str | None:
    """A text field, stripped; None when absent (so a partial post keeps the rest)."""
    value = form.get(name)
    return value.strip() if isinstance(value, str) else None


def _integer(raw: str, label_key: str, minimum: int, maximum: int = MAX_SEATS) -> int:
    """A whole number within bounds (ASCII digits only), or Refused naming the field."""
    if re.fullmatch(r"[0-9]{1,19}", raw) and minimum <= int(raw) <= maximum:
        return int(raw)
    raise Refused(422, "org.bad_integer", field_key=label_key, value=raw[:40], minimum=minimum)


def _seed(raw: str | None) -> int | None:
    """Blank -> a fresh random seed is drawn by the run; otherwise a non-negative integer."""
    return _integer(raw, "org.seed", 0, MAX_SEED) if raw else None


def _workshop(event: Event, wid: str) -> Workshop:
    w = event.workshop(wid)
    if w is None:
        raise Refused(404, "org.unknown_workshop", id=wid[:80])
    return w


async def _person(people: People, pid: str) -> Registration:
    reg = await people.get(pid) if pid else None
    if reg is None:
        raise Refused(404, "org.unknown_person", id=pid[:80])
    return reg


def _fixed(regs: Iterable[Registration], wid: str, but: str = "") -> int:
    """People the solver cannot move out of a workshop: pinned or confirmed there."""
    return sum(1 for r in regs if r.id != but and wid in (r.pinned, r.confirmed))


def _back(request: Request, live: Live, done: str, **counts: int) -> Response:
    """Post/redirect/get: the dashboard says what was done; a reload repeats nothing."""
    query = urlencode({"k": request.query_params["k"], "done": done, **counts})
    where = request.app.url_path_for("organize", event_id=live.event.id)
    return RedirectResponse(f"{where}?{query}", status_code=303)


def _done_message(request: Request) -> str:
    done = request.query_params.get("done", "")
    if done not in DONE:
        return ""
    counts = {k: request.query_params.get(k, "") for k in ("n", "m")}
    params: dict[str, Any] = {
        k: int(v) if v.isdecimal() and len(v) < 10 else 0 for k, v in counts.items()
    }
    ngettext = plural(lang_of(request))
    for name, (key, count) in COUNTED.get(done, {}).items():
        params[name] = ngettext(key, params[count])
    return _say(request, f"org.done.{done}", params)


# -- the dashboard -----------------------------------------------------------------------


def _workshop_rows(
    event: Event, regs: list[Registration], settings: dict[str, Any], run: Run | None
) -> list[dict[str, Any]]:
    placed = Counter(w for w in run.placements.values() if w) if run else Counter()
    below = set(run.closed) if run else set()
    return [
        {
            "w": w,
            "title": short_title(event, w),
            "site": site_name(event, w.site),
            "seats": s,
            "placed": placed[w.id],
            "fixed": _fixed(regs, w.id),
            "below_minimum": w.id in below,
        }
        for w, s in zip(event.workshops, seats(event, settings), strict=True)
    ]


def _counts(event: Event, regs: list[Registration], run: Run | None) -> dict[str, Any]:
    placements = run.placements if run else {}
    return {
        "total": len(regs),
        "by_site": sorted(Counter(site_name(event, r.site) for r in regs).items()),
        "by_category": sorted(Counter(r.category for r in regs).items()),
        "no_wishes": sum(1 for r in regs if not r.wishes),
        "placed": sum(1 for r in regs if placements.get(r.id)),
        "confirmed": sum(1 for r in regs if r.confirmed),
        "since_run": sum(1 for r in regs if r.id not in placements) if run else 0,
    }


async def _dashboard(
    request: Request,
    live: Live,
    people: People,
    *,
    status: int = 200,
    error: str = "",
    imported: dict[str, Any] | None = None,
    person_link: tuple[Registration, str, bool] | None = None,
) -> Response:
    event = live.event
    regs = await people.all()
    settings = await people.settings()
    run = await people.result()
    return render(
        request,
        "organize.html",
        status=status,
        event=event,
        token=request.query_params["k"],
        regs=regs,
        run=run,
        run_at=local_time(event, run.at if run else None),
        counts=_counts(event, regs, run),
        workshops=_workshop_rows(event, regs, settings, run),
        titles={w.id: short_title(event, w) for w in event.workshops},
        sites={s.id: s.name for s in event.sites},
        free_seats=run.allow_free_seats if run else event.registration.allow_free_seats,
        mail_enabled=request.app.state.mailer.enabled,
        error=error,
        done="" if error else _done_message(request),
        imported=imported,
        person_link=person_link,
        attendance=await people.attendance(),
    )


@organizer
async def dashboard(request: Request, live: Live, people: People) -> Response:
    return await _dashboard(request, live, people)


# -- workshop settings, pins, the run, confirmations -----------------------------------------


def _apply_workshop(
    event: Event,
    settings: dict[str, Any],
    regs: list[Registration],
    wid: str,
    raw: dict[str, str | None],
    is_open: bool,
) -> None:
    """Check one workshop's new capacity / minimum / open state and write it into
    `settings` (a copy): never fewer seats than people pinned or confirmed there."""
    w = _workshop(event, wid)
    current = next(s for s in seats(event, settings) if s.id == wid)
    capacity, minimum = raw["capacity"], raw["min_size"]
    cap = current.capacity if capacity is None else _integer(capacity, "org.capacity", 1)
    low = current.min_size if minimum is None else _integer(minimum, "org.min_size", 0)
    title = short_title(event, w)
    if low > cap:
        raise Refused(422, "org.min_over_capacity", workshop=title, minimum=low, capacity=cap)
    fixed = _fixed(regs, wid)
    if cap < fixed:
        raise Refused(409, "org.capacity_below_fixed", workshop=title, n=fixed)
    if not is_open and fixed:
        raise Refused(409, "org.close_fixed", workshop=title, n=fixed)
    settings["capacity"][wid] = cap
    settings["min_size"][wid] = low
    closed = set(settings["closed"])
    if is_open:
        closed.discard(wid)
    else:
        closed.add(wid)
    settings["closed"] = sorted(closed)


@organizer
async def save_workshops(request: Request, live: Live, people: People) -> Response:
    """Capacity, minimum size and open/closed of the workshops listed in the form."""
    form = await request.form()
    ids = [v for v in form.getlist("workshop") if isinstance(v, str)]
    if not ids:
        raise Refused(422, "org.no_workshop")
    current = await people.settings()
    settings = {
        "capacity": dict(current.get("capacity", {})),
        "min_size": dict(current.get("min_size", {})),
        "closed": list(current.get("closed", [])),
    }
    regs = await people.all()
    opened = set(form.getlist("open"))
    for wid in ids:
        raw = {k: _field(form, f"{k}-{wid}") for k in ("capacity", "min_size")}
        _apply_workshop(live.event, settings, regs, wid, raw, wid in opened)
    await people.save_settings({**current, **settings})
    return _back(request, live, "workshops", n=len(ids))


@organizer
async def save_attendance(request: Request, live: Live, people: People) -> Response:
    """People present at each site, counted on the day; the synthesis reports them."""
    form = await request.form()
    counts: dict[str, int] = {}
    for site in live.event.sites:
        raw = _field(form, f"present-{site.id}")
        if raw:
            counts[site.id] = _integer(raw, "org.attendance", 0)
    await people.save_attendance(counts)
    return _back(request, live, "attendance", n=sum(counts.values()))


@organizer
async def pin(request: Request, live: Live, people: People) -> Response:
    """Pin a person to a workshop (or unpin with no workshop). Pinning a confirmed person
    elsewhere withdraws their confirmation: the next run moves them, the next
    confirmation tells them."""
    form = await request.form()
    reg = await _person(people, _field(form, "person") or "")
    wid = _field(form, "workshop") or ""
    if not wid:
        reg.pinned = None
        await people.save(reg)
        return _back(request, live, "unpin")
    w = _workshop(live.event, wid)
    title = short_title(live.event, w)
    if w.site != reg.site:
        raise Refused(422, "org.pin_other_site", workshop=title, name=reg.name)
    current = next(s for s in seats(live.event, await people.settings()) if s.id == wid)
    if not current.open:
        raise Refused(409, "org.pin_closed", workshop=title)
    if _fixed(await people.all(), wid, but=reg.id) >= current.capacity:
        raise Refused(409, "org.pin_full", workshop=title)
    reg.pinned = wid
    if reg.confirmed and reg.confirmed != wid:
        reg.confirmed = None
    await people.save(reg)
    return _back(request, live, "pin")


@organizer
async def run_assignment(request: Request, live: Live, people: People) -> Response:
    """Solve again (late mode once people are confirmed: they stay where they are)."""
    form = await request.form()
    seed = _seed(_field(form, "seed"))
    free = _field(form, "allow_free_seats") is not None
    try:
        result = await people.run(seed, free)
    except ValueError as exc:  # inconsistent pins or confirmations: say which
        raise Refused(409, "org.run_failed", detail=str(exc)) from None
    placed = sum(1 for w in result.placements.values() if w)
    return _back(request, live, "assign", n=placed, m=len(result.placements) - placed)


async def working_link(request: Request, live: Live, reg: Registration) -> str:
    """The person's stored link while it still opens their page, else a new one (which
    revokes the old): the CSV, the e-mail and the person all keep the same link."""
    link = reg.extra.get("link")
    if isinstance(link, str):
        try:
            claims = await request.app.state.links.verify(token_of(link), live.event.id)
            if claims.person == reg.id:
                return link
        except LinkError:
            pass
    return await personal_link(request, live, reg)


@organizer
async def publish(request: Request, live: Live, people: People) -> Response:
    """Confirm every placement; newly confirmed people get their link by e-mail when SMTP
    is configured (the confirmations CSV lists the links otherwise)."""
    if await people.result() is None:
        raise Refused(409, "org.no_result")
    changed = await people.publish()
    mailer = request.app.state.mailer
    sent = 0
    for reg in changed if mailer.enabled else []:
        w = live.event.workshop(reg.confirmed or "")
        if w is None:
            continue
        link = await working_link(request, live, reg)
        title = live.event.workshop_title(w)
        sent += bool(await mailer.confirmed(live.event, reg, title, w.room, link))
    return _back(request, live, "publish", n=len(changed), m=sent)


# -- import, links, personal data ----------------------------------------------------------


def _decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), else Windows-1252 as spreadsheets on Windows save it."""
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise Refused(422, "org.import_encoding")


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


async def _import_rows(event: Event, people: People, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Each row through `check`, like the public form: valid ones stored, the others
    reported with their line (the header is line 1), known e-mails never duplicated."""
    settings = await people.settings()
    when = _import_time(event)
    stored: list[str] = []
    duplicates: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    for line, row in enumerate(rows, start=2):
        who = str(row.get("email") or row.get("name") or "")
        try:
            reg = await people.create(check(event, row, when, settings))
        except Invalid as exc:
            errors.append({"line": line, "who": who, "errors": exc.errors})
        except Duplicate:
            duplicates.append({"line": line, "who": who})
        else:
            stored.append(reg.name)
    return {"stored": stored, "duplicates": duplicates, "errors": errors}


@organizer
async def import_csv(request: Request, live: Live, people: People) -> Response:
    form = await request.form(max_files=1)
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise Refused(422, "org.import_no_file")
    data = await upload.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        raise Refused(413, "org.import_too_big", size=MAX_UPLOAD // 1024 // 1024)
    try:
        rows = read_csv(_decode(data))
    except csv.Error:
        raise Refused(422, "org.import_unreadable") from None
    if not rows:
        raise Refused(422, "org.import_empty")
    outcome = await _import_rows(live.event, people, rows)
    status = 422 if outcome["errors"] and not outcome["stored"] else 200
    return await _dashboard(request, live, people, status=status, imported=outcome)


@organizer
async def revoke(request: Request, live: Live, people: People) -> Response:
    """Revoke any link of this event, pasted whole or as its token; a forged or foreign
    one is refused, since its id means nothing."""
    raw = _field(await request.form(), "link") or ""
    signer: Signer = request.app.state.signer
    try:
        claims = signer.verify(token_of(raw), live.event.id)
    except LinkError as exc:
        raise Refused(422, "org.revoke_invalid", reason_key=exc.code) from None
    await people.revoke(claims.id)
    return _back(request, live, "revoke")


@organizer
async def export_person(request: Request, live: Live, people: People) -> Response:
    """Everything stored on a person (right of access), as a JSON download."""
    reg = await _person(people, request.path_params["pid"])
    run = await people.result()
    revoked = await request.app.state.links.revocations.of(live.event.id)
    body = {
        "event": live.event.id,
        "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "registration": reg.to_dict(),
        "assignment": {
            "placement": run.placements.get(reg.id),
            "rank": run.ranks.get(reg.id),
            "seed": run.seed,
            "at": run.at,
        }
        if run and reg.id in run.placements
        else None,
        "link_revoked": bool(reg.link_id) and reg.link_id in revoked,
    }
    disposition = f'attachment; filename="{live.event.id}-{reg.id}.json"'
    return JSONResponse(body, headers={"Content-Disposition": disposition})


@organizer
async def person_link(request: Request, live: Live, people: People) -> Response:
    """Show a person's own link to the organizer (to read it out or paste it in a message),
    or send it to them again by e-mail: what a person who lost theirs is told to ask for.
    The link they already have stays valid; a new one is made only if it no longer works."""
    reg = await _person(people, request.path_params["pid"])
    form = await request.form()
    link = await working_link(request, live, reg)
    sent = False
    if _field(form, "action") == "send":
        mailer = request.app.state.mailer
        if not mailer.enabled:
            raise Refused(409, "org.no_mail")
        sent = await mailer.registered(live.event, reg, link)
        if not sent:
            raise Refused(502, "org.mail_failed")
    return await _dashboard(request, live, people, person_link=(reg, link, sent))


@organizer
async def erase_person(request: Request, live: Live, people: People) -> Response:
    """Forget a person (right to erasure): registration, placement, link."""
    await people.erase(await _person(people, request.path_params["pid"]))
    return _back(request, live, "erase")


BASE = "/e/{event_id}/organize"
routes = [
    Route(BASE, dashboard, name="organize"),
    Route(BASE + "/workshops", save_workshops, methods=["POST"], name="organize_workshops"),
    Route(BASE + "/pin", pin, methods=["POST"], name="organize_pin"),
    Route(BASE + "/attendance", save_attendance, methods=["POST"], name="organize_attendance"),
    Route(BASE + "/assign", run_assignment, methods=["POST"], name="organize_assign"),
    Route(BASE + "/publish", publish, methods=["POST"], name="organize_publish"),
    Route(BASE + "/import", import_csv, methods=["POST"], name="organize_import"),
    Route(BASE + "/revoke", revoke, methods=["POST"], name="organize_revoke"),
    Route(BASE + "/person/{pid}.json", export_person, name="organize_person_json"),
    Route(BASE + "/person/{pid}/erase", erase_person, methods=["POST"], name="organize_erase"),
    Route(BASE + "/person/{pid}/link", person_link, methods=["POST"], name="organize_person_link"),
]
