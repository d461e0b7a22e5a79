"""Registration pages: the public form, the person's own page (update, confirmation,
room, visio, QR code, .ics), and the agenda as iCalendar.

The form is public and linked from every screen's QR code, so it assumes abuse:

- **Double opt-in when e-mail is sent.** The answer never shows the personal link: it goes
  to the address, and the answer is the same neutral page whether the address was new,
  already registered (its owner gets their link again by mail) or refused by the
  honeypot. The registration counts once its person opens the link (`People.verify_email`);
  unconfirmed ones are dropped after `confirm_hours`. Without SMTP (an organizer
  registering people on site) the link is shown and a known address is said to be known.
- **Rate limits** (`RegistrationLimits`), answered 429 with `Retry-After`, sized so that a
  class registering on site from one school address passes and a script does not: posts
  per client address (a burst, and an hour's worth), valid registrations per e-mail, and an
  hourly budget per event sized from its capacity, which only valid work spends (a flood
  of invalid posts cannot close registration for everyone); mails per recipient are
  capped by the mailer.
- **A honeypot field** people never see or reach: a robot that fills it gets the neutral
  page and nothing is stored.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

import segno
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from live.agenda.live import Live
from live.agenda.protocol import event_info
from live.config import Settings
from live.i18n import translator
from live.links.signing import Claims, LinkError
from live.model import Event, Workshop
from live.people import desk, rounds
from live.people.calendar import agenda_ics, personal_ics
from live.people.registration import (
    Invalid,
    Registration,
    WorkshopSettings,
    check,
    window_error,
    wish_slots,
)
from live.people.store import Duplicate, People
from live.ratelimit import Limiter
from live.web.common import (
    error_page,
    get_live,
    lang_of,
    link_error,
    not_found,
    render,
    with_link,
)

HONEYPOT = "hp_field"  # the hidden field of templates/register.html; people leave it empty
MAX_FIELDS = 40  # a registration form has about fifteen; no file is ever expected


class RegistrationLimits:
    """How much registering one client address, one e-mail and one event may do.

    Checked in the order the work is done: a client's posts before anything is read (every
    post counts, valid or not: that is what a script sends), then, once the form is valid,
    its e-mail and the event's budget. So invalid posts, from however many addresses,
    never spend the event's budget: only registrations (and updates) that would be stored.
    """

    def __init__(self, settings: Settings) -> None:
        # A class of thirty submitting at once, typos included; then an hour's pace.
        self.by_client = Limiter(
            settings.register_per_address_hour, 3600, burst=settings.register_per_minute
        )
        self.by_email = Limiter(settings.register_per_email, 3600)
        self.by_event = Limiter(0, 3600)  # each event's bucket is sized by `budget`
        self.floor = settings.register_per_hour
        self.per_seat = settings.register_per_seat

    def client(self, client: str) -> float:
        """Count one post from `client`: 0 if it may go on, else the seconds to wait."""
        return self.by_client.hit(client)

    def budget(self, event: Event) -> int:
        """Valid registrations an hour for `event`: `per_seat` times its capacity (its
        sites', else its workshops'), never below `floor`; 0 means no limit."""
        if self.floor <= 0:
            return 0
        seats = sum(s.capacity for s in event.sites) or sum(w.capacity for w in event.workshops)
        return max(self.floor, self.per_seat * seats)

    def valid(self, event: Event, email: str | None) -> float:
        """Count one valid registration (or update): its e-mail's share, then the event's
        budget. 0 if it may be stored, else the seconds to wait."""
        if email is not None and (wait := self.by_email.hit(email.lower())):
            return wait
        return self.by_event.hit(event.id, self.budget(event))


def client_address(request: Request) -> str:
    """The address the connection comes from. Behind a reverse proxy, `relais serve`
    takes it from X-Forwarded-For only when RELAIS_TRUSTED_PROXIES names that proxy."""
    return request.client.host if request.client else ""


def confirm_hours(state: Any) -> int:
    """How long an unconfirmed registration waits for its person (an hour at least)."""
    return max(1, int(state.settings.confirm_hours))


def too_many(request: Request, wait: float) -> Response:
    response = error_page(request, 429, "reg.too_many_requests")
    response.headers["Retry-After"] = str(max(1, math.ceil(wait)))
    return response


def people_of(request: Request, live: Live) -> People:
    return People(request.app.state.backend, live.event)


async def personal_link(request: Request, people: People, reg: Registration) -> str:
    """A fresh personal link (see desk.personal_link)."""
    state = request.app.state
    return await desk.personal_link(state.links, state.settings.base_url, people, reg)


def _form(request_form: Any, wishes: int) -> dict[str, Any]:
    form = {k: request_form.get(k, "") for k in (
        "name", "email", "category", "site", "accessibility", "group", "consent"
    )}  # fmt: skip
    form["wishes"] = [request_form.get(f"wish{i}", "") for i in range(1, wishes + 1)]
    return form


def wish_rounds(event: Event, settings: WorkshopSettings, form: dict[str, Any]) -> list[Any]:
    """What the form's wish lists show, round by round: (round, its open workshops, the
    wishes chosen, the number of its first `wish` field). One round: the event's open
    workshops and the wishes as posted; several: each round's, from `wish{n*k+1}` on."""
    closed = set(settings.closed)
    n = event.registration.wishes
    every = rounds.rounds(event)
    chosen = list(form.get("wishes") or [])
    if len(every) < 2:
        offered = [w for w in event.workshops if w.id not in closed]
        return [(every[0] if every else None, offered, chosen, 1)]
    posted = len(chosen) == n * len(every)  # a posted form keeps its blanks in place
    out = []
    for k, rnd in enumerate(every):
        if posted:
            mine = chosen[k * n : (k + 1) * n]
        else:  # as stored: one list, each wish in its workshop's round
            mine = [w for w in chosen if w and rounds.key_of(event, w) == rnd.key]
        offered = [w for w in rnd.workshops if w.id not in closed]
        out.append((rnd, offered, mine, k * n + 1))
    return out


