"""The pages of a signed-in account and the administration of accounts.

- `/compte`: who is signed in, their roles, the events they run (each opens its studio,
  console, desk or links sheet with the organizer link kept for that account), sign-out.
- `/compte/e/{event}/ouvrir` (POST): that link, issued on first use, and the page.
- `/admin/comptes`: the addresses with a role; grant one (administrator, organizer of a
  territory or of an event), withdraw one or all (its sessions end, its links are revoked).
- `/admin/journal`: the audit log.

The administration opens with the admin link (`?k=`, the break-glass path) or an
administrator's session; a session's POSTs pass the cross-site check (`signed.py`).
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from live.accounts.grants import GrantError, make_grant
from live.errors import RelaisError
from live.i18n import translator
from live.links.kept import account_slot
from live.links.signing import Claims
from live.web.admin import actor, admin_only, done_message, redirect, token
from live.web.common import lang_of, not_found, refused, render
from live.web.signed import CrossSite, signed_in
from live.web.urls import urls_of

ACCOUNTS_DONE = ("granted", "already", "withdrawn", "withdrawn_all", "unknown")
TARGETS = ("studio", "console", "desk", "links")
MAX_SHOWN = 500  # addresses on the page (an instance has tens)


async def account(request: Request) -> Response:
    """`/compte`: the signed-in account's page, or the sign-in page."""
    who = await signed_in(request)
    if who is None:
        return RedirectResponse(request.app.url_path_for("signin"), status_code=303)
    state = request.app.state
    events = [live.definition for live in state.catalogue.events.values()]
    territories = state.territories
    roles = []
    for g in who.access.grants:
        place = territories.get(g.territory) if g.territory else None
        roles.append({"grant": g, "place": place.name if place else (g.territory or g.event)})
    return render(
        request,
        "account.html",
        who=who,
        roles=roles,
        events=who.access.events(events, state.within),
        territory_name=lambda code: territories.get(code).name if code in territories else code,
        until=datetime.fromtimestamp(who.session.expires).strftime("%H:%M"),
        targets=TARGETS,
    )


async def open_event(request: Request) -> Response:
    """POST: the page `to` of this event, with the organizer link kept for this account
    (the links sheet lists it; withdrawing the account revokes it)."""
    try:
        who = await signed_in(request)
    except CrossSite as exc:
        return refused(request, exc, status=403)
    if who is None:
        return RedirectResponse(request.app.url_path_for("signin"), status_code=303)
    state = request.app.state
    live = state.catalogue.get(request.path_params["event_id"])
    if live is None:
        return not_found(request)
    if not who.access.may_run(live.definition, state.within):
        return refused(request, RelaisError("forbidden", "not an organizer of this event"))
    form = await request.form(max_files=0, max_fields=4)
    target = str(form.get("to", "studio"))
    if target not in TARGETS:
        target = "studio"
    revoked = await state.links.revocations.of(live.event.id)
    link = await state.kept_links.kept(live.event, account_slot(who.email), revoked)
    urls = urls_of(request)
    event_id = live.event.id
    where = {
        "studio": urls.path("studio", event_id=event_id, k=link),
        "console": urls.link(event_id, "facilitator", link),
        "desk": urls.link(event_id, "organizer", link),
        "links": urls.path("links", event_id=event_id, k=link),
    }[target]
    return RedirectResponse(where, status_code=303)


@admin_only
async def accounts(request: Request, claims: Claims) -> Response:
    """GET: the addresses with a role and the grant form. POST: grant, withdraw one role,
    or withdraw them all."""
    state = request.app.state
    problem = ""
    if request.method == "POST":
        form = await request.form(max_files=0, max_fields=10)
        action = str(form.get("action", ""))
        email = str(form.get("email", ""))[:300]
        try:
            if action == "grant":
                grant = make_grant(
                    email,
                    str(form.get("role", "")),
                    territory=str(form.get("territory", ""))
                    if form.get("scope") != "event"
                    else None,
                    event=str(form.get("event", "")) if form.get("scope") == "event" else None,
                    known_territory=lambda code: code in state.territories,
                    known_event=lambda e: state.catalogue.get(e) is not None,
                    by=actor(claims),
                    at=int(time.time()),
                )
                done = "granted" if await state.accounts.grant(grant, actor(claims)) else "already"
                return redirect(request, "accounts", done)
            if action == "withdraw":
                ok = await state.accounts.withdraw(email, str(form.get("key", "")), actor(claims))
                return redirect(request, "accounts", "withdrawn" if ok else "unknown")
            if action == "withdraw_all":
                n = await state.accounts.withdraw_all(email, actor(claims))
                return redirect(request, "accounts", "withdrawn_all" if n else "unknown")
            problem = translator(lang_of(request))("accounts.bad_action")
        except GrantError as exc:
            problem = translator(lang_of(request))(f"error.{exc.code}").format(**exc.params)
    everyone = (await state.accounts.everyone())[:MAX_SHOWN]
    territories = state.territories
    return render(
        request,
        "admin_accounts.html",
        status=422 if problem else 200,
        token=token(request),
        everyone=everyone,
        problem=problem,
        done=done_message(request, ACCOUNTS_DONE, "accounts.done"),
        territory_options=_territory_options(territories),
        events=sorted((v.definition for v in state.catalogue.events.values()), key=lambda e: e.id),
        place=lambda code: territories.get(code).name if code in territories else code,
        signed_in_as=claims.person,
    )


def _territory_options(territories: Any) -> list[tuple[str, str]]:
    """The territories as the grant form lists them: indented, top down."""
    indent = {
        "national": "",
        "region": "",
        "academie": "— ",
        "departement": "— — ",
        "local": "— — — ",
    }
    return [(t.code, indent.get(t.level, "") + t.name) for t in territories.all()]


@admin_only
async def audit(request: Request, claims: Claims) -> Response:
    entries = await request.app.state.accounts.audit.latest()
    return render(
        request,
        "admin_audit.html",
        token=token(request),
        entries=[
            {"e": e, "when": datetime.fromtimestamp(e.at / 1000).strftime("%d/%m/%Y %H:%M:%S")}
            for e in entries
        ],
    )


routes = [
    Route("/compte", account, name="account"),
    Route("/compte/e/{event_id}/ouvrir", open_event, methods=["POST"], name="account_open"),
    Route("/admin/comptes", accounts, methods=["GET", "POST"], name="accounts"),
    Route("/admin/journal", audit, name="audit"),
]
