"""Consultations in the studio: the list, and one consultation's form (issue 24).

- `/admin/consultations`: the consultations this person may edit, and a new one.
- `/admin/consultations/new`, `/admin/consultations/{id}`: the form — id (fixed once
  created), title, root territory (a select of the reference tree), themes and subjects
  (YAML, or copied from a served event), local territories (`loc-code; name; parent` per
  line) and the served events that belong (each in its own territory, `Event.territory`;
  an event without one cannot be added). Saving validates it with the model
  (`Consultation`) and shows each problem at its field, nothing stored; else it is stored
  (`Contributions.put_consultation`) and this process's space reread (`Spaces.reload`).

Who: an administrator (the admin link `?k=`, or an administrator's session), or a signed-in
organizer whose territory covers the consultation's root (its old one and its new one). A
cookie's POST from another site's page is refused (`signed.signed_in`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import yaml
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from live.agenda.catalogue import Catalogue
from live.consultation.model import Consultation, listed_elsewhere
from live.consultation.space import Spaces
from live.errors import RelaisError
from live.i18n import translator
from live.links.signing import LinkError
from live.model import Event, Theme
from live.territories import Territories
from live.web.admin import admin_claims
from live.web.common import lang_of, link_error, not_found, refused, render
from live.web.signed import CrossSite, signed_in

MAX_FIELDS = 5_000  # a consultation's form: ~300 events' checkboxes and a few texts
MAX_YAML = 200_000  # the themes' YAML (five themes and their subjects: 2 KB)
FIELDS = ("id", "title", "territory", "themes", "locals", "events")
RESERVED = frozenset({"new"})  # `/admin/consultations/new` is the new one's form


@dataclass(frozen=True)
class Editor:
    """Who edits: an administrator (every consultation), or an organizer of `territories`
    (the consultations whose root is within one of them). `token`: the admin link the
    pages carry on (empty for a session)."""

    admin: bool
    territories: tuple[str, ...]
    token: str

    def covers(self, root: str, within: Any) -> bool:
        return self.admin or any(within(root, t) for t in self.territories)


async def _editor(request: Request) -> Editor:
    """The admin link or session, else a signed-in organizer with a territory; LinkError
    otherwise (CrossSite, a LinkError, for another site's POST with the cookie)."""
    if "k" not in request.query_params:
        who = await signed_in(request)
        if who is not None and not who.access.is_admin:
            mine = tuple(g.territory for g in who.access.grants if g.territory)
            if mine:
                return Editor(admin=False, territories=mine, token="")
    await admin_claims(request)
    return Editor(admin=True, territories=(), token=request.query_params.get("k", ""))


def _spaces(request: Request) -> Spaces:
    spaces: Spaces = request.app.state.spaces
    return spaces


def _served(request: Request) -> list[Event]:
    catalogue: Catalogue = request.app.state.catalogue
    events = [v.definition for v in catalogue.events.values()]
    return sorted(events, key=lambda e: (e.date, e.id))


async def _guard(request: Request) -> Editor | Response:
    try:
        return await _editor(request)
    except CrossSite as exc:
        return refused(request, exc, status=403)
    except LinkError as exc:
        return link_error(request, exc)


def _forbidden(request: Request) -> Response:
    return refused(
        request, RelaisError("consult.forbidden", "not a territory of yours"), status=403
    )


# -- the list -----------------------------------------------------------------------------


async def listing(request: Request) -> Response:
    who = await _guard(request)
    if isinstance(who, Response):
        return who
    within = request.app.state.within
    tree: Territories = request.app.state.territories
    rows = []
    for space in sorted(_spaces(request).spaces.values(), key=lambda s: s.consultation.id):
        c = space.consultation
        if not who.covers(c.territory, within):
            continue
        root = tree.get(c.territory)
        rows.append(
            {
                "id": c.id,
                "title": c.title,
                "root": root.name if root else c.territory,
                "events": len(c.events),
                "published": len(space.contributions),
            }
        )
    return render(
        request,
        "consultations.html",
        token=who.token,
        rows=rows,
        done=_done(request),
    )


def _done(request: Request) -> str:
    done = request.query_params.get("done", "")
    return translator(lang_of(request))(f"consult.done.{done}") if done in ("saved",) else ""


# -- the form -----------------------------------------------------------------------------


def _themes_yaml(themes: Iterable[Theme]) -> str:
    data = [t.model_dump(mode="json") for t in themes]
    if not data:
        return ""
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)