def _now(live: Live) -> datetime:
    return datetime.now(live.event.tz)


async def register(request: Request) -> Response:
    live = get_live(request)
    if live is None:
        return not_found(request)
    people = people_of(request, live)
    settings = await people.settings()
    context: dict[str, Any] = {
        "event": live.event,
        "settings": settings,
        "purpose": translator(lang_of(request))("reg.purpose"),
        "closed_reason": window_error(live.event, _now(live)),
        "errors": {},
        "form": {"wishes": []},
        "wish_rounds": wish_rounds(live.event, settings, {}),
    }
    if request.method == "GET":
        return render(request, "register.html", **context)
    limits: RegistrationLimits = request.app.state.registration_limits
    if wait := limits.client(client_address(request)):
        return too_many(request, wait)
    raw = await request.form(max_files=0, max_fields=MAX_FIELDS)
    form = _form(raw, wish_slots(live.event))
    context["form"] = form
    context["wish_rounds"] = wish_rounds(live.event, settings, form)
    mailer = request.app.state.mailer
    if raw.get(HONEYPOT):
        return _sent(request, live)
    try:
        fields = check(live.event, form, _now(live), settings)
    except Invalid as exc:
        return render(request, "register.html", status=422, **{**context, "errors": exc.errors})
    if wait := limits.valid(live.event, fields["email"]):
        return too_many(request, wait)
    fields["extra"] = {"lang": lang_of(request)}  # the language of its mails
    if mailer.enabled:
        await _opt_in(request, people, fields)
        return _sent(request, live)
    try:
        reg = await people.create(fields)
    except Duplicate:
        errors = {"email": "reg.exists"}
        return render(request, "register.html", status=409, **{**context, "errors": errors})
    link = await personal_link(request, people, reg)
    return render(request, "registered.html", event=live.event, reg=reg, link=link)


async def _opt_in(request: Request, people: People, fields: dict[str, Any]) -> None:
    """Double opt-in: a new address gets the link that confirms it; a known one gets its
    person's link again, by mail only. The person who typed it learns nothing either way."""
    state = request.app.state
    hours = confirm_hours(state)
    try:
        reg = await people.create(fields, awaiting_email=True, valid_for=timedelta(hours=hours))
    except Duplicate as exc:
        if exc.existing is None:  # a simultaneous request is registering it and mailing
            return
        reg = exc.existing
        link = await desk.working_link(state.links, state.settings.base_url, people, reg)
        if reg.awaiting_email:
            await state.mailer.verify(people.event, reg, link, hours)
        else:
            await state.mailer.already(people.event, reg, link)
        return
    link = await personal_link(request, people, reg)
    await state.mailer.verify(people.event, reg, link, hours)


def _sent(request: Request, live: Live) -> Response:
    """The neutral answer of the public form when e-mail is sent: the same page whatever
    happened, so it tells nobody whether an address is registered."""
    return render(request, "registered.html", event=live.event, reg=None, link=None)


