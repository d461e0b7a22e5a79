"""What every handler shares: templates with the page language, links, lookups, and one
way to refuse (`refused`): the same refusal reads the same in a page and in JSON."""

from __future__ import annotations

import contextvars
import functools
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import jinja2
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.templating import Jinja2Templates

from live.agenda.live import Live
from live.agenda.protocol import revision
from live.assets import asset_dir
from live.errors import RelaisError, http_status
from live.i18n import LANGS, catalog, plural, refusal, script_strings, translator
from live.links.signing import Claims, LinkError
from live.web.urls import urls_of
from live.workers import Busy, Failed

_page_lang: contextvars.ContextVar[str] = contextvars.ContextVar("page_lang", default="fr")


def _gettext(key: str) -> str:
    return translator(_page_lang.get())(key)


def _ngettext(singular: str, plural_key: str, n: int) -> str:
    return catalog(_page_lang.get()).ngettext(singular, plural_key, n)


def _environment() -> jinja2.Environment:
    """Templates with gettext (`_()`, `ngettext()`, `{% trans %}`) in the page's language:
    the callables read the language of the page being rendered (a context variable)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(asset_dir("templates")),
        autoescape=True,
        extensions=["jinja2.ext.i18n"],
    )
    env.install_gettext_callables(_gettext, _ngettext, newstyle=False)  # type: ignore[attr-defined]
    return env


templates = Jinja2Templates(env=_environment())
_SCRIPT = re.compile(r"""path='/js/([\w-]+)\.js'""")


@functools.cache
def page_scripts(name: str) -> tuple[str, ...]:
    """The page scripts a template loads: their messages are all it embeds."""
    source = (asset_dir("templates") / name).read_text(encoding="utf-8")
    return tuple(_SCRIPT.findall(source))


def lang_of(request: Request) -> str:
    """`?lang=` wins and is remembered in a cookie; French otherwise."""
    lang = request.query_params.get("lang") or request.cookies.get("lang") or "fr"
    return lang if lang in LANGS else "fr"


def room_label(room: str, t: Callable[[str], str]) -> str:
    """A room as people say it: "101" reads "Salle 101"; "CDI" reads as it is."""
    return f"{t('room')} {room}" if room[:1].isdigit() else room


# Arguments of `path()` that go in the query string rather than in the path.
def path(request: Request, name: str, **params: Any) -> str:
    """The address of a named route, as the app's URL builder gives it (`web/urls.py`):
    `path(request, "console", event_id=e.id, k=token)`."""
    return urls_of(request).path(name, **params)


def render(request: Request, name: str, status: int = 200, **context: Any) -> Response:
    lang = lang_of(request)
    t = translator(lang)
    token = _page_lang.set(lang)
    try:
        response = templates.TemplateResponse(
            request,
            name,
            {
                "lang": lang,
                "plural": plural(lang),
                "path": functools.partial(path, request),
                "strings": script_strings(lang, page_scripts(name)),
                "room_label": lambda room: room_label(room, t),
                "speaker_label": lambda event, sp: event.speaker_label(sp, t("speaker.remote")),
                "revision": revision,
                **context,
            },
            status_code=status,
        )
    finally:
        _page_lang.reset(token)
    if request.query_params.get("lang") in LANGS:
        response.set_cookie("lang", lang, max_age=365 * 86400, samesite="lax")
    return response


def get_live(request: Request) -> Live | None:
    live: Live | None = request.app.state.catalogue.get(request.path_params["event_id"])
    return live


async def claims_for(request: Request, live: Live, roles: set[str]) -> Claims:
    """The verified link of this request (`?k=`), for one of `roles`, or LinkError."""
    claims: Claims = await request.app.state.links.verify(
        request.query_params.get("k"), live.event.id
    )
    if claims.role not in roles:
        raise LinkError("link_role", f"a {claims.role} link does not open this page")
    return claims


# -- refusals: one answer per kind, in the client's language ------------------------------

JSON_ROUTES = ("/api/", "/healthz")  # read by programs: their refusals are JSON
NOT_FOUND = frozenset({"not_found", "unknown_event", "error.not_found_page"})


def wants_json(request: Request) -> bool:
    """A program's request: the API's routes, or a client that asks for JSON, not a page."""
    if request.url.path.startswith(JSON_ROUTES):
        return True
    accept = request.headers.get("accept", "")
    return "json" in accept and "html" not in accept


def refused(
    request: Request,
    exc: RelaisError,
    *,
    status: int | None = None,
    sentence: str | None = None,
    json: bool | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """A refusal as its client can read it, in the request's language: for a program
    (`json`, else `wants_json`), `{"error": code, "message": sentence}` (and the
    refusal's `params`, when it has some); for a person, the error page. The status is the
    code's (`errors.http_status`) unless `status` says otherwise; `sentence` is the
    message key when it is not the code's own (`error.{code}`, or the code)."""
    lang = lang_of(request)
    status = status if status is not None else http_status(exc.code)
    message = refusal(lang, sentence or exc.code, exc.message, exc.params)
    if json if json is not None else wants_json(request):
        body: dict[str, Any] = {"error": exc.code.removeprefix("error."), "message": message}
        if exc.params:
            body["params"] = {k: _plain(v) for k, v in exc.params.items()}
        return JSONResponse(body, status_code=status, headers=dict(headers or {}))
    if exc.code.startswith("link"):
        heading = "link.error"
    elif exc.code in NOT_FOUND:  # said as where one is lost, with the way back
        heading = "not_found" if exc.code != "error.not_found_page" else exc.code
        message = translator(lang)("error.not_found_help")
    else:
        heading = "error.page"
    response = render(request, "error.html", status=status, heading=heading, message=message)
    response.headers.update(headers or {})
    return response


def _plain(value: Any) -> Any:
    return value if isinstance(value, str | int | float | bool) or value is None else str(value)


def error_page(request: Request, status: int, code: str) -> Response:
    """A refusal a person reads (a page) with its own status: `refused` for a bare code."""
    return refused(request, RelaisError(code), status=status, json=False)


def link_error(request: Request, exc: LinkError) -> Response:
    return refused(request, exc)


def not_found(request: Request) -> Response:
    """An unknown event (or workshop): said in the page's language, with the way back."""
    return refused(request, RelaisError("not_found", "no such event"))


def worker_refused(request: Request, exc: Busy | Failed) -> Response:
    """An export the worker processes could not make now (`workers.py`): 503, and when
    to try again. Busy: every worker taken and the queue full; Failed: its worker died or
    ran out of time (logged), a new one takes the next."""
    if isinstance(exc, Busy):
        code, retry = "error.busy", exc.retry_after
    else:
        code, retry = "error.export_failed", 10
    return refused(request, RelaisError(code), status=503, headers={"Retry-After": str(retry)})


def error_handlers() -> dict[Any, Callable[[Request, Exception], Awaitable[Response]]]:
    """Refusals for what Starlette would answer in bare English: 404, 405, 500."""

    async def http_error(request: Request, exc: Exception) -> Response:
        status = getattr(exc, "status_code", 500)
        code = {404: "error.not_found_page", 405: "error.method"}.get(status, "error.server")
        return refused(request, RelaisError(code), status=status)

    async def server_error(request: Request, exc: Exception) -> Response:
        return refused(request, RelaisError("error.server"), status=500)

    return {HTTPException: http_error, Exception: server_error}


LivePage = Callable[[Request, Live, Claims], Awaitable[Response]]
ClaimsCheck = Callable[[Request, Live], Awaitable[Claims]]


def with_claims(
    check: ClaimsCheck,
) -> Callable[[LivePage], Callable[[Request], Awaitable[Response]]]:
    """A page of one event for the links `check` accepts (it raises LinkError otherwise):
    an unknown event gets 404, a refused link 401/403, before the handler reads or writes
    anything."""

    def wrap(handler: LivePage) -> Callable[[Request], Awaitable[Response]]:
        @functools.wraps(handler)
        async def endpoint(request: Request) -> Response:
            live = get_live(request)
            if live is None:
                return not_found(request)
            try:
                claims = await check(request, live)
            except LinkError as exc:
                return link_error(request, exc)
            return await handler(request, live, claims)

        return endpoint

    return wrap


def with_link(*roles: str) -> Callable[[LivePage], Callable[[Request], Awaitable[Response]]]:
    """A page of one event for links of `roles`: a link that is missing, forged, expired,
    revoked or of another role is refused."""
    return with_claims(lambda request, live: claims_for(request, live, set(roles)))
