"""The territorial space as served: a consultation whose départements (and a network of the
Ariège) feed the académie de Toulouse's day, which feeds the national day; public pages
in French and English showing what was published and never what was not (pages, search,
exports), French search, the trace of a national proposal back to its départements, the
open data against its schema, ETags and 304s, and clear refusals."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from live.app import create_app
from live.config import Settings
from live.consultation.exports import COLUMNS, DOCUMENT_SCHEMA
from live.consultation.model import (
    Contribution,
    ExperienceReport,
    WorkshopSynthesis,
)
from live.participation.exports import LICENCE
from tests.consultation.world import EGN, carried_up, contribution, departements, proposal
from tests.participation.test_open_data import problems

SECRET = "test-secret-territorial"
ROOT = Path(__file__).resolve().parents[2]
SPACE = f"/territoires/{EGN.id}"
# Words only the contributions that are not (or no longer) published hold.
NEVER_SHOWN = ("Zythologie", "xylophones", "Brouillon confidentiel")
TABLETS = 24  # more proposals of the Vienne: a second page of search results


def with_extras(c: Contribution, **fields: object) -> Contribution:
    return Contribution.model_validate({**c.model_dump(), **fields})


def world() -> list[Contribution]:
    """The départements (the Ariège with a report and a workshop's synthesis, the Vienne
    with many tablets); Toulouse's day merging two of them and rewording Pamiers'; the
    national day merging Toulouse's merge with the Vienne's first proposal."""
    deps = departements()
    ariege = with_extras(
        deps[0],
        reports=(
            ExperienceReport(
                id="rex-foix",
                theme="acces",
                title="Un ENT pour les écoles du bassin de Foix",
                presenters=("Claire Martin",),
                site="Lycée Gabriel Fauré",
                summary="Trois ans d'usage dans douze écoles.",
            ),
        ),
        syntheses=(
            WorkshopSynthesis(
                workshop="atelier-acces",
                theme="acces",
                title="Atelier accès",
                text="## Constats\n\nLes familles <script>alert(1)</script> manquent d'équipement.",
                rapporteurs=("Paul Roux",),
            ),
        ),
    )
    extra = [
        proposal("vienne-2020", f"t{i}", f"Des tablettes pour la classe {i}", supports=1)
        for i in range(TABLETS)
    ]
    vienne = with_extras(deps[3], proposals=(*deps[3].proposals, *extra))
    deps = [ariege, deps[1], deps[2], vienne]
    return carried_up(deps)


def grand_est(title: str) -> Contribution:
    return contribution("grand-est-2020", proposal("grand-est-2020", "p1", title, theme="acces"))


async def publish_world(app: Starlette) -> None:
    spaces = app.state.spaces
    await spaces.store.put_consultation(EGN)  # in place of the demo's egn-2020
    await spaces.reload(EGN.id)
    for c in world():
        await spaces.publish(c)
    # Published, then taken back: never on a page again.
    await spaces.publish(grand_est("Des xylophones numériques pour les maternelles"))
    await spaces.unpublish(EGN.id, "grand-est-2020")


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[Starlette]:
    application = create_app(
        Settings(data_dir=tmp_path, backend="memory", secret=SECRET, demo=True)
    )
    async with application.router.lifespan_context(application):
        await publish_world(application)
        yield application


@pytest.fixture
async def http(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://relais.test") as c:
        yield c


def text_of(page: httpx.Response) -> str:
    """The page's words: tags dropped, entities unescaped, spaces folded."""
    import html

    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page.text)).split())


async def get(http: httpx.AsyncClient, path: str, status: int = 200) -> httpx.Response:
    page = await http.get(path)
    assert page.status_code == status, (path, page.status_code, page.text[:300])
    return page


# -- pages ----------------------------------------------------------------------------------


async def test_the_home_page_shows_the_search_box_themes_with_counts_the_tree_and_the_latest(
    http: httpx.AsyncClient,
) -> None:
    page = await get(http, SPACE)
    words = text_of(page)
    assert '<html lang="fr">' in page.text
    assert 'role="search"' in page.text and 'name="q"' in page.text
    # Égalité d'accès: Ariège p1, Pamiers, Haute-Garonne p3, Vienne p1 + 24, Toulouse ×2, national.
    assert re.search(r"Égalité d’accès — 31 propositions Voir les propositions", words)
    assert f"{SPACE}/sujets/acces/egalite" in page.text
    assert re.search(r"Toulouse 7 propositions, 4 événements", words)
    assert re.search(r"Ariège \(09\) 3 propositions, 2 événements", words) or re.search(
        r"Ariège 3 propositions, 2 événements", words
    )
    assert "États généraux nationaux — Poitiers" in words  # among the latest
    assert "Licence Ouverte" in words
    english = text_of(await get(http, SPACE + "?lang=en"))
    assert "See the proposals" in english and "Territorial space" in english


