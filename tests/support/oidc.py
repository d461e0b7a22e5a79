"""A real OpenID Connect provider for the tests, and a browser-less walk through it.

`OidcProvider` runs panva's `oidc-provider` (npm, run by Node: tests/js/oidc-provider.mjs,
which says what it serves) on a free loopback port, shaped like ProConnect: code flow with
PKCE (S256) only, one confidential client, RS256 ID tokens carrying the account's claims.
It works as a context manager, plain or async:

    async with OidcProvider({"ann@exemple.fr": {...claims}}, [callback], [after_logout]) as op:
        op.issuer, op.client_id, op.client_secret
        op.tamper("audience")      # the next token response carries a doctored ID token

`walk_sign_in` and `walk_logout` play the browser between Relais and the provider: Relais'
client may be an ASGI transport that cannot reach another origin, so the provider's part is
walked by a second, real httpx client with its own cookie jar (pass one to keep the
provider's session between walks, as one browser would)."""

from __future__ import annotations

import contextlib
import hashlib
import html
import json
import re
import select
import shutil
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any, Literal
from urllib.parse import urljoin, urlsplit

import httpx

from tests.support.servers import ROOT, terminate, unavailable

SCRIPT = ROOT / "tests" / "js" / "oidc-provider.mjs"
READY_WITHIN = 30.0  # s: Node starting on a busy 2-core machine, never a timed assertion
MAX_HOPS = 10  # redirects followed on the provider before giving up

Tamper = Literal["audience", "expired", "foreign_key", "nonce", "none"]


