"""Registration pages: the public form, the person's own page (update, confirmation,
room, visio, QR code, .ics), and the agenda as iCalendar.

The form is public and linked from every screen's QR code, so it assumes abuse:

- **Double opt-in when e-mail is sent** (`Desk.register`). The answer never shows the
  personal link: it goes to the address, and the answer is the same neutral page whether
  the address was new, already registered (its owner gets their link again by mail) or
  refused by the honeypot. The registration counts once its person opens the link
  (`Desk.opened`); unconfirmed ones are dropped after `confirm_hours`. Without SMTP (an
  organizer registering people on site) the link is shown and a known address is said
  to be known.
- **Rate limits** (`people.limits.RegistrationLimits`, kept by the Desk), answered 429
  with `Retry-After`, sized so that a class registering on site from one school address
  passes and a script does not: posts per client address (a burst, and an hour's worth),
  valid registrations per e-mail, and an hourly budget per event sized from its capacity,
  which only valid work spends (a flood of invalid posts cannot close registration for
  everyone); mails per recipient are capped by the mailer.
- **A honeypot field** people never see or reach: a robot that fills it gets the neutral
  page and nothing is stored.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

import segno
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from live.agenda.live import Live
from live.agenda.protocol import event_info
from live.i18n import translator
from live.links.signing import Claims, LinkError
from live.model import Event
from live.people import rounds
from live.people.calendar import agenda_ics, personal_ics
from live.people.registration import (
    Invalid,
    Registration,
    check,
    keep_site,
    questionnaire,
    window_error,
    wish_rounds,
    wish_slots,
)
from live.people.service import Desk, Expired
from live.people.store import Duplicate, People
from live.web.common import (
    error_page,
    get_live,
    lang_of,
    link_error,
    not_found,
    render,
    with_link,
)
from live.web.organize import desk_of

HONEYPOT = "hp_field"  # the hidden field of templates/register.html; people leave it empty
MAX_FIELDS = 40  # a registration form has about fifteen; no file is ever expected


def max_fields(event: Event) -> int:
    """The fields a form may post: the usual ones and the questionnaire's selects."""
    return MAX_FIELDS + sum(n for _, n in questionnaire(event))


def client_address(request: Request) -> str:
    """The address the connection comes from. Behind a reverse proxy, `relais serve`
    takes it from X-Forwarded-For only when RELAIS_TRUSTED_PROXIES names that proxy."""
    return request.client.host if request.client else ""


def too_many(request: Request, wait: float) -> Response:
    response = error_page(request, 429, "reg.too_many_requests")
    response.headers["Retry-After"] = str(max(1, math.ceil(wait)))
    return response


def _form(request_form: Any, event: Event) -> dict[str, Any]:
    """The posted fields as `registration.check` reads them: wishes and each theme's
    ranked subjects (`subject-{theme}-{n}`) as lists, blanks kept in place."""
    form = {k: request_form.get(k, "") for k in (
        "name", "email", "category", "site", "accessibility", "group", "consent"
    )}  # fmt: skip
    wishes = wish_slots(event)
    form["wishes"] = [request_form.get(f"wish{i}", "") for i in range(1, wishes + 1)]
    form["subjects"] = {
        t.id: [request_form.get(f"subject-{t.id}-{i}", "") for i in range(1, n + 1)]
        for t, n in questionnaire(event)
    }
    return form


def _now(live: Live) -> datetime:
    return datetime.now(live.event.tz)


