"""Registration pages: the public form, the person's own page (update, confirmation,
room, visio, QR code, .ics), and the agenda as iCalendar."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import segno
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from live.agenda.hub import Live
from live.i18n import translator
from live.links import Claims, LinkError
from live.people import desk
from live.people.calendar import agenda_ics, personal_ics
from live.people.registration import Invalid, Registration, check, window_error
from live.people.store import Duplicate, People
from live.web.common import event_info, get_live, lang_of, link_error, not_found, render, with_link


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
    }
    if request.method == "GET":
        return render(request, "register.html", **context)
    form = _form(await request.form(), live.event.registration.wishes)
    context["form"] = form
    try:
        fields = check(live.event, form, _now(live), settings)
        fields["extra"] = {"lang": lang_of(request)}  # the language of its mails
        reg = await people.create(fields)
    except Invalid as exc:
        return render(request, "register.html", status=422, **{**context, "errors": exc.errors})
    except Duplicate:
        errors = {"email": "reg.exists"}
        return render(request, "register.html", status=409, **{**context, "errors": errors})
    link = await personal_link(request, people, reg)
    await request.app.state.mailer.registered(live.event, reg, link)
    return render(request, "registered.html", event=live.event, reg=reg, link=link)


async def _registration(request: Request, live: Live, claims: Claims) -> Registration | Response:
    """The registration a personal link is for (erased ones: the link no longer works)."""
    reg = await people_of(request, live).get(claims.person or "")
    if reg is None:
        return link_error(request, LinkError("link_invalid", "no such registration"))
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
        form = _form(await request.form(), event.registration.wishes)
        try:
            fields = check(event, form, _now(live), settings)
            if reg.confirmed and fields["site"] != reg.site:
                raise Invalid({"site": "reg.confirmed_site"})
            reg = await people.update(reg, fields)
            saved = True
        except Invalid as exc:
            errors = exc.errors
        except Duplicate:
            errors = {"email": "reg.exists"}
    workshop = event.workshop(reg.confirmed) if reg.confirmed else None
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
        settings=settings,
        workshop=workshop,
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
    link = str(request.url).replace("/me.ics?", "/me?")
    body = personal_ics(event, reg.site, workshop, link)
    return Response(
        body,
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{event.id}.ics"'},
    )


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
