"""Who is signed in, for the pages a session cookie opens, and the cross-site check that
comes with a cookie.

A link in the address authorizes by itself (a cross-site form cannot know it). A cookie
is sent by the browser whatever page made the request, so once a cookie can authorize,
every state-changing request must prove it comes from Relais's own pages: its `Origin`
(or, from a browser that sends none or `null`, `Sec-Fetch-Site`) must be this site. A request with
neither is refused too: every browser that honours cookies sends one of them on a POST.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.requests import HTTPConnection, Request
from starlette.responses import Response

from live.accounts.grants import Access
from live.accounts.sessions import Session
from live.links.signing import LinkError

COOKIE = "relais_session"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class CrossSite(LinkError):
    """A state-changing request, authorized by the session cookie only, that does not
    come from Relais's own pages: refused, nothing changed. A LinkError, so that every
    page that refuses a bad link refuses it the same way (403, its sentence)."""

    code = "cross_site"


@dataclass(frozen=True)
class SignedIn:
    session: Session
    access: Access

    @property
    def email(self) -> str:
        return self.session.email


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def same_origin(conn: HTTPConnection) -> bool:
    """Does this request come from a page of this site (or from no page at all: an
    address typed, a bookmark)?"""
    origin = conn.headers.get("origin")
    # `Origin: null` is what Chromium sends on a same-site form under our
    # `Referrer-Policy: no-referrer`: no answer, so `Sec-Fetch-Site` decides (a sandboxed
    # page of another site posting here says `cross-site` there).
    if origin is not None and origin != "null":
        ours = {_origin(conn.app.state.settings.base_url), _origin(str(conn.base_url))}
        return origin.lower() in ours
    return conn.headers.get("sec-fetch-site") in ("same-origin", "none")


async def signed_in(conn: HTTPConnection) -> SignedIn | None:
    """The open session of this request's cookie and what its address may do now, or
    None (no cookie, ended, expired, or the address has no role left). CrossSite for a
    state-changing request with a session cookie from another site's page. Read once per
    request."""
    cached = conn.scope.get("relais.signed_in", False)
    if cached is not False:
        return cached
    key = conn.cookies.get(COOKIE)
    found: SignedIn | None = None
    if key:
        method = conn.scope.get("method", "GET")
        if method not in SAFE_METHODS and not same_origin(conn):
            raise CrossSite("cross_site", "a request from another site's page")
        state = conn.app.state
        session = await state.sessions.get(key)
        if session is not None:
            access = await state.accounts.access(session.email)
            found = SignedIn(session, access) if access.any else None
    conn.scope["relais.signed_in"] = found
    return found


def set_session_cookie(response: Response, request: Request, key: str, seconds: float) -> None:
    """HttpOnly (no script reads it), Secure behind TLS, SameSite=Lax (sent when one
    follows a link to Relais, not on another site's POST), as long as the session."""
    secure = request.app.state.settings.base_url.startswith("https://")
    response.set_cookie(
        COOKIE, key, max_age=int(seconds), httponly=True, secure=secure, samesite="lax", path="/"
    )


def clear_session_cookie(response: Response, request: Request) -> None:
    secure = request.app.state.settings.base_url.startswith("https://")
    response.delete_cookie(COOKIE, path="/", httponly=True, secure=secure, samesite="lax")
