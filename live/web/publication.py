"""Publishing an event's contribution to its consultation, and the roll-up an upper event
reviews and carries forward (issue 24).

- `/e/{event}/publication` — the organizer reviews what goes public: each workshop's
  proposals (by default `publish.default_selection`, checkboxes to change) and their
  arguments, the experience reports (rows to add; presenters named only when "agreed" is
  checked), each workshop's synthesis from its notes (rapporteurs named only when
  agreed), the reprises already made (each can be dropped); a preview of exactly what the
  territorial space will show (the public view, `views.event_view`, of this contribution);
  then "Publier" (`publish.contribution` + `Spaces.publish`) or "Retirer la publication"
  (`Spaces.unpublish`). A refusal is shown on the page and nothing is stored.
  Who: the event's organizer link (`?k=`), the admin link, or a signed-in account that
  may run the event (`studio.editor_claims`).
- `/e/{event}/reprise/{workshop}` — the published proposals of the territories below the
  event's own on that workshop's theme (`views.rollup_view`, computed from this process's
  index: nothing rebuilt per request), each with its origin and support, and "Reprendre":
  reworded (one origin) or merged (several), with a new title and text
  (`publish.reprise`). Who: that workshop's rapporteur (link), and the event's organizers.

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

import asyncio
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from pydantic import ValidationError
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from live.agenda.live import Live
from live.consultation import publish, views
from live.consultation.model import (
    MAX_PRESENTERS,
    ConsultationRefused,
    Contribution,
    ExperienceReport,
)
from live.consultation.space import Space, Spaces
from live.errors import RelaisError
from live.i18n import refusal, translator
from live.links.signing import Claims, LinkError
from live.model import Event, Workshop
from live.notes.service import NotesService
from live.participation.service import ParticipationService
from live.participation.state import Participation
from live.web.common import claims_for, lang_of, not_found, refused, render, with_claims
from live.web.signed import signed_in
from live.web.studio import editor_claims

MAX_FIELDS = 20_000  # a large day: ~1,000 proposals, their arguments, 200 reports
BLANK_REPORTS = 2  # empty rows offered to add experience reports
PANEL_ROWS = 5  # proposals the notes editor's folded panel shows


# -- shared -------------------------------------------------------------------------------


def space_of(request: Request, event_id: str) -> Space | None:
    """The consultation space this event belongs to (None: it belongs to none)."""
    spaces: Spaces = request.app.state.spaces
    for space in spaces.spaces.values():
        if space.consultation.territory_of(event_id) is not None:
            return space
    return None


def has_below(space: Space, event_id: str) -> bool:
    """Does the event's territory have territories below it with events of the same
    consultation (what makes a roll-up worth showing)?"""
    c = space.consultation
    territory = c.territory_of(event_id)
    tree = space.published.tree
    if territory is None or territory not in tree:
        return False
    return any(
        p.event != event_id
        and p.territory != territory
        and p.territory in tree
        and tree.within(p.territory, territory)
        for p in c.events
    )


def _lock(request: Request, event_id: str) -> asyncio.Lock:
    """One writer at a time of an event's contribution in this process (a publication
    and a reprise read it, change it, write it whole)."""
    state = request.app.state
    locks: dict[str, asyncio.Lock] | None = getattr(state, "publication_locks", None)
    if locks is None:
        locks = state.publication_locks = {}
    return locks.setdefault(event_id, asyncio.Lock())


def _token(request: Request) -> str:
    return request.query_params.get("k", "")


def _redirect(request: Request, name: str, done: str, **params: str) -> Response:
    where = request.app.url_path_for(name, **params)
    query = {"done": done} | ({"k": _token(request)} if _token(request) else {})
    return RedirectResponse(f"{where}?{urlencode(query)}", status_code=303)


def _say(request: Request, exc: RelaisError) -> str:
    return refusal(lang_of(request), exc.code, exc.message, exc.params)


async def _state(request: Request, event: Event) -> Participation:
    service: ParticipationService = request.app.state.participation
    room = await service.of(event)
    return room.state


def _revalidated(c: Contribution, **changes: Any) -> Contribution:
    """`c` with some fields replaced, checked again by the model."""
    try:
        return Contribution.model_validate({**c.model_dump(), **changes})
    except ValidationError as exc:
        raise ConsultationRefused(
            "consultation.invalid", str(exc).splitlines()[0], detail=str(exc)
        ) from None


# -- the review's form --------------------------------------------------------------------


def _reprises(space: Space, event_id: str) -> list[Any]:
    """The reprises the event's published contribution carries now."""
    c = space.contributions.get(event_id)
    return [p for p in (c.proposals if c else ()) if p.origins]


