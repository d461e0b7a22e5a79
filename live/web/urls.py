"""Every address Relais gives, from one place: the named routes (`routes.py`).

`Urls` is built from a Starlette router, the running app's or one made of
`routes.all_routes()` (so `relais links` writes the same addresses without a server). It
gives a route's path with its query (`path`), the page a role's link opens (`link`), and
either as a full address under the server's public base URL (`url`, `link_url`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

from starlette.requests import HTTPConnection
from starlette.routing import BaseRoute, Router

from live.links.signing import Role

# Arguments of `path()` that go in the query string rather than in the path.
QUERY = frozenset({"k", "format", "lang", "w"})

# The route a role's link opens.
ROLE_PAGES: dict[str, str] = {
    "organizer": "organize",  # the organizer's desk
    "facilitator": "console",
    "screen": "screen",
    "rapporteur": "notes",
    "participant": "participant",
    "speaker": "speak",
    "host": "host",
    "public": "event",  # no link: the event's public page
}


class Urls:
    """The addresses of one app's routes; `base` (the public base URL, no trailing slash)
    makes them absolute."""

    def __init__(self, router: Router, base: str = "") -> None:
        self.router = router
        self.base = base.rstrip("/")

    @classmethod
    def of(cls, routes: Sequence[BaseRoute], base: str = "") -> Urls:
        """The addresses of these routes, without an app (the CLI, tests)."""
        return cls(Router(routes=list(routes)), base)

    def path(self, name: str, query: Mapping[str, Any] | None = None, **params: Any) -> str:
        """The path of a named route with its query: `k` (the link's token), `format`,
        `lang`, `w` go in the query, the rest in the path; empty ones are left out.
        `query` adds other query arguments: `path("console", event_id=e, k=token)`."""
        args = {k: v for k, v in params.items() if k in QUERY} | dict(query or {})
        args = {k: v for k, v in args.items() if v not in (None, "")}
        where = {k: str(v) for k, v in params.items() if k not in QUERY}
        url = str(self.router.url_path_for(name, **where))
        return f"{url}?{urlencode(args)}" if args else url

    def link(self, event_id: str, role: Role | str, token: str = "", **params: Any) -> str:
        """The path of the page a role's link opens (`console?k=...` for a facilitator, the
        desk for an organizer, the event's page for "public")."""
        return self.path(ROLE_PAGES[role], event_id=event_id, k=token, **params)

    def absolute(self, path: str) -> str:
        """A path of this app as a full address, under the public base URL."""
        return f"{self.base}{path}"

    def url(self, name: str, query: Mapping[str, Any] | None = None, **params: Any) -> str:
        """`path`, as a full address."""
        return self.absolute(self.path(name, query, **params))

    def link_url(self, event_id: str, role: Role | str, token: str = "", **params: Any) -> str:
        """`link`, as a full address: what is handed out, printed, mailed."""
        return self.absolute(self.link(event_id, role, token, **params))


def urls_of(request: HTTPConnection) -> Urls:
    """The addresses of the app serving this request, under its public base URL."""
    urls: Urls = request.app.state.urls
    return urls
