"""The organizer's desk: registrations, workshop settings, the assignment, confirmations
with personal links, CSV import, revoked links, personal data (the report and the CSV
downloads are in `organize_exports`).

Every route needs an organizer link (`?k=`, on POSTs too: the signed token in the URL is
what a cross-site form cannot know). Handlers parse, authorize, call `People` and render.
Bad input raises `Refused`, shown on the dashboard with a 4xx status; each handler checks
everything before its single write, so a refused request changes nothing.
"""

from __future__ import annotations

import asyncio
import csv
import functools
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from live.agenda.live import Live
from live.i18n import plural, plural_keys, translator
from live.links.signing import Claims, LinkError, Signer
from live.model import Event, Workshop
from live.people import desk, rounds
from live.people.desk import MAX_SEED, Refused
from live.people.registration import Registration, WorkshopSettings, read_csv, seats
from live.people.store import Part, People, Run
from live.web.common import lang_of, render, with_link

MAX_UPLOAD = 2 * 1024 * 1024
UNPIN = "unpin:"  # the pin form's "unpin in this round" choice: `unpin:{round}`
DONE = (
    "workshops", "pin", "unpin", "assign", "publish", "revoke", "erase", "attendance",
    "erase_names",
)  # fmt: skip
# CSV columns (the registrations CSV re-imports: same names as `registration.read_csv`).
REPORT_TAIL = ("without_wish", "unplaced", "no_wishes", "capacity", "min_size", "status")
PERSON_HEAD = ("id", "name", "email", "category", "site")
PERSON_TAIL = ("accessibility", "group", "pinned", "placement", "rank", "confirmed", "created")
CONFIRMATION_HEAD = ("name", "email", "site", "workshop", "room", "times", "visio", "link")

Handler = Callable[[Request, Live, People], Awaitable[Response]]


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


def site_name(event: Event, site_id: str) -> str:
    site = event.site(site_id)
    return site.name if site else site_id


def workshop_times(event: Event, site_id: str, workshop: Workshop | None = None) -> str:
    """When workshops run at a site, from the agenda's workshop steps (only the step of
    `workshop`'s round when it has one)."""
    step = event.workshop_step(workshop) if workshop else None
    return ", ".join(
        f"{s.start:%H:%M}–{event.planned_end(s):%H:%M}"
        for s in ([step] if step else event.steps_at(site_id))
        if s.kind == "workshops"
    )


def round_labels(request: Request, event: Event) -> dict[str, str]:
    """Each round's name for the desk: its step's title and start ("Ateliers (10:30)")."""
    t = translator(lang_of(request))
    return {
        r.key: f"{r.step.title} ({r.step.start:%H:%M})" if r.step else t("workshops")
        for r in rounds.rounds(event)
    }


def local_time(event: Event, iso: str | None) -> str:
    """A stored UTC timestamp as the organizers read it: the event's time zone."""
    if not iso:
        return ""
    try:
        return datetime.fromisoformat(iso).astimezone(event.tz).strftime("%d/%m/%Y %H:%M:%S")
    except ValueError:
        return iso


def _field(form: FormData, name: str) -> str | None:
    """A text field, stripped; None when absent (so a partial post keeps the rest)."""
    value = form.get(name)
    return value.strip() if isinstance(value, str) else None


def _seed(raw: str | None) -> int | None:
    """Blank -> a fresh random seed is drawn by the run; otherwise a non-negative integer."""
    return desk.integer(raw, "org.seed", 0, MAX_SEED) if raw else None


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


def _assigned_rounds(request: Request, counts: list[tuple[str, int, int]]) -> str:
    """What a run did, round by round: "Ateliers du matin (10:30) : 8 personnes placées,
    0 non placée ; ..." (people placed in every round would hide who lacks one)."""
    ngettext = plural(lang_of(request))
    t = translator(lang_of(request))
    parts = [
        t("org.done.assign_round").format(
            round=label,
            placed=ngettext("org.n_placed", n),
            unplaced=ngettext("org.n_unplaced", m),
        )
        for label, n, m in counts
    ]
    return str(t("org.done.assign_rounds")).format(rounds=" ; ".join(parts))


# -- the dashboard -----------------------------------------------------------------------


