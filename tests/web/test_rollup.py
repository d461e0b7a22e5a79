"""The roll-up (`/e/{event}/reprise/{workshop}`): an upper event's workshop sees the
published proposals of the territories below it on its theme, and carries them forward,
merged or reworded, its origins linked, so that the national synthesis traces each
proposal back to the départements it came from; and the folded panel on the rapporteur's
notes editor."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from live.consultation import views
from tests.web.publication_world import (
    CAMILLE,
    CONSULTATION,
    OURS,
    THEIRS,
    TOULOUSE,
    build,
    link,
    publish,
    published,
    signed_in,
)

World = tuple[Starlette, httpx.AsyncClient]
POITIERS = "/e/poitiers-2020/reprise/acces-poitiers"  # the académie's workshop on « acces »
NATIONAL = "/e/national-2020/reprise/atelier-acces"


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    """The départements (and the Ariège) have published."""
    async for app, client in build(tmp_path):
        for event, picked in (
            ("vienne-2020", ["p1", "p2", "p3"]),
            ("deux-sevres-2020", ["p1"]),
            ("ariege-2020", ["p1"]),
        ):
            assert (await publish(client, app, event, picked)).status_code == 303
        yield app, client


def rapporteur(app: Starlette, event: str = "poitiers-2020", workshop: str = "acces-poitiers"):
    return {"k": link(app, event, "rapporteur", workshop=workshop)}


def listed(page: str) -> list[str]:
    return [part.split('"', 1)[0] for part in page.split('<li data-proposal="')[1:]]


async def carry(
    client: httpx.AsyncClient,
    url: str,
    params: dict[str, str],
    kind: str,
    *origins: str,
    headers: dict[str, str] | None = None,
    **more: str,
) -> httpx.Response:
    data: dict[str, Any] = {"action": "reprise", "kind": kind, "origin": list(origins)}
    data |= {"title": "Un ordinateur pour chaque élève", "body": "Prêté dès la rentrée."} | more
    return await client.post(url, params=params, data=data, headers=headers)


def space(app: Starlette) -> Any:
    return app.state.spaces.get(CONSULTATION)


# -- what the upper event sees ------------------------------------------------------------


async def test_the_academie_sees_its_departements_proposals_on_the_workshops_theme(world):
    app, client = world
    page = await client.get(POITIERS, params=rapporteur(app))
    assert page.status_code == 200
    shown = listed(page.text)
    assert set(shown) == {"vienne-2020/p1", "vienne-2020/p2", "deux-sevres-2020/p1"}
    assert shown[0] == "vienne-2020/p2"  # the most supported first
    assert "vienne-2020/p3" not in shown  # another theme (enseigner)
    assert "ariege-2020/p1" not in shown  # the académie de Toulouse's
    assert "Consultation de la Vienne" in page.text and "Vienne" in page.text  # its origin
    assert "2 soutiens" in page.text  # its support


async def test_the_roll_up_shows_nothing_unpublished(world):
    app, client = world
    await client.post(
        "/e/deux-sevres-2020/publication",
        params={"k": link(app, "deux-sevres-2020", "organizer")},
        data={"action": "unpublish"},
    )
    page = await client.get(POITIERS, params=rapporteur(app))
    assert "deux-sevres-2020/p1" not in listed(page.text)
    assert "Un ordinateur par élève" not in page.text


# -- carrying forward ---------------------------------------------------------------------


async def test_a_merged_reprise_carries_its_origins_and_their_supports(world):
    app, client = world
    answer = await carry(
        client, POITIERS, rapporteur(app), "merged", "vienne-2020/p1", "deux-sevres-2020/p1"
    )
    assert answer.status_code == 303 and "done=reprised" in answer.headers["location"]
    (r1,) = published(app, "poitiers-2020").proposals
    assert r1.id == "poitiers-2020/r1" and r1.reprise == "merged" and r1.theme == "acces"
    assert r1.origins == ("vienne-2020/p1", "deux-sevres-2020/p1")
    assert r1.supports == 1 + 1
    page = await client.get(POITIERS, params=rapporteur(app))
    assert 'data-reprise="poitiers-2020/r1"' in page.text
    assert 'data-origin="vienne-2020/p1"' in page.text  # its origins, linked
    assert f'href="/territoires/{CONSULTATION}/p/vienne-2020/p1"' in page.text
    assert "déjà reprise" in page.text


async def test_a_reworded_reprise_carries_exactly_one_origin(world):
    app, client = world
    two = await carry(
        client, POITIERS, rapporteur(app), "reworded", "vienne-2020/p1", "vienne-2020/p2"
    )
    assert two.status_code == 422 and 'id="rollup-problem"' in two.text
    assert published(app, "poitiers-2020") is None
    one = await carry(
        client, POITIERS, rapporteur(app), "reworded", "vienne-2020/p2", title="Du wifi"
    )
    assert one.status_code == 303
    (r1,) = published(app, "poitiers-2020").proposals
    assert r1.reprise == "reworded" and r1.origins == ("vienne-2020/p2",) and r1.title == "Du wifi"


async def test_a_merge_of_one_origin_or_without_a_title_is_refused(world):
    app, client = world
    one = await carry(client, POITIERS, rapporteur(app), "merged", "vienne-2020/p1")
    untitled = await carry(
        client, POITIERS, rapporteur(app), "merged", "vienne-2020/p1", "vienne-2020/p2", title=""
    )
    assert one.status_code == untitled.status_code == 422
    assert published(app, "poitiers-2020") is None


async def test_an_origin_outside_the_events_territory_is_refused(world):
    app, client = world
    answer = await carry(
        client, POITIERS, rapporteur(app), "merged", "vienne-2020/p1", "ariege-2020/p1"
    )
    assert answer.status_code == 422
    assert "ariege-2020/p1 vient d&#39;un territoire (dep-09)" in answer.text
    assert published(app, "poitiers-2020") is None


async def test_the_national_reprise_traces_back_to_the_departements(world):
    app, client = world
    await carry(
        client, POITIERS, rapporteur(app), "merged", "vienne-2020/p1", "deux-sevres-2020/p1"
    )
    national = rapporteur(app, "national-2020", "atelier-acces")
    page = await client.get(NATIONAL, params=national)
    assert {"poitiers-2020/r1", "ariege-2020/p1"} <= set(listed(page.text))
    answer = await carry(
        client, NATIONAL, national, "merged", "poitiers-2020/r1", "ariege-2020/p1",
        title="Équiper chaque élève",
    )  # fmt: skip
    assert answer.status_code == 303
    (n1,) = published(app, "national-2020").proposals
    assert n1.origins == ("poitiers-2020/r1", "ariege-2020/p1") and n1.supports == 3
    traced = views.trace(space(app).published, n1.id)
    assert [d["code"] for d in traced["departements"]] == ["dep-09", "dep-79", "dep-86"]
    public = await client.get(f"/territoires/{CONSULTATION}/p/national-2020/r1")
    assert public.status_code == 200 and "Deux-Sèvres" in public.text


async def test_publishing_again_keeps_the_reprises_unless_the_organizer_drops_them(world):
    app, client = world
    await carry(
        client, POITIERS, rapporteur(app), "merged", "vienne-2020/p1", "deux-sevres-2020/p1"
    )
    organizer = {"k": link(app, "poitiers-2020", "organizer")}
    review = await client.get("/e/poitiers-2020/publication", params=organizer)
    assert 'data-reprise="poitiers-2020/r1"' in review.text
    assert (await publish(client, app, "poitiers-2020", [])).status_code == 303
    assert [p.id for p in published(app, "poitiers-2020").proposals] == ["poitiers-2020/r1"]
    dropped = await publish(client, app, "poitiers-2020", [], drop=["poitiers-2020/r1"])
    assert dropped.status_code == 303
    assert published(app, "poitiers-2020").proposals == ()


async def test_a_reprise_is_withdrawn_from_the_roll_up_page(world):
    app, client = world
    await carry(client, POITIERS, rapporteur(app), "reworded", "vienne-2020/p1")
    answer = await client.post(
        POITIERS, params=rapporteur(app), data={"action": "remove", "proposal": "poitiers-2020/r1"}
    )
    assert answer.status_code == 303
    assert published(app, "poitiers-2020").proposals == ()


# -- who may ------------------------------------------------------------------------------


async def test_the_events_organizers_carry_forward_too(world):
    app, client = world
    organizer = {"k": link(app, "poitiers-2020", "organizer")}
    answer = await carry(client, POITIERS, organizer, "reworded", "vienne-2020/p1")
    assert answer.status_code == 303
    await signed_in(app, client, CAMILLE)
    answer = await carry(client, POITIERS, {}, "reworded", "vienne-2020/p2", headers=OURS)
    assert answer.status_code == 303
    assert len(published(app, "poitiers-2020").proposals) == 2


@pytest.mark.parametrize(
    "role,claims",
    [("rapporteur", {"workshop": "gouvernance-poitiers"}), ("participant", {"person": "x"}),
     ("screen", {"site": "poitiers"})],
)  # fmt: skip
async def test_other_links_are_refused_and_nothing_is_stored(
    world: World, role: str, claims: dict[str, Any]
) -> None:
    app, client = world
    k = {"k": link(app, "poitiers-2020", role, **claims)}
    assert (await client.get(POITIERS, params=k)).status_code == 403
    answer = await carry(client, POITIERS, k, "reworded", "vienne-2020/p1")
    assert answer.status_code == 403 and published(app, "poitiers-2020") is None


async def test_another_events_rapporteur_link_is_refused(world):
    app, client = world
    k = rapporteur(app, "vienne-2020", "atelier-acces")
    answer = await carry(client, POITIERS, k, "reworded", "vienne-2020/p1")
    assert answer.status_code == 403 and published(app, "poitiers-2020") is None


async def test_an_organizer_of_another_territory_is_refused(world):
    app, client = world
    await signed_in(app, client, TOULOUSE)
    assert (await client.get(POITIERS)).status_code == 403
    answer = await carry(client, POITIERS, {}, "reworded", "vienne-2020/p1", headers=OURS)
    assert answer.status_code == 403 and published(app, "poitiers-2020") is None


async def test_a_cross_site_reprise_with_the_session_is_refused(world):
    app, client = world
    await signed_in(app, client, CAMILLE)
    data = {"action": "reprise", "kind": "reworded", "origin": ["vienne-2020/p1"], "title": "T"}
    answer = await client.post(POITIERS, data=data, headers=THEIRS)
    assert answer.status_code == 403 and published(app, "poitiers-2020") is None
    answer = await client.post(POITIERS, data=data, headers=OURS)
    assert answer.status_code == 303


# -- the rapporteur's page ----------------------------------------------------------------


async def test_the_rapporteurs_notes_editor_has_the_roll_up_folded(world):
    app, client = world
    page = await client.get("/e/poitiers-2020/notes", params=rapporteur(app))
    assert page.status_code == 200
    assert '<details class="card rollup" id="rollup-panel">' in page.text  # folded: no `open`
    assert "Propositions des territoires (3)" in page.text
    assert "/e/poitiers-2020/reprise/acces-poitiers?k=" in page.text


async def test_a_departements_rapporteur_has_no_roll_up(world):
    app, client = world
    page = await client.get(
        "/e/vienne-2020/notes", params=rapporteur(app, "vienne-2020", "atelier-acces")
    )
    assert page.status_code == 200 and 'id="rollup-panel"' not in page.text
