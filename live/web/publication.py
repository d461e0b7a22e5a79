"""Publishing an event's contribution to its consultation (issue 24).

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

The helpers both this page and the roll-up (`web/rollup.py`) use are here: the event's
space, one lock per event's contribution (a publication and a reprise never interleave in
a process), the refusal's sentence."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping
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
from live.model import Event
from live.notes.service import NotesService
from live.participation.service import ParticipationService
from live.participation.state import Participation
from live.web.common import lang_of, refused, render, with_claims
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


@contextlib.asynccontextmanager
async def writing(request: Request, space: Space, event_id: str) -> AsyncIterator[None]:
    """One writer at a time of an event's contribution (a publication and a reprise read
    it, change it, write it whole): in this process, then across processes (the store's
    lease), with this process's copy reread from the store first."""
    spaces: Spaces = request.app.state.spaces
    lease = spaces.writing(space.consultation.id, event_id)
    async with _process_lock(request, event_id), lease:
        yield


def _process_lock(request: Request, event_id: str) -> asyncio.Lock:
    state = request.app.state
    locks: dict[str, asyncio.Lock] | None = getattr(state, "publication_locks", None)
    if locks is None:
        locks = state.publication_locks = {}
    return locks.setdefault(event_id, asyncio.Lock())


def link_token(request: Request) -> str:
    return request.query_params.get("k", "")


def redirect_done(request: Request, name: str, done: str, **params: str) -> Response:
    where = request.app.url_path_for(name, **params)
    query = {"done": done} | ({"k": link_token(request)} if link_token(request) else {})
    return RedirectResponse(f"{where}?{urlencode(query)}", status_code=303)


def say(request: Request, exc: RelaisError) -> str:
    return refusal(lang_of(request), exc.code, exc.message, exc.params)


async def participation_state(request: Request, event: Event) -> Participation:
    service: ParticipationService = request.app.state.participation
    room = await service.of(event)
    return room.state


def revalidated(c: Contribution, **changes: Any) -> Contribution:
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
    return revalidated(made, proposals=proposals, reports=[r.model_dump() for r in reports])


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
    state = await participation_state(request, event)
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
            problem, status = say(request, exc), 422
    published = space.contributions.get(event.id)
    return render(
        request,
        "publication.html",
        status=status if not row_problems else 422,
        event=event,
        token=link_token(request),
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
        done=done_message(request, t),
        rollups=[{"id": w.id, "title": event.workshop_title(w)} for w in event.workshops]
        if has_below(space, event.id)
        else [],
    )


def done_message(request: Request, t: Any) -> str:
    done = request.query_params.get("done", "")
    if done in ("published", "unpublished", "reprised", "removed"):
        return str(t(f"pub.done.{done}"))
    return ""


def no_consultation(request: Request) -> Response:
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
        return no_consultation(request)
    if request.method == "GET":
        return await _review(request, live, space)
    form = await request.form(max_files=0, max_fields=MAX_FIELDS)
    action = str(form.get("action") or "preview")
    spaces: Spaces = request.app.state.spaces
    event = live.event
    if action == "unpublish":
        try:
            async with writing(request, space, event.id):
                await spaces.unpublish(space.consultation.id, event.id)
        except ConsultationRefused as exc:
            return await _review(request, live, space, None, say(request, exc), 409)
        return redirect_done(request, "publication", "unpublished", event_id=event.id)
    syntheses = await _syntheses(request, event)
    values = _posted_form(form, syntheses)
    if action != "publish":
        return await _review(request, live, space, values)
    t = translator(lang_of(request))
    state = await participation_state(request, event)
    reports, row_problems = _report_rows(event, values["reports"], t)
    if row_problems:
        return await _review(request, live, space, values, status=422)
    try:
        async with writing(request, space, event.id):
            made = _build(space, event, state, syntheses, values, reports)
            await spaces.publish(made)
    except ConsultationRefused as exc:
        return await _review(request, live, space, values, say(request, exc), 422)
    return redirect_done(request, "publication", "published", event_id=event.id)


routes: list[BaseRoute] = [
    Route("/e/{event_id}/publication", publication, methods=["GET", "POST"], name="publication"),
]
