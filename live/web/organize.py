"""The organizer's desk: registrations, workshop settings, the assignment, confirmations
with personal links, CSV import, revoked links, personal data (the report and the CSV
downloads are in `organize_exports`).

Every route needs an organizer link (`?k=`, on POSTs too: the signed token in the URL is
what a cross-site form cannot know). Handlers parse, authorize, call the people `Desk`
(its rules in `people.desk` and `people.tallies`) and render.
Bad input raises `Refused`, shown on the dashboard with a 4xx status; each handler checks
everything before its single write, so a refused request changes nothing.
"""

from __future__ import annotations

import asyncio
import functools
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
from live.links.signing import Claims
from live.model import Event
from live.people import desk, rounds, tallies
from live.people.desk import MAX_UPLOAD, Refused
from live.people.registration import Registration
from live.people.service import Desk
from live.people.store import People
from live.people.tallies import RoundCount
from live.web.common import lang_of, render, with_link

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
__all__ = ["MAX_UPLOAD", "desk_of", "routes"]  # MAX_UPLOAD: what the import reads at most

Handler = Callable[[Request, Live, People], Awaitable[Response]]


def desk_of(request: Request) -> Desk:
    """The app's people desk (`app.state.desk`, built once by the app)."""
    desk: Desk = request.app.state.desk
    return desk


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
        people = desk_of(request).people(live.event)
        try:
            return await handler(request, live, people)
        except Refused as exc:
            error = _say(request, exc.key, exc.params)
            return await _dashboard(request, live, people, status=exc.status, error=error)

    return endpoint


# -- small pure helpers ----------------------------------------------------------------


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


def _named(per_round: list[RoundCount], labels: dict[str, str]) -> list[tuple[str, int, int]]:
    """Each round's count under its name, as the page and the done message say them."""
    return [(labels[c.key], c.placed, c.unplaced) for c in per_round]


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
    records = await desk_of(request).records(people)
    regs, run = records.regs, records.run
    labels = round_labels(request, event)
    mail_enabled = desk_of(request).mailer.enabled
    done = "" if error else _done_message(request)

    def page() -> Response:
        # Everything that goes through the thousands of people runs here, in a thread:
        # with a few thousand this page is megabytes of HTML (150 ms of Jinja at 2,000),
        # and counting them is tens of ms more; the thread hands the GIL back to the
        # event loop every few ms.
        counts = tallies.counts(event, regs, run)
        counts["rounds"] = _named(counts["rounds"], labels)
        said = done
        if said and counts["rounds"] and request.query_params.get("done") == "assign":
            said = _assigned_rounds(request, counts["rounds"])
        return render(
            request,
            "organize.html",
            status=status,
            event=event,
            token=request.query_params["k"],
            regs=regs,
            run=run,
            run_at=local_time(event, run.at if run else None),
            counts=counts | {"pending": records.pending},
            workshops=tallies.workshop_rows(event, regs, records.settings, run, labels),
            rounds=[(r, labels[r.key]) for r in rounds.listed(event)],
            titles={w.id: event.workshop_short_title(w) for w in event.workshops},
            sites={s.id: s.name for s in event.sites},
            free_seats=run.allow_free_seats if run else event.registration.allow_free_seats,
            mail_enabled=mail_enabled,
            error=error,
            done=said,
            imported=imported,
            person_link=person_link,
            attendance=records.attendance,
            people_rounds=tallies.people_rounds(event, regs, run, labels),
            subject_rankings=tallies.subject_rankings(event, regs, run),
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
    raw = {site.id: _field(form, f"present-{site.id}") for site in live.event.sites}
    present = await desk.save_attendance(live.event, people, raw)
    return _back(request, live, "attendance", n=present)


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
    seed = desk.seed(_field(form, "seed"))
    free = _field(form, "allow_free_seats") is not None
    placed, unplaced = await desk_of(request).run(people, seed, free)
    return _back(request, live, "assign", n=placed, m=unplaced)


@organizer
async def publish(request: Request, live: Live, people: People) -> Response:
    """Confirm every placement; newly confirmed people get their link by e-mail when SMTP
    is configured (the confirmations CSV lists the links otherwise)."""
    confirmed, sent = await desk_of(request).publish(people)
    return _back(request, live, "publish", n=confirmed, m=sent)


# -- import, links, personal data ----------------------------------------------------------


@organizer
async def import_csv(request: Request, live: Live, people: People) -> Response:
    form = await request.form(max_files=1)
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise Refused("org.import_no_file")
    data = await upload.read(MAX_UPLOAD + 1)
    rows = await asyncio.to_thread(desk.read_list, data)  # 70 ms for 2,000 rows
    outcome = await desk.import_rows(live.event, people, rows)
    status = 422 if outcome["errors"] and not outcome["stored"] else 200
    return await _dashboard(request, live, people, status=status, imported=outcome)


@organizer
async def revoke(request: Request, live: Live, people: People) -> Response:
    """Revoke any link of this event, pasted whole or as its token (see Desk.revoke)."""
    raw = _field(await request.form(max_files=0), "link") or ""
    await desk_of(request).revoke(live.event, raw)
    return _back(request, live, "revoke")


@organizer
async def export_person(request: Request, live: Live, people: People) -> Response:
    """Everything stored on a person (right of access), as a JSON download."""
    reg = await desk.person(people, request.path_params["pid"])
    body = await desk_of(request).personal_data(people, reg)
    disposition = f'attachment; filename="{live.event.id}-{reg.id}.json"'
    return JSONResponse(body, headers={"Content-Disposition": disposition})


@organizer
async def person_link(request: Request, live: Live, people: People) -> Response:
    """Show a person's own link to the organizer (to read it out or paste it in a message),
    or send it to them again by e-mail: what a person who lost theirs is told to ask for."""
    reg = await desk.person(people, request.path_params["pid"])
    form = await request.form(max_files=0)
    link, sent = await desk_of(request).send_link(people, reg, _field(form, "action") == "send")
    return await _dashboard(request, live, people, person_link=(reg, link, sent))


@organizer
async def erase_person(request: Request, live: Live, people: People) -> Response:
    """Forget a person (right to erasure): registration, placement, link."""
    reg = await desk.person(people, request.path_params["pid"])
    await desk_of(request).erase(people, reg)
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
