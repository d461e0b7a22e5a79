"""The studio's pages: an organizer builds and changes an event in the browser, never in a
terminal (the administration's pages are `web/admin.py`).

- `/studio/new?k=ADMIN`: a new event from a model (the demo days) or blank, or from a YAML
  file.
- `/e/{event}/studio?k=ORGANIZER` (or the admin link): the event's form; saving validates
  it with the model (`validate.check`), shows each problem next to its field, and stores
  and serves the event at once (`Catalogue.replace`); YAML import and export beside it.

Every route needs its link in `?k=`, on POSTs too (the signed token in the address is what
a cross-site form cannot know). An admin link is never an event's link (`links.Signer`):
creating and deleting need it; editing takes the event's organizer link, or it.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
from collections.abc import Sequence
from datetime import date
from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from live.agenda.catalogue import Catalogue, NotStored
from live.agenda.live import Live
from live.event_checks import Problem
from live.event_file import DefinitionError
from live.i18n import translator
from live.links.kept import ADMIN_SLOT, account_slot
from live.links.signing import Claims, LinkError
from live.model import Event
from live.studio import forms, ids, validate
from live.studio.yaml_io import MODELS, event_data, export, model_data
from live.web.admin import admin_claims, admin_only, done_message, redirect
from live.web.admin import token as _token
from live.web.common import claims_for, lang_of, not_found, render, with_claims
from live.web.signed import signed_in
from live.web.urls import urls_of

MAX_UPLOAD = 2 * 1024 * 1024  # an event file; the route's body limit is RELAIS_MAX_IMPORT_BYTES
MAX_FIELDS = 20_000  # inputs in the studio's form (a seven-site day has about 500)
STUDIO_DONE = ("saved", "created", "imported")


# -- who may ------------------------------------------------------------------------------


async def editor_claims(request: Request, live: Live) -> Claims:
    """The event's organizer link, or the instance's admin link, or (no link in the
    address) the session of an account that runs this event (`person` is its address);
    LinkError otherwise (the event link's reason, unless the token is an admin link that
    failed for its own); CrossSite for another site's POST with the session cookie."""
    if "k" not in request.query_params:
        who = await signed_in(request)
        if who is not None and who.access.may_run(live.definition, request.app.state.within):
            return Claims(
                event=live.definition.id,
                role="organizer",
                person=who.email,
                expires=int(who.session.expires),
            )
    try:
        return await claims_for(request, live, {"organizer"})
    except LinkError as exc:
        if exc.code != "link_invalid":
            raise
        try:
            return await admin_claims(request)
        except LinkError as admin_exc:
            if admin_exc.code == "link_invalid":
                raise exc from None
            raise


editor = with_claims(editor_claims)  # the event's organizer link, or the admin link


# -- shared helpers -----------------------------------------------------------------------


def _catalogue(request: Request) -> Catalogue:
    catalogue: Catalogue = request.app.state.catalogue
    return catalogue


def _rev(event: Event) -> str:
    """The definition the form was made from: a save over a changed one is refused."""
    return hashlib.sha256(export(event).encode()).hexdigest()[:16]


async def _read_upload(request: Request) -> tuple[str, str] | str:
    """(file name, text) of the uploaded event file, or the key of what is wrong with it."""
    form = await request.form(max_files=1)
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return "studio.import_no_file"
    data = await upload.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        return "studio.import_too_big"
    try:
        return upload.filename, data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return "studio.import_encoding"


# -- the studio ---------------------------------------------------------------------------


def _options(raw: forms.Raw) -> dict[str, list[tuple[str, str]]]:
    """What the selects offer, from the rows as typed (those with an id): the sites, the
    themes, and the workshops steps (a workshop's round)."""
    sites = [(r["id"].strip(), r["name"].strip()) for r in raw["sites"] if r["id"].strip()]
    themes = [(r["id"].strip(), r["title"].strip()) for r in raw["themes"] if r["id"].strip()]
    rounds = [
        (r["id"].strip(), r["title"].strip())
        for r in raw["agenda"]
        if r["id"].strip() and r["kind"] == "workshops"
    ]
    return {"sites": sites, "themes": themes, "rounds": rounds}


