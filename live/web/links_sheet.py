"""The links sheet of the organizer's desk: every role link of an event, by who gets it,
with what to open on which machine, a copy button, a QR code, a new link and revocation;
and a printable sheet per site (HTML with a print stylesheet, or PDF).

The links are the event's kept links (`live/links/kept.py`: one per role and place, the
same at every visit until the organizer asks for a new one); the page's data is built in
links_view.py, the PDF drawn by `live/links/printed.py` in a worker process. These
handlers parse, check the organizer's link, call those, and reply.

A link is valid by default through the event's day and a margin after it (`Validity`);
"Nouveau lien" lets the organizer choose the last day instead (a year at most). Revoking
closes at once the pages open with the link (`LinkBook.revoke`).

Every route needs an organizer link (`?k=`, on POSTs too, as on the desk: the signed token
in the address is what a cross-site form cannot know).
"""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from live.agenda.live import Live
from live.errors import RelaisError, http_status
from live.i18n import translator
from live.links.kept import KeptLinks, LinkSlot, NotKept, slot_of
from live.links.printed import sheet_pdf
from live.links.signing import Claims
from live.model import Event, Site
from live.people.desk import Refused
from live.web.common import lang_of, not_found, refused, render, with_link, worker_refused
from live.web.links_view import (
    Context,
    early_warning,
    groups,
    print_sheet,
    site_entries,
    until_of,
    validity_choice,
)
from live.web.urls import urls_of
from live.workers import Busy, Failed

DONE = ("reissue", "revoke")


def _context(request: Request, event: Event, claims: Claims, revoked: frozenset[str]) -> Context:
    lang = lang_of(request)
    state = request.app.state
    return Context(
        event=event,
        signer=state.signer,
        urls=urls_of(request),
        revoked=revoked,
        viewer=claims.id,
        t=translator(lang),
        lang=lang,
    )


def _links(request: Request) -> KeptLinks:
    kept: KeptLinks = request.app.state.kept_links
    return kept


async def _kept(request: Request, live: Live, claims: Claims) -> tuple[Context, dict[str, Any]]:
    state = request.app.state
    kept = await _links(request).issued(live.event)
    revoked = await state.links.revocations.of(live.event.id)
    return _context(request, live.event, claims, revoked), kept


def _message(request: Request, key: str, params: dict[str, Any]) -> str:
    t = translator(lang_of(request))
    return str(t(key)).format(**params)


async def _sheet(
    request: Request, live: Live, claims: Claims, status: int = 200, error: str = ""
) -> Response:
    ctx, kept = await _kept(request, live, claims)
    done = request.query_params.get("done", "")

    def page() -> Response:
        sections = groups(ctx, kept)
        early = sum(1 for g in sections for e in g["entries"] if e.get("early"))
        return render(
            request,
            "links.html",
            status=status,
            event=live.event,
            token=request.query_params["k"],
            groups=sections,
            validity=validity_choice(ctx),
            early=early,
            early_warning=early_warning(ctx),
            error=error,
            done="" if error or done not in DONE else done,
            done_slot=request.query_params.get("slot", ""),
        )

    # Fifty QR codes are a few hundred ms of work: built and rendered off the event loop.
    return await asyncio.to_thread(page)


@with_link("organizer")
async def sheet(request: Request, live: Live, claims: Claims) -> Response:
    """Every link of the event, by who gets it."""
    return await _sheet(request, live, claims)


@with_link("organizer")
async def site_sheet(request: Request, live: Live, claims: Claims) -> Response:
    """One site's links to print (A4), or the same as PDF (`?format=pdf`)."""
    site = live.event.site(request.path_params["site_id"])
    if site is None:
        return not_found(request)
    fmt = request.query_params.get("format", "html")
    if fmt not in ("html", "pdf"):
        return refused(
            request, RelaisError("bad_format", "format must be html or pdf", formats="html, pdf")
        )
    ctx, kept = await _kept(request, live, claims)
    if fmt == "pdf":
        return await _site_pdf(request, ctx, kept, site)
    return await asyncio.to_thread(
        lambda: render(
            request,
            "links_site.html",
            event=live.event,
            token=request.query_params["k"],
            site=site,
            entries=site_entries(ctx, kept, site),
            early_warning=early_warning(ctx),
        )
    )


async def _site_pdf(request: Request, ctx: Context, kept: dict[str, Any], site: Site) -> Response:
    event = ctx.event
    sheet = print_sheet(ctx, kept, site)
    try:  # rendered in a worker process of its own lane, never behind a synthesis
        body = await request.app.state.sheet_workers.run(sheet_pdf, sheet)
    except (Busy, Failed) as exc:  # busy, or its worker died or ran out of time (logged)
        return worker_refused(request, exc)
    name = f"liens-{event.id}-{site.id}.pdf"
    return Response(
        body,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _back(request: Request, live: Live, done: str, slot: LinkSlot) -> Response:
    """Post/redirect/get, back to the entry that changed: a reload repeats nothing."""
    query = {"done": done, "slot": slot.key}
    where = urls_of(request).path(
        "links", query, event_id=live.event.id, k=request.query_params["k"]
    )
    return RedirectResponse(f"{where}#{slot.anchor}", status_code=303)


async def _act(request: Request, live: Live, claims: Claims, done: str) -> Response:
    form = await request.form(max_files=0)
    kept = _links(request)
    try:
        slot = slot_of(live.event, str(form.get("slot") or ""))
        if done == "reissue":
            ctx = _context(request, live.event, claims, frozenset())
            until = until_of(ctx, str(form.get("until") or "").strip())
            await kept.reissue(live.event, slot, until)
        else:
            link_id = str(form.get("link") or "")
            revoke = request.app.state.links.revoke  # closes its sockets too
            await kept.revoke(live.event, slot, link_id, claims.id, revoke)
    except (Refused, NotKept) as exc:
        error = _message(request, exc.code, exc.params)
        return await _sheet(request, live, claims, status=http_status(exc.code), error=error)
    return _back(request, live, done, slot)


@with_link("organizer")
async def reissue_link(request: Request, live: Live, claims: Claims) -> Response:
    """A new link for one role and place; the old one keeps working until revoked."""
    return await _act(request, live, claims, "reissue")


@with_link("organizer")
async def revoke_link(request: Request, live: Live, claims: Claims) -> Response:
    """Revoke one of the sheet's links: refused from then on, its open pages closed."""
    return await _act(request, live, claims, "revoke")


BASE = "/e/{event_id}/links"
routes = [
    Route(BASE, sheet, name="links"),
    Route(BASE + "/reissue", reissue_link, methods=["POST"], name="links_reissue"),
    Route(BASE + "/revoke", revoke_link, methods=["POST"], name="links_revoke"),
    Route(BASE + "/{site_id}", site_sheet, name="links_site"),
]
