"""The OpenID Connect provider the sign-in tests run against (tests/support/oidc.py, a real
`oidc-provider` run by Node) behaves as ProConnect does for Relais: code flow with PKCE, ID
tokens signed by the key its JWKS publishes and carrying the account's claims, RP-initiated
logout; and its test controls doctor the next ID token in the ways a client must catch."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from authlib.integrations.httpx_client import AsyncOAuth2Client
from joserfc import jwt
from joserfc.errors import BadSignatureError, ExpiredTokenError, InvalidClaimError
from joserfc.jwk import KeySet

from tests.support.oidc import (
    OidcProvider,
    ProviderRefused,
    sign_in_at_provider,
    walk_logout,
    walk_sign_in,
)

pytestmark = pytest.mark.node

RELAIS = "http://relais.test"
CALLBACK = f"{RELAIS}/auth/callback"
AFTER_LOGOUT = f"{RELAIS}/auth/signed-out"
SCOPE = "openid email profile"
ANNE = {
    "given_name": "Anne",
    "usual_name": "Martin",
    "email": "anne.martin@ac-toulouse.fr",
    "uid": "4521",
    "siret": "13002526500013",
    "organizational_unit": "DANE",
}


@pytest.fixture
async def provider() -> AsyncIterator[OidcProvider]:
    async with OidcProvider({ANNE["email"]: ANNE}, [CALLBACK], [AFTER_LOGOUT]) as op:
        yield op


@pytest.fixture
async def browser() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=30) as client:
        yield client


@pytest.fixture
async def relais() -> AsyncIterator[httpx.AsyncClient]:
    """Relais as the helpers see it: a client that cannot leave for the provider (here a
    mock answering every request with the URL it got)."""
    transport = httpx.MockTransport(lambda request: httpx.Response(200, text=str(request.url)))
    async with httpx.AsyncClient(transport=transport) as client:
        yield client


async def discovery(provider: OidcProvider) -> dict[str, Any]:
    url = f"{provider.issuer}/.well-known/openid-configuration"
    async with httpx.AsyncClient() as client:
        document: dict[str, Any] = (await client.get(url)).raise_for_status().json()
    return document


class Flow:
    """One authorization-code flow with PKCE and a nonce, by Authlib's client."""

    def __init__(self, provider: OidcProvider, metadata: dict[str, Any], **client: Any) -> None:
        self.metadata = metadata
        self.nonce = secrets.token_urlsafe(16)
        self.verifier = secrets.token_urlsafe(48)
        self.client = AsyncOAuth2Client(
            provider.client_id,
            provider.client_secret,
            scope=SCOPE,
            redirect_uri=CALLBACK,
            code_challenge_method="S256",
            **client,
        )
        self.url, self.state = self.client.create_authorization_url(
            metadata["authorization_endpoint"], code_verifier=self.verifier, nonce=self.nonce
        )

    async def tokens(self, back: str) -> dict[str, Any]:
        async with self.client:
            token: dict[str, Any] = await self.client.fetch_token(
                self.metadata["token_endpoint"],
                authorization_response=back,
                code_verifier=self.verifier,
            )
        return token

    async def claims(self, id_token: str) -> dict[str, Any]:
        """The ID token's claims once its signature (JWKS) and claims are checked."""
        async with httpx.AsyncClient() as client:
            jwks = (await client.get(self.metadata["jwks_uri"])).raise_for_status().json()
        token = jwt.decode(id_token, KeySet.import_key_set(jwks), algorithms=["RS256"])
        jwt.JWTClaimsRegistry(
            iss={"essential": True, "value": self.metadata["issuer"]},
            aud={"essential": True, "value": self.client.client_id},
            nonce={"essential": True, "value": self.nonce},
            exp={"essential": True},
        ).validate(token.claims)
        return dict(token.claims)


async def signed_in(
    provider: OidcProvider, email: str = ANNE["email"], **client: Any
) -> tuple[Flow, str]:
    """A flow and the URL the provider sends the browser back to once `email` signed in."""
    flow = Flow(provider, await discovery(provider), **client)
    return flow, await sign_in_at_provider(flow.url, email)


def redirect(url: str | httpx.URL) -> httpx.Response:
    """Relais' answer sending the browser to the provider."""
    return httpx.Response(303, headers={"location": str(url)})


async def test_the_discovery_document_names_a_code_flow_with_s256_and_logout(
    provider: OidcProvider,
) -> None:
    metadata = await discovery(provider)
    assert metadata["issuer"] == provider.issuer
    assert metadata["response_types_supported"] == ["code"]
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    assert metadata["end_session_endpoint"].startswith(provider.issuer)
    assert {"openid", "email", "profile", "siret", "usual_name"} <= set(
        metadata["scopes_supported"]
    )


async def test_a_code_flow_with_pkce_gives_an_id_token_signed_by_the_jwks_with_the_account_s_claims(
    provider: OidcProvider,
) -> None:
    flow, back = await signed_in(provider)
    assert back.startswith(f"{CALLBACK}?code=")
    assert parse_qs(urlsplit(back).query)["state"] == [flow.state]

    claims = await flow.claims((await flow.tokens(back))["id_token"])

    assert claims["sub"] == OidcProvider.subject(ANNE["email"])
    assert {k: claims.get(k) for k in ANNE} == ANNE