def _workshop_rows(
    event: Event,
    regs: list[Registration],
    settings: WorkshopSettings,
    run: Run | None,
    labels: dict[str, str],
) -> list[dict[str, Any]]:
    placed = Counter(w for _, w in run.placed(event) if w) if run else Counter()
    below = {w for part in run.parts(event).values() for w in part.closed} if run else set()
    several = len(labels) > 1
    return [
        {
            "w": w,
            "title": event.workshop_short_title(w),
            "site": site_name(event, w.site),
            "seats": s,
            "placed": placed[w.id],
            "fixed": desk.fixed(regs, w.id),
            "below_minimum": w.id in below,
            "round": labels.get(rounds.key_of(event, w.id) or "", "") if several else "",
        }
        for w, s in zip(event.workshops, seats(event, settings), strict=True)
    ]


def placed_everywhere(event: Event, run: Run, regs: list[Registration]) -> dict[str, bool | None]:
    """Each person: placed in every round of their site (True), not in some (False), or
    not in the run at all (None: registered since)."""
    parts = list(run.parts(event).items())
    by_site: dict[str, list[Part]] = {}
    out: dict[str, bool | None] = {}
    for reg in regs:
        mine = by_site.get(reg.site)
        if mine is None:
            keys = {r.key for r in rounds.rounds_at(event, reg.site)}
            # An event without workshops has one empty round, where everyone is unplaced.
            mine = [p for k, p in parts if k in keys] or [p for _, p in parts[:1]]
            by_site[reg.site] = mine
        if any(reg.id in part.placements for part in mine):
            out[reg.id] = all(part.placements.get(reg.id) for part in mine)
        else:
            out[reg.id] = None
    return out


def per_round(
    event: Event, regs: list[Registration], run: Run, labels: dict[str, str]
) -> list[tuple[str, int, int]]:
    """Several rounds: each round's name, people placed in it and people of the run left
    without a workshop in it (those registered since are in neither)."""
    if len(labels) < 2:
        return []
    parts = run.parts(event)
    out = []
    for rnd in rounds.rounds(event):
        part = parts.get(rnd.key)
        here = [r for r in regs if rnd in rounds.rounds_at(event, r.site)]
        mine = [part.placements.get(r.id) for r in here if part and r.id in part.placements]
        out.append((labels[rnd.key], sum(1 for w in mine if w), sum(1 for w in mine if not w)))
    return out


def _counts(
    event: Event, regs: list[Registration], run: Run | None, labels: dict[str, str]
) -> dict[str, Any]:
    placed = placed_everywhere(event, run, regs) if run else {}
    return {
        "rounds": per_round(event, regs, run, labels) if run else [],
        "total": len(regs),
        "by_site": sorted(Counter(site_name(event, r.site) for r in regs).items()),
        "by_category": sorted(Counter(r.category for r in regs).items()),
        "no_wishes": sum(1 for r in regs if not r.wishes),
        "placed": sum(1 for r in regs if placed.get(r.id)),
        "confirmed": sum(1 for r in regs if rounds.confirmed_any(r)),
        "since_run": sum(1 for r in regs if placed.get(r.id) is None) if run else 0,
    }


