"""An event's proposals as open data (issue 22), and the schema that documents them.

- `GET /e/{event}/participation.csv?k=` and `/e/{event}/participation.json?k=` — the
  organizer's link: the export is published by whoever runs the event, once its
  moderation is done (hidden proposals keep their row, without their text). The CSV is
  comma-separated UTF-8 without a BOM, the JSON `participation.document`'s shape;
  both under Licence Ouverte 2.0 (`exports.LICENCE`), nothing personal in them.
- `GET /schemas/participation.json` — the JSON Schema of the JSON export (also in
  docs/participation-schema.json), public: the export names it by its address.

The participation is read as the event's room holds it (`app.state.participation`).
"""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from live.agenda.live import Live
from live.links.signing import Claims
from live.participation import exports
from live.participation.service import ParticipationService
from live.web.common import with_link
from live.web.urls import urls_of


def _attachment(name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{name}"'}


@with_link("organizer")
async def participation_csv(request: Request, live: Live, claims: Claims) -> Response:
    service: ParticipationService = request.app.state.participation
    room = await service.of(live.event)
    body = exports.to_csv(room.state, live.event)
    return Response(
        body.encode("utf-8"),
        media_type="text/csv; charset=utf-8; header=present",
        headers=_attachment(f"participation-{live.event.id}.csv"),
    )


@with_link("organizer")
async def participation_json(request: Request, live: Live, claims: Claims) -> Response:
    service: ParticipationService = request.app.state.participation
    room = await service.of(live.event)
    schema = urls_of(request).url("participation_schema")
    body = exports.to_json(room.state, live.event, schema, datetime.now(UTC))
    return Response(
        body.encode("utf-8"),
        media_type="application/json",
        headers=_attachment(f"participation-{live.event.id}.json"),
    )


async def schema(request: Request) -> Response:
    return JSONResponse(exports.DOCUMENT_SCHEMA, media_type="application/schema+json")


routes: list[BaseRoute] = [
    Route("/e/{event_id}/participation.csv", participation_csv, name="participation_csv"),
    Route("/e/{event_id}/participation.json", participation_json, name="participation_json"),
    Route("/schemas/participation.json", schema, name="participation_schema"),
]
