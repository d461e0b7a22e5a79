"""The one route table: every page, API, websocket and static file, by name. The app
serves it (`live/app.py`) and `Urls` builds every address from it, a running app's or,
for the `relais` command, one made here without a server."""

from __future__ import annotations

from pathlib import Path

from starlette.routing import BaseRoute, Mount, WebSocketRoute
from starlette.staticfiles import StaticFiles

from live.assets import asset_dir
from live.web import (
    accounts,
    admin,
    api,
    consultations,
    links_sheet,
    live_ws,
    notes_pages,
    notes_ws,
    organize,
    organize_exports,
    pages,
    participation_pages,
    participation_ws,
    public_service,
    publication,
    registration,
    rollup,
    signin,
    studio,
    territorial,
    territorial_downloads,
    whip,
)
from live.web.urls import Urls


def all_routes(static_dir: Path | None = None) -> list[BaseRoute]:
    """Every route of the app; static files from `static_dir` (the installation's)."""
    static = static_dir or asset_dir("static")
    return [
        *pages.routes,
        *api.routes,
        *registration.routes,
        *whip.routes,
        *organize.routes,
        *organize_exports.routes,
        *links_sheet.routes,
        *studio.routes,
        *admin.routes,
        *consultations.routes,
        *accounts.routes,
        *signin.routes,
        *public_service.routes,
        *territorial.routes,
        *territorial_downloads.routes,
        WebSocketRoute("/ws/events/{event_id}", live_ws.endpoint),
        *notes_pages.routes,
        *participation_pages.routes,
        *publication.routes,
        *rollup.routes,
        WebSocketRoute("/ws/notes/{event_id}/{workshop_id}", notes_ws.endpoint),
        WebSocketRoute("/ws/participation/{event_id}", participation_ws.endpoint),
        Mount("/static", StaticFiles(directory=static), name="static"),
    ]


def urls(base: str = "") -> Urls:
    """The app's addresses without an app (the `relais` command): under `base`."""
    return Urls.of(all_routes(), base)