async def register(request: Request) -> Response:
    live = get_live(request)
    if live is None:
        return not_found(request)
    service = desk_of(request)
    people = service.people(live.event)
    settings = await people.settings()
    context: dict[str, Any] = {
        "event": live.event,
        "settings": settings,
        "purpose": translator(lang_of(request))("reg.purpose"),
        "closed_reason": window_error(live.event, _now(live)),
        "errors": {},
        "form": {"wishes": []},
        "wish_rounds": wish_rounds(live.event, settings, {}),
        "several_rounds": rounds.several(live.event),
        "questionnaire": questionnaire(live.event),
    }
    if request.method == "GET":
        return render(request, "register.html", **context)
    limits = service.limits
    if wait := limits.client(client_address(request)):
        return too_many(request, wait)
    raw = await request.form(max_files=0, max_fields=max_fields(live.event))
    form = _form(raw, live.event)
    context["form"] = form
    context["wish_rounds"] = wish_rounds(live.event, settings, form)
    if raw.get(HONEYPOT):
        return _sent(request, live)
    try:
        fields = check(live.event, form, _now(live), settings)
    except Invalid as exc:
        return render(request, "register.html", status=422, **{**context, "errors": exc.errors})
    if wait := limits.valid(live.event, fields["email"]):
        return too_many(request, wait)
    fields["extra"] = {"lang": lang_of(request)}  # the language of its mails
    try:
        shown = await service.register(people, fields)
    except Duplicate:
        errors = {"email": "reg.exists"}
        return render(request, "register.html", status=409, **{**context, "errors": errors})
    if shown is None:  # mailed (double opt-in): the neutral page
        return _sent(request, live)
    reg, link = shown
    return render(request, "registered.html", event=live.event, reg=reg, link=link)


def _sent(request: Request, live: Live) -> Response:
    """The neutral answer of the public form when e-mail is sent: the same page whatever
    happened, so it tells nobody whether an address is registered."""
    return render(request, "registered.html", event=live.event, reg=None, link=None)


async def _registration(
    request: Request, service: Desk, people: People, claims: Claims
) -> Registration | Response:
    """The registration a personal link is for (erased ones: the link no longer works).
    Opening the link mailed for a double opt-in confirms the address; one that waited
    too long is gone."""
    try:
        opened = await service.opened(people, claims.person or "")
    except Expired as exc:
        return error_page(request, 410, exc.code)
    if opened is None:
        return link_error(request, LinkError("link_invalid", "no such registration"))
    reg, verified = opened
    if verified:
        request.state.email_verified = True
    return reg


async def personal_page(request: Request, live: Live, claims: Claims) -> Response:
    """The person's page: registration (editable while open), confirmed workshop."""
    service = desk_of(request)
    people = service.people(live.event)
    reg = await _registration(request, service, people, claims)
    if isinstance(reg, Response):
        return reg
    settings = await people.settings()
    event = live.event
    errors: dict[str, str] = {}
    saved = False
    form: dict[str, Any] = reg.to_dict() | {"consent": "on"}
    if request.method == "POST":
        limits = service.limits
        if wait := limits.client(client_address(request)):
            return too_many(request, wait)
        raw = await request.form(max_files=0, max_fields=max_fields(event))
        form = _form(raw, event)
        try:
            fields = check(event, form, _now(live), settings)
            keep_site(reg, fields)
            if wait := limits.valid(event, None):  # the person's own link: no e-mail quota
                return too_many(request, wait)
            reg = await service.update(people, reg, fields)
            saved = True
        except Invalid as exc:
            errors = exc.errors
        except Duplicate:
            errors = {"email": "reg.exists"}
    workshop = event.workshop(reg.confirmed) if reg.confirmed else None
    mine = rounds.confirmed_workshops(event, reg) if rounds.several(event) else []
    if mine:  # the live timer follows the workshop running now, else the next one
        ids = [w for _, w in mine if w is not None]
        workshop = rounds.now_or_next(event, ids, live.state.workshops, _now(live))
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
        several_rounds=rounds.several(event),
        questionnaire=questionnaire(event),
        closed_reason=window_error(event, _now(live)),
        purpose=translator(lang_of(request))("reg.purpose"),
        qr=segno.make(link, error="m").svg_inline(scale=4, omitsize=True),
    )


@with_link("participant")
async def personal_ics_file(request: Request, live: Live, claims: Claims) -> Response:
    service = desk_of(request)
    reg = await _registration(request, service, service.people(live.event), claims)
    if isinstance(reg, Response):
        return reg
    event = live.event
    link = str(request.url).replace("/me.ics?", "/me?")
    body = personal_ics(event, reg.site, rounds.confirmed_list(event, reg), link)
    return Response(
        body,
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{event.id}.ics"'},
    )


async def agenda_file(request: Request) -> Response:
    live = get_live(request)
    if live is None:
        return not_found(request)
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
