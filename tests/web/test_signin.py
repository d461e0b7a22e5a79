"""Organizers sign in with their professional account (OpenID Connect), against a real
provider on loopback (tests/support/oidc.py: npm's oidc-provider, shaped like ProConnect).

Relais' side is an ASGI app (httpx's ASGI transport); the provider's side is a real HTTP
server, walked by a second client as a browser would."""

from __future__ import annotations

import html
import http.cookies
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from live.app import create_app
from live.config import Settings
from live.links.signing import LinkError
from tests.support.oidc import OidcProvider, sign_in_at_provider, walk_logout, walk_sign_in

BASE = "http://relais.test"
TLS = "https://relais.test"
CAMILLE = "camille.martin@ac-poitiers.fr"  # organizer of the académie de Poitiers
ALEX = "alex.durand@education.gouv.fr"  # administrator
NOBODY = "sans.role@ac-toulouse.fr"  # known to the provider, no role in Relais
ACCOUNTS = {
    CAMILLE: {
        "given_name": "Camille",
        "usual_name": "Martin",
        "uid": "1",
        "siret": "19860000100015",
    },
    ALEX: {"given_name": "Alex", "usual_name": "Durand", "uid": "2", "siret": "11004601800013"},
    NOBODY: {"given_name": "Sam", "usual_name": "Sansrole", "uid": "3", "siret": "19310000100013"},
}
OURS = {"origin": BASE}  # what a browser sends with a POST from Relais' own page
THEIRS = {"origin": "https://attacker.example"}


@pytest.fixture
async def provider() -> AsyncIterator[OidcProvider]:
    claims = {email: {"email": email, **c} for email, c in ACCOUNTS.items()}
    callbacks = [f"{BASE}/connexion/retour", f"{TLS}/connexion/retour"]
    async with OidcProvider(claims, callbacks, [f"{BASE}/connexion?done=out"]) as op:
        yield op


def settings_for(op: OidcProvider, tmp_path: Path, **more: Any) -> Settings:
    return Settings(
        backend="sqlite",
        data_dir=tmp_path,
        secret="test-secret-signin",
        demo=True,
        base_url=more.pop("base_url", BASE),
        oidc_issuer=op.issuer,
        oidc_client_id=op.client_id,
        oidc_client_secret=op.client_secret,
        **more,
    )


@pytest.fixture
async def relais(provider: OidcProvider, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings_for(provider, tmp_path))
    async with app.router.lifespan_context(app):
        await grant(app, CAMILLE, "organizer", territory="ac-poitiers")
        await grant(app, ALEX, "admin")
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
            client.app = app  # type: ignore[attr-defined]
            yield client


async def grant(app: Any, email: str, role: str, **scope: str) -> None:
    """As an administrator does with the admin link (the break-glass path)."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as admin:
        form = {"action": "grant", "email": email, "role": role}
        if "territory" in scope:
            form |= {"scope": "territory", "territory": scope["territory"]}
        if "event" in scope:
            form |= {"scope": "event", "event": scope["event"]}
        answer = await admin.post(
            "/admin/comptes", params={"k": app.state.signer.sign_admin()}, data=form
        )
        assert answer.status_code == 303, answer.text


async def open_event(relais: httpx.AsyncClient, event: str, to: str) -> httpx.Response:
    """The account page's button: the event's page `to`, with the account's kept link."""
    return await relais.post(f"/compte/e/{event}/ouvrir", data={"to": to}, headers=OURS)


async def sign_in(relais: httpx.AsyncClient, email: str) -> httpx.Response:
    return await walk_sign_in(relais, await relais.get("/connexion/aller"), email)


def session_cookie(answer: httpx.Response) -> http.cookies.Morsel[str] | None:
    for header in answer.headers.get_list("set-cookie"):
        jar: http.cookies.SimpleCookie = http.cookies.SimpleCookie(header)
        if "relais_session" in jar:
            return jar["relais_session"]
    return None


async def audit_actions(relais: httpx.AsyncClient) -> list[tuple[str, str]]:
    entries = await relais.app.state.accounts.audit.latest()  # type: ignore[attr-defined]
    return [(e.action, e.subject) for e in entries]


# -- signing in ----------------------------------------------------------------------------