async def _nav(request: Request, live: Live, claims: Claims) -> list[tuple[str, str]]:
    """Where the organizer goes from the studio: the desk, the links sheet (console and
    screen links), the console, the public page. An admin is given the organizer link kept
    for admins on the links sheet (`kept.ADMIN_SLOT`): listed, revocable, and revoked
    with the admin links, never a fresh one that nobody could see or revoke."""
    event_id = live.definition.id
    t = translator(lang_of(request))
    urls = urls_of(request)
    public = (t("studio.nav.public"), urls.link(event_id, "public"))
    token = _token(request)
    if claims.person and not token:  # a signed-in account: the link kept for it
        state = request.app.state
        revoked = await state.links.revocations.of(event_id)
        token = await state.kept_links.kept(live.event, account_slot(claims.person), revoked)
    elif claims.role == "admin":
        state = request.app.state
        revoked = await state.links.revocations.of(event_id)
        token = await state.kept_links.kept(live.event, ADMIN_SLOT, revoked)
        try:  # checked again after: admin links revoked meanwhile hand out nothing more
            await admin_claims(request)
        except LinkError:
            return [public]
    return [
        (t("studio.nav.links"), urls.path("links", event_id=event_id, k=token)),
        (t("studio.nav.desk"), urls.link(event_id, "organizer", token)),
        (t("console"), urls.link(event_id, "facilitator", token)),
        public,
    ]


async def _studio(
    request: Request, live: Live, claims: Claims, raw: forms.Raw, **options: Any
) -> Response:
    """The studio's page, rendered in a thread: a seven-site day is 200 KB of form, tens
    of milliseconds of Jinja the event loop does not wait for."""
    nav = await _nav(request, live, claims)
    page = functools.partial(_render_studio, request, live, claims, raw, nav, **options)
    return await asyncio.to_thread(page)


def _render_studio(
    request: Request,
    live: Live,
    claims: Claims,
    raw: forms.Raw,
    nav: list[tuple[str, str]],
    *,
    status: int = 200,
    archived: bool = False,
    errors: Sequence[Problem] = (),
    warnings: Sequence[Problem] = (),
    top: Sequence[str] = (),
    lines: Sequence[str] = (),
    focus: str = "",
    rev: str | None = None,
) -> Response:
    lang = lang_of(request)
    t = translator(lang)
    refer = forms.labeller(t)

    def say(problem: Problem) -> str:
        return validate.reason(problem, lang, refer)

    placed = forms.place_errors(list(errors), raw, say)
    return render(
        request,
        "studio.html",
        status=status,
        event_id=live.definition.id,
        token=_token(request),
        raw=raw,
        errors=placed,
        warnings=forms.place_errors(list(warnings), raw, say),
        summary=forms.summary(placed, t),
        top=list(top),
        lines=list(lines),
        done="" if errors or top or lines else done_message(request, STUDIO_DONE, "studio.done"),
        archived=archived,
        options=_options(raw),
        kinds=KINDS,
        blank_rows={s: forms.blank_row(s) for s in forms.ROWS},
        extra_keys=forms.extra_keys,
        focus=focus,
        rev=rev or _rev(live.definition),
        nav=nav,
        admin=claims.role == "admin",
        territory_options=_territory_options(request),
    )


def _territory_options(request: Request) -> list[tuple[str, str]]:
    """The codes the territory field suggests, with their names (a datalist)."""
    return [(t.code, t.name) for t in request.app.state.territories.all()]


KINDS = (
    "welcome", "plenary", "round_table", "workshops", "break", "restitution", "synthesis",
    "closing", "custom",
)  # fmt: skip


def _not_stored(request: Request, refused: NotStored) -> str:
    """Why a definition was not put in place, in the page's language."""
    t = translator(lang_of(request))
    if refused.code == "step_running":
        return t("studio.step_running").format(n=refused.params["step"])
    if refused.code == "other_event":
        return t("studio.import_other_event").format(
            file=refused.params["found"], event=request.path_params["event_id"]
        )
    return t("studio.archived_readonly")