def _people_rounds(
    event: Event, regs: list[Registration], run: Run | None, labels: dict[str, str]
) -> dict[str, list[dict[str, Any]]]:
    """Several rounds: each person's rounds as the people table shows them (round name,
    wishes, pin, placement and rank or None for "registered since", confirmation)."""
    if len(labels) < 2:
        return {}
    parts = run.parts(event) if run else {}
    out: dict[str, list[dict[str, Any]]] = {}
    for reg in regs:
        rows = []
        for rnd in rounds.rounds_at(event, reg.site):
            part = parts.get(rnd.key)
            rows.append(
                {
                    "label": labels[rnd.key],
                    "wishes": rounds.wishes_in(event, reg, rnd.key),
                    "pinned": rounds.pinned_in(event, reg, rnd.key),
                    "in_run": part is not None and reg.id in part.placements,
                    "placement": part.placements.get(reg.id) if part else None,
                    "rank": part.ranks.get(reg.id) if part else None,
                    "confirmed": rounds.confirmed_in(event, reg, rnd.key),
                }
            )
        out[reg.id] = rows
    return out


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
    pending = len(await people.pending())
    attendance = await people.attendance()
    labels = round_labels(request, event)
    mail_enabled = request.app.state.mailer.enabled
    done = "" if error else _done_message(request)
    if done and request.query_params.get("done") == "assign" and run and len(labels) > 1:
        done = _assigned_rounds(request, per_round(event, regs, run, labels))

    def page() -> Response:
        # Everything that goes through the thousands of people runs here, in a thread:
        # with a few thousand this page is megabytes of HTML (150 ms of Jinja at 2,000),
        # and counting them is tens of ms more; the thread hands the GIL back to the
        # event loop every few ms.
        return render(
            request,
            "organize.html",
            status=status,
            event=event,
            token=request.query_params["k"],
            regs=regs,
            run=run,
            run_at=local_time(event, run.at if run else None),
            counts=_counts(event, regs, run, labels) | {"pending": pending},
            workshops=_workshop_rows(event, regs, settings, run, labels),
            rounds=[(r, labels[r.key]) for r in rounds.rounds(event)] if len(labels) > 1 else [],
            titles={w.id: event.workshop_short_title(w) for w in event.workshops},
            sites={s.id: s.name for s in event.sites},
            free_seats=run.allow_free_seats if run else event.registration.allow_free_seats,
            mail_enabled=mail_enabled,
            error=error,
            done=done,
            imported=imported,
            person_link=person_link,
            attendance=attendance,
            people_rounds=_people_rounds(event, regs, run, labels),
        )

    return await asyncio.to_thread(page)


@organizer
async def dashboard(request: Request, live: Live, people: People) -> Response:
    return await _dashboard(request, live, people)


# -- workshop settings, pins, the run, confirmations -----------------------------------------


@organizer
async def save_workshops(request: Request, live: Live, people: People) -> Response:
    """Capacity, minimum size and open/closed of the workshops listed in the form."""
    form = await request.form(max_files=0)
    ids = [v for v in form.getlist("workshop") if isinstance(v, str)]
    changes = {
        wid: {k: _field(form, f"{k}-{wid}") for k in ("capacity", "min_size")} for wid in ids
    }
    opened = {v for v in form.getlist("open") if isinstance(v, str)}
    await desk.set_workshops(live.event, people, changes, opened)
    return _back(request, live, "workshops", n=len(ids))


@organizer
async def save_attendance(request: Request, live: Live, people: People) -> Response:
    """People present at each site, counted on the day; the synthesis reports them."""
    form = await request.form(max_files=0)
    counts: dict[str, int] = {}
    for site in live.event.sites:
        raw = _field(form, f"present-{site.id}")
        if raw:
            counts[site.id] = desk.integer(raw, "org.attendance", 0)
    await people.save_attendance(counts)
    return _back(request, live, "attendance", n=sum(counts.values()))


@organizer
async def pin(request: Request, live: Live, people: People) -> Response:
    """Pin a person to a workshop, or unpin them (no workshop): see desk.pin."""
    form = await request.form(max_files=0)
    wid = _field(form, "workshop") or ""
    unpin = wid.removeprefix(UNPIN) if wid.startswith(UNPIN) else None  # in one round
    pinned = await desk.pin(
        live.event, people, _field(form, "person") or "", "" if unpin else wid, unpin or ""
    )
    return _back(request, live, "pin" if pinned else "unpin")


@organizer
async def run_assignment(request: Request, live: Live, people: People) -> Response:
    """Solve again (late mode once people are confirmed: they stay where they are)."""
    form = await request.form(max_files=0)
    seed = _seed(_field(form, "seed"))
    free = _field(form, "allow_free_seats") is not None
    try:
        await people.run(seed, free)
    except ValueError as exc:  # inconsistent pins or confirmations: say which
        raise Refused("org.run_failed", detail=str(exc)) from None
    run = await people.result()
    assert run is not None
    done = placed_everywhere(live.event, run, await people.all()).values()
    placed = sum(1 for p in done if p)
    return _back(request, live, "assign", n=placed, m=sum(1 for p in done if p is False))


async def working_link(request: Request, people: People, reg: Registration) -> str:
    """The person's link that still works, or a new one (see desk.working_link)."""
    state = request.app.state
    return await desk.working_link(state.links, state.settings.base_url, people, reg)