async def test_an_organizer_signs_in_and_sees_the_events_of_their_territory(relais):
    start = await relais.get("/connexion/aller")
    assert start.status_code == 302
    asked = httpx.URL(start.headers["location"])
    assert asked.params["code_challenge_method"] == "S256" and asked.params["code_challenge"]
    assert asked.params["state"] and asked.params["nonce"]
    answer = await walk_sign_in(relais, start, CAMILLE)
    assert answer.status_code == 303 and answer.headers["location"] == "/compte"
    cookie = session_cookie(answer)
    assert cookie is not None and cookie["httponly"] and cookie["samesite"].lower() == "lax"
    assert not cookie["secure"]  # plain HTTP here; see the TLS test
    page = await relais.get("/compte")
    assert page.status_code == 200
    assert "Camille Martin" in page.text and CAMILLE in page.text
    assert 'data-event="poitiers-2020"' in page.text  # its académie's day
    assert 'data-event="ariege-2020"' not in page.text  # the académie de Toulouse's
    assert 'data-event="grand-est-2020"' not in page.text
    assert ("sign_in", CAMILLE) in await audit_actions(relais)


async def test_the_session_cookie_is_secure_behind_tls(provider, tmp_path):
    app = create_app(settings_for(provider, tmp_path, base_url=TLS))
    async with app.router.lifespan_context(app):
        await grant(app, CAMILLE, "organizer", territory="ac-poitiers")
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=TLS) as c:
            answer = await walk_sign_in(c, await c.get("/connexion/aller"), CAMILLE)
    cookie = session_cookie(answer)
    assert cookie is not None and cookie["secure"] and cookie["httponly"]


async def test_an_address_without_a_role_is_refused_and_nothing_is_opened(relais):
    answer = await sign_in(relais, NOBODY)
    assert answer.status_code == 403
    assert "aucun rôle" in answer.text
    assert session_cookie(answer) is None
    assert (await relais.get("/compte")).headers.get("location") == "/connexion"
    assert ("sign_in_refused", NOBODY) in await audit_actions(relais)


@pytest.mark.parametrize("mode", ["audience", "expired", "foreign_key", "nonce"])
async def test_an_id_token_that_fails_its_checks_is_refused(relais, provider, mode):
    """Another client's token, an expired one, one not signed by the provider's keys, one
    from another sign-in (nonce): refused, no session."""
    start = await relais.get("/connexion/aller")
    provider.tamper(mode)
    answer = await walk_sign_in(relais, start, CAMILLE)
    assert answer.status_code == 401, (mode, answer.status_code)
    assert "n'a pas pu être vérifiée" in html.unescape(answer.text)
    assert session_cookie(answer) is None
    assert (await relais.get("/compte")).status_code == 303


async def test_a_replayed_answer_from_the_provider_is_refused(relais):
    start = await relais.get("/connexion/aller")
    back = await sign_in_at_provider(start.headers["location"], CAMILLE)
    first = await relais.get(back)
    assert first.status_code == 303
    relais.cookies.delete("relais_session")
    again = await relais.get(back)  # the same code and state, a second time
    assert again.status_code == 401 and session_cookie(again) is None


async def test_a_bad_state_is_refused(relais):
    start = await relais.get("/connexion/aller")
    back = httpx.URL(await sign_in_at_provider(start.headers["location"], CAMILLE))
    forged = back.copy_set_param("state", "not-the-state-we-sent")
    answer = await relais.get(str(forged))
    assert answer.status_code == 401 and session_cookie(answer) is None


async def test_an_answer_without_our_state_cookie_is_refused(relais):
    """A code delivered to another browser (login CSRF): its state is in no cookie here."""
    start = await relais.get("/connexion/aller")
    back = await sign_in_at_provider(start.headers["location"], CAMILLE)
    relais.cookies.clear()
    answer = await relais.get(back)
    assert answer.status_code == 401 and session_cookie(answer) is None


# -- what a session opens ------------------------------------------------------------------


async def test_an_organizer_opens_the_console_of_their_event_with_a_link_kept_for_them(relais):
    await sign_in(relais, CAMILLE)
    opened = await open_event(relais, "poitiers-2020", "console")
    assert opened.status_code == 303
    where = httpx.URL(opened.headers["location"])
    assert where.path == "/e/poitiers-2020/console" and where.params["k"]
    assert (await relais.get(str(where))).status_code == 200
    again = await open_event(relais, "poitiers-2020", "links")
    assert httpx.URL(again.headers["location"]).params["k"] == where.params["k"]  # kept
    sheet = await relais.get(again.headers["location"])
    assert "organisateur connecté" in sheet.text  # listed on the links sheet, revocable


