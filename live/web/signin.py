"""Organizers' sign-in with an OpenID Connect provider (ProConnect, an académie's),
configured by its issuer, client id and secret (RELAIS_OIDC_*). The protocol is
Authlib's: authorization code with PKCE (S256), `state` and `nonce` kept in a short-lived
signed cookie scoped to `/connexion`, the ID token checked against the provider's keys
(signature, issuer, audience, expiry, nonce). None of it is written here.

What is ours: an address with no role is refused (an administrator grants roles, by
address, before or after its first sign-in); a sign-in opens a server-side session
(`accounts.sessions`); sign-out ends it, then goes through the provider's own logout
when it has one. Every sign-in, refusal and sign-out is in the audit log (addresses only).
"""

from __future__ import annotations

import hashlib
import logging
import math
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx2
from authlib.integrations.starlette_client import OAuth, OAuthError
from joserfc.errors import JoseError
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from live.accounts.grants import GrantError, normalize_email
from live.config import Settings
from live.errors import RelaisError
from live.ratelimit import Limiter
from live.web.common import refused, render
from live.web.signed import (
    CrossSite,
    clear_session_cookie,
    set_session_cookie,
    signed_in,
)

log = logging.getLogger("relais.signin")

STATE_COOKIE = "relais_oidc"  # Authlib's state, nonce and PKCE verifier, ten minutes
STATE_SECONDS = 600
PROVIDER_TIMEOUT = 10.0  # s for each call to the provider (discovery, token, keys)
NAME = "provider"


class Limits:
    """Sign-in is open to anyone: bounded per address and per process, and the refusals
    the audit log records are bounded too (beyond, they are only counted in the log)."""

    def __init__(self) -> None:
        self.address = Limiter(30, 600)  # a person retrying, not a script
        self.process = Limiter(600, 60)
        self.audited = Limiter(60, 60)  # refused sign-ins written to the audit log

    def hit(self, request: Request) -> float:
        where = request.client.host if request.client else ""
        return self.address.hit(where) or self.process.hit("")


def _too_many(request: Request, wait: float) -> Response:
    retry = {"Retry-After": str(max(1, math.ceil(wait)))}
    return refused(request, RelaisError("signin.too_many"), status=429, headers=retry)


def form_targets(settings: Settings) -> list[str]:
    """The provider's origin, where the sign-out form's answer continues (the pages'
    `form-action`): browsers refuse a form's redirect to any origin not listed."""
    if not settings.oidc_issuer:
        return []
    parts = urlsplit(settings.oidc_issuer)
    return [f"{parts.scheme}://{parts.netloc}"]


def provider(settings: Settings) -> OAuth | None:
    """The configured provider, or None: without one, Relais works with links alone."""
    if not settings.oidc_issuer:
        return None
    oauth = OAuth()
    oauth.register(
        NAME,
        server_metadata_url=f"{settings.oidc_issuer}/.well-known/openid-configuration",
        client_id=settings.oidc_client_id,
        client_secret=settings.oidc_client_secret,
        client_kwargs={
            "scope": settings.oidc_scopes,
            "code_challenge_method": "S256",
            "timeout": PROVIDER_TIMEOUT,
        },
    )
    return oauth