def _locals_text(c: Consultation) -> str:
    return "\n".join(f"{t.code}; {t.name}; {t.parent}" for t in c.locals)


def _values(c: Consultation | None) -> dict[str, Any]:
    if c is None:
        return {"id": "", "title": "", "territory": "fr", "themes": "", "locals": "", "events": []}
    return {
        "id": c.id,
        "title": c.title,
        "territory": c.territory,
        "themes": _themes_yaml(c.themes),
        "locals": _locals_text(c),
        "events": [p.event for p in c.events],
    }


def _roots(request: Request, who: Editor) -> list[dict[str, Any]]:
    """The territories a consultation may have as its root (the reference tree, or for an
    organizer the part of it they cover), indented by level."""
    tree: Territories = request.app.state.territories
    depth = {"national": 0, "region": 1, "academie": 2, "departement": 3}
    out = []
    for t in tree.all():
        if t.level not in depth or not who.covers(t.code, tree.within):
            continue
        out.append({"code": t.code, "label": "\u2003" * depth[t.level] + t.name})
    return out


def _event_rows(request: Request, chosen: Iterable[str]) -> list[dict[str, Any]]:
    tree: Territories = request.app.state.territories
    picked = set(chosen)
    rows = []
    for e in _served(request):
        where = tree.get(e.territory) if e.territory else None
        rows.append(
            {
                "id": e.id,
                "title": e.title,
                "date": e.date.strftime("%d/%m/%Y"),
                "territory": e.territory or "",
                "territory_name": where.name if where else (e.territory or ""),
                "checked": e.id in picked,
                "placeable": bool(e.territory),
            }
        )
    return rows


def _page(
    request: Request,
    who: Editor,
    existing: Consultation | None,
    values: dict[str, Any],
    errors: dict[str, list[str]] | None = None,
    status: int = 200,
) -> Response:
    return render(
        request,
        "consultation_edit.html",
        status=status,
        token=who.token,
        existing=existing,
        values=values,
        errors=errors or {},
        roots=_roots(request, who),
        events=_event_rows(request, values["events"]),
        models=[(e.id, e.title) for e in _served(request) if e.themes],
        done=_done(request),
    )


class _Problems:
    """The form's problems, by field, in the page's language."""

    def __init__(self, request: Request) -> None:
        self.t = translator(lang_of(request))
        self.by_field: dict[str, list[str]] = {}

    def add(self, field: str, key: str, **params: Any) -> None:
        self.by_field.setdefault(field, []).append(self.t(key).format(**params))

    def __bool__(self) -> bool:
        return bool(self.by_field)


def _parse_themes(text: str, copy_from: str, request: Request, problems: _Problems) -> Any:
    if copy_from:
        served = {e.id: e for e in _served(request)}
        model = served.get(copy_from)
        if model is None:
            problems.add("themes", "consult.error.unknown_model", event=copy_from)
            return []
        return [t.model_dump(mode="json") for t in model.themes]
    if len(text) > MAX_YAML:
        problems.add("themes", "consult.error.too_long")
        return []
    if not text.strip():
        return []
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 0
        problems.add("themes", "consult.error.yaml", line=line)
        return []
    if not isinstance(data, list):
        problems.add("themes", "consult.error.themes_list")
        return []
    return data


def _parse_locals(text: str, problems: _Problems) -> list[dict[str, str]]:
    out = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split(";")]
        if len(parts) != 3 or not all(parts):
            problems.add("locals", "consult.error.local_line", line=n)
            continue
        out.append({"code": parts[0], "name": parts[1], "parent": parts[2]})
    return out


