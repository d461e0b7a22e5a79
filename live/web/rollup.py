"""The roll-up an upper event reviews and carries forward (issue 24).

`/e/{event}/reprise/{workshop}` — the published proposals of the territories below the
event's own on that workshop's theme (`views.rollup_view`, computed from this process's
index: nothing rebuilt per request), each with its origin and support, and "Reprendre":
reworded (one origin) or merged (several), with a new title and text (`publish.reprise`).
Who: that workshop's rapporteur (link), and the event's organizers.

A reprise is published at once, into the event's published contribution (made then, with
nothing else in it, if the event has not published yet). Its origins are public already
and its only new text is the rapporteur's, who answers for the workshop's restitution;
published at once, the territories below see what became of their proposals while the
upper event is still writing its synthesis, and every process sees it (a draft would need
a store of unpublished reprises the domain does not have, and one kept in a process's
memory would be lost at a restart). The organizer keeps the last word: the publication
page lists the reprises, drops any on the next publication, and withdrawing the
publication withdraws them all.

`rollup_panel` gives the rapporteur's notes editor its folded panel of the same roll-up.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from live.agenda.live import Live
from live.consultation import publish, views
from live.consultation.model import (
    ConsultationRefused,
)
from live.consultation.space import Space, Spaces
from live.errors import RelaisError
from live.i18n import translator
from live.links.signing import Claims, LinkError
from live.model import Event, Workshop
from live.web.common import claims_for, lang_of, not_found, refused, render, with_claims
from live.web.publication import (
    PANEL_ROWS,
    done_message,
    has_below,
    link_token,
    no_consultation,
    organizer_claims,
    participation_state,
    redirect_done,
    revalidated,
    say,
    space_of,
    writing,
)


async def reprise_claims(request: Request, live: Live) -> Claims:
    """That workshop's rapporteur link, or what opens the publication (the organizer link,
    the admin link, a signed-in account that may run the event)."""
    if "k" in request.query_params:
        try:
            claims = await claims_for(request, live, {"rapporteur"})
        except LinkError as exc:
            if exc.code != "link_role":
                raise
        else:
            if claims.workshop != request.path_params["workshop_id"]:
                raise LinkError("link_role", "another workshop's rapporteur link")
            return claims
    return await organizer_claims(request, live)


def _cards(pub: views.Published, ids: Iterable[str]) -> list[dict[str, Any]]:
    out = []
    for oid in ids:
        entry = pub.entries.get(oid)
        out.append(views.card(pub, entry) if entry else {"id": oid, "published": False})
    return out


def _page_number(request: Request) -> int:
    raw = request.query_params.get("page", "1")
    return min(int(raw), 10_000) if raw.isdigit() and raw != "0" else 1


def _rollup_page(
    request: Request,
    live: Live,
    space: Space,
    workshop: Workshop,
    claims: Claims,
    problem: str = "",
    values: Mapping[str, Any] | None = None,
    status: int = 200,
) -> Response:
    pub = space.published
    subject = request.query_params.get("subject") or None
    view = views.rollup_view(pub, live.event.id, workshop.theme, subject, _page_number(request))
    theme = space.consultation.theme(workshop.theme)
    reprises = [{**r, "from": _cards(pub, r["origins"])} for r in view["reprises"]]
    return render(
        request,
        "publication_reprise.html",
        status=status,
        event=live.event,
        workshop=workshop,
        workshop_title=live.event.workshop_title(workshop),
        token=link_token(request),
        view=view,
        subjects=theme.subjects if theme else (),
        subject=subject or "",
        reprises=reprises,
        consultation=space.consultation.id,
        below=has_below(space, live.event.id),
        problem=problem,
        values=values or {},
        done=done_message(request, translator(lang_of(request))),
    )


def _workshop_and_space(request: Request, live: Live) -> tuple[Workshop, Space] | Response:
    workshop = live.event.workshop(request.path_params["workshop_id"])
    if workshop is None:
        return not_found(request)
    space = space_of(request, live.event.id)
    if space is None:
        return no_consultation(request)
    if space.consultation.theme(workshop.theme) is None:
        bad = RelaisError("consultation.unknown_theme", "theme", theme=workshop.theme)
        return refused(request, bad, status=409)
    return workshop, space


@with_claims(reprise_claims)
async def reprise(request: Request, live: Live, claims: Claims) -> Response:
    """GET: the roll-up of the workshop's theme. POST `action`: `reprise` (carry the
    checked `origin`s forward, `kind` reworded or merged, with `title` and `body`) or
    `remove` (take back this workshop's reprise `proposal`)."""
    found = _workshop_and_space(request, live)
    if isinstance(found, Response):
        return found
    workshop, space = found
    if request.method == "GET":
        return _rollup_page(request, live, space, workshop, claims)
    form = await request.form(max_files=0, max_fields=2_000)
    t = translator(lang_of(request))
    event = live.event
    spaces: Spaces = request.app.state.spaces
    values: dict[str, Any] = {
        "origins": [str(o) for o in form.getlist("origin")],
        "kind": str(form.get("kind") or ""),
        "title": str(form.get("title") or "").strip(),
        "body": str(form.get("body") or "").strip(),
    }

    def again(problem: str, status: int = 422) -> Response:
        return _rollup_page(request, live, space, workshop, claims, problem, values, status)

    if str(form.get("action") or "reprise") == "remove":
        pid = str(form.get("proposal") or "")
        try:
            async with writing(request, space, event.id):
                current = space.contributions.get(event.id)
                target = current.proposal(pid) if current else None
                if current is None or target is None or not target.origins:
                    return again(t("pub.error.no_such_reprise"), 404)
                if target.theme != workshop.theme:
                    return again(t("pub.error.other_theme"), 403)
                rest = [p.model_dump() for p in current.proposals if p.id != pid]
                now = datetime.now(UTC)
                await spaces.publish(revalidated(current, proposals=rest, published=now))
        except ConsultationRefused as exc:
            return again(say(request, exc), 409)
        return redirect_done(
            request, "reprise", "removed", event_id=event.id, workshop_id=workshop.id
        )
    origins: list[str] = values["origins"]
    kind: str = values["kind"]
    if kind not in ("reworded", "merged"):
        return again(t("pub.error.kind"))
    if not origins:
        return again(say(request, ConsultationRefused("consultation.no_origin")))
    if kind == "reworded" and len(origins) != 1:
        return again(t("pub.error.reworded_one"))
    if kind == "merged" and len(origins) < 2:
        return again(t("pub.error.merged_two"))
    if not values["title"]:
        return again(t("pub.error.title"))
    entries = [e for o in origins if (e := space.published.entries.get(o)) is not None]
    if any(e.proposal.theme != workshop.theme for e in entries):
        return again(t("pub.error.other_theme"), 403)
    try:
        async with writing(request, space, event.id):
            base = space.contributions.get(event.id)
            if base is None:  # nothing published yet: the reprise is its first proposal
                state = await participation_state(request, event)
                empty = publish.Choices(proposals=frozenset(), reports=frozenset())
                base = publish.contribution(
                    space.consultation, event, state, datetime.now(UTC), empty
                )
            made = publish.reprise(
                space.consultation,
                base,
                space.contributions.values(),
                origins,
                "merged" if kind == "merged" else "reworded",
                values["title"],
                values["body"],
            )
            await spaces.publish(made.model_copy(update={"published": datetime.now(UTC)}))
    except ConsultationRefused as exc:
        return again(say(request, exc))
    return redirect_done(request, "reprise", "reprised", event_id=event.id, workshop_id=workshop.id)


def rollup_panel(
    request: Request, event: Event, workshop: Workshop, token: str
) -> dict[str, Any] | None:
    """The folded panel of a workshop's roll-up for its rapporteur's page: None when the
    event's territory has no events below it in its consultation (or none)."""
    space = space_of(request, event.id)
    if space is None or not has_below(space, event.id):
        return None
    if space.consultation.theme(workshop.theme) is None:
        return None
    view = views.rollup_view(space.published, event.id, workshop.theme, per_page=PANEL_ROWS)
    url = request.app.state.urls.path(
        "reprise", event_id=event.id, workshop_id=workshop.id, k=token
    )
    return {"total": view["total"], "proposals": view["proposals"], "url": url}


routes: list[BaseRoute] = [
    Route(
        "/e/{event_id}/reprise/{workshop_id}",
        reprise,
        methods=["GET", "POST"],
        name="reprise",
    ),
]