class OidcProvider:
    """The provider in a Node process of its own; `accounts` maps an email to its claims
    (ProConnect's: given_name, usual_name, email, uid, siret, organizational_unit...)."""

    def __init__(
        self,
        accounts: Mapping[str, Mapping[str, Any]],
        redirect_uris: Sequence[str],
        post_logout_redirect_uris: Sequence[str] = (),
        *,
        client_id: str = "relais",
        client_secret: str = "relais-test-secret",
        auth_method: Literal["client_secret_basic", "client_secret_post"] = "client_secret_basic",
        scopes: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.issuer = ""  # known once started
        self.config = {
            "port": 0,
            "client": {
                "client_id": client_id,
                "client_secret": client_secret,
                "redirect_uris": list(redirect_uris),
                "post_logout_redirect_uris": list(post_logout_redirect_uris),
                "token_endpoint_auth_method": auth_method,
            },
            "accounts": {email: dict(claims) for email, claims in accounts.items()},
            "scopes": {scope: list(claims) for scope, claims in (scopes or {}).items()},
            "exit_with_stdin": True,  # no orphan if this process dies
        }
        self.proc: subprocess.Popen[bytes] | None = None
        self.stderr: Any = None  # Node's, a temporary file kept to say why it failed

    @staticmethod
    def subject(email: str, claims: Mapping[str, Any] | None = None) -> str:
        """The `sub` the provider gives an account: its own `sub` claim, else a hash of the
        lowercased email (as the script computes it)."""
        if claims and "sub" in claims:
            return str(claims["sub"])
        return hashlib.sha256(email.lower().encode()).hexdigest()[:32]

    def start(self) -> None:
        if shutil.which("node") is None:
            unavailable("node is not installed")
        if not (ROOT / "js" / "node_modules" / "oidc-provider").is_dir():
            unavailable("npm package oidc-provider missing: run `npm ci --prefix js`")
        self.stderr = tempfile.TemporaryFile()  # noqa: SIM115 (closed by __exit__)
        self.proc = subprocess.Popen(
            ["node", str(SCRIPT), json.dumps(self.config)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
        )
        self.issuer = json.loads(self._ready_line())["issuer"]

    def _ready_line(self) -> str:
        assert self.proc and self.proc.stdout
        deadline = time.monotonic() + READY_WITHIN
        while (left := deadline - time.monotonic()) > 0:
            if select.select([self.proc.stdout], [], [], left)[0]:
                if line := self.proc.stdout.readline().decode():
                    return line
                break  # stdout closed: Node stopped
        self.stop()
        raise RuntimeError(f"the OIDC provider did not start:\n{self.log()}")

    def log(self) -> str:
        """What Node wrote on stderr (warnings, server errors)."""
        self.stderr.seek(0)
        return self.stderr.read().decode(errors="replace")

    def stop(self) -> None:
        if self.proc and self.proc.stdin:
            self.proc.stdin.close()
        terminate(self.proc)
        if self.proc and self.proc.stdout:
            self.proc.stdout.close()

    def __enter__(self) -> OidcProvider:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
        if self.stderr:
            self.stderr.close()

    async def __aenter__(self) -> OidcProvider:
        return self.__enter__()

    async def __aexit__(self, *exc: object) -> None:
        self.__exit__(*exc)

    def _control(self, path: str, body: dict[str, Any]) -> None:
        httpx.post(f"{self.issuer}{path}", json=body, timeout=10).raise_for_status()

    def tamper(self, mode: Tamper) -> None:
        """Doctor the ID token of the NEXT token response (once; "none" cancels):
        audience (aud "someone-else"), expired (exp an hour ago), nonce (another one) are
        signed with the real key; foreign_key keeps the claims but signs with another key
        under the same kid."""
        self._control("/__test/tamper", {"mode": mode})

    def add_account(self, email: str, claims: Mapping[str, Any]) -> None:
        """Add an account, or replace the one with that email."""
        self._control("/__test/accounts", {"email": email, "claims": dict(claims)})


class ProviderRefused(Exception):
    """The provider answered with a page where a browser could not go on (an unknown email:
    400; a bad request it will not send back to the client: its error page)."""

    def __init__(self, response: httpx.Response) -> None:
        super().__init__(f"{response.status_code} at {response.url}: {response.text[:500]}")
        self.response = response


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc


def _form(page: str) -> tuple[str, dict[str, str]]:
    """The first form of a page: its action and its hidden fields."""
    form = re.search(r"<form\b[^>]*>", page)
    action = form and re.search(r'\baction="([^"]*)"', form[0])
    if not action:
        raise ValueError(f"no form with an action in: {page[:500]}")
    hidden = {}
    for tag in re.findall(r"<input\b[^>]*>", page):
        attrs = dict(re.findall(r'\b(\w+)="([^"]*)"', tag))
        if attrs.get("type") == "hidden" and "name" in attrs:
            hidden[attrs["name"]] = html.unescape(attrs.get("value", ""))
    return html.unescape(action[1]), hidden


async def _follow(browser: httpx.AsyncClient, response: httpx.Response) -> httpx.Response | str:
    """Follow the provider's redirects from `response`: the first URL leaving the provider
    (back to the client), or the provider's page where they stop."""
    provider = _origin(str(response.url))
    for _ in range(MAX_HOPS):
        if not response.is_redirect:
            return response
        url = urljoin(str(response.url), response.headers["location"])
        if _origin(url) != provider:
            return url
        response = await browser.get(url)
    raise ProviderRefused(response)


@contextlib.asynccontextmanager
async def _browser(browser: httpx.AsyncClient | None) -> AsyncIterator[httpx.AsyncClient]:
    if browser is not None:
        yield browser
    else:
        async with httpx.AsyncClient(timeout=30) as fresh:
            yield fresh


async def sign_in_at_provider(
    authorize_url: str, email: str, browser: httpx.AsyncClient | None = None
) -> str:
    """The provider's part of a sign-in: open the authorization URL, sign in with `email` if
    the login form shows (a provider session may skip it), follow the redirects; returns the
    URL the provider sends the browser back to (the redirect URI with code and state, or
    with an error). Raises ProviderRefused when it stops on a page (an unknown email)."""
    async with _browser(browser) as b:
        page = await _follow(b, await b.get(authorize_url))
        if isinstance(page, httpx.Response) and page.status_code == 200:
            action, _ = _form(page.text)
            submitted = await b.post(urljoin(str(page.url), action), data={"email": email})
            page = await _follow(b, submitted)
        if isinstance(page, httpx.Response):
            raise ProviderRefused(page)
        return page


async def walk_sign_in(
    relais: httpx.AsyncClient,
    start: httpx.Response,
    email: str,
    browser: httpx.AsyncClient | None = None,
) -> httpx.Response:
    """A whole sign-in from Relais' redirect `start` (to the provider's authorization URL):
    the provider's part by `browser` (a fresh one by default), then Relais' callback GET on
    `relais`; returns Relais' answer to its callback."""
    assert start.is_redirect, f"not a redirect to the provider: {start.status_code}"
    back = await sign_in_at_provider(start.headers["location"], email, browser)
    return await relais.get(back)


async def walk_logout(
    relais: httpx.AsyncClient,
    start: httpx.Response,
    browser: httpx.AsyncClient | None = None,
    accept: bool = True,
) -> httpx.Response:
    """RP-initiated logout from Relais' redirect `start` (to the end_session URL): confirm
    it at the provider (its form's hidden fields, plus logout=yes when `accept`), then, when
    the provider sends the browser back to Relais (post_logout_redirect_uri), GET that on
    `relais` and return Relais' answer; otherwise return the provider's "Signed out" page."""
    assert start.is_redirect, f"not a redirect to the provider: {start.status_code}"
    async with _browser(browser) as b:
        page = await _follow(b, await b.get(start.headers["location"]))
        if isinstance(page, httpx.Response):
            if page.status_code != 200:
                raise ProviderRefused(page)
            action, fields = _form(page.text)
            fields.pop("logout", None)
            if accept:
                fields["logout"] = "yes"
            page = await _follow(b, await b.post(urljoin(str(page.url), action), data=fields))
        if isinstance(page, httpx.Response):
            return page
    return await relais.get(page)