class StateCookie:
    """Starlette's signed-cookie session, for the sign-in routes only, keyed from the
    instance's secret (read from the app once it runs)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.inner: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.inner is None:
            settings: Settings = scope["app"].state.settings
            key = hashlib.sha256(f"relais.oidc-state:{settings.secret}".encode()).hexdigest()
            self.inner = SessionMiddleware(
                self.app,
                secret_key=key,
                session_cookie=STATE_COOKIE,
                max_age=STATE_SECONDS,
                path="/connexion",
                same_site="lax",  # the provider's redirect back is a top-level GET
                https_only=settings.base_url.startswith("https://"),
            )
        await self.inner(scope, receive, send)


def _client(request: Request) -> Any:
    oauth: OAuth | None = request.app.state.oidc
    return None if oauth is None else oauth.create_client(NAME)


def _back(request: Request, name: str) -> str:
    return request.app.state.urls.absolute(request.app.url_path_for(name))


async def page(request: Request) -> Response:
    """`/connexion`: the sign-in button (or, without a provider, how to get in with the
    administrator's link), and who is signed in."""
    try:
        who = await signed_in(request)
    except CrossSite:
        who = None
    settings: Settings = request.app.state.settings
    return render(
        request,
        "signin.html",
        configured=request.app.state.oidc is not None,
        provider_name=settings.oidc_name,
        who=who,
        done=request.query_params.get("done", "") in ("out", "ended"),
    )


async def start(request: Request) -> Response:
    client = _client(request)
    if client is None:
        return refused(request, RelaisError("signin.not_configured"), status=404)
    if wait := request.app.state.signin_limits.hit(request):
        return _too_many(request, wait)
    try:
        response: Response = await client.authorize_redirect(request, _back(request, "signin_back"))
    except (httpx2.HTTPError, OAuthError, ValueError, RuntimeError) as exc:
        log.warning("the identity provider cannot be reached (%s)", type(exc).__name__)
        return refused(request, RelaisError("signin.provider_down"), status=503)
    return response


async def back(request: Request) -> Response:
    """The provider's answer: the code exchanged (with the PKCE verifier), the ID token
    checked; an address with a role gets a session, any other answer is refused and
    nothing is opened."""
    client = _client(request)
    if client is None:
        return refused(request, RelaisError("signin.not_configured"), status=404)
    limits: Limits = request.app.state.signin_limits
    if wait := limits.hit(request):
        return _too_many(request, wait)
    audit = request.app.state.accounts.audit
    try:
        token = await client.authorize_access_token(request)
        claims = token.get("userinfo") or {}
        email = normalize_email(str(claims.get("email") or ""))
    except (OAuthError, JoseError, GrantError, ValueError, KeyError) as exc:
        reason = type(exc).__name__
        log.info("sign-in refused: %s", reason)
        if not limits.audited.hit(""):
            await audit.record("provider", "sign_in_refused", "", reason)
        return refused(request, RelaisError("signin.refused"), status=401)
    except httpx2.HTTPError as exc:
        log.warning("the identity provider cannot be reached (%s)", type(exc).__name__)
        return refused(request, RelaisError("signin.provider_down"), status=503)
    access = await request.app.state.accounts.access(email)
    if not access.any:
        await audit.record(email, "sign_in_refused", email, "no role")
        return refused(request, RelaisError("signin.no_role"), status=403)
    name = " ".join(
        str(claims.get(k) or "") for k in ("given_name", "usual_name") if claims.get(k)
    ) or str(claims.get("name") or "")
    sessions = request.app.state.sessions
    key = await sessions.open(email, name[:120], str(token.get("id_token") or ""))
    await audit.record(email, "sign_in", email)
    response = RedirectResponse(request.app.url_path_for("account"), status_code=303)
    set_session_cookie(response, request, key, sessions.seconds)
    return response


async def sign_out(request: Request) -> Response:
    """POST: the session ends here (every process: it is the store's), then at the
    provider, which comes back to `/connexion?done=out`."""
    try:
        who = await signed_in(request)
    except CrossSite as exc:
        return refused(request, exc, status=403)
    back_to = f"{request.app.url_path_for('signin')}?{urlencode({'done': 'out'})}"
    response: Response = RedirectResponse(back_to, status_code=303)
    client = _client(request)
    if who is not None:
        await request.app.state.sessions.end(who.session)
        await request.app.state.accounts.audit.record(who.email, "sign_out", who.email)
        if client is not None and who.session.id_token:
            try:
                response = await client.logout_redirect(
                    request,
                    post_logout_redirect_uri=request.app.state.urls.absolute(back_to),
                    id_token_hint=who.session.id_token,
                )
                response.status_code = 303
            except (httpx2.HTTPError, OAuthError, RuntimeError) as exc:  # ended here anyway
                log.info("no logout at the provider (%s)", type(exc).__name__)
    clear_session_cookie(response, request)
    return response


_state = [Middleware(StateCookie)]
routes = [
    Route("/connexion", page, name="signin", middleware=_state),
    Route("/connexion/aller", start, name="signin_start", middleware=_state),
    Route("/connexion/retour", back, name="signin_back", middleware=_state),
    Route("/deconnexion", sign_out, methods=["POST"], name="signout", middleware=_state),
]
