"""A consultation's published proposals as open data, whole or for one territory: CSV and
JSON that the schema describes, reprises with their origins, nothing unpublished."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from live.consultation.exports import COLUMNS, DOCUMENT_SCHEMA, document, rows, to_csv
from live.consultation.views import Published
from tests.consultation.test_views import chain
from tests.consultation.world import EGN
from tests.participation.test_open_data import problems

GENERATED = datetime(2020, 11, 6, 9, 0, tzinfo=UTC)
SCHEMA_URL = "https://relais.example.org/c/egn-2020/schema.json"


def test_one_row_per_published_proposal_with_its_territories_and_origins() -> None:
    by_id = {r["proposal"]: r for r in rows(Published(EGN, chain()))}
    assert len(by_id) == 9
    ariege = by_id["ariege-2020/p1"]
    assert (ariege["region"], ariege["academie"], ariege["departement"]) == (
        "ra-occitanie",
        "ac-toulouse",
        "dep-09",
    )
    assert (ariege["supports"], ariege["arguments_pour"], ariege["reprise"]) == (12, 1, None)
    pamiers = by_id["pamiers-2020/p1"]
    assert (pamiers["territory"], pamiers["departement"]) == ("loc-pamiers", "dep-09")
    national = by_id["national-2020/r1"]
    assert (national["reprise"], national["origins"]) == (
        "merged",
        ["toulouse-2020/r1", "vienne-2020/p1"],
    )
    assert (national["region"], national["academie"], national["departement"]) == ("", "", "")


def test_a_territory_exports_itself_and_what_is_below_it() -> None:
    within = {r["proposal"] for r in rows(Published(EGN, chain()), "ac-toulouse")}
    assert within == {
        "ariege-2020/p1",
        "ariege-2020/p2",
        "pamiers-2020/p1",
        "haute-garonne-2020/p3",
        "haute-garonne-2020/p4",
        "toulouse-2020/r1",
        "toulouse-2020/r2",
    }


def test_the_json_export_is_valid_against_its_schema_under_the_licence_ouverte() -> None:
    doc = document(Published(EGN, chain()), SCHEMA_URL, GENERATED, "ac-toulouse")
    assert problems(doc, DOCUMENT_SCHEMA) == []
    assert doc["licence"]["id"] == "etalab-2.0"
    assert doc["territory"] == "ac-toulouse"


def test_the_csv_has_the_documented_columns_and_origins_space_separated() -> None:
    text = to_csv(Published(EGN, chain()))
    assert not text.startswith("\ufeff")
    table = list(csv.DictReader(io.StringIO(text)))
    assert tuple(table[0]) == COLUMNS
    national = next(r for r in table if r["proposal"] == "national-2020/r1")
    assert national["origins"] == "toulouse-2020/r1 vienne-2020/p1"
    assert next(r for r in table if r["proposal"] == "ariege-2020/p1")["reprise"] == ""


def test_nothing_unpublished_is_exported() -> None:
    left = [c for c in chain() if c.event != "vienne-2020"]
    assert "vienne-2020/p1" not in {r["proposal"] for r in rows(Published(EGN, left))}
