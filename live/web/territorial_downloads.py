"""The territorial space's downloads: its open data (CSV and JSON, Licence Ouverte 2.0,
the JSON Schema) and a territory's compiled synthesis (HTML or PDF, made in a worker
process and kept per publication state). Public and cached as the space's pages are
(`territorial.public`: ETag, `Cache-Control: public`)."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from live.consultation import exports
from live.consultation.space import Space
from live.errors import RelaisError
from live.participation.exports import LICENCE
from live.web import territorial_synthesis
from live.web.common import lang_of
from live.web.territorial import BASE, CACHE_CONTROL, KEPT_SYNTHESES, public, territory_filter
from live.web.urls import urls_of

# -- exports --------------------------------------------------------------------------------


def _export_name(space: Space, territory: str | None, ext: str) -> str:
    tail = f"-{territory}" if territory else ""
    return f"consultation-{space.consultation.id}{tail}.{ext}"


def _open_data_headers(name: str) -> dict[str, str]:
    return {
        "Content-Disposition": f'attachment; filename="{name}"',
        "Link": f'<{LICENCE["url"]}>; rel="license"',  # Licence Ouverte 2.0
    }


def _generated(space: Space) -> datetime:
    """When the data last changed (its latest publication): the same export for the same
    ETag. None published yet: the epoch."""
    stamps = [c.published for c in space.published.contributions.values()]
    return max(stamps, default=datetime(1970, 1, 1, tzinfo=UTC))


@public
async def data_csv(request: Request, space: Space) -> Response:
    territory = territory_filter(request, space)
    body = await asyncio.to_thread(exports.to_csv, space.published, territory)
    return Response(
        body.encode("utf-8"),
        media_type="text/csv; charset=utf-8; header=present",
        headers=_open_data_headers(_export_name(space, territory, "csv")),
    )


@public
async def data_json(request: Request, space: Space) -> Response:
    territory = territory_filter(request, space)
    schema = urls_of(request).url("consultation_schema")
    body = await asyncio.to_thread(
        exports.to_json, space.published, schema, _generated(space), territory
    )
    return Response(
        body.encode("utf-8"),
        media_type="application/json",
        headers=_open_data_headers(_export_name(space, territory, "json")),
    )


async def schema(request: Request) -> Response:
    response = JSONResponse(exports.DOCUMENT_SCHEMA, media_type="application/schema+json")
    response.headers["Cache-Control"] = CACHE_CONTROL
    return response


# -- the compiled synthesis of a territory --------------------------------------------------


class _Kept:
    """Compiled syntheses rendered, by (version, territory, format, language): the same
    publication state gives the same file, so a second reader costs a lookup."""

    def __init__(self, size: int = KEPT_SYNTHESES) -> None:
        self.size = size
        self.files: OrderedDict[tuple[str, ...], bytes] = OrderedDict()

    def get(self, key: tuple[str, ...]) -> bytes | None:
        found = self.files.get(key)
        if found is not None:
            self.files.move_to_end(key)
        return found

    def put(self, key: tuple[str, ...], body: bytes) -> None:
        self.files[key] = body
        while len(self.files) > self.size:
            self.files.popitem(last=False)


def _kept(request: Request) -> _Kept:
    state = request.app.state
    kept: _Kept | None = getattr(state, "territorial_syntheses", None)
    if kept is None:
        kept = state.territorial_syntheses = _Kept()
    return kept


async def _synthesis(request: Request, space: Space, fmt: territorial_synthesis.Format) -> Response:
    pub = space.published
    code = request.path_params["code"]
    if code not in pub.tree:
        raise RelaisError("not_found", f"unknown territory {code[:64]}")
    n = territorial_synthesis.size(pub, code)
    bound = (
        territorial_synthesis.MAX_PDF_PROPOSALS
        if fmt == "pdf"
        else territorial_synthesis.MAX_PROPOSALS
    )
    if n > bound:
        raise RelaisError(
            "space.synthesis_too_large", f"{n} proposals, over {bound}", n=n, max=bound
        )
    lang = lang_of(request)
    key = (pub.version, code, fmt, lang)
    body = _kept(request).get(key)
    if body is None:
        data = territorial_synthesis.gather(pub, code)
        workers = request.app.state.exports.workers  # the synthesis exports' processes
        body = await workers.run(territorial_synthesis.render, data, fmt, lang)
        _kept(request).put(key, body)
    disposition = "inline" if fmt == "html" else "attachment"
    name = f"synthese-{space.consultation.id}-{code}.{fmt}"
    return Response(
        body,
        media_type=territorial_synthesis.MEDIA[fmt],
        headers={"Content-Disposition": f'{disposition}; filename="{name}"'},
    )


@public
async def synthesis_html(request: Request, space: Space) -> Response:
    return await _synthesis(request, space, "html")


@public
async def synthesis_pdf(request: Request, space: Space) -> Response:
    return await _synthesis(request, space, "pdf")


routes: list[BaseRoute] = [
    Route(BASE + "/t/{code}/synthese.html", synthesis_html, name="territorial_synthesis_html"),
    Route(BASE + "/t/{code}/synthese.pdf", synthesis_pdf, name="territorial_synthesis_pdf"),
    Route(BASE + "/donnees.csv", data_csv, name="territorial_csv"),
    Route(BASE + "/donnees.json", data_json, name="territorial_json"),
    Route("/schemas/consultation.json", schema, name="consultation_schema"),
]
