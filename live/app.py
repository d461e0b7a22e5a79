"""Builds the Starlette app: routes, templates, the backend, and one lifespan for them."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from importlib import resources

from starlette.applications import Starlette
from starlette.middleware import Middleware

from live.accounts.audit import AuditLog
from live.accounts.grants import Access
from live.accounts.sessions import Sessions
from live.accounts.store import Accounts
from live.agenda.catalogue import Catalogue
from live.agenda.live import Listener
from live.assets import asset_dir
from live.backends.base import Backend, create_backend
from live.config import Settings
from live.consultation.model import Consultation, EventPlace
from live.consultation.space import Spaces
from live.consultation.store import Contributions
from live.event_file import parse_event
from live.gcpolicy import keep_collections_short
from live.links.kept import KeptLinks, account_slot
from live.links.signing import AdminLinks, LinkBook, Signer
from live.logs import install as redact_tokens_in_logs
from live.notes.budget import SendBudget
from live.notes.exports import Exports
from live.notes.service import NotesService
from live.participation.service import ParticipationService
from live.people.mailer import Mailer
from live.people.service import Desk
from live.plenary.service import Plenary
from live.retention import keep_purging
from live.territories import Territories
from live.web import common, signin, studio
from live.web.connections import ConnectionCaps, Gate, raise_descriptor_limit
from live.web.headers import SecurityHeaders
from live.web.limits import BodyLimit
from live.web.routes import all_routes
from live.web.urls import Urls
from live.workers import Workers

log = logging.getLogger("relais")


def demo_definitions() -> dict[str, str]:
    """The demo events shipped in the package, by file name."""
    folder = resources.files("live.demo")
    return {
        f.name: f.read_text(encoding="utf-8") for f in folder.iterdir() if f.name.endswith(".yaml")
    }


DEMO_CONSULTATION = "egn-2020"


async def put_demo_consultation(store: Contributions) -> None:
    """The demo days as one consultation (the États généraux du numérique of 2020): their
    themes, and each day in its territory. Written only when absent: an organizer's edits
    of it survive a restart."""
    if await store.consultation(DEMO_CONSULTATION) is not None:
        return
    days = {name: parse_event(text, name) for name, text in demo_definitions().items()}
    first = days["ariege-2020.yaml"]
    consultation = Consultation(
        id=DEMO_CONSULTATION,
        title="États généraux du numérique pour l'éducation (2020)",
        territory="fr",
        themes=first.themes,
        events=tuple(
            EventPlace(event=e.id, territory=e.territory)
            for e in sorted(days.values(), key=lambda e: e.id)
            if e.territory
        ),
    )
    await store.put_consultation(consultation)


def follow_floor(plenary: Plenary) -> Listener:
    """The relay shows whoever has the floor in the agenda's state: at load (a restart
    keeps it) and after each command."""
    return lambda event, state: plenary.set_program(event.id, state.floor)


def create_app(settings: Settings | None = None, backend: Backend | None = None) -> Starlette:
    settings = settings or Settings.from_env()
    backend = backend or create_backend(
        settings.backend, str(settings.data_dir), settings.redis_url
    )
    hub = Catalogue(backend, settings.snapshot_every)
    notes = NotesService(backend, budget=SendBudget(settings.notes_send_bytes))
    participation = ParticipationService(backend)
    spaces = Spaces(Contributions(backend))  # the consultations' published contributions
    workers = Workers()  # processes for the heavy exports, started at the first one
    # A page or two each (the printable link sheets): a lane of their own, so that they
    # never wait behind a synthesis of megabytes of notes (tens of seconds of fpdf2).
    sheet_workers = Workers(size=1)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await backend.open()
        await hub.load_all()
        if settings.demo:
            await put_demo_consultation(spaces.store)
        await spaces.load()
        demo: set[str] = set()  # dated 2020: past any retention, yet meant to be tried
        if settings.demo:
            for name, text in sorted(demo_definitions().items()):
                event = await hub.put(text, name)
                demo.add(event.id)
                log.info("demo event %s: %s/e/%s", event.id, settings.base_url, event.id)
        # `relais import` beside the running server: served within a poll, no restart.
        definitions = asyncio.create_task(hub.follow_definitions())
        others = []  # several processes on one store: what the others write, relayed here
        if backend.shared:
            others = [
                asyncio.create_task(notes.follow_others()),
                asyncio.create_task(app.state.links.follow_others()),
                asyncio.create_task(spaces.follow()),
            ]
        collector = asyncio.create_task(keep_collections_short())
        retention = asyncio.create_task(
            keep_purging(
                backend,
                lambda: [v.event for v in hub.events.values() if v.event.id not in demo],
                settings.retention_days,
                settings.confirm_hours,
                forget_names=notes.erase_names,
            )
        )
        try:
            yield
        finally:
            definitions.cancel()
            collector.cancel()
            retention.cancel()
            await hub.stop()
            for task in others:
                task.cancel()
            workers.close()
            sheet_workers.close()
            await app.state.plenary.close()
            await notes.close()
            await participation.close()
            for space in spaces.spaces.values():
                space.close()
            await backend.close()

    routes = all_routes(asset_dir("static"))
    redact_tokens_in_logs()
    bounds = [("/e/{event_id}/organize/import", settings.max_import_bytes)]
    bounds += [(route, settings.max_import_bytes) for route in studio.LARGE_BODIES]
    editor = ["/e/{event_id}/notes"]  # CodeMirror's styles (see headers.py)
    middleware = [  # the headers outside the limit: its 413s get them too
        Middleware(
            SecurityHeaders,
            base_url=settings.base_url,
            inline_styles=editor,
            form_targets=signin.form_targets(settings),
        ),
        Middleware(BodyLimit, default=settings.max_form_bytes, routes=bounds),
    ]
    app = Starlette(
        routes=routes,
        middleware=middleware,
        lifespan=lifespan,
        exception_handlers=common.error_handlers(),
    )
    app.state.settings = settings
    app.state.backend = backend
    app.state.catalogue = hub
    app.state.notes = notes
    app.state.participation = participation
    app.state.spaces = spaces
    app.state.exports = Exports(workers)
    app.state.sheet_workers = sheet_workers
    app.state.signer = Signer(  # an event's links valid through its day (links.Validity)
        settings.secret,
        settings.link_days,
        margin_days=settings.link_margin_days,
        events=lambda event_id: served.event if (served := hub.get(event_id)) else None,
    )
    app.state.links = LinkBook(app.state.signer, backend)
    app.state.admin_links = AdminLinks(app.state.signer, backend)
    app.state.plenary = Plenary.from_settings(settings, app.state.links)
    hub.listeners.append(follow_floor(app.state.plenary))
    # An event no longer served (deleted here or by another process): its notes rooms close
    # (pending updates written) and its plenary sessions end, before its data goes.
    hub.on_remove += [notes.drop, participation.drop, app.state.plenary.end_event]
    gate = Gate.for_limits(
        settings.max_connections, settings.max_connections_per_address, raise_descriptor_limit()
    )
    app.state.gate = gate
    app.add_middleware(ConnectionCaps, gate=gate, signer=app.state.signer)
    app.state.mailer = Mailer(
        settings.smtp_host,
        settings.smtp_port,
        settings.smtp_from,
        settings.smtp_user,
        settings.smtp_password,
        settings.smtp_starttls,
        per_hour=settings.mails_per_hour,
    )
    urls = app.state.urls = Urls(app.router, settings.base_url)  # every address (web/urls.py)
    app.state.kept_links = KeptLinks(backend, app.state.signer)  # the links sheet's kept links
    # Organizers' accounts (live/accounts) and their sign-in (web/signin.py): without a
    # provider configured, the grants still work for the admin link's holders' records.
    app.state.territories = Territories.reference()
    app.state.within = app.state.territories.within
    app.state.sessions = Sessions(backend, settings.session_hours)
    app.state.accounts = Accounts(backend, app.state.sessions, AuditLog(backend))
    app.state.oidc = signin.provider(settings)
    app.state.signin_limits = signin.Limits()

    async def revoke_handouts(email: str, access: Access) -> None:
        """An account withdrawn (or a role taken back): the organizer links it was handed
        for events it no longer runs are revoked, their open pages closed everywhere."""
        runs = {
            e.id
            for e in access.events((v.definition for v in hub.events.values()), app.state.within)
        }
        await app.state.kept_links.revoke_handouts(
            account_slot(email).key, app.state.links.revoke, keep=runs.__contains__
        )

    app.state.accounts.on_withdrawn.append(revoke_handouts)
    app.state.desk = Desk(
        backend,
        app.state.mailer,
        app.state.links,
        settings,
        address=lambda event_id, token: urls.link_url(event_id, "participant", token),
    )
    return app