async def test_a_subject_page_lists_its_proposals_across_territories_with_origin_and_support(
    http: httpx.AsyncClient,
) -> None:
    words = text_of(await get(http, SPACE + "/sujets/acces/egalite"))
    assert words.index("Équiper chaque élève et chaque école") < words.index(
        "Un ordinateur par eleve"
    )  # most supported first: the national merge (41) before Haute-Garonne's (20)
    assert "41 soutiens" in words and "20 soutiens" in words
    assert "Issue de États généraux du numérique pour l'éducation — Ariège , Ariège" in words
    within = text_of(await get(http, SPACE + "/sujets/acces/egalite?territoire=ac-toulouse"))
    assert "dans Toulouse" in within or "dans Académie de Toulouse" in within
    assert "Un ordinateur par eleve" in within and "Des tablettes pour les écoles" not in within


async def test_a_territory_page_has_its_breadcrumb_children_events_and_proposals(
    http: httpx.AsyncClient,
) -> None:
    page = await get(http, SPACE + "/t/ac-toulouse")
    words = text_of(page)
    crumbs = re.search(r'class="terr-crumbs">(.*?)</nav>', page.text, re.S)
    assert crumbs is not None and "Occitanie" in crumbs.group(1)
    assert f"{SPACE}/t/dep-09" in page.text and f"{SPACE}/t/dep-31" in page.text
    assert "Journée académique de Toulouse" in words  # its own event
    assert "Consultation haute-garonne-2020" in words  # an event below it
    assert "Relier les familles" in words and "Des tablettes pour les écoles" not in words


async def test_an_event_page_shows_proposals_with_arguments_reports_and_syntheses(
    http: httpx.AsyncClient,
) -> None:
    page = await get(http, SPACE + "/e/ariege-2020")
    words = text_of(page)
    assert "Des équipements numériques pour chaque élève" in words and "12 soutiens" in words
    assert "Le confinement l'a montré" in words  # an argument
    assert "Un ENT pour les écoles du bassin de Foix" in words and "Claire Martin" in words
    assert "Paul Roux" in words and "manquent d'équipement" in words
    assert "<script>alert(1)</script>" not in page.text  # the notes are sanitized


async def test_a_national_proposal_traces_back_to_the_departements_it_came_from(
    http: httpx.AsyncClient,
) -> None:
    page = await get(http, SPACE + "/p/national-2020/r1")
    words = text_of(page)
    assert "Équiper chaque élève et chaque école" in words and "41 soutiens" in words
    departements = re.search(r'id="terr-departements">(.*?)</p>', page.text, re.S)
    assert departements is not None
    for code in ("dep-09", "dep-31", "dep-86"):
        assert f"{SPACE}/t/{code}" in departements.group(1)
    for origin in ("toulouse-2020/r1", "ariege-2020/p1", "haute-garonne-2020/p3", "vienne-2020/p1"):
        assert f"{SPACE}/p/{origin}" in page.text


async def test_a_proposal_says_what_became_of_it(http: httpx.AsyncClient) -> None:
    page = await get(http, SPACE + "/p/ariege-2020/p1")
    became = page.text[page.text.index('id="terr-became"') :]
    assert f"{SPACE}/p/toulouse-2020/r1" in became and f"{SPACE}/p/national-2020/r1" in became
    assert "Aucun événement ne l'a encore reprise" in text_of(
        await get(http, SPACE + "/p/ariege-2020/p2")
    )


# -- search ---------------------------------------------------------------------------------


async def test_search_finds_words_without_their_accents_and_in_the_singular(
    http: httpx.AsyncClient,
) -> None:
    page = await get(http, SPACE + "/recherche?q=equipement+numerique")
    assert "<mark>équipements</mark> <mark>numériques</mark>" in page.text
    page = await get(http, SPACE + "/recherche?q=élève")
    assert "Un ordinateur par <mark>eleve</mark>" in page.text
    words = text_of(await get(http, SPACE + "/recherche?q=ENT+écoles"))
    assert "Retour d'expérience : Un ENT pour les écoles du bassin de Foix" in words