@editor
async def studio(request: Request, live: Live, claims: Claims) -> Response:
    """The event's form, as its definition says now (warnings next to their fields)."""
    event = live.definition
    raw = await asyncio.to_thread(lambda: forms.from_data(event_data(event)))
    archived = await _catalogue(request).archive.holds(event.id)
    warnings = validate.warned(event)
    return await _studio(request, live, claims, raw, archived=archived, warnings=warnings)


@editor
async def save(request: Request, live: Live, claims: Claims) -> Response:
    """Validate the form with the model; store and serve it, or show each problem at its
    field with what was typed. A row added, removed or moved without script is a post too
    (`op`): the form comes back changed, nothing is stored."""
    form = await request.form(max_files=0, max_fields=MAX_FIELDS)
    raw = forms.parse(form.multi_items())
    op = str(form.get("op") or "save")
    t = translator(lang_of(request))
    catalogue = _catalogue(request)
    archived = await catalogue.archive.holds(live.definition.id)
    rev = str(form.get("_rev") or "")
    if op != "save":
        focus = forms.first_input(forms.apply_op(raw, op) or "")
        return await _studio(request, live, claims, raw, archived=archived, focus=focus, rev=rev)
    if archived:  # said before the form's problems (`Catalogue.replace` refuses it too)
        top = [t("studio.archived_readonly")]
        return await _studio(
            request, live, claims, raw, status=409, archived=True, top=top, rev=rev
        )
    if rev != await asyncio.to_thread(_rev, live.definition):
        top = [t("studio.changed_meanwhile")]
        return await _studio(request, live, claims, raw, status=409, top=top, rev=rev)
    event, problems = validate.check(forms.to_data(raw, live.definition.id))
    problems = forms.derived_first(problems)
    if event is None:
        return await _studio(request, live, claims, raw, status=422, errors=problems, rev=rev)
    text = await asyncio.to_thread(export, event)
    try:
        await catalogue.replace(event.id, text, f"{event.id}.yaml")
    except DefinitionError as exc:  # the canonical text re-read: never expected
        lines = validate.file_lines(exc.found, lang_of(request))
        return await _studio(request, live, claims, raw, status=422, lines=lines, rev=rev)
    except NotStored as exc:
        if exc.code == "unknown_event":  # deleted meanwhile
            return not_found(request)
        top = [_not_stored(request, exc)]
        return await _studio(request, live, claims, raw, status=409, top=top, rev=rev)
    return redirect(request, "studio", "saved", event_id=event.id)


@editor
async def import_yaml(request: Request, live: Live, claims: Claims) -> Response:
    """Replace the event with a YAML file (validated as `relais import` does, with the
    same `file:line: field: reason` lines, in the page's language, when it is refused).
    The file is kept as it is."""
    t = translator(lang_of(request))
    event = live.definition

    async def refused(status: int, lines: Sequence[str] = (), top: Sequence[str] = ()) -> Response:
        """The studio again, with the file's problems (`lines`, as `relais import` prints
        them) or a sentence (`top`), in the page's language."""
        raw = await asyncio.to_thread(lambda: forms.from_data(event_data(event)))
        return await _studio(request, live, claims, raw, status=status, lines=lines, top=top)

    catalogue = _catalogue(request)
    if await catalogue.archive.holds(event.id):  # said before the file's problems
        return await refused(409, top=[t("studio.archived_readonly")])
    upload = await _read_upload(request)
    if isinstance(upload, str):
        return await refused(413 if upload.endswith("too_big") else 422, top=[t(upload)])
    name, text = upload
    try:
        await catalogue.replace(event.id, text, name)
    except DefinitionError as exc:
        return await refused(422, lines=validate.file_lines(exc.found, lang_of(request)))
    except NotStored as exc:
        if exc.code == "unknown_event":  # deleted meanwhile
            return not_found(request)
        return await refused(
            422 if exc.code == "other_event" else 409, top=[_not_stored(request, exc)]
        )
    return redirect(request, "studio", "imported", event_id=event.id)


@editor
async def export_yaml(request: Request, live: Live, claims: Claims) -> Response:
    """The event as canonical YAML, to keep, send or import elsewhere."""
    event = live.definition
    disposition = f'attachment; filename="{event.id}.yaml"'
    return Response(
        await asyncio.to_thread(export, event),
        media_type="application/yaml; charset=utf-8",
        headers={"Content-Disposition": disposition},
    )


