"""The `relais` command: serve, import an event file, print its links, export the synthesis,
purge an event's personal data."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit, urlunsplit

from live.accounts.audit import AuditLog
from live.accounts.grants import GrantError, make_grant
from live.accounts.sessions import Sessions
from live.accounts.store import Accounts
from live.app import demo_definitions
from live.backends.base import Backend, create_backend
from live.config import DATABASE_FILE, WS_MAX_SIZE, NoDataDirectory, Settings, Signing
from live.event_file import DefinitionError, Found, parse_event, read_event
from live.i18n import library, plural, translator
from live.links.kept import KeptLinks, LinkSlot, slots
from live.links.signing import DAY, AdminLinks, LinkBook, Signer
from live.model import Event
from live.retention import Purged, purge
from live.studio.validate import file_lines
from live.web import routes as web_routes
from live.web import wire

T = TypeVar("T")


def cli_lang() -> str:
    """French, unless the terminal's language is English (LANG=en_…)."""
    return "en" if os.environ.get("LANG", "").startswith("en") else "fr"


def say(key: str, **params: object) -> str:
    """A sentence for the operator in the terminal's language."""
    return translator(cli_lang())(key).format(**params)


def _settings(args: argparse.Namespace, signing: Signing = "none") -> Settings:
    overrides: dict[str, object] = {}
    if getattr(args, "data", None):
        overrides["data_dir"] = Path(args.data)
    if getattr(args, "backend", None):
        overrides["backend"] = args.backend
    if getattr(args, "base_url", None):
        overrides["base_url"] = args.base_url.rstrip("/")
    return Settings.from_env(signing, **overrides)


def _has_database(settings: Settings) -> bool:
    return settings.backend != "sqlite" or (settings.data_dir / DATABASE_FILE).exists()


def _server_settings(
    args: argparse.Namespace, signing: Signing, need_database: bool
) -> Settings | None:
    """The settings of the server whose data this command reads, or None after saying
    where it looked and how to point it there. Nothing is created: a new data directory
    would hold a new secret, and links signed with it are refused by the server."""
    try:
        settings = _settings(args, signing)
    except NoDataDirectory as exc:
        print(say("cli.no_data", path=exc.path), file=sys.stderr)
        return None
    if need_database and not _has_database(settings):
        print(say("cli.no_data", path=settings.data_dir.resolve()), file=sys.stderr)
        return None
    return settings


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    # The app is built from the environment in each worker: pass settings through it.
    if args.demo:
        os.environ["RELAIS_DEMO"] = "1"
    if args.data:
        os.environ["RELAIS_DATA"] = args.data
    if args.backend:
        os.environ["LIVE_BACKEND"] = args.backend
    host = "localhost" if args.host in ("0.0.0.0", "127.0.0.1") else args.host
    base = args.base_url or f"http://{host}:{args.port}"
    os.environ.setdefault("RELAIS_BASE_URL", base)
    settings = Settings.from_env()
    if args.workers > 1 and settings.backend != "redis":
        print(say("cli.workers_need_redis"), file=sys.stderr)
        return 2
    announce(settings)
    first = not (settings.data_dir / ADMIN_ISSUED).exists()  # the first start on this data
    if args.demo:
        _print_demo_links(settings)
    if first or args.admin_link:  # last, framed: what an organizer needs to get in
        key = "cli.admin_link_first" if first else "cli.admin_link_start"
        print(framed(say(key, link=issue_admin_link(settings))), flush=True)
    uvicorn.run(
        "live.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        ws=wire.PROTOCOL,
        ws_max_size=WS_MAX_SIZE,
        ws_per_message_deflate=False,  # 40 KB of zlib state per page, and cycles (gcpolicy)
        log_level=args.log_level,
        proxy_headers=trusted_proxies(settings) is not None,
        forwarded_allow_ips=trusted_proxies(settings),
        # Several processes share the port and one Redis (each follows the logs); the
        # plenary's WebRTC sessions stay in the process that made them (README).
        workers=args.workers if args.workers > 1 else None,
    )
    return 0


def framed(text: str) -> str:
    """A text set apart between two rules, so it stands out of the lines around it."""
    rule = "═" * min(100, max(len(line) for line in text.splitlines()))
    return f"\n{rule}\n{text}\n{rule}\n"


BASE_URL_FILE = "base_url"  # in the data directory: the address `relais serve` announces