async def _syntheses(request: Request, event: Event) -> list[dict[str, Any]]:
    notes: NotesService = request.app.state.notes
    out = []
    for w in event.workshops:
        out.append(
            {
                "id": w.id,
                "title": event.workshop_title(w),
                "text": await notes.text(event.id, w.id),
                "rapporteurs": await notes.rapporteurs(event.id, w.id),
            }
        )
    return out


def _default_form(
    event: Event, state: Participation, syntheses: list[dict[str, Any]]
) -> dict[str, Any]:
    """What the review starts from: the default selection, every argument, the event's
    experience reports (presenters not agreed), every workshop's notes."""
    picked = publish.default_selection(state)
    reports = []
    for report, workshop in event.all_reports():
        site_id = report.site or (workshop.site if workshop else None)
        site = event.site(site_id) if site_id else None
        reports.append(
            {
                "id": report.id,
                "publish": True,
                "title": report.title,
                "presenters": ", ".join(report.presenters),
                "site": site.name if site else "",
                "summary": "",
                "agreed": False,
                "theme": workshop.theme if workshop else "",
            }
        )
    return {
        "proposals": set(picked),
        "arguments": {
            f"{p.id}:{a.id}" for p in state.proposals.values() for a in p.arguments if not a.hidden
        },
        "reports": reports,
        "syntheses": {
            s["id"]: {"publish": bool(s["text"].strip()), "text": s["text"], "agreed": False}
            for s in syntheses
        },
        "drop": set(),
    }


def _posted_form(form: FormData, syntheses: list[dict[str, Any]]) -> dict[str, Any]:
    reports = []
    raw = str(form.get("reports") or "")
    count = min(int(raw), 400) if raw.isdigit() else 0
    for n in range(count):
        row: dict[str, Any] = {
            k: str(form.get(f"r{n}.{k}") or "").strip()
            for k in ("id", "title", "presenters", "site", "summary", "theme")
        }
        row["publish"] = bool(form.get(f"r{n}.publish"))
        row["agreed"] = bool(form.get(f"r{n}.agreed"))
        reports.append(row)
    return {
        "proposals": {str(v) for v in form.getlist("proposal")},
        "arguments": {str(v) for v in form.getlist("arg")},
        "reports": reports,
        "syntheses": {
            s["id"]: {
                "publish": bool(form.get(f"s.{s['id']}.publish")),
                "text": str(form.get(f"s.{s['id']}.text") or ""),
                "agreed": bool(form.get(f"s.{s['id']}.agreed")),
            }
            for s in syntheses
        },
        "drop": {str(v) for v in form.getlist("drop")},
    }


def _report_rows(
    event: Event, rows: list[dict[str, Any]], t: Any
) -> tuple[list[ExperienceReport], dict[int, str]]:
    """The experience reports the rows publish (presenters only when they agreed), and
    what is wrong with a row (by its number)."""
    known = {r.id for r, _ in event.all_reports()}
    used: set[str] = set()
    out, problems = [], {}
    for n, row in enumerate(rows):
        filled = any(row[k] for k in ("title", "presenters", "site", "summary"))
        if not row["publish"] or not filled:
            continue
        if not row["title"]:
            problems[n] = t("pub.error.report_title")
            continue
        presenters = [p.strip() for p in row["presenters"].split(",") if p.strip()]
        if len(presenters) > MAX_PRESENTERS:
            problems[n] = t("pub.error.presenters").format(n=MAX_PRESENTERS)
            continue
        rid = row["id"] if row["id"] in known else ""
        if not rid or rid in used:
            rid = next(f"retour-{i}" for i in range(1, 10_000) if f"retour-{i}" not in known | used)
        used.add(rid)
        theme = row["theme"] if event.theme(row["theme"]) else ""
        try:
            out.append(
                ExperienceReport(
                    id=rid,
                    theme=theme,
                    title=row["title"],
                    presenters=tuple(presenters) if row["agreed"] else (),
                    site=row["site"],
                    summary=row["summary"],
                )
            )
        except ValidationError as exc:
            problems[n] = t("pub.error.report").format(detail=exc.errors()[0].get("msg", ""))
    return out, problems