async def test_a_client_authenticating_by_client_secret_post_gets_its_tokens_too() -> None:
    accounts = {ANNE["email"]: ANNE}
    async with OidcProvider(accounts, [CALLBACK], auth_method="client_secret_post") as op:
        flow, back = await signed_in(op, token_endpoint_auth_method="client_secret_post")
        claims = await flow.claims((await flow.tokens(back))["id_token"])
    assert claims["email"] == ANNE["email"]


async def test_an_authorization_request_without_pkce_is_sent_back_refused(
    provider: OidcProvider,
) -> None:
    metadata = await discovery(provider)
    query = {"client_id": provider.client_id, "response_type": "code", "scope": SCOPE}
    url = httpx.URL(metadata["authorization_endpoint"], params={**query, "redirect_uri": CALLBACK})

    back = await sign_in_at_provider(str(url), ANNE["email"])

    refusal = parse_qs(urlsplit(back).query)
    assert refusal["error"] == ["invalid_request"]
    assert "PKCE" in refusal["error_description"][0]


async def test_an_unknown_email_is_refused_at_the_provider(provider: OidcProvider) -> None:
    flow = Flow(provider, await discovery(provider))
    with pytest.raises(ProviderRefused) as refused:
        await sign_in_at_provider(flow.url, "nobody@exemple.fr")
    assert refused.value.response.status_code == 400
    assert "Unknown account" in refused.value.response.text


async def test_an_account_added_while_running_can_sign_in(provider: OidcProvider) -> None:
    bruno = {**ANNE, "given_name": "Bruno", "email": "bruno.petit@ac-toulouse.fr", "uid": "77"}
    provider.add_account(bruno["email"], bruno)

    flow, back = await signed_in(provider, bruno["email"])

    claims = await flow.claims((await flow.tokens(back))["id_token"])
    assert (claims["given_name"], claims["uid"]) == ("Bruno", "77")


@pytest.mark.parametrize(
    ("mode", "refusal", "claim"),
    [
        ("audience", InvalidClaimError, "aud"),
        ("expired", ExpiredTokenError, None),
        ("foreign_key", BadSignatureError, None),
        ("nonce", InvalidClaimError, "nonce"),
    ],
)
async def test_a_tampered_id_token_fails_its_check_for_the_named_reason(
    provider: OidcProvider, mode: Any, refusal: type[Exception], claim: str | None
) -> None:
    flow, back = await signed_in(provider)
    provider.tamper(mode)

    id_token = (await flow.tokens(back))["id_token"]

    with pytest.raises(refusal) as failed:
        await flow.claims(id_token)
    if claim:
        assert getattr(failed.value, "claim", None) == claim


async def test_tampering_doctors_only_the_next_token_response(provider: OidcProvider) -> None:
    provider.tamper("audience")
    (first, first_back), (second, second_back) = (
        await signed_in(provider),
        await signed_in(provider),
    )

    with pytest.raises(InvalidClaimError):
        await first.claims((await first.tokens(first_back))["id_token"])
    assert await second.claims((await second.tokens(second_back))["id_token"])


async def test_walk_sign_in_brings_the_provider_s_answer_to_relais_callback(
    provider: OidcProvider, relais: httpx.AsyncClient
) -> None:
    flow = Flow(provider, await discovery(provider))
    answer = await walk_sign_in(relais, redirect(flow.url), ANNE["email"])

    assert answer.text.startswith(f"{CALLBACK}?code=")
    assert parse_qs(urlsplit(answer.text).query)["state"] == [flow.state]


async def test_a_second_sign_in_in_the_same_browser_skips_the_login_form(
    provider: OidcProvider, relais: httpx.AsyncClient, browser: httpx.AsyncClient
) -> None:
    metadata = await discovery(provider)
    first, second = Flow(provider, metadata), Flow(provider, metadata)
    await walk_sign_in(relais, redirect(first.url), ANNE["email"], browser)

    # An unknown email, never typed: the provider's session signs Anne in without a form.
    answer = await walk_sign_in(relais, redirect(second.url), "nobody@exemple.fr", browser)

    assert answer.text.startswith(f"{CALLBACK}?code=")


async def test_walk_logout_ends_the_provider_session_and_comes_back_to_relais(
    provider: OidcProvider, relais: httpx.AsyncClient, browser: httpx.AsyncClient
) -> None:
    metadata = await discovery(provider)
    flow = Flow(provider, metadata)
    back = await sign_in_at_provider(flow.url, ANNE["email"], browser)
    id_token = (await flow.tokens(back))["id_token"]
    end = httpx.URL(
        metadata["end_session_endpoint"],
        params={"id_token_hint": id_token, "post_logout_redirect_uri": AFTER_LOGOUT, "state": "s1"},
    )

    answer = await walk_logout(relais, redirect(end), browser)

    assert answer.text == f"{AFTER_LOGOUT}?state=s1"
    with pytest.raises(ProviderRefused):  # the login form again, where nobody is refused
        await sign_in_at_provider(Flow(provider, metadata).url, "nobody@exemple.fr", browser)
