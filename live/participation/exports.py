"""An event's proposals as open data: one row per proposal, as CSV or JSON objects, with
the JSON Schema that documents them (`SCHEMA`, the rows; `DOCUMENT_SCHEMA`, the JSON
export as a whole, `document`: the schema's address, the licence, the event, the rows;
published as docs/participation-schema.json). Licence Ouverte 2.0 (`LICENCE`).

The CSV is comma-separated UTF-8 without a byte order mark (RFC 4180): the open-data
form that csv readers, data.gouv.fr's tools and spreadsheets' CSV import read as is (a
BOM would become part of the first column's name for most of them). The organizer's own
spreadsheets (web/organize_exports.py) are the `;`-separated, BOM-marked kind.

Nothing personal goes out: no person key, no name, no count of who wrote what. Counts
are the visible ones (hidden arguments are not counted), a merged proposal hands its
supports and arguments to the one it joined (so the supports of all rows add up to the
distinct supports given), and a hidden proposal keeps its row without its text.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from typing import Any

from live.model import Event
from live.participation.state import STANCES, Participation, Proposal

COLUMNS: tuple[str, ...] = (
    "event",
    "workshop",
    "theme",
    "subject",
    "proposal",
    "title",
    "body",
    "status",
    "retained",
    "supports",
    "arguments_pour",
    "arguments_contre",
    "arguments_nuance",
    "merged_into",
    "created",
)

_TEXT = {"type": "string"}
_COUNT = {"type": "integer", "minimum": 0}

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Relais — les propositions d'un événement",
    "description": (
        "One object per proposal made in a workshop of the event. No personal data: "
        "supports and arguments are counts. A merged proposal's supports and arguments "
        "are counted in the one named by merged_into; a hidden proposal has no text."
    ),
    "type": "array",
    "items": {
        "type": "object",
        "additionalProperties": False,
        "required": list(COLUMNS),
        "properties": {
            "event": {**_TEXT, "description": "the event's id"},
            "workshop": {**_TEXT, "description": "the workshop's id"},
            "theme": {**_TEXT, "description": "the workshop's theme id ('' if none)"},
            "subject": {**_TEXT, "description": "the theme's subject (a slug), or ''"},
            "proposal": {**_TEXT, "description": "the proposal's id in the event"},
            "title": {**_TEXT, "maxLength": 120, "description": "'' when hidden"},
            "body": {**_TEXT, "maxLength": 1000, "description": "'' when hidden"},
            "status": {"enum": ["open", "hidden", "merged"]},
            "retained": {"type": "boolean", "description": "retenue pour la restitution"},
            "supports": {**_COUNT, "description": "distinct persons supporting it"},
            "arguments_pour": {**_COUNT, "description": "visible arguments for"},
            "arguments_contre": {**_COUNT, "description": "visible arguments against"},
            "arguments_nuance": {**_COUNT, "description": "visible nuanced arguments"},
            "merged_into": {
                "type": ["string", "null"],
                "description": "the proposal it was merged into (CSV: empty)",
            },
            "created": {
                "type": "string",
                "format": "date-time",
                "description": "when it was proposed, in the event's time zone",
            },
        },
    },
}


LICENCE: dict[str, str] = {
    "name": "Licence Ouverte / Open Licence version 2.0",
    "id": "etalab-2.0",  # its SPDX identifier
    "url": "https://www.etalab.gouv.fr/licence-ouverte-open-licence/",
}


def _object(properties: dict[str, Any], description: str = "") -> dict[str, Any]:
    """An object with exactly these properties, all required."""
    out = {
        "type": "object",
        "additionalProperties": False,
        "required": list(properties),
        "properties": properties,
    }
    return {**out, "description": description} if description else out


_NAMED = _object({"id": _TEXT, "title": _TEXT})

DOCUMENT_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Relais — les propositions d'un événement, en données ouvertes",
    "description": (
        "What GET /e/{event}/participation.json gives: the event (its themes with their "
        "subjects, its sites, its workshops) and one object per proposal (see proposals). "
        "No personal data. Licence Ouverte / Open Licence 2.0 (Etalab)."
    ),
    **_object(
        {
            "schema": {"type": "string", "format": "uri", "description": "this schema"},
            "licence": _object(
                {
                    "name": {"const": LICENCE["name"]},
                    "id": {"const": LICENCE["id"], "description": "SPDX identifier"},
                    "url": {"const": LICENCE["url"]},
                }
            ),
            "generated": {
                "type": "string",
                "format": "date-time",
                "description": "when the export was made (UTC): the proposals as they stood",
            },
            "event": _object(
                {
                    "id": _TEXT,
                    "title": _TEXT,
                    "date": {"type": "string", "format": "date"},
                    "timezone": {**_TEXT, "description": "IANA time zone of its times"},
                    "themes": {
                        "type": "array",
                        "items": _object(
                            {
                                "id": _TEXT,
                                "title": _TEXT,
                                "subjects": {"type": "array", "items": _NAMED},
                            }
                        ),
                    },
                    "sites": {"type": "array", "items": _object({"id": _TEXT, "name": _TEXT})},
                    "workshops": {
                        "type": "array",
                        "items": _object(
                            {"id": _TEXT, "title": _TEXT, "theme": _TEXT, "site": _TEXT}
                        ),
                    },
                }
            ),
            "proposals": {
                "type": "array",
                "description": SCHEMA["description"],
                "items": SCHEMA["items"],
            },
        }
    ),
}


def event_info(event: Event) -> dict[str, Any]:
    """What the open data says of the event: what the proposals refer to, nobody in it
    (no rapporteur, speaker or presenter)."""
    return {
        "id": event.id,
        "title": event.title,
        "date": event.date.isoformat(),
        "timezone": event.timezone,
        "themes": [
            {
                "id": t.id,
                "title": t.title,
                "subjects": [{"id": s.id, "title": s.title} for s in t.subjects],
            }
            for t in event.themes
        ],
        "sites": [{"id": s.id, "name": s.name} for s in event.sites],
        "workshops": [
            {"id": w.id, "title": event.workshop_title(w), "theme": w.theme, "site": w.site}
            for w in event.workshops
        ],
    }


def document(
    state: Participation, event: Event, schema_url: str, generated: datetime
) -> dict[str, Any]:
    """The JSON export: valid against `DOCUMENT_SCHEMA`, which `schema_url` serves."""
    return {
        "schema": schema_url,
        "licence": dict(LICENCE),
        "generated": generated.isoformat(timespec="seconds"),
        "event": event_info(event),
        "proposals": rows(state, event),
    }


def to_json(state: Participation, event: Event, schema_url: str, generated: datetime) -> str:
    """`document` as UTF-8 JSON text, accents as they are."""
    return json.dumps(document(state, event, schema_url, generated), ensure_ascii=False, indent=1)


def _row(event: Event, p: Proposal) -> dict[str, Any]:
    workshop = event.workshop(p.workshop)
    hidden = p.status == "hidden"
    visible = [a for a in p.arguments if not a.hidden]
    created = datetime.fromtimestamp(p.created / 1000, event.tz).isoformat(timespec="seconds")
    return {
        "event": event.id,
        "workshop": p.workshop,
        "theme": workshop.theme if workshop else "",
        "subject": p.subject,
        "proposal": p.id,
        "title": "" if hidden else p.title,
        "body": "" if hidden else p.body,
        "status": p.status,
        "retained": p.retained,
        "supports": p.supports,
        **{f"arguments_{s}": sum(a.stance == s for a in visible) for s in STANCES},
        "merged_into": p.merged_into,
        "created": created,
    }


def rows(state: Participation, event: Event) -> list[dict[str, Any]]:
    """One object per proposal, by workshop in the event's order, then as proposed."""
    order = {w.id: i for i, w in enumerate(event.workshops)}
    proposals = sorted(
        state.proposals.values(),
        key=lambda p: (order.get(p.workshop, len(order)), p.workshop, int(p.id[1:])),
    )
    return [_row(event, p) for p in proposals]


def to_csv(state: Participation, event: Event) -> str:
    """The rows as CSV (RFC 4180, a header of `COLUMNS`); booleans read true/false."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for row in rows(state, event):
        cells = {**row, "retained": "true" if row["retained"] else "false"}
        cells["merged_into"] = row["merged_into"] or ""
        writer.writerow([cells[c] for c in COLUMNS])
    return out.getvalue()