def keep_private(data_dir: Path) -> None:
    """The data directory holds the signing secret, the database and people's personal
    data: only its owner may read it (0700, its files 0600). A directory that already
    existed (made by hand, unpacked from a backup, older versions) is made so too, not only
    a new one; one that cannot be (another owner) is said on stderr, and left as it is."""
    try:
        data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        data_dir.chmod(0o700)
        for path in data_dir.rglob("*"):
            if not path.is_symlink():  # a link's target is not the directory's to change
                path.chmod(0o700 if path.is_dir() else 0o600)
    except OSError as exc:
        print(say("cli.data_not_private", path=data_dir.resolve(), reason=exc), file=sys.stderr)


def _write_private(path: Path, text: str, append: bool = False) -> None:
    """Write a file of the data directory, born 0600 (never readable by others)."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if append else os.O_TRUNC)
    with os.fdopen(os.open(path, flags, 0o600), "w", encoding="utf-8") as f:
        f.write(text)


def announce(settings: Settings) -> None:
    """Leave the server's public address next to its data, so that `relais links` run on
    the same data writes links to this server (its port, its --base-url), not a default."""
    keep_private(settings.data_dir)
    with contextlib.suppress(OSError):  # links then say they fall back to the default
        _write_private(settings.data_dir / BASE_URL_FILE, settings.base_url + "\n")


ADMIN_ISSUED = "admin-links"  # in the data directory: when admin links were issued


def issue_admin_link(
    settings: Settings,
    base: str | None = None,
    days: float | None = None,
    revoke_others: bool = False,
) -> str:
    """An administrator link (`/admin`: create, archive and delete events), written down
    as issued (when, until when; never the link itself) in the data directory. With
    `revoke_others`, every admin link issued before it stops working (in the store)."""
    token = Signer(settings.secret).sign_admin(days=days)
    claims = Signer(settings.secret).verify_admin(token)
    if revoke_others:
        asyncio.run(_revoke_admin_links_before(settings, claims.issued))
    try:
        line = f"{time.strftime('%Y-%m-%dT%H:%M:%S%z')} id={claims.id} until={claims.expires}\n"
        _write_private(settings.data_dir / ADMIN_ISSUED, line, append=True)
    except OSError:
        pass  # printed all the same: the next start prints another one
    return web_routes.urls(base or settings.base_url).url("admin", k=token)


def cmd_admin_link(args: argparse.Namespace) -> int:
    """Print a new administrator link for the server on this data directory."""
    settings = _server_settings(args, "existing", need_database=False)
    if settings is None:
        return 2
    keep_private(settings.data_dir)  # `relais serve` does it as it announces itself
    link = issue_admin_link(settings, links_base(args, settings), args.days, args.revoke_others)
    print(say("cli.admin_link"), file=sys.stderr)
    print(link)
    if args.revoke_others:
        print(say("cli.admin_link_revoked"), file=sys.stderr)
    return 0


async def _revoke_admin_links_before(settings: Settings, issued: int) -> None:
    """Refuse the admin links issued before, and the organizer links the studio gave them
    (kept on each event's links sheet): open pages with those close on a shared store."""
    backend = create_backend(settings.backend, str(settings.data_dir), settings.redis_url)
    await backend.open()
    try:
        await AdminLinks.revoke_before(backend, issued)
        book = LinkBook(Signer(settings.secret), backend)
        await KeptLinks(backend, book.signer).revoke_admin_handouts(book.revoke)
        await book.settle()
    finally:
        await backend.close()


def cmd_grant_admin(args: argparse.Namespace) -> int:
    """Make a professional address an administrator (the first one, typically): it then
    signs in with the configured provider. Written to the audit log as the command's."""
    settings = _server_settings(args, "none", need_database=False)
    if settings is None:
        return 2
    try:
        grant = make_grant(
            args.email,
            "admin",
            known_territory=lambda code: False,
            known_event=lambda event: False,
            by="cli",
            at=int(time.time()),
        )
    except GrantError as exc:
        print(say(f"error.{exc.code}"), file=sys.stderr)
        return 2

    async def give() -> bool:
        backend = create_backend(settings.backend, str(settings.data_dir), settings.redis_url)
        await backend.open()
        try:
            audit = AuditLog(backend)
            return await Accounts(backend, Sessions(backend), audit).grant(grant, "cli")
        finally:
            await backend.close()

    given = asyncio.run(give())
    print(say("cli.admin_granted" if given else "cli.admin_already", email=grant.email))
    return 0


def links_base(args: argparse.Namespace, settings: Settings) -> str:
    """Where links point: --base-url, else RELAIS_BASE_URL, else the address the server
    on this data directory announced, else the default, with a warning on stderr."""
    if getattr(args, "base_url", None) or os.environ.get("RELAIS_BASE_URL"):
        return settings.base_url
    try:
        announced = (settings.data_dir / BASE_URL_FILE).read_text().strip()
    except OSError:
        announced = ""
    if announced:
        return announced.rstrip("/")
    print(say("cli.links_default_base", base=settings.base_url), file=sys.stderr)
    return settings.base_url


def trusted_proxies(settings: Settings) -> str | None:
    """Whom uvicorn believes about the client's address. By default nobody (None): the
    address is the connection's, which a client cannot forge (rate limits count by it).
    Behind a reverse proxy, RELAIS_TRUSTED_PROXIES names it (e.g. `127.0.0.1`), and only
    then is X-Forwarded-For read, and only from it."""
    return settings.trusted_proxies.strip() or None


# Links `serve --demo` leaves out of what it prints at start (`relais links` gives them).
PRIVATE = ("organizer", "rapporteur", "participant")


def _print_demo_links(settings: Settings) -> None:
    for name, text in sorted(demo_definitions().items()):
        event = parse_event(text, name)
        signer = event_signer(settings, event)
        print(f"\n== {event.title}")
        rows = links_for(event, signer, settings.base_url, shared_only=True)
        for line in columns(rows):
            print(f"   {line}")
    print(f"\n({say('cli.all_links')})\n", flush=True)


def event_signer(settings: Settings, event: Event) -> Signer:
    """The signer of an event's links, as the server's: valid through the event's day and
    its margin (at least `link_days` from now)."""
    return Signer(
        settings.secret,
        settings.link_days,
        margin_days=settings.link_margin_days,
        events={event.id: event}.get,
    )


def columns(rows: list[tuple[str, str]]) -> list[str]:
    """Labelled links, the links in one column however long the longest label is (a
    workshop id makes labels of any length)."""
    width = max((len(label) for label, _ in rows), default=0) + 2
    return [f"{label:<{width}}{link}" for label, link in rows]


# How `relais links` lists an event's links: by role in this order, then as the event has
# them (`kept.slots`, the one list the links sheet shows too).
ROLE_ORDER = ("facilitator", "organizer", "screen", "speaker", "host", "participant", "rapporteur")


def link_label(slot: LinkSlot) -> str:
    """What a link is for, in the terminal's language: "console", "écran niort"..."""
    if slot.role == "speaker":
        if slot.speaker is None:
            return say("cli.link.speaker_any")
        return say("cli.link.speaker", name=slot.speaker)
    key = {"facilitator": "console", "participant": "participants"}.get(slot.role, slot.role)
    return say(f"cli.link.{key}", site=slot.site, workshop=slot.workshop)


def links_for(
    event: Event,
    signer: Signer,
    base: str,
    shared_only: bool = False,
    until: float | None = None,
) -> list[tuple[str, str]]:
    """Every role link of an event (the links sheet's slots, each newly signed, valid until
    `until`, else by default), labelled in the terminal's language, after the public page
    (`shared_only`: not the organizer's, the participants' nor the rapporteurs', which are
    not for a start-up screen)."""
    urls = web_routes.urls(base)
    rows = [(say("cli.link.public"), urls.url("event", event_id=event.id))]
    ordered = sorted(slots(event), key=lambda slot: ROLE_ORDER.index(slot.role))
    for slot in ordered:
        if not (shared_only and slot.role in PRIVATE):
            token = slot.sign(signer, event, until)
            rows.append((link_label(slot), urls.link_url(event.id, slot.role, token)))
    return rows


def store_location(settings: Settings) -> str:
    """Where this command reads and writes events, to say so: the data directory, or the
    Redis URL without its user and password (nor a query, which may carry one)."""
    if settings.backend == "redis":
        url = urlsplit(settings.redis_url)
        host = url.netloc.rpartition("@")[2]
        return urlunsplit((url.scheme, host, url.path, "", ""))
    if settings.backend == "memory":
        return "memory"
    return str(settings.data_dir.resolve())


def cmd_import(args: argparse.Namespace) -> int:
    settings = _settings(args)  # importing signs nothing: no secret is read or made
    try:
        text = Path(args.file).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        print(say("cli.not_utf8", path=args.file), file=sys.stderr)
        return 2
    except OSError as exc:
        print(say("cli.unreadable", path=args.file, reason=exc.strerror or exc), file=sys.stderr)
        return 2

    async def run() -> tuple[Event, list[Found]]:
        event, warned = read_event(text, args.file)
        backend = create_backend(settings.backend, str(settings.data_dir), settings.redis_url)
        await backend.open()
        try:
            # Stored only: the server serves it (a running one within a second, see
            # Catalogue.follow_definitions) and makes its live state itself, alone.
            await backend.put_definition(event.id, text)
            return event, warned
        finally:
            await backend.close()

    try:
        event, warned = asyncio.run(run())
    except DefinitionError as exc:
        print("\n".join(file_lines(exc.found, cli_lang())), file=sys.stderr)
        return 2
    where = store_location(settings)
    steps = plural(cli_lang())("cli.n_steps", len(event.agenda))
    print(say("cli.imported", event=event.id, title=event.title, steps=steps, path=where))
    for warning in file_lines(warned, cli_lang()):
        print(say("cli.warning", text=warning), file=sys.stderr)
    return 0


def cmd_links(args: argparse.Namespace) -> int:
    settings = _server_settings(args, "existing", need_database=False)
    if settings is None:
        return 2

    async def load() -> dict[str, str]:
        if not _has_database(settings):
            return {}  # the demo events only (RELAIS_SECRET given): nothing is created
        backend = create_backend(settings.backend, str(settings.data_dir), settings.redis_url)
        await backend.open()
        try:
            return await backend.definitions()
        finally:
            await backend.close()

    definitions = {parse_event(t).id: t for t in demo_definitions().values()}
    definitions.update(asyncio.run(load()))
    if args.event not in definitions:
        known = ", ".join(sorted(definitions))
        print(say("cli.unknown_event", event=args.event, known=known), file=sys.stderr)
        return 2
    event = parse_event(definitions[args.event], args.event)
    signer = event_signer(settings, event)
    until = time.time() + DAY * args.days if args.days else None  # --days: exactly that long
    for line in columns(links_for(event, signer, links_base(args, settings), until=until)):
        print(line)
    return 0


def _on_event(
    settings: Settings, event_id: str, work: Callable[[Backend, str], Awaitable[T]]
) -> T | None:
    """Open the server's store, run `work` with the event's definition, close it. None
    (and the reason said on stderr) when the store has no such event."""

    async def run() -> T | None:
        backend = create_backend(settings.backend, str(settings.data_dir), settings.redis_url)
        await backend.open()
        try:
            text = (await backend.definitions()).get(event_id)
            return None if text is None else await work(backend, text)
        finally:
            await backend.close()

    result = asyncio.run(run())
    if result is None:
        known = store_location(settings)
        print(say("cli.unknown_event", event=event_id, known=known), file=sys.stderr)
    return result


def cmd_export(args: argparse.Namespace) -> int:
    """The synthesis of every workshop's notes, as Markdown, HTML or PDF."""
    from live.notes.synthesis import export_synthesis

    settings = _server_settings(args, "none", need_database=True)
    if settings is None:
        return 2

    async def export(backend: Backend, text: str) -> bytes:
        event = parse_event(text, args.event)
        return await export_synthesis(event, backend, args.format, lang=cli_lang())

    body = _on_event(settings, args.event, export)
    if body is None:
        return 2
    if args.output == "-":
        sys.stdout.buffer.write(body)
    else:
        out = Path(args.output or f"{args.event}-synthese.{args.format}")
        out.write_bytes(body)
        print(say("cli.wrote", path=out, size=len(body)))
    return 0


def cmd_purge(args: argparse.Namespace) -> int:
    """Remove an event's personal data now (see live/retention.py for what stays)."""
    settings = _server_settings(args, "none", need_database=True)
    if settings is None:
        return 2

    async def remove(backend: Backend, text: str) -> Purged:
        return await purge(backend, args.event)

    purged = _on_event(settings, args.event, remove)
    if purged is None:
        return 2
    print(say("cli.purged", event=args.event, **purged.as_dict()))
    return 0


@contextlib.contextmanager
def argparse_speaks(lang: str) -> Iterator[None]:
    """argparse's own words (usage, "options", its errors) in `lang`: its gettext domain
    "argparse" (live/locale/<lang>/LC_MESSAGES/argparse.po), only while the command line
    is read, so that nothing else in the process is changed."""
    own = argparse._, argparse.ngettext  # type: ignore[attr-defined]
    translations = library("argparse", lang)
    argparse._, argparse.ngettext = translations.gettext, translations.ngettext  # type: ignore[attr-defined]
    try:
        yield
    finally:
        argparse._, argparse.ngettext = own  # type: ignore[attr-defined]


def parser() -> argparse.ArgumentParser:
    """The command line, its help in the terminal's language (`cli.help.*`)."""
    p = argparse.ArgumentParser(prog="relais", description=say("cli.help.description"))
    p.add_argument("--data", metavar=say("cli.meta.dir"), help=say("cli.help.data"))
    p.add_argument("--backend", choices=["sqlite", "redis", "memory"], help=say("cli.help.backend"))
    p.add_argument("--base-url", metavar=say("cli.meta.url"), help=say("cli.help.base_url"))
    sub = p.add_subparsers(dest="command", required=True, metavar=say("cli.meta.command"))

    serve = sub.add_parser("serve", help=say("cli.help.serve"))
    serve.add_argument("--demo", action="store_true", help=say("cli.help.demo"))
    serve.add_argument("--host", default="127.0.0.1", help=say("cli.help.host"))
    serve.add_argument("--port", type=int, default=8000, help=say("cli.help.port"))
    serve.add_argument("--log-level", default="info", help=say("cli.help.log_level"))
    serve.add_argument("--admin-link", action="store_true", help=say("cli.help.admin_link"))
    serve.add_argument("--workers", type=int, default=1, help=say("cli.help.workers"))
    serve.set_defaults(fn=cmd_serve)

    imp = sub.add_parser("import", help=say("cli.help.import"))
    imp.add_argument("file", metavar=say("cli.meta.file"), help=say("cli.help.file"))
    imp.set_defaults(fn=cmd_import)

    links = sub.add_parser("links", help=say("cli.help.links"))
    links.add_argument("event", metavar=say("cli.meta.event"), help=say("cli.help.event"))
    links.add_argument(
        "--days", type=float, metavar=say("cli.meta.days"), help=say("cli.help.days")
    )
    links.add_argument(
        "--base-url",
        default=argparse.SUPPRESS,  # else it would hide `relais --base-url URL links`
        metavar=say("cli.meta.url"),
        help=say("cli.help.links_base_url"),
    )
    links.set_defaults(fn=cmd_links)

    export = sub.add_parser("export", help=say("cli.help.export"))
    export.add_argument("event", metavar=say("cli.meta.event"), help=say("cli.help.event"))
    export.add_argument(
        "--format", choices=["md", "html", "pdf"], default="md", help=say("cli.help.format")
    )
    export.add_argument("-o", "--output", help=say("cli.help.output"))
    export.set_defaults(fn=cmd_export)

    purge_cmd = sub.add_parser("purge", help=say("cli.help.purge"))
    purge_cmd.add_argument("event", metavar=say("cli.meta.event"), help=say("cli.help.event"))
    purge_cmd.set_defaults(fn=cmd_purge)

    admin = sub.add_parser("admin-link", help=say("cli.help.admin"))
    admin.add_argument(
        "--days", type=float, metavar=say("cli.meta.days"), help=say("cli.help.admin_days")
    )
    admin.add_argument("--revoke-others", action="store_true", help=say("cli.help.revoke_others"))
    admin.add_argument("--base-url", default=argparse.SUPPRESS, help=say("cli.help.admin_base_url"))
    admin.set_defaults(fn=cmd_admin_link)

    grant = sub.add_parser("grant-admin", help=say("cli.help.grant_admin"))
    grant.add_argument("email", metavar=say("cli.meta.email"), help=say("cli.help.email"))
    grant.set_defaults(fn=cmd_grant_admin)
    return p


def main(argv: list[str] | None = None) -> int:
    with argparse_speaks(cli_lang()):
        args = parser().parse_args(argv)
    result: int = args.fn(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
