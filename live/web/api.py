"""JSON endpoints: health, and the live state of an event (for scripts and checks).
Refusals are JSON too (`web.common.refused`), in the request's language."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from live.agenda.live import now_ms
from live.agenda.state import schedule, view
from live.errors import RelaisError
from live.web.common import get_live, refused


async def health(request: Request) -> Response:
    return JSONResponse({"ok": True, "events": sorted(request.app.state.catalogue.events)})


async def state(request: Request) -> Response:
    live = get_live(request)
    if live is None:
        return refused(request, RelaisError("unknown_event", "no such event"))
    now = now_ms()
    return JSONResponse(
        {
            "event": live.event.id,
            "epoch": live.epoch,
            "server_time": now,
            # As the public page sees it: a message to one site stays with that site.
            "state": view(live.state_dict, ""),
            "schedule": schedule(live.state, live.event, now),
        }
    )


async def info(request: Request) -> Response:
    """The event as pages see it, with its fingerprint: what a page fetches when its
    live connection says the event changed while it was away."""
    live = get_live(request)
    if live is None:
        return refused(request, RelaisError("unknown_event", "no such event"))
    return JSONResponse({"rev": live.rev, "event": live.info})


routes = [
    Route("/healthz", health),
    Route("/api/events/{event_id}/state", state),
    Route("/api/events/{event_id}/info", info),
]