@organizer
async def publish(request: Request, live: Live, people: People) -> Response:
    """Confirm every placement; newly confirmed people get their link by e-mail when SMTP
    is configured (the confirmations CSV lists the links otherwise)."""
    if await people.result() is None:
        raise Refused("org.no_result")
    changed = await people.publish()
    mailer = request.app.state.mailer
    event = live.event
    sent = 0
    for reg in changed if mailer.enabled else []:
        if rounds.several(event):  # one mail with every round's workshop, time and room
            mine: list[tuple[str, str | None, str]] = []
            for rnd, w in rounds.confirmed_workshops(event, reg):
                if w is not None:
                    times = workshop_times(event, reg.site, w)
                    mine.append((times, event.workshop_title(w), w.room))
                elif rnd.step is not None:  # said plainly: no workshop in this round
                    mine.append((f"{rnd.step.start:%H:%M}", None, ""))
            link = await working_link(request, people, reg)
            sent += bool(await mailer.confirmed_rounds(event, reg, mine, link))
            continue
        w = event.workshop(reg.confirmed or "")
        if w is None:
            continue
        link = await working_link(request, people, reg)
        title = event.workshop_title(w)
        sent += bool(await mailer.confirmed(event, reg, title, w.room, link))
    return _back(request, live, "publish", n=len(changed), m=sent)


# -- import, links, personal data ----------------------------------------------------------


def _decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), else Windows-1252 as spreadsheets on Windows save it."""
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise Refused("org.import_encoding")


@organizer
async def import_csv(request: Request, live: Live, people: People) -> Response:
    form = await request.form(max_files=1)
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise Refused("org.import_no_file")
    data = await upload.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        raise Refused("org.import_too_big", size=MAX_UPLOAD // 1024 // 1024)
    try:
        rows = await asyncio.to_thread(read_csv, _decode(data))  # 70 ms for 2,000 rows
    except csv.Error:
        raise Refused("org.import_unreadable") from None
    if not rows:
        raise Refused("org.import_empty")
    outcome = await desk.import_rows(live.event, people, rows)
    status = 422 if outcome["errors"] and not outcome["stored"] else 200
    return await _dashboard(request, live, people, status=status, imported=outcome)


@organizer
async def revoke(request: Request, live: Live, people: People) -> Response:
    """Revoke any link of this event, pasted whole or as its token; a forged or foreign
    one is refused, since its id means nothing."""
    raw = _field(await request.form(max_files=0), "link") or ""
    signer: Signer = request.app.state.signer
    try:
        claims = signer.verify(desk.token_of(raw), live.event.id)
    except LinkError as exc:
        raise Refused("org.revoke_invalid", reason_key=exc.code) from None
    await request.app.state.links.revoke(live.event.id, claims.id)  # closes its sockets too
    return _back(request, live, "revoke")


@organizer
async def export_person(request: Request, live: Live, people: People) -> Response:
    """Everything stored on a person (right of access), as a JSON download."""
    reg = await desk.person(people, request.path_params["pid"])
    body = await desk.personal_data(request.app.state.links, people, reg)
    disposition = f'attachment; filename="{live.event.id}-{reg.id}.json"'
    return JSONResponse(body, headers={"Content-Disposition": disposition})


@organizer
async def person_link(request: Request, live: Live, people: People) -> Response:
    """Show a person's own link to the organizer (to read it out or paste it in a message),
    or send it to them again by e-mail: what a person who lost theirs is told to ask for.
    The link they already have stays valid; a new one is made only if it no longer works."""
    reg = await desk.person(people, request.path_params["pid"])
    form = await request.form(max_files=0)
    link = await working_link(request, people, reg)
    sent = False
    if _field(form, "action") == "send":
        mailer = request.app.state.mailer
        if not mailer.enabled:
            raise Refused("org.no_mail")
        sent = await mailer.registered(live.event, reg, link)
        if not sent:
            raise Refused("org.mail_failed")
    return await _dashboard(request, live, people, person_link=(reg, link, sent))


@organizer
async def erase_person(request: Request, live: Live, people: People) -> Response:
    """Forget a person (right to erasure): registration, placement, link."""
    reg = await desk.person(people, request.path_params["pid"])
    await people.erase(reg)
    if reg.link_id:  # erasing revoked the link: its open pages close now
        request.app.state.links.revoked(live.event.id, reg.link_id)
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
