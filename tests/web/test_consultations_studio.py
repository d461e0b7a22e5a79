"""Consultations in the studio (`/admin/consultations`): administrators create and edit
any; an organizer those whose root her territory covers; each problem is shown at its
field and nothing is stored."""

from __future__ import annotations

import html
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from tests.web.publication_world import (
    ALL_EVENTS,
    CAMILLE,
    CONSULTATION,
    OURS,
    THEIRS,
    admin_link,
    build,
    consultation_form,
    day,
    signed_in,
)

World = tuple[Starlette, httpx.AsyncClient]
THEMES = """\
- id: acces
  title: Un égal accès au numérique
  subjects:
    - {id: egalite, title: Égalité d'accès}
- id: gouvernance
  title: Gouvernance
"""


POITIERS_DAYS = ["vienne-2020", "deux-sevres-2020", "poitiers-2020"]
NATIONAL_EVENTS = [e for e in ALL_EVENTS if e not in POITIERS_DAYS]


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    """The national consultation without the académie de Poitiers' days: an event feeds
    one consultation, and these tests give them one of the académie's own."""
    async for app, client in build(tmp_path):
        store = app.state.spaces.store
        national = await store.consultation(CONSULTATION)
        kept = tuple(e for e in national.events if e.event not in POITIERS_DAYS)
        await store.put_consultation(national.model_copy(update={"events": kept}))
        await app.state.spaces.reload(CONSULTATION)
        yield app, client


def admin(app: Starlette) -> dict[str, str]:
    return {"k": admin_link(app)}


async def stored(app: Starlette, consultation_id: str):
    return await app.state.spaces.store.consultation(consultation_id)


def poitiers_form(**more) -> dict:
    form = consultation_form(POITIERS_DAYS)
    return form | {"id": "egn-poitiers", "title": "Consultation de l'académie", "territory":
                   "ac-poitiers"} | more  # fmt: skip


async def test_the_list_shows_the_consultations_and_their_events(world):
    app, client = world
    page = await client.get("/admin/consultations", params=admin(app))
    assert page.status_code == 200
    assert f'data-consultation="{CONSULTATION}"' in page.text
    form = await client.get(f"/admin/consultations/{CONSULTATION}", params=admin(app))
    assert form.status_code == 200
    for event in NATIONAL_EVENTS:
        assert f'name="events" value="{event}" checked' in form.text
    assert '<option value="ac-poitiers"' in form.text  # the reference tree to choose from
    assert "subjects:" in form.text  # its themes, as YAML


async def test_an_administrator_creates_a_consultation_with_its_events(world):
    app, client = world
    answer = await client.post(
        "/admin/consultations/new",
        params=admin(app),
        data=poitiers_form(themes=THEMES, copy_themes=""),
    )
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"].startswith("/admin/consultations/egn-poitiers?")
    c = await stored(app, "egn-poitiers")
    assert c.territory == "ac-poitiers" and [t.id for t in c.themes] == ["acces", "gouvernance"]
    assert c.theme("acces").subject("egalite").title == "Égalité d'accès"
    assert {(p.event, p.territory) for p in c.events} == {
        ("vienne-2020", "dep-86"),
        ("deux-sevres-2020", "dep-79"),
        ("poitiers-2020", "ac-poitiers"),
    }
    assert app.state.spaces.get("egn-poitiers") is not None  # this process serves it at once


async def test_themes_are_copied_from_an_event_and_local_territories_added(world):
    app, client = world
    form = poitiers_form(locals="loc-loudun; Bassin de Loudun; dep-86\n\n")
    answer = await client.post("/admin/consultations/new", params=admin(app), data=form)
    assert answer.status_code == 303, answer.text
    c = await stored(app, "egn-poitiers")
    assert [t.id for t in c.themes] == [
        "acces",
        "enseigner",
        "ensemble",
        "responsable",
        "gouvernance",
    ]
    assert [(t.code, t.name, t.parent) for t in c.locals] == [
        ("loc-loudun", "Bassin de Loudun", "dep-86")
    ]