async def _registration(request: Request, live: Live, claims: Claims) -> Registration | Response:
    """The registration a personal link is for (erased ones: the link no longer works).
    Opening the link mailed for a double opt-in confirms the address; one that waited
    too long is gone."""
    people = people_of(request, live)
    reg = await people.get(claims.person or "")
    if reg is None:
        return link_error(request, LinkError("link_invalid", "no such registration"))
    if reg.awaiting_email:
        window = timedelta(hours=confirm_hours(request.app.state))
        verified = await people.verify_email(reg, window)
        if verified is None:
            return error_page(request, 410, "reg.unconfirmed_expired")
        request.state.email_verified = True
        return verified
    return reg


async def personal_page(request: Request, live: Live, claims: Claims) -> Response:
    """The person's page: registration (editable while open), confirmed workshop."""
    reg = await _registration(request, live, claims)
    if isinstance(reg, Response):
        return reg
    people = people_of(request, live)
    settings = await people.settings()
    event = live.event
    errors: dict[str, str] = {}
    saved = False
    form: dict[str, Any] = reg.to_dict() | {"consent": "on"}
    if request.method == "POST":
        limits: RegistrationLimits = request.app.state.registration_limits
        if wait := limits.client(client_address(request)):
            return too_many(request, wait)
        raw = await request.form(max_files=0, max_fields=MAX_FIELDS)
        form = _form(raw, wish_slots(event))
        try:
            fields = check(event, form, _now(live), settings)
            if rounds.confirmed_any(reg) and fields["site"] != reg.site:
                raise Invalid({"site": "reg.confirmed_site"})
            if wait := limits.valid(event, None):  # the person's own link: no e-mail quota
                return too_many(request, wait)
            reg = await people.update(reg, fields)
            saved = True
        except Invalid as exc:
            errors = exc.errors
        except Duplicate:
            errors = {"email": "reg.exists"}
    workshop = event.workshop(reg.confirmed) if reg.confirmed else None
    mine = rounds.confirmed_workshops(event, reg) if rounds.several(event) else []
    if mine:  # the live timer follows the workshop running now, else the next one
        workshop = _now_or_next(live, [w for _, w in mine if w is not None])
    link = str(request.url)
    return render(
        request,
        "me.html",
        status=422 if errors else 200,
        event=event,
        info=event_info(event),
        token=request.query_params["k"],
        site=event.site(reg.site),
        reg=reg,
        form=form,
        errors=errors,
        saved=saved,
        verified=getattr(request.state, "email_verified", False),
        settings=settings,
        workshop=workshop,
        mine=mine,
        # Confirmed in some round: a round without a workshop is final, not pending.
        decided=rounds.confirmed_any(reg),
        # The live card follows whichever of these runs, as the day moves on (agenda.js).
        round_workshops=[w.id for _, w in mine if w is not None],
        wish_rounds=wish_rounds(event, settings, form),
        closed_reason=window_error(event, _now(live)),
        purpose=translator(lang_of(request))("reg.purpose"),
        qr=segno.make(link, error="m").svg_inline(scale=4, omitsize=True),
    )


@with_link("participant")
async def personal_ics_file(request: Request, live: Live, claims: Claims) -> Response:
    reg = await _registration(request, live, claims)
    if isinstance(reg, Response):
        return reg
    event = live.event
    workshop = event.workshop(reg.confirmed) if reg.confirmed else None
    if rounds.several(event):
        mine = [w for _, w in rounds.confirmed_workshops(event, reg) if w is not None]
    else:
        mine = [workshop] if workshop else []
    link = str(request.url).replace("/me.ics?", "/me?")
    body = personal_ics(event, reg.site, mine, link)
    return Response(
        body,
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{event.id}.ics"'},
    )


def _now_or_next(live: Live, workshops: list[Workshop]) -> Workshop | None:
    """Of a person's workshops (one per round), the one whose timer runs now, else the
    first not over yet, else the last: the one their phone's live card follows."""
    running = next((w for w in workshops if w.id in live.state.workshops), None)
    if running is not None or not workshops:
        return running
    now = _now(live)
    ends = [(_round_end(live.event, w), w) for w in workshops]
    return next((w for end, w in ends if end is None or end > now), workshops[-1])


def _round_end(event: Event, w: Workshop) -> datetime | None:
    """When a workshop's round ends as planned (None: it has no step of its own)."""
    step = event.workshop_step(w)
    return event.planned_end(step) if step else None


async def agenda_file(request: Request) -> Response:
    live = get_live(request)
    if live is None:
        return Response("unknown event", status_code=404)
    return Response(
        agenda_ics(live.event),
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{live.event.id}-agenda.ics"'},
    )


routes = [
    Route("/e/{event_id}/register", register, methods=["GET", "POST"], name="register"),
    Route("/e/{event_id}/agenda.ics", agenda_file, name="agenda_ics"),
    Route("/e/{event_id}/me.ics", personal_ics_file, name="personal_ics"),
]