async def test_search_filters_by_territory_and_theme_and_pages_its_results(
    http: httpx.AsyncClient,
) -> None:
    within = text_of(await get(http, SPACE + "/recherche?q=ordinateur&territoire=dep-31"))
    assert "Un ordinateur par eleve" in within and "Un ordinateur pour chaque élève" not in within
    other = text_of(await get(http, SPACE + "/recherche?q=ordinateur&theme=enseigner"))
    assert "Aucun résultat pour « ordinateur »" in other
    first = await get(http, SPACE + "/recherche?q=tablettes")
    assert first.text.count('class="terr-hit"') == 20 and 'rel="next"' in first.text
    second = await get(http, SPACE + "/recherche?q=tablettes&page=2")
    assert second.text.count('class="terr-hit"') == TABLETS + 1 - 20
    assert 'rel="next"' not in second.text and 'rel="prev"' in second.text


# -- nothing unpublished --------------------------------------------------------------------


async def test_nothing_unpublished_is_on_a_page_in_a_search_or_an_export(
    app: Starlette, http: httpx.AsyncClient
) -> None:
    # A contribution made and never published: nothing of it anywhere either.
    never = grand_est("Zythologie et Brouillon confidentiel")
    assert never.proposals  # it exists, in no store
    pages = [
        SPACE,
        SPACE + "/sujets/acces/egalite",
        SPACE + "/t/fr",
        SPACE + "/t/ra-grand-est",
        SPACE + "/donnees.csv",
        SPACE + "/donnees.json",
        SPACE + "/t/fr/synthese.html",
    ]
    for path in pages:
        body = (await get(http, path)).text
        assert not [w for w in NEVER_SHOWN if w.lower() in body.lower()], path
    for word in NEVER_SHOWN:
        found = await get(http, SPACE + "/recherche?q=" + word)
        assert 'class="terr-hit"' not in found.text and "Aucun résultat" in text_of(found)
    await get(http, SPACE + "/e/grand-est-2020", 404)
    await get(http, SPACE + "/p/grand-est-2020/p1", 404)
    assert "grand-est-2020" not in (await get(http, SPACE + "/donnees.csv")).text


# -- exports --------------------------------------------------------------------------------


async def test_the_json_export_is_valid_against_its_schema_under_the_licence_ouverte(
    http: httpx.AsyncClient,
) -> None:
    answer = await get(http, SPACE + "/donnees.json?territoire=ac-toulouse")
    assert answer.headers["content-disposition"] == (
        'attachment; filename="consultation-egn-2020-ac-toulouse.json"'
    )
    doc = answer.json()
    assert problems(doc, DOCUMENT_SCHEMA) == []
    assert doc["licence"] == LICENCE and doc["territory"] == "ac-toulouse"
    assert doc["schema"] == "http://relais.test/schemas/consultation.json" or doc[
        "schema"
    ].endswith("/schemas/consultation.json")
    assert {p["proposal"] for p in doc["proposals"]} == {
        "ariege-2020/p1",
        "ariege-2020/p2",
        "pamiers-2020/p1",
        "haute-garonne-2020/p3",
        "haute-garonne-2020/p4",
        "toulouse-2020/r1",
        "toulouse-2020/r2",
    }
    whole = (await get(http, SPACE + "/donnees.json")).json()
    assert problems(whole, DOCUMENT_SCHEMA) == [] and len(whole["proposals"]) == 9 + TABLETS


async def test_the_csv_export_has_the_documented_columns_and_names_its_licence(
    http: httpx.AsyncClient,
) -> None:
    answer = await get(http, SPACE + "/donnees.csv")
    assert answer.headers["content-disposition"] == (
        'attachment; filename="consultation-egn-2020.csv"'
    )
    assert LICENCE["url"] in answer.headers["link"] and 'rel="license"' in answer.headers["link"]
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert tuple(rows[0]) == COLUMNS
    national = next(r for r in rows if r["proposal"] == "national-2020/r1")
    assert (national["reprise"], national["origins"]) == (
        "merged",
        "toulouse-2020/r1 vienne-2020/p1",
    )
    for row in rows:  # the types the schema says, read back from text
        assert row["supports"].isdigit() and re.fullmatch(r"\d{4}-\d\d-\d\d", row["event_date"])


async def test_the_schema_served_is_the_one_in_docs(http: httpx.AsyncClient) -> None:
    served = await get(http, "/schemas/consultation.json")
    assert served.json() == DOCUMENT_SCHEMA
    text = (ROOT / "docs" / "consultation-schema.json").read_text(encoding="utf-8")
    assert json.loads(text) == DOCUMENT_SCHEMA


