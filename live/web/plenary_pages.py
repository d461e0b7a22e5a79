"""The plenary visio's pages: the speaker's (`/speak`), a site host's (`/host`), and what
the screen and the console need to show the relay's picture or an external visio room.

Pages get the relay's addresses and the ICE servers in a `<script type="application/json"
id="plenary-config">` block (no inline script under the page's policy); they publish and
receive through the WHIP/WHEP endpoints (live/web/whip.py) with their own link.
"""

from __future__ import annotations

from typing import Any

import segno
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from live.agenda.live import Live
from live.agenda.protocol import event_info
from live.links.signing import Claims, LinkError
from live.model import Event, Site
from live.web.common import refused, render, with_link


def qr_svg(url: str, scale: int = 6) -> str:
    """A QR code as inline SVG (no style attribute: it passes the page's policy)."""
    svg: str = segno.make(url, error="m").svg_inline(
        scale=scale, dark="#000", light="#fff", omitsize=True
    )
    return svg


def visio_rooms(event: Event, site: Site | None = None) -> list[dict[str, Any]]:
    """The external visio rooms of the event, with their QR codes: each step's (for every
    site it concerns), then each workshop's (of `site`, if given)."""
    rooms: list[tuple[str | None, str | None, str, str]] = [
        (s.id, None, s.title, s.visio_url)
        for s in event.agenda
        if s.visio_url and (site is None or not s.sites or site.id in s.sites)
    ]
    rooms += [
        (None, w.id, event.workshop_short_title(w), w.visio_url)
        for w in event.workshops
        if w.visio_url and (site is None or w.site == site.id)
    ]
    return [
        {"step": step, "workshop": workshop, "title": title, "url": url, "qr": qr_svg(url)}
        for step, workshop, title, url in rooms
    ]


def plenary_config(request: Request, event: Event, **extra: Any) -> dict[str, Any]:
    """What a page's scripts need of the relay: its endpoints, the ICE servers (fresh TURN
    credentials when a TURN secret is set), the ICE transport policy ("relay": the pages
    go through TURN only, to check a site's network) and which steps use an external
    visio room."""
    app = request.app
    return {
        "whip": app.url_path_for("whip", event_id=event.id),
        "whep": app.url_path_for("whep", event_id=event.id),
        "status": app.url_path_for("plenary_status", event_id=event.id),
        "ice_servers": app.state.plenary.ice_servers(),
        "ice_transport_policy": app.state.settings.ice_transport_policy,
        "visio": {s.id: s.visio_url for s in event.agenda if s.visio_url},
        **extra,
    }


@with_link("speaker")
async def speak(request: Request, live: Live, claims: Claims) -> Response:
    """The remote speaker: camera, microphone, preview, go live, quality."""
    event = live.event
    plenary = plenary_config(request, event, feed="speaker")
    return render(
        request,
        "speak.html",
        event=event,
        info=event_info(event),
        token=request.query_params["k"],
        site=None,
        plenary=plenary,
        whip_url=request.app.state.settings.base_url + plenary["whip"],  # for OBS Studio
    )


@with_link("host")
async def host(request: Request, live: Live, claims: Claims) -> Response:
    """A site's host: the room camera for the mosaic and the floor, the program, and
    asking for the floor."""
    event = live.event
    site = event.site(claims.site or "")
    if site is None:
        return refused(request, LinkError("link_role", "this host link is for no site"))
    return render(
        request,
        "host.html",
        event=event,
        info=event_info(event),
        token=request.query_params["k"],
        site=site,
        plenary=plenary_config(request, event, feed=f"site:{site.id}"),
        rooms=visio_rooms(event, site),
    )


routes = [
    Route("/e/{event_id}/speak", speak, name="speak"),
    Route("/e/{event_id}/host", host, name="host"),
]
