"""The open data of an event's participation, as served: CSV and JSON for the organizer's
link only, the JSON valid against the published schema (docs/participation-schema.json),
under Licence Ouverte 2.0, nothing personal in either."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import AsyncIterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from live.app import create_app
from live.config import Settings
from live.links.signing import Signer
from live.participation.commands import Actor
from live.participation.exports import COLUMNS, DOCUMENT_SCHEMA, LICENCE
from live.participation.service import ParticipationService
from live.web import participation_pages

SECRET = "test-secret-open-data"
EVENT = "ariege-2020"  # a demo event
ROOT = Path(__file__).resolve().parents[2]
ACCES = "atelier-acces"


def person(name: str) -> Actor:
    return Actor(f"person:{name}", "participant", ACCES, "foix")


RAPPORTEUR = Actor("rapporteur:acces", "rapporteur", ACCES, "foix")


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[Starlette]:
    """The app with the export routes first (until web/routes.py lists them)."""
    application = create_app(
        Settings(data_dir=tmp_path, backend="memory", secret=SECRET, demo=True)
    )
    application.router.routes[0:0] = participation_pages.routes
    async with application.router.lifespan_context(application):
        await participate(application)
        yield application


async def participate(app: Starlette) -> None:
    """Proposals in atelier-acces: one merged into another, one hidden, one retained."""
    service: ParticipationService = app.state.participation
    room = await service.of(app.state.catalogue.get(EVENT).event)
    n = iter(range(1000))

    async def do(actor: Actor, name: str, **args: Any) -> None:
        await room.command(name, args, actor, "link", f"c{next(n)}")

    await do(person("alice"), "propose", title="Du wifi", body="Partout", subject="inclusion")
    await do(person("bob"), "propose", title="Le « wifi » partout, vite", subject="inclusion")
    await do(person("clara"), "propose", title="Hors sujet", body="Mon voisin, M. Untel")
    await do(person("bob"), "support", proposal="p1")
    await do(person("alice"), "support", proposal="p2")
    await do(person("bob"), "support", proposal="p2")
    await do(person("alice"), "argue", proposal="p2", stance="contre", text="Trop cher")
    await do(RAPPORTEUR, "merge", source="p1", target="p2")
    await do(RAPPORTEUR, "retain", proposal="p2")
    await do(RAPPORTEUR, "hide", proposal="p3", reason="Nomme quelqu'un")


@pytest.fixture
async def web(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://relais.test") as client:
        yield client


def link(role: str, **claims: Any) -> str:
    return Signer(SECRET).sign(EVENT, role, **claims)


# -- a validator for the JSON Schema keywords the schema uses ----------------------------------

_TYPES: dict[str, type | tuple[type, ...]] = {
    "string": str,
    "integer": int,
    "boolean": bool,
    "null": type(None),
    "object": dict,
    "array": list,
}


def problems(value: Any, schema: dict[str, Any], where: str = "$") -> list[str]:
    """What in `value` breaks `schema`: type, const, enum, required, properties,
    additionalProperties, items, maxLength, minimum, and the formats date, date-time, uri.
    (The `jsonschema` package is not among the project's dependencies: this checks the
    keywords the published schema uses, and fails on any other.)"""
    known = {"$schema", "title", "description", "type", "const", "enum", "required"}
    known |= {"properties", "additionalProperties", "items", "maxLength", "minimum", "format"}
    assert set(schema) <= known, f"{where}: keywords {set(schema) - known} not checked here"
    out: list[str] = []
    if "const" in schema and value != schema["const"]:
        out.append(f"{where}: {value!r} is not {schema['const']!r}")
    if "enum" in schema and value not in schema["enum"]:
        out.append(f"{where}: {value!r} not in {schema['enum']}")
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        ok = any(isinstance(value, _TYPES[t]) for t in types)
        if isinstance(value, bool) and "boolean" not in types:
            ok = False
        if not ok:
            return [*out, f"{where}: {value!r} is not {types}"]
    if isinstance(value, dict):
        out += [f"{where}: {k} missing" for k in schema.get("required", []) if k not in value]
        properties = schema.get("properties", {})
        if schema.get("additionalProperties") is False:
            out += [f"{where}: {k} not allowed" for k in value if k not in properties]
        for k, sub in properties.items():
            if k in value:
                out += problems(value[k], sub, f"{where}.{k}")
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            out += problems(item, schema["items"], f"{where}[{i}]")
    if isinstance(value, str):
        if len(value) > schema.get("maxLength", len(value)):
            out.append(f"{where}: longer than {schema['maxLength']}")
        fmt = schema.get("format")
        try:
            if fmt == "date":
                date.fromisoformat(value)
            elif fmt == "date-time":
                assert datetime.fromisoformat(value).tzinfo is not None
            elif fmt == "uri":
                assert re.match(r"^https?://[^/\s]+/\S*$", value)
        except (ValueError, AssertionError):
            out.append(f"{where}: {value!r} is not a {fmt}")
    minimum = schema.get("minimum")
    counted = isinstance(value, int) and not isinstance(value, bool) and minimum is not None
    if counted and value < minimum:
        out.append(f"{where}: below {minimum}")
    return out


# -- the JSON ------------------------------------------------------------------------------------


async def test_the_json_follows_the_published_schema(web: httpx.AsyncClient) -> None:
    response = await web.get(f"/e/{EVENT}/participation.json?k={link('organizer')}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert "attachment" in response.headers["content-disposition"]
    data = response.json()
    assert problems(data, DOCUMENT_SCHEMA) == []
    assert data["licence"] == LICENCE and "Licence Ouverte" in data["licence"]["name"]
    assert data["schema"].endswith("/schemas/participation.json")
    published = await web.get("/schemas/participation.json")  # public: the export names it
    assert published.status_code == 200 and published.json() == DOCUMENT_SCHEMA


async def test_the_json_says_the_event_and_each_proposal(web: httpx.AsyncClient) -> None:
    data = (await web.get(f"/e/{EVENT}/participation.json?k={link('organizer')}")).json()
    event = data["event"]
    assert (event["id"], event["date"], event["timezone"]) == (EVENT, "2020-09-30", "Europe/Paris")
    acces = next(t for t in event["themes"] if t["id"] == "acces")
    assert [s["id"] for s in acces["subjects"]] == ["egalite", "parentalite", "inclusion"]
    assert {"id": ACCES, "theme": "acces", "site": "foix"}.items() <= event["workshops"][0].items()
    by_id = {p["proposal"]: p for p in data["proposals"]}
    assert list(by_id) == ["p1", "p2", "p3"]
    merged, kept, hidden = by_id["p1"], by_id["p2"], by_id["p3"]
    assert (merged["status"], merged["merged_into"], merged["supports"]) == ("merged", "p2", 0)
    assert (kept["title"], kept["supports"], kept["retained"]) == (
        "Le « wifi » partout, vite",
        2,  # Bob supported both: once
        True,
    )
    assert (kept["subject"], kept["arguments_contre"], kept["arguments_pour"]) == (
        "inclusion",
        1,
        0,
    )
    assert (hidden["status"], hidden["title"], hidden["body"]) == ("hidden", "", "")


def test_the_schema_in_docs_is_the_one_served() -> None:
    """docs/participation-schema.json is `exports.DOCUMENT_SCHEMA`, written as it is."""
    text = (ROOT / "docs" / "participation-schema.json").read_text(encoding="utf-8")
    assert json.loads(text) == DOCUMENT_SCHEMA
    assert DOCUMENT_SCHEMA["properties"]["proposals"]["items"]["required"] == list(COLUMNS)


def test_the_validator_catches_what_the_schema_forbids() -> None:
    row = {c: "" for c in COLUMNS}
    assert problems({"schema": "x"}, DOCUMENT_SCHEMA)  # missing keys, not a uri
    assert any("not allowed" in p for p in problems({**row, "person": "x"}, DOCUMENT_SCHEMA))
    proposals = DOCUMENT_SCHEMA["properties"]["proposals"]
    assert problems([{**row, "supports": -1}], proposals)


# -- the CSV -------------------------------------------------------------------------------------


async def test_the_csv_has_the_columns_and_no_byte_order_mark(web: httpx.AsyncClient) -> None:
    response = await web.get(f"/e/{EVENT}/participation.csv?k={link('organizer')}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv; charset=utf-8")
    assert 'filename="participation-ariege-2020.csv"' in response.headers["content-disposition"]
    assert not response.content.startswith(b"\xef\xbb\xbf")  # plain UTF-8, comma-separated
    table = list(csv.DictReader(io.StringIO(response.content.decode("utf-8"))))
    assert tuple(table[0]) == COLUMNS
    assert [(r["proposal"], r["status"]) for r in table] == [
        ("p1", "merged"),
        ("p2", "open"),
        ("p3", "hidden"),
    ]
    assert table[1]["title"] == "Le « wifi » partout, vite" and table[1]["retained"] == "true"


async def test_nothing_personal_goes_out(web: httpx.AsyncClient) -> None:
    k = link("organizer")
    text = (await web.get(f"/e/{EVENT}/participation.csv?k={k}")).text
    text += (await web.get(f"/e/{EVENT}/participation.json?k={k}")).text
    assert "person:" not in text and "rapporteur:" not in text
    assert "Untel" not in text and "Nomme quelqu'un" not in text  # hidden, and its reason
    assert "Recteur" not in text  # nobody the event names (speakers, presenters)


# -- who may download it -------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["csv", "json"])
async def test_only_the_organizers_link_downloads_it(web: httpx.AsyncClient, suffix: str) -> None:
    where = f"/e/{EVENT}/participation.{suffix}"
    assert (await web.get(where)).status_code == 401
    for role, claims in [
        ("facilitator", {}),
        ("screen", {}),
        ("rapporteur", {"workshop": ACCES}),
        ("participant", {"site": "foix"}),
    ]:
        refused = await web.get(f"{where}?k={link(role, **claims)}")
        assert refused.status_code == 403, role
        assert "Trop cher" not in refused.text
    forged = link("organizer")[:-2] + "xx"
    assert (await web.get(f"{where}?k={forged}")).status_code in (401, 403)
    assert (await web.get(f"/e/no-such-event/participation.{suffix}")).status_code == 404
