"""The open data of an event: one row per proposal, as CSV and JSON, that the published
JSON Schema describes, with nothing personal in it."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from live.participation.exports import COLUMNS, SCHEMA, rows, to_csv
from tests.participation.room import ALICE, ARIEGE, BOB, CLARA, RAPPORTEUR, Room


def exported() -> Room:
    room = Room()
    a = room.propose(ALICE, "Du wifi", body="Partout", subject="reseaux")
    b = room.propose(BOB, "Le wifi partout")
    c = room.propose(CLARA, "Des tablettes")
    h = room.propose(BOB, "Hors sujet", body="Mon voisin, M. Untel…")
    room.do(BOB, "support", proposal=a)
    room.do(ALICE, "support", proposal=b)
    room.do(BOB, "support", proposal=b)
    room.do(BOB, "argue", proposal=a, stance="pour", text="Oui")
    room.do(ALICE, "argue", proposal=b, stance="contre", text="Non")
    room.do(ALICE, "argue", proposal=b, stance="nuance", text="Cachée")
    room.do(RAPPORTEUR, "hide", argument=room.state.proposals[b].arguments[1].id, reason="x")
    room.do(RAPPORTEUR, "merge", source=a, target=b)
    room.do(RAPPORTEUR, "retain", proposal=b)
    room.do(RAPPORTEUR, "hide", proposal=h, reason="Nomme quelqu'un")
    room.do(CLARA, "support", proposal=c)
    return room


def test_one_row_per_proposal_with_its_counts() -> None:
    by_id = {r["proposal"]: r for r in rows(exported().state, ARIEGE)}
    merged, target = by_id["p1"], by_id["p2"]
    assert (merged["status"], merged["merged_into"], merged["supports"]) == ("merged", "p2", 0)
    assert target["supports"] == 2  # Bob supported both: once
    assert (target["arguments_pour"], target["arguments_contre"], target["arguments_nuance"]) == (
        1,
        1,
        0,
    )
    assert target["retained"] is True
    assert (merged["event"], merged["workshop"], merged["theme"], merged["subject"]) == (
        "ariege-2020",
        "atelier-acces",
        "acces",
        "reseaux",
    )
    assert merged["created"] == "2023-11-14T23:13:20+01:00"  # the event's time zone
    assert (by_id["p4"]["status"], by_id["p4"]["title"], by_id["p4"]["body"]) == ("hidden", "", "")
    assert sum(r["supports"] for r in by_id.values()) == 3


def test_rows_follow_the_events_workshops_then_the_order_proposed() -> None:
    order = [(r["workshop"], r["proposal"]) for r in rows(exported().state, ARIEGE)]
    assert order == [
        ("atelier-acces", "p1"),
        ("atelier-acces", "p2"),
        ("atelier-acces", "p4"),
        ("atelier-enseigner", "p3"),
    ]


def test_the_csv_has_the_columns_and_the_same_rows() -> None:
    room = exported()
    table = list(csv.DictReader(io.StringIO(to_csv(room.state, ARIEGE))))
    assert tuple(table[0]) == COLUMNS
    assert [r["proposal"] for r in table] == [r["proposal"] for r in rows(room.state, ARIEGE)]
    first = table[0]
    assert (first["retained"], first["merged_into"], first["supports"]) == ("false", "p2", "0")
    assert table[1]["merged_into"] == ""


def _conforms(value: Any, schema: dict[str, Any]) -> bool:
    """The little of JSON Schema the export uses: type, enum, required, no extra key."""
    if "enum" in schema:
        return value in schema["enum"]
    types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
    python = {"string": str, "integer": int, "boolean": bool, "null": type(None)}
    if types == ["object"]:
        return set(value) == set(schema["required"]) == set(schema["properties"]) and all(
            _conforms(value[k], s) for k, s in schema["properties"].items()
        )
    if types == ["array"]:
        return all(_conforms(v, schema["items"]) for v in value)
    ok = any(isinstance(value, python[t]) for t in types)
    if isinstance(value, bool) and "boolean" not in types:
        ok = False
    return ok and len(value) <= schema.get("maxLength", 10**9) if isinstance(value, str) else ok


def test_the_json_rows_follow_the_schema() -> None:
    data = json.loads(json.dumps(rows(exported().state, ARIEGE)))
    assert _conforms(data, SCHEMA)
    assert SCHEMA["items"]["required"] == list(COLUMNS)
    json.dumps(SCHEMA)  # publishable as docs/participation-schema.json


def test_nothing_personal_goes_out() -> None:
    room = exported()
    text = json.dumps(rows(room.state, ARIEGE)) + to_csv(room.state, ARIEGE)
    people = {"person:alice", "person:bob", "device:clara", "rapporteur:acces"}
    assert not any(key in text for key in people)
    assert "Untel" not in text  # a hidden proposal's text stays in
    assert "Cachée" not in text
