"""HTML pages: home, public event page, console, site screen, participant page (and the
plenary's own pages, `plenary_pages.py`)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from live.agenda.live import Live
from live.agenda.protocol import event_info
from live.links.kept import participants
from live.links.signing import COMMANDERS, Claims
from live.web import plenary_pages, registration
from live.web.common import get_live, not_found, render, with_link
from live.web.plenary_pages import plenary_config, qr_svg, visio_rooms
from live.web.urls import urls_of


async def agenda_fragment(request: Request) -> Response:
    """The agenda list of a page, as the event runs now (public data: the console's
    variant only adds buttons that its link alone can use)."""
    live = get_live(request)
    if live is None:
        return not_found(request)
    q = request.query_params
    return render(
        request,
        "_agenda_fragment.html",
        event=live.event,
        info=None,
        details=q.get("details") == "1",
        console=q.get("console") == "1",
        site=live.event.site(q.get("site", "")),
    )


async def home(request: Request) -> Response:
    catalogue = request.app.state.catalogue
    archived = await catalogue.archived()  # put away by the administrator
    events = [v.event for v in catalogue.events.values() if v.event.id not in archived]
    return render(request, "home.html", events=sorted(events, key=lambda e: e.date))


async def event_page(request: Request) -> Response:
    live = get_live(request)
    if live is None:
        return not_found(request)
    return render(
        request, "event.html", event=live.event, info=event_info(live.event), token="", site=None
    )


@with_link(*COMMANDERS)
async def console(request: Request, live: Live, claims: Claims) -> Response:
    return render(
        request,
        "console.html",
        event=live.event,
        info=event_info(live.event),
        token=request.query_params["k"],
        claims=claims,
        plenary=plenary_config(request, live.event),
        rooms=visio_rooms(live.event),
    )


@with_link("screen", *COMMANDERS)
async def screen(request: Request, live: Live, claims: Claims) -> Response:
    """A projector at one site: the site comes from its link."""
    event = live.event
    site = event.site(claims.site or request.query_params.get("site", "")) or event.hub
    state = request.app.state
    revoked = await state.links.revocations.of(event.id)
    token = await state.kept_links.kept(event, participants(site.id), revoked)
    join = urls_of(request).link_url(event.id, "participant", token)
    return render(
        request,
        "screen.html",
        event=event,
        info=event_info(event),
        token=request.query_params["k"],
        site=site,
        join=join,
        qr=qr_svg(join),
        plenary=plenary_config(request, event, hub=site.id == event.hub.id),
        rooms=visio_rooms(event, site),
    )


@with_link("participant", "screen", "rapporteur", *COMMANDERS)
async def participant(request: Request, live: Live, claims: Claims) -> Response:
    """A phone: the agenda live and, on a site's shared link, the participation in the
    site's workshops (me.html as the event's page); with a personal link, the person's
    own page."""
    if claims.person:
        return await registration.personal_page(request, live, claims)
    event = live.event
    return render(
        request,
        "me.html",
        event=event,
        info=event_info(event),
        token=request.query_params["k"],
        site=event.site(claims.site or ""),
        participate=claims.role == "participant",
    )


routes = [
    Route("/", home, name="home"),
    Route("/e/{event_id}", event_page, name="event"),
    Route("/e/{event_id}/console", console, name="console"),
    Route("/e/{event_id}/agenda-list", agenda_fragment, name="agenda_list"),
    Route("/e/{event_id}/screen", screen, name="screen"),
    Route("/e/{event_id}/me", participant, methods=["GET", "POST"], name="participant"),
    *plenary_pages.routes,
]