def _build(
    space: Space,
    event: Event,
    state: Participation,
    syntheses: list[dict[str, Any]],
    values: Mapping[str, Any],
    reports: list[ExperienceReport],
) -> Contribution:
    """The contribution the form describes (ConsultationRefused: one the domain refuses)."""
    agreed_ws = {s["id"] for s in syntheses if values["syntheses"][s["id"]]["agreed"]}
    names = {s["id"]: tuple(s["rapporteurs"]) for s in syntheses if s["id"] in agreed_ws}
    choices = publish.Choices(
        proposals=frozenset(values["proposals"]),
        reports=frozenset(),  # the rows are the reports (added ones too)
        agreed=frozenset(n for ns in names.values() for n in ns),
        notes={wid: s["text"] for wid, s in values["syntheses"].items() if s["publish"]},
        rapporteurs=names,
    )
    made = publish.contribution(space.consultation, event, state, datetime.now(UTC), choices)
    kept_args = values["arguments"]
    proposals = []
    for p in made.proposals:
        local = p.id.partition("/")[2]
        source = state.proposals[local]
        visible = [a for a in source.arguments if not a.hidden]
        pairs = zip(p.arguments, visible, strict=False)  # published: the visible ones, in order
        arguments = [a for a, src in pairs if f"{local}:{src.id}" in kept_args]
        proposals.append({**p.model_dump(), "arguments": [a.model_dump() for a in arguments]})
    for r in _reprises(space, event.id):
        if r.id not in values["drop"]:
            proposals.append(r.model_dump())
    return _revalidated(made, proposals=proposals, reports=[r.model_dump() for r in reports])


def _workshops(
    event: Event, state: Participation, values: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """Each workshop's proposals as the review lists them (visible ones to pick; how
    many were hidden or merged)."""
    out = []
    for w in event.workshops:
        mine = state.in_workshop(w.id)
        visible = [p for p in mine if p.status == "open"]
        out.append(
            {
                "id": w.id,
                "title": event.workshop_title(w),
                "left_out": len(mine) - len(visible),
                "proposals": [
                    {
                        "id": p.id,
                        "title": p.title,
                        "body": p.body,
                        "supports": p.supports,
                        "retained": p.retained,
                        "checked": p.id in values["proposals"],
                        "arguments": [
                            {
                                "key": f"{p.id}:{a.id}",
                                "stance": a.stance,
                                "text": a.text,
                                "checked": f"{p.id}:{a.id}" in values["arguments"],
                            }
                            for a in p.arguments
                            if not a.hidden
                        ],
                    }
                    for p in visible
                ],
            }
        )
    return out


async def _review(
    request: Request,
    live: Live,
    space: Space,
    values: dict[str, Any] | None = None,
    problem: str = "",
    status: int = 200,
) -> Response:
    event = live.event
    t = translator(lang_of(request))
    state = await _state(request, event)
    syntheses = await _syntheses(request, event)
    values = values or _default_form(event, state, syntheses)
    rows = list(values["reports"])
    rows += [
        {"id": "", "publish": True, "title": "", "presenters": "", "site": "", "summary": "",
         "agreed": False, "theme": ""}
        for _ in range(BLANK_REPORTS)
    ]  # fmt: skip
    reports, row_problems = _report_rows(event, rows, t)
    preview = None
    if not problem and not row_problems:
        try:
            made = _build(space, event, state, syntheses, values, reports)
            preview = views.event_view(views.Published(space.consultation, [made]), event.id)
        except ConsultationRefused as exc:
            problem, status = _say(request, exc), 422
    published = space.contributions.get(event.id)
    return render(
        request,
        "publication.html",
        status=status if not row_problems else 422,
        event=event,
        token=_token(request),
        consultation=space.consultation,
        workshops=_workshops(event, state, values),
        syntheses=[{**s, **values["syntheses"][s["id"]]} for s in syntheses],
        reports=rows,
        row_problems=row_problems,
        themes=event.themes,
        reprises=[
            {
                "id": r.id,
                "title": r.title,
                "kind": r.reprise,
                "origins": list(r.origins),
                "dropped": r.id in values["drop"],
            }
            for r in _reprises(space, event.id)
        ],
        preview=preview,
        problem=problem,
        published=published.published.strftime("%d/%m/%Y %H:%M") if published else "",
        done=_done(request, t),
        rollups=[{"id": w.id, "title": event.workshop_title(w)} for w in event.workshops]
        if has_below(space, event.id)
        else [],
    )


def _done(request: Request, t: Any) -> str:
    done = request.query_params.get("done", "")
    if done in ("published", "unpublished", "reprised", "removed"):
        return str(t(f"pub.done.{done}"))
    return ""


def _no_consultation(request: Request) -> Response:
    return refused(
        request,
        RelaisError("pub.no_consultation", "this event belongs to no consultation"),
        status=409,
    )


async def organizer_claims(request: Request, live: Live) -> Claims:
    """`studio.editor_claims`; a signed-in account that does not run this event is told so
    (403), not asked for a link."""
    try:
        return await editor_claims(request, live)
    except LinkError as exc:
        if exc.code == "link_missing" and await signed_in(request) is not None:
            raise LinkError("link_role", "this account does not run this event") from None
        raise


@with_claims(organizer_claims)
async def publication(request: Request, live: Live, claims: Claims) -> Response:
    """GET: the review, from the default selection. POST `action`: `preview` (the form
    again, with its preview), `publish`, `unpublish`."""
    space = space_of(request, live.event.id)
    if space is None:
        return _no_consultation(request)
    if request.method == "GET":
        return await _review(request, live, space)
    form = await request.form(max_files=0, max_fields=MAX_FIELDS)
    action = str(form.get("action") or "preview")
    spaces: Spaces = request.app.state.spaces
    event = live.event
    if action == "unpublish":
        async with _lock(request, event.id):
            await spaces.unpublish(space.consultation.id, event.id)
        return _redirect(request, "publication", "unpublished", event_id=event.id)
    syntheses = await _syntheses(request, event)
    values = _posted_form(form, syntheses)
    if action != "publish":
        return await _review(request, live, space, values)
    t = translator(lang_of(request))
    state = await _state(request, event)
    reports, row_problems = _report_rows(event, values["reports"], t)
    if row_problems:
        return await _review(request, live, space, values, status=422)
    try:
        async with _lock(request, event.id):
            made = _build(space, event, state, syntheses, values, reports)
            await spaces.publish(made)
    except ConsultationRefused as exc:
        return await _review(request, live, space, values, _say(request, exc), 422)
    return _redirect(request, "publication", "published", event_id=event.id)


# -- the roll-up --------------------------------------------------------------------------


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
        token=_token(request),
        view=view,
        subjects=theme.subjects if theme else (),
        subject=subject or "",
        reprises=reprises,
        consultation=space.consultation.id,
        below=has_below(space, live.event.id),
        problem=problem,
        values=values or {},
        done=_done(request, translator(lang_of(request))),
    )


