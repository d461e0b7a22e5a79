"""A consultation's published proposals as open data, whole or for one territory (and
everything below it): one row per proposal, as CSV or JSON, with the JSON Schema that
documents them (`SCHEMA`: the rows; `DOCUMENT_SCHEMA`: the JSON export as a whole).
Licence Ouverte 2.0, the same `LICENCE` as an event's own open data.

Only what was published, so nothing personal: supports and arguments are counts, and a
reprise names the published ids it carries forward (`origins`, space-separated in CSV).
The CSV is comma-separated UTF-8 without a byte order mark (RFC 4180), as
`participation.exports` explains.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from typing import Any

from live.consultation.model import Contribution, PublishedProposal
from live.consultation.views import Published
from live.participation.exports import LICENCE

COLUMNS: tuple[str, ...] = (
    "consultation",
    "proposal",
    "event",
    "event_title",
    "event_date",
    "territory",
    "territory_name",
    "region",
    "academie",
    "departement",
    "theme",
    "subject",
    "title",
    "body",
    "supports",
    "arguments_pour",
    "arguments_contre",
    "arguments_nuance",
    "reprise",
    "origins",
)

_TEXT = {"type": "string"}
_COUNT = {"type": "integer", "minimum": 0}
_CODE = {"type": "string", "description": "a territory code ('' when above this level)"}

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Relais — les propositions publiées d'une consultation",
    "description": (
        "One object per proposal an event of the consultation published. No personal "
        "data: supports and arguments are counts. A reprise (merged or reworded) names "
        "the published proposals it carries forward in origins."
    ),
    "type": "array",
    "items": {
        "type": "object",
        "additionalProperties": False,
        "required": list(COLUMNS),
        "properties": {
            "consultation": {**_TEXT, "description": "the consultation's id"},
            "proposal": {**_TEXT, "description": "the published id: event/proposal"},
            "event": {**_TEXT, "description": "the event's id"},
            "event_title": _TEXT,
            "event_date": {"type": "string", "format": "date"},
            "territory": {**_TEXT, "description": "the event's territory code (fr, dep-09...)"},
            "territory_name": _TEXT,
            "region": {**_CODE, "description": "its région académique (ra-...), or ''"},
            "academie": {**_CODE, "description": "its académie (ac-...), or ''"},
            "departement": {**_CODE, "description": "its département (dep-...), or ''"},
            "theme": {**_TEXT, "description": "the consultation's theme id"},
            "subject": {**_TEXT, "description": "the theme's subject id, or ''"},
            "title": {**_TEXT, "maxLength": 200},
            "body": {**_TEXT, "maxLength": 2000},
            "supports": {
                **_COUNT,
                "description": "persons supporting it (for a reprise: its origins' added up)",
            },
            "arguments_pour": {**_COUNT, "description": "published arguments for"},
            "arguments_contre": {**_COUNT, "description": "published arguments against"},
            "arguments_nuance": {**_COUNT, "description": "published nuanced arguments"},
            "reprise": {"enum": ["merged", "reworded", None], "description": "CSV: empty"},
            "origins": {
                "type": "array",
                "items": _TEXT,
                "description": "published ids carried forward (CSV: space-separated)",
            },
        },
    },
}

DOCUMENT_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Relais — les propositions publiées d'une consultation, en données ouvertes",
    "type": "object",
    "additionalProperties": False,
    "required": ["schema", "licence", "generated", "consultation", "territory", "proposals"],
    "properties": {
        "schema": {"type": "string", "format": "uri", "description": "this schema"},
        "licence": {
            "type": "object",
            "additionalProperties": False,
            "required": ["name", "id", "url"],
            "properties": {k: {"const": v} for k, v in LICENCE.items()},
        },
        "generated": {"type": "string", "format": "date-time"},
        "consultation": {
            "type": "object",
            "additionalProperties": False,
            "required": ["id", "title", "themes"],
            "properties": {"id": _TEXT, "title": _TEXT, "themes": {"type": "array"}},
        },
        "territory": {**_TEXT, "description": "the territory exported, with all below it"},
        "proposals": {"type": "array", "items": SCHEMA["items"]},
    },
}


def _level(pub: Published, code: str, level: str) -> str:
    if code not in pub.tree:
        return ""
    return next((a for a in pub.tree.ancestors(code) if pub.tree.level_of(a) == level), "")


def _row(pub: Published, c: Contribution, p: PublishedProposal) -> dict[str, Any]:
    territory = pub.tree.get(c.territory)
    return {
        "consultation": pub.consultation.id,
        "proposal": p.id,
        "event": c.event,
        "event_title": c.event_title,
        "event_date": c.event_date.isoformat(),
        "territory": c.territory,
        "territory_name": territory.name if territory else c.territory,
        "region": _level(pub, c.territory, "region"),
        "academie": _level(pub, c.territory, "academie"),
        "departement": _level(pub, c.territory, "departement"),
        "theme": p.theme,
        "subject": p.subject,
        "title": p.title,
        "body": p.body,
        "supports": p.supports,
        **{f"arguments_{s}": sum(a.stance == s for a in p.arguments) for s in _STANCES},
        "reprise": p.reprise,
        "origins": list(p.origins),
    }


_STANCES = ("pour", "contre", "nuance")


def rows(pub: Published, territory: str | None = None) -> list[dict[str, Any]]:
    """One object per published proposal within `territory` (all: None), by event then
    as published."""
    allowed = pub.within(territory)
    return [
        _row(pub, c, p)
        for _, c in sorted(pub.contributions.items())
        if allowed is None or c.territory in allowed
        for p in c.proposals
    ]


def document(
    pub: Published, schema_url: str, generated: datetime, territory: str | None = None
) -> dict[str, Any]:
    """The JSON export: valid against `DOCUMENT_SCHEMA`, which `schema_url` serves."""
    c = pub.consultation
    return {
        "schema": schema_url,
        "licence": dict(LICENCE),
        "generated": generated.isoformat(timespec="seconds"),
        "consultation": {
            "id": c.id,
            "title": c.title,
            "themes": [
                {
                    "id": t.id,
                    "title": t.title,
                    "subjects": [{"id": s.id, "title": s.title} for s in t.subjects],
                }
                for t in c.themes
            ],
        },
        "territory": territory or c.territory,
        "proposals": rows(pub, territory),
    }


def to_json(
    pub: Published, schema_url: str, generated: datetime, territory: str | None = None
) -> str:
    return json.dumps(document(pub, schema_url, generated, territory), ensure_ascii=False, indent=1)


def to_csv(pub: Published, territory: str | None = None) -> str:
    """The rows as CSV (RFC 4180, a header of `COLUMNS`)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for row in rows(pub, territory):
        cells = {**row, "reprise": row["reprise"] or "", "origins": " ".join(row["origins"])}
        writer.writerow([cells[c] for c in COLUMNS])
    return out.getvalue()