def _places(
    request: Request, chosen: list[str], root: str, locals: list[dict[str, str]], p: _Problems
) -> list[dict[str, str]]:
    """Each chosen event in its own territory; refused: one not served, one without a
    territory, one outside the consultation's root."""
    served = {e.id: e for e in _served(request)}
    tree: Territories = request.app.state.territories
    local_codes = {loc["code"]: loc["parent"] for loc in locals}
    out = []
    for event_id in chosen:
        e = served.get(event_id)
        if e is None:
            p.add("events", "consult.error.unknown_event", event=event_id)
            continue
        if not e.territory:
            p.add("events", "consult.error.no_territory", event=e.id)
            continue
        where, seen = e.territory, set()
        while where in local_codes and where not in seen:  # a local: judged by its parent
            seen.add(where)
            where = local_codes[where]
        if where not in tree or root not in tree or not tree.within(where, root):
            p.add("events", "consult.error.outside", event=e.id, territory=e.territory)
            continue
        out.append({"event": e.id, "territory": e.territory})
    return out


def _validation(exc: ValidationError, p: _Problems) -> None:
    for error in exc.errors():
        loc = error.get("loc", ())
        field = str(loc[0]) if loc and loc[0] in FIELDS else "model"
        where = ".".join(str(part) for part in loc[1:])
        p.add(field, "consult.error.invalid", where=where or field, detail=error.get("msg", ""))


async def edit(request: Request) -> Response:
    """GET: the form (an existing consultation's, or a new one's). POST: validate, store,
    reread; or the form again with its problems, nothing stored."""
    who = await _guard(request)
    if isinstance(who, Response):
        return who
    within = request.app.state.within
    wanted = request.path_params.get("consultation_id")
    existing = None
    if wanted is not None:
        existing = await _spaces(request).store.consultation(wanted)
        if existing is None:
            return not_found(request)
        if not who.covers(existing.territory, within):
            return _forbidden(request)
    if request.method == "GET":
        return _page(request, who, existing, _values(existing))

    form = await request.form(max_files=0, max_fields=MAX_FIELDS)
    text = {k: str(form.get(k) or "") for k in ("id", "title", "territory", "themes", "locals")}
    values: dict[str, Any] = {
        **text,
        "id": existing.id if existing else text["id"].strip(),
        "events": [str(v) for v in form.getlist("events")],
    }
    problems = _Problems(request)
    root = values["territory"].strip()
    if root not in request.app.state.territories or not who.covers(root, within):
        problems.add("territory", "consult.error.root")
    if existing is None:
        if values["id"] in RESERVED:
            problems.add("id", "consult.error.reserved", id=values["id"])
        elif await _spaces(request).store.consultation(values["id"]) is not None:
            problems.add("id", "consult.error.taken", id=values["id"])
    themes = _parse_themes(text["themes"], str(form.get("copy_themes") or ""), request, problems)
    if form.get("copy_themes"):
        values["themes"] = yaml.safe_dump(themes, allow_unicode=True, sort_keys=False)
    locals = _parse_locals(text["locals"], problems)
    places = _places(request, values["events"], root, locals, problems)
    consultation = None
    try:
        consultation = Consultation.model_validate(
            {
                "id": values["id"],
                "title": values["title"].strip(),
                "territory": root,
                "themes": themes,
                "locals": locals,
                "events": places,
            }
        )
        consultation.territories()  # the local territories hang on the tree
    except ValidationError as exc:
        _validation(exc, problems)
    except RelaisError as exc:  # TerritoryError: a local territory's parent, a cycle
        problems.add("locals", "consult.error.local_tree", detail=exc.message)
    if consultation is not None:
        others = await _spaces(request).store.consultations()
        for event_id, other in listed_elsewhere(consultation, others).items():
            problems.add("events", "consult.error.elsewhere", event=event_id, other=other)
    if problems or consultation is None:
        return _page(request, who, existing, values, problems.by_field, status=422)
    spaces = _spaces(request)
    await spaces.store.put_consultation(consultation)
    await spaces.reload(consultation.id)
    where = request.app.url_path_for("consultation", consultation_id=consultation.id)
    query = {"done": "saved"} | ({"k": who.token} if who.token else {})
    return RedirectResponse(f"{where}?{urlencode(query)}", status_code=303)


routes: list[BaseRoute] = [
    Route("/admin/consultations", listing, name="consultations"),
    Route("/admin/consultations/new", edit, methods=["GET", "POST"], name="consultation_new"),
    Route(
        "/admin/consultations/{consultation_id}",
        edit,
        methods=["GET", "POST"],
        name="consultation",
    ),
]