@pytest.mark.parametrize(
    "change,field",
    [
        ({"themes": "- id: [unclosed", "copy_themes": ""}, "themes"),
        ({"themes": "id: acces", "copy_themes": ""}, "themes"),
        (
            {"themes": "- {id: acces, title: A}\n- {id: acces, title: B}", "copy_themes": ""},
            "model",
        ),
        ({"locals": "loc-x; only two"}, "locals"),
        ({"locals": "loc-x; Réseau; dep-999"}, "locals"),
        ({"events": ["ariege-2020"]}, "events"),  # dep-09: outside the académie de Poitiers
        ({"events": ["no-such-event"]}, "events"),
        ({"title": ""}, "title"),
        ({"id": "Pas un id"}, "id"),
        ({"id": CONSULTATION}, "id"),  # taken
        ({"territory": "nowhere"}, "territory"),
    ],
)
async def test_problems_are_shown_on_the_form_and_nothing_is_stored(world, change, field):
    app, client = world
    answer = await client.post(
        "/admin/consultations/new", params=admin(app), data=poitiers_form(**change)
    )
    assert answer.status_code == 422
    assert 'id="consult-errors"' in answer.text
    if field != "model":
        assert f'<div class="notes" id="n-{field}"><p class="field-error">' in answer.text
    assert await stored(app, "egn-poitiers") is None
    if change.get("id") == CONSULTATION:
        assert len((await stored(app, CONSULTATION)).events) == len(NATIONAL_EVENTS)


async def test_an_event_without_a_territory_cannot_be_added(world):
    app, client = world
    text = day("sans-territoire", "Une journée sans territoire", "dep-86")
    await app.state.catalogue.put(text.replace("territory: dep-86\n", ""), "sans.yaml")
    form = await client.get("/admin/consultations/new", params=admin(app))
    assert 'value="sans-territoire" disabled' in form.text
    assert "ne nomme pas de territoire" in form.text
    answer = await client.post(
        "/admin/consultations/new",
        params=admin(app),
        data=poitiers_form(events=["vienne-2020", "sans-territoire"]),
    )
    assert answer.status_code == 422 and "ne nomme pas de territoire" in answer.text
    assert await stored(app, "egn-poitiers") is None


async def test_an_organizer_edits_the_consultations_of_her_territory_only(world):
    app, client = world
    await signed_in(app, client, CAMILLE)
    answer = await client.post("/admin/consultations/new", data=poitiers_form(), headers=OURS)
    assert answer.status_code == 303, answer.text
    listing = await client.get("/admin/consultations")
    assert 'data-consultation="egn-poitiers"' in listing.text
    assert f'data-consultation="{CONSULTATION}"' not in listing.text  # the nation's
    assert (await client.get(f"/admin/consultations/{CONSULTATION}")).status_code == 403
    national = await client.post(
        f"/admin/consultations/{CONSULTATION}",
        data=consultation_form(["vienne-2020"]),
        headers=OURS,
    )
    assert national.status_code == 403
    assert len((await stored(app, CONSULTATION)).events) == len(NATIONAL_EVENTS)
    wider = await client.post(
        "/admin/consultations/egn-poitiers", data=poitiers_form(territory="fr"), headers=OURS
    )
    assert wider.status_code == 422  # a root she does not organize
    assert (await stored(app, "egn-poitiers")).territory == "ac-poitiers"


async def test_a_cross_site_post_with_the_session_is_refused(world):
    app, client = world
    await signed_in(app, client, CAMILLE)
    answer = await client.post("/admin/consultations/new", data=poitiers_form(), headers=THEIRS)
    assert answer.status_code == 403
    assert await stored(app, "egn-poitiers") is None


async def test_without_a_link_or_a_role_the_pages_are_refused(world):
    app, client = world
    assert (await client.get("/admin/consultations")).status_code == 401
    answer = await client.post("/admin/consultations/new", data=poitiers_form())
    assert answer.status_code == 401
    forged = await client.get("/admin/consultations", params={"k": "forged"})
    assert forged.status_code == 401
    assert await stored(app, "egn-poitiers") is None


async def test_an_event_another_consultation_lists_is_refused(world):
    app, client = world
    form = poitiers_form(events=[*POITIERS_DAYS, "ariege-2020"], territory="fr")
    answer = await client.post("/admin/consultations/new", params=admin(app), data=form)
    assert answer.status_code == 422
    assert "ariege-2020 appartient déjà à la consultation" in html.unescape(answer.text)
    assert await stored(app, "egn-poitiers") is None
