"""The administration's pages: the instance's events and what an administrator does to
them, with the instance's admin link (`/admin?k=ADMIN`).

- `/admin`: the events (draft, live, archived), each with its studio, archive or
  unarchive, and delete (after a confirmation page); without its link, a page that asks
  for it.
- `/admin/renew`: a new admin link, and the others revoked if asked.

Every route needs the link in `?k=`, on POSTs too (the signed token in the address is what
a cross-site form cannot know). The rules are the catalogue's (`Catalogue.set_archived`,
`Catalogue.delete`); a new event is made in the studio (`web/studio.py`).
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from datetime import datetime
from urllib.parse import unquote, urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from live.agenda.catalogue import Catalogue, stage
from live.i18n import plural, translator
from live.links.signing import Claims, LinkError
from live.web.common import lang_of, link_error, not_found, refused, render
from live.web.signed import CrossSite, signed_in

ADMIN_DONE = ("archived", "unarchived", "deleted", "renewed", "revoked")


# -- who may, and what the studio's and these pages share -----------------------------------


async def admin_claims(request: Request) -> Claims:
    """The instance's admin link (signed, unexpired, issued after the last revocation),
    or, without a link in the address, the session of an address granted administrator
    (`person` is that address). LinkError otherwise; CrossSite for another site's POST."""
    if "k" not in request.query_params:
        who = await signed_in(request)
        if who is not None and who.access.is_admin:
            return Claims(
                event="", role="admin", person=who.email, expires=int(who.session.expires)
            )
    claims: Claims = await request.app.state.admin_links.verify(request.query_params.get("k"))
    return claims


def actor(claims: Claims) -> str:
    """Who acted, as the audit log names them: an address, or the admin link."""
    return claims.person or "link"


AdminHandler = Callable[[Request, Claims], Awaitable[Response]]


def admin_only(handler: AdminHandler) -> Callable[[Request], Awaitable[Response]]:
    @functools.wraps(handler)
    async def endpoint(request: Request) -> Response:
        try:
            claims = await admin_claims(request)
        except LinkError as exc:
            return link_error(request, exc)
        except CrossSite as exc:
            return refused(request, exc, status=403)
        return await handler(request, claims)

    return endpoint


def token(request: Request) -> str:
    """The link the page was opened with, carried on to the next one."""
    return request.query_params.get("k", "")


def redirect(request: Request, name: str, done: str, **params: str) -> Response:
    """After a POST: the page `name`, with the same link, saying what was `done`."""
    where = request.app.url_path_for(name, **params)
    query = urlencode({"k": token(request), "done": done} if token(request) else {"done": done})
    return RedirectResponse(f"{where}?{query}", status_code=303)


def done_message(request: Request, allowed: tuple[str, ...], prefix: str) -> str:
    """The sentence of what was just done (`?done=`), if it is one of `allowed`."""
    done = request.query_params.get("done", "")
    return translator(lang_of(request))(f"{prefix}.{done}") if done in allowed else ""


# -- the pages ------------------------------------------------------------------------------


@admin_only
async def admin(request: Request, claims: Claims) -> Response:
    catalogue: Catalogue = request.app.state.catalogue
    archived = await catalogue.archived()
    lang = lang_of(request)
    served = sorted(catalogue.events.values(), key=lambda v: (v.definition.date, v.definition.id))
    rows = [
        {
            "event": live.definition,
            "state": stage(live, archived),
            "sites": plural(lang)("n_sites", len(live.definition.sites)),
        }
        for live in served
    ]
    return render(
        request,
        "admin.html",
        token=token(request),
        rows=rows,
        done=done_message(request, ADMIN_DONE, "admin.done"),
        expires=datetime.fromtimestamp(claims.expires).strftime("%d/%m/%Y"),
        signed_in_as=claims.person,
    )


@admin_only
async def renew(request: Request, claims: Claims) -> Response:
    """A new admin link, valid a year from now: the page opens with it, to bookmark. With
    `revoke=others`, every other admin link stops working (one that leaked, say)."""
    form = await request.form(max_files=0)
    others = form.get("revoke") == "others"
    state = request.app.state
    new = await state.admin_links.renew(revoke_others=others)
    if others:  # and the organizer links the studio gave admins (kept.ADMIN_SLOT)
        await state.kept_links.revoke_admin_handouts(state.links.revoke)
    query = urlencode({"k": new, "done": "revoked" if others else "renewed"})
    return RedirectResponse(f"{request.app.url_path_for('admin')}?{query}", status_code=303)


@admin_only
async def archive(request: Request, claims: Claims) -> Response:
    form = await request.form(max_files=0)
    archived = form.get("action") != "unarchive"
    catalogue: Catalogue = request.app.state.catalogue
    if not await catalogue.set_archived(request.path_params["event_id"], archived):
        return not_found(request)
    return redirect(request, "admin", "archived" if archived else "unarchived")


@admin_only
async def delete(request: Request, claims: Claims) -> Response:
    """GET: what deleting removes, and the button. POST: remove it all, stop serving it."""
    event_id = request.path_params["event_id"]
    catalogue: Catalogue = request.app.state.catalogue
    live = catalogue.get(event_id)
    if live is None:
        return not_found(request)
    if request.method == "GET":
        people = await request.app.state.desk.people(live.definition).count()
        return render(
            request,
            "admin_delete.html",
            token=token(request),
            event=live.definition,
            people=plural(lang_of(request))("org.n_people", people),
        )
    if not await catalogue.delete(event_id):
        return not_found(request)
    return redirect(request, "admin", "deleted")


async def admin_entry(request: Request) -> Response:
    """`/admin` without its link asks for it (the home page leads here): a pasted link, or
    only its key, goes on to `/admin?k=…`, where it is checked as any admin link is."""
    if "k" in request.query_params or await _signed_in_admin(request):
        return await admin(request)
    pasted = request.query_params.get("link", "").strip()
    key = _admin_token(pasted)
    if key:
        return RedirectResponse(f"{request.url.path}?{urlencode({'k': key})}", status_code=303)
    wrong = bool(pasted)  # 401 as any page without its link, but one that asks for it
    return render(request, "studio_admin_ask.html", 422 if wrong else 401, wrong=wrong)


async def _signed_in_admin(request: Request) -> bool:
    who = await signed_in(request)  # a GET: no cross-site question
    return who is not None and who.access.is_admin


def _admin_token(pasted: str) -> str:
    """The key of a pasted administrator link (`…/admin?k=KEY`), or the key itself."""
    if "?" in pasted or "/" in pasted:
        query = pasted.partition("?")[2]
        keys = [v for k, v in (p.partition("=")[::2] for p in query.split("&")) if k == "k"]
        return unquote(keys[0]) if keys and "/admin" in pasted else ""
    return pasted if pasted and " " not in pasted and len(pasted) <= 2048 else ""


routes = [
    Route("/admin", admin_entry, name="admin"),
    Route("/admin/renew", renew, methods=["POST"], name="admin_renew"),
    Route("/admin/e/{event_id}/archive", archive, methods=["POST"], name="admin_archive"),
    Route("/admin/e/{event_id}/delete", delete, methods=["GET", "POST"], name="admin_delete"),
]