async def test_the_compiled_synthesis_of_a_territory_as_a_page_and_a_pdf(
    http: httpx.AsyncClient,
) -> None:
    page = await get(http, SPACE + "/t/ac-toulouse/synthese.html")
    words = text_of(page)
    assert "Synthèse — Académie de Toulouse" in words
    assert words.index("Un égal accès") < words.index("Un ordinateur pour chaque élève")
    assert "Des tablettes pour les écoles" not in words  # the Vienne is not Toulouse's
    assert "Un ENT pour les écoles du bassin de Foix" in words and "Paul Roux" in words
    assert "<script>alert" not in page.text
    pdf = await get(http, SPACE + "/t/dep-09/synthese.pdf")
    assert pdf.content.startswith(b"%PDF") and pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["content-disposition"] == (
        'attachment; filename="synthese-egn-2020-dep-09.pdf"'
    )


# -- caching --------------------------------------------------------------------------------


async def test_every_page_and_export_has_an_etag_and_answers_304_to_it(
    http: httpx.AsyncClient,
) -> None:
    for path in (
        SPACE,
        SPACE + "/recherche?q=tablettes",
        SPACE + "/sujets/acces/egalite",
        SPACE + "/t/dep-09",
        SPACE + "/e/ariege-2020",
        SPACE + "/p/national-2020/r1",
        SPACE + "/donnees.csv",
        SPACE + "/donnees.json",
    ):
        first = await get(http, path)
        tag = first.headers["etag"]
        assert first.headers["cache-control"] == "public, max-age=60", path
        assert "set-cookie" not in first.headers, path
        again = await http.get(path, headers={"If-None-Match": tag})
        assert (again.status_code, again.content) == (304, b""), path
        assert again.headers["etag"] == tag


async def test_the_etag_changes_with_a_publication_the_language_and_the_query(
    app: Starlette, http: httpx.AsyncClient
) -> None:
    tag = (await get(http, SPACE)).headers["etag"]
    assert (await get(http, SPACE + "?lang=en")).headers["etag"] != tag
    assert (await get(http, SPACE + "/recherche?q=a")).headers["etag"] != (
        await get(http, SPACE + "/recherche?q=b")
    ).headers["etag"]
    await app.state.spaces.publish(grand_est("Des robots pour les lycées"))
    fresh = await http.get(SPACE, headers={"If-None-Match": tag})
    assert fresh.status_code == 200 and fresh.headers["etag"] != tag
    assert "Grand Est" in text_of(fresh)


async def test_the_page_language_is_the_address_and_never_a_cookie(
    http: httpx.AsyncClient,
) -> None:
    page = await http.get(SPACE, headers={"Cookie": "lang=en"})
    assert '<html lang="fr">' in page.text  # a shared cache keys on the URL alone


# -- refusals -------------------------------------------------------------------------------


async def test_unknown_consultations_territories_events_and_proposals_are_not_found(
    http: httpx.AsyncClient,
) -> None:
    for path in (
        "/territoires/nope",
        SPACE + "/t/dep-999",
        SPACE + "/e/nope-2020",
        SPACE + "/p/ariege-2020/p99",
        SPACE + "/sujets/acces/nope",
        SPACE + "/sujets/nope/egalite",
        SPACE + "/t/dep-999/synthese.pdf",
    ):
        page = await get(http, path, 404)
        assert "Page introuvable" in text_of(page) or "introuvable" in text_of(page).lower(), path
    english = await get(http, "/territoires/nope?lang=en", 404)
    assert '<html lang="en">' in english.text


async def test_bad_queries_are_refused_clearly(http: httpx.AsyncClient) -> None:
    too_long = await get(http, SPACE + "/recherche?q=" + "a" * 201, 400)
    assert "Recherche trop longue : 200 caractères au plus" in text_of(too_long)
    for query in ("page=0", "page=abc", "page=1000000", "q=x&page=52"):
        page = await get(http, SPACE + "/recherche?" + query, 400)
        assert "Numéro de page invalide" in text_of(page), query
    await get(http, SPACE + "/sujets/acces/egalite?page=1001", 400)
    theme = await get(http, SPACE + "/recherche?q=x&theme=nope", 400)
    assert "Thème inconnu" in text_of(theme)
    await get(http, SPACE + "/recherche?q=x&theme=acces&subject=nope", 400)
    where = await get(http, SPACE + "/donnees.csv?territoire=dep-999", 400)
    assert "Territoire inconnu" in text_of(where)
    answer = await http.get(SPACE + "/recherche?page=0", headers={"Accept": "application/json"})
    assert answer.status_code == 400 and answer.json()["error"] == "space.bad_page"


# -- links to the space ---------------------------------------------------------------------


async def test_the_home_page_and_an_events_public_page_link_to_the_space(
    http: httpx.AsyncClient,
) -> None:
    assert f'href="{SPACE}"' in (await get(http, "/")).text
    assert f'href="{SPACE}"' in (await get(http, "/e/ariege-2020")).text
