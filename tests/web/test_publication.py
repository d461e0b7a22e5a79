"""An organizer reviews and publishes an event's contribution to its consultation
(`/e/{event}/publication`), over HTTP: what she picks goes public, nothing else; names only
when the person agreed; refused links and territories change nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from tests.web.publication_world import (
    CAMILLE,
    CONSULTATION,
    OURS,
    THEIRS,
    TOULOUSE,
    act,
    build,
    link,
    publish,
    publish_form,
    published,
    signed_in,
)

World = tuple[Starlette, httpx.AsyncClient]


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    async for built in build(tmp_path):
        yield built


def organizer(app: Starlette, event: str = "vienne-2020") -> dict[str, str]:
    return {"k": link(app, event, "organizer")}


async def review(client: httpx.AsyncClient, app: Starlette, event: str = "vienne-2020") -> str:
    answer = await client.get(f"/e/{event}/publication", params=organizer(app, event))
    assert answer.status_code == 200, answer.text
    return answer.text


def checked(page: str, name: str, value: str) -> bool:
    marker = f'name="{name}" value="{value}" checked'
    assert f'name="{name}" value="{value}"' in page, f"{name}={value} is not offered"
    return marker in page


def public_hits(app: Starlette, words: str) -> list[str]:
    space = app.state.spaces.get(CONSULTATION)
    return [h.id for h in space.search.search(words).hits]


# -- the review ---------------------------------------------------------------------------


async def test_the_review_starts_from_each_workshops_retained_proposals(world):
    app, client = world
    await act(app, "vienne-2020", "atelier-acces", "retain", proposal="p2")
    page = await review(client, app)
    assert checked(page, "proposal", "p2")  # retained in its workshop
    assert not checked(page, "proposal", "p1")  # not retained, beside a retained one
    assert checked(page, "proposal", "p3")  # a workshop that retained none: every visible one
    assert 'id="pub-state" data-published="no"' in page


async def test_a_hidden_proposal_is_not_offered_and_cannot_be_published(world):
    app, client = world
    await act(app, "vienne-2020", "atelier-acces", "hide", proposal="p1", reason="hors sujet")
    page = await review(client, app)
    assert 'name="proposal" value="p1"' not in page
    answer = await publish(client, app, "vienne-2020", ["p1", "p2"])
    assert answer.status_code == 422
    assert 'id="pub-problem"' in answer.text and "Rien n&#39;a été publié" in answer.text
    assert published(app, "vienne-2020") is None


async def test_the_preview_shows_what_will_be_public_and_publishes_nothing(world):
    app, client = world
    form = publish_form(["p2"], action="preview")
    answer = await client.post("/e/vienne-2020/publication", params=organizer(app), data=form)
    assert answer.status_code == 200
    assert 'data-preview="vienne-2020/p2"' in answer.text
    assert 'data-preview="vienne-2020/p1"' not in answer.text
    assert published(app, "vienne-2020") is None
    assert public_hits(app, "wifi") == []


# -- publishing ---------------------------------------------------------------------------


async def test_what_the_organizer_picks_is_published_and_nothing_else(world):
    app, client = world
    answer = await publish(client, app, "vienne-2020", ["p2", "p3"])
    assert answer.status_code == 303
    assert "done=published" in answer.headers["location"]
    c = published(app, "vienne-2020")
    assert [p.id for p in c.proposals] == ["vienne-2020/p2", "vienne-2020/p3"]
    assert c.territory == "dep-86"
    assert public_hits(app, "wifi") == ["vienne-2020/p2"]
    assert public_hits(app, "ordinateurs prêtés") == []  # p1 was left out
    page = await review(client, app)
    assert 'id="pub-state" data-published="yes"' in page


async def test_arguments_left_unchecked_are_not_published(world):
    app, client = world
    await act(app, "vienne-2020", "atelier-acces", "argue", proposal="p2", stance="pour",
              text="Les familles rurales en ont besoin")  # fmt: skip
    await act(app, "vienne-2020", "atelier-acces", "argue", proposal="p2", stance="contre",
              text="Trop cher pour le département")  # fmt: skip
    room = await app.state.participation.of(app.state.catalogue.get("vienne-2020").event)
    pour, contre = (f"p2:{a.id}" for a in room.state.proposals["p2"].arguments)
    page = await review(client, app)
    assert checked(page, "arg", pour) and checked(page, "arg", contre)  # all, by default
    answer = await publish(client, app, "vienne-2020", ["p2"], arg=[contre])
    assert answer.status_code == 303
    (p,) = published(app, "vienne-2020").proposals
    assert [(a.stance, a.text) for a in p.arguments] == [
        ("contre", "Trop cher pour le département")
    ]


async def test_presenters_are_named_only_when_they_agreed(world):
    app, client = world
    rows = {
        "reports": "2",
        "r0.publish": "1",
        "r0.title": "Une classe en visio avec l'Ehpad",
        "r0.presenters": "Nadia Benali, Paul Roche",
        "r0.site": "Collège de Loudun",
        "r0.summary": "Des échanges entre générations.",
        "r0.agreed": "1",
        "r1.publish": "1",
        "r1.title": "Le prêt de tablettes",
        "r1.presenters": "Jeanne Morel",
    }
    answer = await publish(client, app, "vienne-2020", ["p2"], **rows)
    assert answer.status_code == 303, answer.text
    agreed, not_agreed = published(app, "vienne-2020").reports
    assert agreed.presenters == ("Nadia Benali", "Paul Roche")
    assert agreed.site == "Collège de Loudun" and agreed.summary.startswith("Des échanges")
    assert not_agreed.title == "Le prêt de tablettes" and not_agreed.presenters == ()
    assert "Jeanne Morel" not in published(app, "vienne-2020").model_dump_json()


async def test_rapporteurs_are_named_only_when_they_agreed(world):
    app, client = world
    backend = app.state.backend
    for workshop, name in (("atelier-acces", "Claire Dubois"), ("atelier-enseigner", "Marc Petit")):
        await backend.put_record("rapporteurs", f"vienne-2020/{workshop}", {"names": [name]})
    page = await review(client, app)
    assert "Claire Dubois" in page  # the organizer sees who wrote, to ask them
    syntheses = {
        "s.atelier-acces.publish": "1",
        "s.atelier-acces.text": "## Accès\nDes ordinateurs pour tous.",
        "s.atelier-acces.agreed": "1",
        "s.atelier-enseigner.publish": "1",
        "s.atelier-enseigner.text": "## Enseigner\nFormer les enseignants.",
    }
    answer = await publish(client, app, "vienne-2020", ["p2"], **syntheses)
    assert answer.status_code == 303, answer.text
    c = published(app, "vienne-2020")
    by_workshop = {s.workshop: s for s in c.syntheses}
    assert by_workshop["atelier-acces"].rapporteurs == ("Claire Dubois",)
    assert by_workshop["atelier-enseigner"].rapporteurs == ()
    assert by_workshop["atelier-enseigner"].text.endswith("Former les enseignants.")
    assert "Marc Petit" not in c.model_dump_json()


async def test_withdrawing_the_publication_takes_it_out_of_the_space(world):
    app, client = world
    await publish(client, app, "vienne-2020", ["p2"])
    assert public_hits(app, "wifi") == ["vienne-2020/p2"]
    answer = await client.post(
        "/e/vienne-2020/publication", params=organizer(app), data={"action": "unpublish"}
    )
    assert answer.status_code == 303 and "done=unpublished" in answer.headers["location"]
    assert published(app, "vienne-2020") is None
    assert public_hits(app, "wifi") == []
    assert (await client.get(f"/territoires/{CONSULTATION}/e/vienne-2020")).status_code == 404


async def test_an_event_of_no_consultation_is_told_so(world):
    app, client = world
    form = {"title": "Égn", "territory": "fr", "copy_themes": "ariege-2020", "events": []}
    admin = {"k": app.state.signer.sign_admin()}
    await client.post(f"/admin/consultations/{CONSULTATION}", params=admin, data=form)
    answer = await client.get("/e/vienne-2020/publication", params=organizer(app))
    assert answer.status_code == 409
    assert "aucune consultation" in answer.text


# -- who may ------------------------------------------------------------------------------


async def test_a_signed_in_organizer_publishes_the_events_of_her_territory(world):
    app, client = world
    await signed_in(app, client, CAMILLE)
    page = await client.get("/e/vienne-2020/publication")
    assert page.status_code == 200
    answer = await client.post(
        "/e/vienne-2020/publication", data=publish_form(["p2"]), headers=OURS
    )
    assert answer.status_code == 303
    assert published(app, "vienne-2020") is not None


async def test_an_organizer_of_another_territory_is_refused_and_nothing_is_stored(world):
    app, client = world
    await signed_in(app, client, TOULOUSE)
    assert (await client.get("/e/vienne-2020/publication")).status_code == 403
    answer = await client.post(
        "/e/vienne-2020/publication", data=publish_form(["p2"]), headers=OURS
    )
    assert answer.status_code == 403
    assert published(app, "vienne-2020") is None


async def test_a_cross_site_post_with_the_session_is_refused(world):
    app, client = world
    await signed_in(app, client, CAMILLE)
    for data in (publish_form(["p2"]), {"action": "unpublish"}):
        answer = await client.post("/e/vienne-2020/publication", data=data, headers=THEIRS)
        assert answer.status_code == 403
        assert published(app, "vienne-2020") is None
    await publish(client, app, "vienne-2020", ["p2"])  # with the link: no cookie question
    answer = await client.post(
        "/e/vienne-2020/publication", data={"action": "unpublish"}, headers=THEIRS
    )
    assert answer.status_code == 403 and published(app, "vienne-2020") is not None


@pytest.mark.parametrize(
    "role,claims",
    [("participant", {"person": "p-1"}), ("rapporteur", {"workshop": "atelier-acces"}),
     ("facilitator", {})],
)  # fmt: skip
async def test_other_links_of_the_event_do_not_open_the_publication(
    world: World, role: str, claims: dict[str, Any]
) -> None:
    app, client = world
    k = link(app, "vienne-2020", role, **claims)
    assert (await client.get("/e/vienne-2020/publication", params={"k": k})).status_code == 403
    answer = await client.post(
        "/e/vienne-2020/publication", params={"k": k}, data=publish_form(["p2"])
    )
    assert answer.status_code == 403 and published(app, "vienne-2020") is None


async def test_another_events_organizer_link_is_refused(world):
    app, client = world
    k = link(app, "ariege-2020", "organizer")
    answer = await client.post(
        "/e/vienne-2020/publication", params={"k": k}, data=publish_form(["p2"])
    )
    assert answer.status_code == 403 and published(app, "vienne-2020") is None
