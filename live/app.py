"""Builds the Starlette app: routes, templates, the backend, and one lifespan for them."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from importlib import resources

from starlette.applications import Starlette
from starlette.routing import Mount, WebSocketRoute
from starlette.staticfiles import StaticFiles

from live.agenda.hub import Hub
from live.assets import asset_dir
from live.backends.base import Backend, create_backend
from live.config import Settings
from live.gcpolicy import keep_collections_short
from live.links import LinkBook, Signer
from live.notes.room import NotesService
from live.people.mailer import Mailer
from live.web import (
    api,
    common,
    live_ws,
    notes_pages,
    notes_ws,
    organize,
    organize_exports,
    pages,
    registration,
)

log = logging.getLogger("relais")


def demo_definitions() -> dict[str, str]:
    """The demo events shipped in the package, by file name."""
    folder = resources.files("live.demo")
    return {
        f.name: f.read_text(encoding="utf-8") for f in folder.iterdir() if f.name.endswith(".yaml")
    }


def create_app(settings: Settings | None = None, backend: Backend | None = None) -> Starlette:
    settings = settings or Settings.from_env()
    backend = backend or create_backend(settings.backend, str(settings.data_dir))
    hub = Hub(backend, settings.snapshot_every)
    notes = NotesService(backend)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await backend.open()
        await hub.load_all()
        if settings.demo:
            for name, text in sorted(demo_definitions().items()):
                event = await hub.put(text, name)
                log.info("demo event %s: %s/e/%s", event.id, settings.base_url, event.id)
        collector = asyncio.create_task(keep_collections_short())
        try:
            yield
        finally:
            collector.cancel()
            await notes.close()
            await backend.close()

    routes = [
        *pages.routes,
        *api.routes,
        *registration.routes,
        *organize.routes,
        *organize_exports.routes,
        WebSocketRoute("/ws/events/{event_id}", live_ws.endpoint),
        *notes_pages.routes,
        WebSocketRoute("/ws/notes/{event_id}/{workshop_id}", notes_ws.endpoint),
        Mount("/static", StaticFiles(directory=asset_dir("static")), name="static"),
    ]
    app = Starlette(routes=routes, lifespan=lifespan, exception_handlers=common.error_handlers())
    app.state.settings = settings
    app.state.backend = backend
    app.state.hub = hub
    app.state.notes = notes
    app.state.signer = Signer(settings.secret, settings.link_days)
    app.state.links = LinkBook(app.state.signer, backend)
    app.state.mailer = Mailer(
        settings.smtp_host,
        settings.smtp_port,
        settings.smtp_from,
        settings.smtp_user,
        settings.smtp_password,
        settings.smtp_starttls,
    )
    return app
