"""Notes pages: the rapporteur's editor, the read-only view, and the synthesis download.

- `/e/{event}/notes?k=` — a rapporteur link opens its workshop's editor; any other link of
  the event is sent on to the read-only view. When the workshop has experience reports,
  the editor also lists them and lets the rapporteur call them in turn (`report.next`
  over the live socket, static/js/notes-reports.js).
- `/e/{event}/notes/{workshop}?k=` — read-only, live, large type, with a workshop picker
  (a plain form, so it works without scripts too).
- `/e/{event}/synthesis?format=md|html|pdf&k=` — organizer or facilitator link.
- `POST /e/{event}/notes/names/erase?k=` (`workshop=` in the form, or every workshop) —
  organizer link: forget the rapporteurs' names credited in the notes.

The pages only check links and render; what may be edited is enforced on the websocket.
"""

from __future__ import annotations

from typing import Any, cast
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from live.agenda.live import Live
from live.agenda.queues import step_turns
from live.agenda.state import workshop_name
from live.errors import RelaisError
from live.i18n import script_strings
from live.links.signing import COMMANDERS, Claims
from live.model import Event, Workshop
from live.notes.limits import MAX_DOC, MAX_FRAME
from live.notes.service import NotesService
from live.notes.synthesis import FORMATS, Format
from live.web.common import lang_of, not_found, path, refused, render, with_link, worker_refused
from live.web.rollup import rollup_panel
from live.workers import Busy, Failed

READERS = {"organizer", "facilitator", "screen", "rapporteur", "participant"}


def _config(request: Request, event: Event, workshop_id: str, token: str, script: str) -> Any:
    """What the page script needs: where to connect, and only the messages it uses."""
    strings = script_strings(lang_of(request), (script,))
    return {"event": event.id, "workshop": workshop_id, "token": token, "strings": strings}


def _editor_config(request: Request, event: Event, workshop_id: str, token: str) -> Any:
    """The editor also gets the server's limits, to refuse a paste before sending it."""
    config = _config(request, event, workshop_id, token, "notes-editor")
    return {**config, "max_frame": MAX_FRAME, "max_doc": MAX_DOC}


def _reports(event: Event, workshop: Workshop) -> list[dict[str, Any]]:
    """The workshop's experience reports as the page lists them: a report's site is named
    only when it is not the workshop's own."""
    out = []
    for r in workshop.reports:
        site = event.site(r.site) if r.site and r.site != workshop.site else None
        out.append(
            {
                "id": r.id,
                "title": r.title,
                "presenters": list(r.presenters),
                "site": site.name if site else "",
                "minutes": r.minutes,
            }
        )
    return out


def _report_steps(event: Event, workshop: Workshop) -> list[str]:
    """The steps that call the workshop's reports (mirrors `agenda.commands._enter`): a
    workshops step in the workshop's own lane, a restitution that queues reports in its
    queue. The page names them when it is not yet their turn."""
    out = []
    for step in event.agenda:
        if step.reports or workshop not in event.workshops_for(step):
            continue
        if step.kind == "workshops" or any(w == workshop for _, w in event.reports_for(step)):
            out.append(f"{step.title} ({step.start.strftime('%H:%M')})")
    return out


def _screen_turns(event: Event, workshop: Workshop) -> dict[str, Any]:
    """When the workshop's notes go on screen: the steps whose speaking queue has one of
    its turns (`queues.step_turns`, what entering them builds), and the title of every
    turn in those queues, so the page can say "on screen in 8 min, after X" live from
    the state's queue."""
    steps: list[dict[str, str]] = []
    names: dict[str, str] = {}
    for step in event.agenda:
        turns = step_turns(event, step)
        if not any(t.workshop == workshop.id for t in turns):
            continue
        steps.append({"id": step.id, "label": f"{step.title} ({step.start.strftime('%H:%M')})"})
        for t in turns:
            report = event.report(t.report) if t.report else None
            names[t.key] = report.title if report else workshop_name(event, t.workshop)
    return {"steps": steps, "names": names}


def view_url(request: Request, event_id: str, workshop_id: str, token: str) -> str:
    return path(request, "notes_view", event_id=event_id, workshop_id=workshop_id, k=token)


def _groups(event: Event) -> list[tuple[str, list[tuple[Any, str]]]]:
    """Workshops by theme, in the event's theme order, for the picker."""
    groups = []
    for theme in event.themes:
        items = [(w, event.workshop_title(w)) for w in event.workshops if w.theme == theme.id]
        if items:
            groups.append((theme.title, items))
    return groups