# -- a new event --------------------------------------------------------------------------


def _new(
    request: Request,
    values: dict[str, str],
    *,
    status: int = 200,
    errors: dict[str, list[str]] | None = None,
    lines: Sequence[str] = (),
    top: Sequence[str] = (),
) -> Response:
    """The new-event page; `lines` are a refused file's problems as `relais import` prints
    them, `top` sentences, both in the page's language."""
    return render(
        request,
        "studio_new.html",
        status=status,
        token=_token(request),
        values=values,
        errors=errors or {},
        lines=list(lines),
        top=list(top),
        models=list(MODELS),
    )


@admin_only
async def new_event(request: Request, claims: Claims) -> Response:
    """GET: the form (model, id, title, date). POST: the event, stored and served at once;
    then its studio."""
    if request.method == "GET":
        return _new(request, {"model": "ariege", "date": date.today().isoformat()})
    lang = lang_of(request)
    t = translator(lang)
    form = await request.form(max_files=0)
    values = {k: str(form.get(k) or "").strip() for k in ("model", "id", "title", "date")}
    model = values["model"] if values["model"] in MODELS else "blank"
    data = await asyncio.to_thread(model_data, model, t)
    data["title"] = values["title"] or (data.get("title") or t("studio.blank_title"))
    if values["date"]:
        data["date"] = values["date"]
    else:
        data.pop("date", None)
    catalogue = _catalogue(request)
    taken = await catalogue.taken_ids()
    data["id"] = values["id"] or ids.event_id(values["title"], values["date"], model, taken)
    values["id"] = data["id"]
    errors: dict[str, list[str]] = {}  # place -> sentences, in the page's language
    if data["id"] in taken:
        errors["id"] = [t("studio.id_taken")]
    event, problems = validate.check(data)
    for problem in problems:
        where = str(problem.loc[0]) if problem.loc else ""
        place = where if where in ("id", "title", "date") else "model"
        errors.setdefault(place, []).append(validate.reason(problem, lang, forms.labeller(t)))
    if errors or event is None:
        return _new(request, values, status=422, errors=errors)
    try:
        await catalogue.create(await asyncio.to_thread(export, event), f"{event.id}.yaml")
    except NotStored:  # taken meanwhile
        return _new(request, values, status=422, errors={"id": [t("studio.id_taken")]})
    return redirect(request, "studio", "created", event_id=event.id)


@admin_only
async def import_new(request: Request, claims: Claims) -> Response:
    """A new event from a YAML file, refused as `relais import` refuses it (same lines)."""
    t = translator(lang_of(request))
    values = {"model": "ariege", "date": date.today().isoformat()}
    upload = await _read_upload(request)
    if isinstance(upload, str):
        return _new(request, values, status=413 if "too_big" in upload else 422, top=[t(upload)])
    name, text = upload
    try:
        event = await _catalogue(request).create(text, name)
    except DefinitionError as exc:
        lines = validate.file_lines(exc.found, lang_of(request))
        return _new(request, values, status=422, lines=lines)
    except NotStored as exc:
        taken = t("studio.import_exists").format(event=exc.params["event"])
        return _new(request, values, status=409, top=[taken])
    return redirect(request, "studio", "imported", event_id=event.id)


# The administration's routes are listed here too until app.py lists `admin.routes`.
routes = [
    Route("/studio/new", new_event, methods=["GET", "POST"], name="studio_new"),
    Route("/studio/import", import_new, methods=["POST"], name="studio_import_new"),
    Route("/e/{event_id}/studio", studio, name="studio"),
    Route("/e/{event_id}/studio", save, methods=["POST"], name="studio_save"),
    Route("/e/{event_id}/studio/import", import_yaml, methods=["POST"], name="studio_import"),
    Route("/e/{event_id}/studio/export", export_yaml, name="studio_export"),
]

# Routes whose bodies may be as large as an event file (the rest: RELAIS_MAX_FORM_BYTES).
LARGE_BODIES = ("/e/{event_id}/studio", "/e/{event_id}/studio/import", "/studio/import")