def _workshop_and_space(request: Request, live: Live) -> tuple[Workshop, Space] | Response:
    workshop = live.event.workshop(request.path_params["workshop_id"])
    if workshop is None:
        return not_found(request)
    space = space_of(request, live.event.id)
    if space is None:
        return _no_consultation(request)
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
        async with _lock(request, event.id):
            current = space.contributions.get(event.id)
            target = current.proposal(pid) if current else None
            if current is None or target is None or not target.origins:
                return again(t("pub.error.no_such_reprise"), 404)
            if target.theme != workshop.theme:
                return again(t("pub.error.other_theme"), 403)
            rest = [p.model_dump() for p in current.proposals if p.id != pid]
            await spaces.publish(_revalidated(current, proposals=rest, published=datetime.now(UTC)))
        return _redirect(request, "reprise", "removed", event_id=event.id, workshop_id=workshop.id)
    origins: list[str] = values["origins"]
    kind: str = values["kind"]
    if kind not in ("reworded", "merged"):
        return again(t("pub.error.kind"))
    if not origins:
        return again(_say(request, ConsultationRefused("consultation.no_origin")))
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
        async with _lock(request, event.id):
            base = space.contributions.get(event.id)
            if base is None:  # nothing published yet: the reprise is its first proposal
                state = await _state(request, event)
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
        return again(_say(request, exc))
    return _redirect(request, "reprise", "reprised", event_id=event.id, workshop_id=workshop.id)


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
    Route("/e/{event_id}/publication", publication, methods=["GET", "POST"], name="publication"),
    Route(
        "/e/{event_id}/reprise/{workshop_id}",
        reprise,
        methods=["GET", "POST"],
        name="reprise",
    ),
]