@with_link(*READERS)
async def editor(request: Request, live: Live, claims: Claims) -> Response:
    event = live.event
    token = request.query_params["k"]
    workshop = event.workshop(claims.workshop or "") if claims.role == "rapporteur" else None
    if workshop is None:
        chosen = event.workshop(request.query_params.get("w", "")) or (
            event.workshops[0] if event.workshops else None
        )
        if chosen is None:
            return not_found(request)
        return RedirectResponse(view_url(request, event.id, chosen.id, token), status_code=303)
    config = _editor_config(request, event, workshop.id, token)
    reports = _reports(event, workshop)
    screen = _screen_turns(event, workshop)
    if screen["steps"]:  # "on screen now / in N min" follows the live state
        config = {**config, "lang": lang_of(request), "screen": screen}
    if reports:  # the live socket's refusals come back in the page's language
        steps = _report_steps(event, workshop)
        config = {**config, "lang": lang_of(request), "reports": reports, "report_steps": steps}
    return render(
        request,
        "notes_edit.html",
        event=event,
        workshop=workshop,
        workshop_title=event.workshop_title(workshop),
        token=token,
        view_url=view_url(request, event.id, workshop.id, token),
        reports=reports,
        on_screen=bool(screen["steps"]),
        config=config,
        rollup=rollup_panel(request, event, workshop, token),  # folded: territories' proposals
    )


@with_link(*READERS)
async def viewer(request: Request, live: Live, claims: Claims) -> Response:
    event = live.event
    token = request.query_params["k"]
    picked = request.query_params.get("w")
    if picked and picked != request.path_params["workshop_id"] and event.workshop(picked):
        return RedirectResponse(view_url(request, event.id, picked, token), status_code=303)
    workshop = event.workshop(request.path_params["workshop_id"])
    if workshop is None:
        return not_found(request)
    return render(
        request,
        "notes_view.html",
        event=event,
        workshop=workshop,
        workshop_title=event.workshop_title(workshop),
        groups=_groups(event),
        token=token,
        config=_config(request, event, workshop.id, token, "notes-page"),
    )


@with_link(*COMMANDERS)
async def synthesis(request: Request, live: Live, claims: Claims) -> Response:
    fmt = cast(Format, request.query_params.get("format", "html"))
    if fmt not in FORMATS:
        formats = ", ".join(FORMATS)
        bad = RelaisError("bad_format", f"format must be one of: {formats}", formats=formats)
        return refused(request, bad)
    notes: NotesService = request.app.state.notes
    room = await request.app.state.participation.of(live.event)
    gathered = await notes.synthesis(live.event, room.state)
    try:  # rendered in a worker process, or kept from an earlier download (notes/exports.py)
        body = await request.app.state.exports.synthesis(gathered, fmt, lang_of(request))
    except (Busy, Failed) as exc:
        return worker_refused(request, exc)
    disposition = "inline" if fmt == "html" else "attachment"
    return Response(
        body,
        media_type=FORMATS[fmt],
        headers={
            "Content-Disposition": f'{disposition}; filename="synthese-{live.event.id}.{fmt}"'
        },
    )


@with_link("organizer")
async def erase_names(request: Request, live: Live, claims: Claims) -> Response:
    """Forget the names the notes credit (one workshop's, or all), then back to the desk."""
    form = await request.form(max_files=0)
    workshop = form.get("workshop")
    if isinstance(workshop, str) and workshop:
        if live.event.workshop(workshop) is None:
            return not_found(request)
    else:
        workshop = None
    notes: NotesService = request.app.state.notes
    await notes.erase_names(live.event.id, workshop)
    where = path(request, "organize", event_id=live.event.id)
    query = urlencode({"k": request.query_params["k"], "done": "erase_names"})
    return RedirectResponse(f"{where}?{query}", status_code=303)  # `org.done.erase_names`


routes: list[BaseRoute] = [
    Route("/e/{event_id}/notes", editor, name="notes"),
    Route("/e/{event_id}/notes/{workshop_id}", viewer, name="notes_view"),
    Route("/e/{event_id}/synthesis", synthesis, name="synthesis"),
    Route("/e/{event_id}/notes/names/erase", erase_names, methods=["POST"], name="notes_erase"),
]