async def test_an_organizer_cannot_open_an_event_outside_their_territory(relais):
    await sign_in(relais, CAMILLE)
    refused = await open_event(relais, "ariege-2020", "console")
    assert refused.status_code == 403
    studio = await relais.get("/e/ariege-2020/studio")
    assert studio.status_code == 401


async def test_an_organizer_edits_their_event_in_the_studio_with_the_session(relais):
    await sign_in(relais, CAMILLE)
    page = await relais.get("/e/poitiers-2020/studio")
    assert page.status_code == 200
    assert "/e/poitiers-2020/console?k=" in page.text  # the kept link, for the console


async def test_an_administrator_signed_in_runs_the_administration_without_a_link(relais):
    await sign_in(relais, ALEX)
    assert (await relais.get("/admin")).status_code == 200
    form = {"action": "grant", "email": "Nouveau.Agent@ac-toulouse.fr", "role": "organizer"}
    form |= {"scope": "territory", "territory": "dep-09"}
    done = await relais.post("/admin/comptes", data=form, headers=OURS)
    assert done.status_code == 303 and "done=granted" in done.headers["location"]
    listed = await relais.get("/admin/comptes")
    assert "nouveau.agent@ac-toulouse.fr" in listed.text
    journal = await relais.get("/admin/journal")
    assert journal.status_code == 200 and 'data-action="grant"' in journal.text
    assert ("grant", "nouveau.agent@ac-toulouse.fr") in await audit_actions(relais)


async def test_an_organizer_is_not_an_administrator(relais):
    await sign_in(relais, CAMILLE)
    assert (await relais.get("/admin/comptes")).status_code == 401
    form = {"action": "grant", "email": CAMILLE, "role": "admin"}
    assert (await relais.post("/admin/comptes", data=form, headers=OURS)).status_code == 401
    access = await relais.app.state.accounts.access(CAMILLE)  # type: ignore[attr-defined]
    assert not access.is_admin


# -- cross-site requests -------------------------------------------------------------------


async def test_a_cross_site_post_with_the_session_cookie_is_refused_and_changes_nothing(relais):
    await sign_in(relais, ALEX)
    form = {"action": "grant", "email": "intrus@exemple.fr", "role": "admin"}
    refused = await relais.post("/admin/comptes", data=form, headers=THEIRS)
    assert refused.status_code == 403
    assert "ne vient pas d'une page de Relais" in html.unescape(refused.text)
    no_origin = await relais.post("/admin/comptes", data=form)  # neither Origin nor Sec-Fetch
    assert no_origin.status_code == 403
    everyone = await relais.app.state.accounts.everyone()  # type: ignore[attr-defined]
    assert "intrus@exemple.fr" not in [a.email for a in everyone]
    out = await relais.post("/deconnexion", headers=THEIRS)
    assert out.status_code == 403
    assert (await relais.get("/compte")).status_code == 200  # still signed in


async def test_a_post_with_a_link_in_the_address_needs_no_origin(relais):
    """Links in the address never needed the check: a cross-site page cannot know them."""
    k = relais.app.state.signer.sign_admin()  # type: ignore[attr-defined]
    form = {"action": "grant", "email": "par.lien@ac-poitiers.fr", "role": "organizer"}
    form |= {"scope": "event", "event": "poitiers-2020"}
    done = await relais.post("/admin/comptes", params={"k": k}, data=form)
    assert done.status_code == 303


# -- ending sessions -----------------------------------------------------------------------


async def test_sign_out_ends_the_session_here_and_at_the_provider(relais):
    browser = httpx.AsyncClient(timeout=30)
    async with browser:
        await walk_sign_in(relais, await relais.get("/connexion/aller"), CAMILLE, browser)
        out = await relais.post("/deconnexion", headers=OURS)
        assert out.status_code == 303
        assert httpx.URL(out.headers["location"]).path.endswith("/session/end")
        assert (await relais.get("/compte")).status_code == 303  # ended here already
        back = await walk_logout(relais, out, browser)
        assert back.status_code == 200 and "Vous êtes déconnecté" in back.text
        # The provider forgot it too: the next sign-in asks for the address again.
        again = await relais.get("/connexion/aller")
        page = await browser.get(again.headers["location"], follow_redirects=True)
        assert 'name="email"' in page.text
    assert ("sign_out", CAMILLE) in await audit_actions(relais)


async def test_withdrawing_an_account_ends_its_sessions_and_revokes_its_links(relais):
    await sign_in(relais, CAMILLE)
    opened = await open_event(relais, "poitiers-2020", "console")
    console = opened.headers["location"]
    token = httpx.URL(console).params["k"]
    app = relais.app  # type: ignore[attr-defined]
    await app.state.accounts.withdraw_all(CAMILLE, "admin@exemple.fr")
    assert (await relais.get("/compte")).status_code == 303  # the session is over
    assert (await relais.get(console)).status_code == 403  # and the link it was handed
    with pytest.raises(LinkError) as refused:
        await app.state.links.verify(token, "poitiers-2020")
    assert refused.value.code == "link_revoked"
    assert ("sessions_ended", CAMILLE) in await audit_actions(relais)


async def test_losing_a_territory_revokes_only_the_links_of_its_events(relais):
    app = relais.app  # type: ignore[attr-defined]
    await grant(app, CAMILLE, "organizer", event="ariege-2020")
    await sign_in(relais, CAMILLE)
    links = {}
    for event in ("poitiers-2020", "ariege-2020"):
        opened = await open_event(relais, event, "console")
        links[event] = httpx.URL(opened.headers["location"]).params["k"]
    await app.state.accounts.withdraw(CAMILLE, "territory:ac-poitiers", "admin@exemple.fr")
    with pytest.raises(LinkError):
        await app.state.links.verify(links["poitiers-2020"], "poitiers-2020")
    await app.state.links.verify(links["ariege-2020"], "ariege-2020")  # still runs it
    assert (await relais.get("/compte")).status_code == 200  # still signed in


# -- without a provider --------------------------------------------------------------------


async def test_without_a_provider_relais_works_with_links_as_before(tmp_path):
    app = create_app(Settings(backend="memory", secret="s" * 20, demo=True, base_url=BASE))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE) as c:
            page = await c.get("/connexion")
            assert page.status_code == 200 and 'id="signin-off"' in page.text
            assert (await c.get("/connexion/aller")).status_code == 404
            k = app.state.signer.sign_admin()
            assert (await c.get("/admin", params={"k": k})).status_code == 200


async def test_sign_in_attempts_are_bounded_per_address(relais):
    """A script hammering the sign-in gets 429 with a Retry-After; the audit log does not
    grow with its refusals beyond its own bound."""
    answers = [await relais.get("/connexion/retour?code=x&state=y") for _ in range(35)]
    statuses = [a.status_code for a in answers]
    assert set(statuses[:30]) == {401} and statuses[30:] == [429] * 5
    assert int(answers[-1].headers["retry-after"]) >= 1
    refusals = [a for a, _ in await audit_actions(relais) if a == "sign_in_refused"]
    assert len(refusals) == 30  # under the audit's bound (60 a minute)


async def test_a_cross_site_save_in_the_studio_is_refused(relais):
    await sign_in(relais, CAMILLE)
    form = {"rev": "x", "title": "Détournée"}
    refused = await relais.post("/e/poitiers-2020/studio", data=form, headers=THEIRS)
    assert refused.status_code == 403
    assert "ne vient pas d'une page de Relais" in html.unescape(refused.text)
    live = relais.app.state.catalogue.get("poitiers-2020")  # type: ignore[attr-defined]
    assert live.definition.title != "Détournée"


async def test_a_form_of_our_own_that_says_origin_null_is_judged_by_sec_fetch_site(relais):
    """Under `Referrer-Policy: no-referrer` Chromium sends `Origin: null` from our own
    forms; its `Sec-Fetch-Site` tells ours (same-origin) from another site's (cross-site)."""
    await sign_in(relais, CAMILLE)
    theirs = {"origin": "null", "sec-fetch-site": "cross-site"}
    refused = await relais.post(
        "/compte/e/poitiers-2020/ouvrir", data={"to": "console"}, headers=theirs
    )
    assert refused.status_code == 403
    ours = {"origin": "null", "sec-fetch-site": "same-origin"}
    opened = await relais.post(
        "/compte/e/poitiers-2020/ouvrir", data={"to": "console"}, headers=ours
    )
    assert opened.status_code == 303


async def test_the_pages_let_the_sign_out_form_continue_to_the_provider_only(relais, provider):
    policy = (await relais.get("/connexion")).headers["content-security-policy"]
    action = next(p for p in policy.split("; ") if p.startswith("form-action"))
    assert action == f"form-action 'self' {provider.issuer}"
