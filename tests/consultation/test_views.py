"""What the territorial space's pages show: subjects across territories, counts per
territory, the roll-up an upper event reviews, the trace of a national proposal back to
its départements; only what is published."""

from __future__ import annotations

import pytest

from live.consultation.model import Contribution
from live.consultation.views import (
    Published,
    browse,
    event_view,
    rollup_view,
    subject_view,
    territory_counts,
    territory_tree,
    trace,
)
from live.errors import RelaisError
from tests.consultation.world import EGN, carried_up, contribution, departements, proposal


def chain() -> list[Contribution]:
    return carried_up(departements())


def test_a_subject_page_shows_its_proposals_across_territories_most_supported_first() -> None:
    page = subject_view(Published(EGN, chain()), "acces", "egalite")
    assert [(p["id"], p["supports"]) for p in page["proposals"]] == [
        ("national-2020/r1", 41),
        ("toulouse-2020/r1", 32),
        ("haute-garonne-2020/p3", 20),
        ("ariege-2020/p1", 12),
        ("vienne-2020/p1", 9),
        ("pamiers-2020/p1", 4),
        ("toulouse-2020/r2", 4),
    ]
    assert (page["theme"]["title"], page["subject"]["title"]) == (
        "Un égal accès au numérique pour tous / Fracture numérique",
        "Égalité d’accès",
    )
    ariege = next(p for p in page["proposals"] if p["id"] == "ariege-2020/p1")
    assert (
        ariege["origin"]["event_title"] == "États généraux du numérique pour l'éducation — Ariège"
    )
    assert ariege["origin"]["territory"]["name"] == "Ariège (09)"
    assert [t["code"] for t in ariege["origin"]["territory"]["path"]] == [
        "fr",
        "ra-occitanie",
        "ac-toulouse",
        "dep-09",
    ]
    assert ariege["carried_by"] == ["toulouse-2020/r1"]
    by_region = {r["code"]: r["proposals"] for r in page["by_territory"]}
    assert (by_region["fr"], by_region["ra-occitanie"], by_region["ra-nouvelle-aquitaine"]) == (
        1,
        5,
        1,
    )


def test_a_subject_page_within_a_territory_and_by_pages() -> None:
    pub = Published(EGN, chain())
    within = subject_view(pub, "acces", "egalite", territory="dep-09")
    assert [p["id"] for p in within["proposals"]] == ["ariege-2020/p1", "pamiers-2020/p1"]
    assert [(r["code"], r["proposals"]) for r in within["by_territory"]] == [
        ("dep-09", 1),
        ("loc-pamiers", 1),
    ]
    second = subject_view(pub, "acces", "egalite", page=2, per_page=3)
    assert (second["total"], second["pages"], len(second["proposals"])) == (7, 3, 3)


def test_an_unknown_theme_subject_or_territory_is_not_found() -> None:
    pub = Published(EGN, chain())
    for call in (
        lambda: subject_view(pub, "inconnu", "egalite"),
        lambda: subject_view(pub, "acces", "inconnu"),
        lambda: browse(pub, territory="dep-00"),
        lambda: trace(pub, "ariege-2020/p404"),
        lambda: event_view(pub, "cantal-2020"),
    ):
        with pytest.raises(RelaisError) as refusal:
            call()
        assert refusal.value.code == "not_found"


def test_counts_per_territory_add_up_what_is_below() -> None:
    counts = territory_counts(Published(EGN, chain()))
    assert counts["dep-09"] == {"proposals": 3, "reports": 0, "events": 2}  # with Pamiers
    assert counts["ac-toulouse"] == {"proposals": 7, "reports": 0, "events": 4}
    assert counts["fr"]["proposals"] == 9 and counts["fr"]["events"] == 6
    assert "dep-86" in counts and "dep-64" not in counts


def test_the_territory_tree_carries_the_counts() -> None:
    tree = territory_tree(Published(EGN, chain()), empty=False)
    assert tree["code"] == "fr" and tree["events"] == 6
    regions = {r["code"]: r for r in tree["children"]}
    assert set(regions) == {"ra-occitanie", "ra-nouvelle-aquitaine"}
    (toulouse,) = regions["ra-occitanie"]["children"]
    assert [d["code"] for d in toulouse["children"]] == ["dep-09", "dep-31"]
    assert toulouse["children"][0]["children"][0]["code"] == "loc-pamiers"
    full = territory_tree(Published(EGN, chain()))
    assert len(full["children"]) == 18  # every région académique, empty ones too


def test_the_rollup_shows_the_proposals_of_the_territories_below_marking_those_carried() -> None:
    pub = Published(EGN, chain())
    view = rollup_view(pub, "toulouse-2020", "acces")
    shown = {p["id"]: p["carried"] for p in view["proposals"]}
    assert shown == {
        "haute-garonne-2020/p3": True,
        "ariege-2020/p1": True,
        "pamiers-2020/p1": True,
        "haute-garonne-2020/p4": False,
    }
    assert [r["id"] for r in view["reprises"]] == ["toulouse-2020/r1", "toulouse-2020/r2"]
    counted = {r["code"]: r["proposals"] for r in view["by_territory"]}
    assert {c: n for c, n in counted.items() if n} == {"dep-09": 2, "dep-31": 2}
    assert counted["dep-46"] == 0  # the Lot published nothing: listed, with none
    national = rollup_view(pub, "national-2020", "acces", subject="egalite")
    assert "vienne-2020/p1" in {p["id"] for p in national["proposals"]}
    assert "national-2020/r1" not in {p["id"] for p in national["proposals"]}


def test_the_rollup_of_an_event_yet_to_publish_shows_its_territories() -> None:
    view = rollup_view(Published(EGN, departements()), "toulouse-2020", "enseigner")
    assert [p["id"] for p in view["proposals"]] == ["ariege-2020/p2"]
    assert view["reprises"] == []


def test_a_national_proposal_traces_back_to_its_departements() -> None:
    traced = trace(Published(EGN, chain()), "national-2020/r1")
    root = traced["proposal"]
    assert [o["id"] for o in root["from"]] == ["toulouse-2020/r1", "vienne-2020/p1"]
    assert [o["id"] for o in root["from"][0]["from"]] == [
        "ariege-2020/p1",
        "haute-garonne-2020/p3",
    ]
    assert [d["code"] for d in traced["departements"]] == ["dep-09", "dep-31", "dep-86"]


def test_a_network_counts_as_its_departement_in_a_trace() -> None:
    traced = trace(Published(EGN, chain()), "toulouse-2020/r2")
    assert [d["code"] for d in traced["departements"]] == ["dep-09"]
    assert [s["code"] for s in traced["sources"]] == ["loc-pamiers"]


def test_an_origin_unpublished_later_shows_as_no_longer_published() -> None:
    left = [c for c in chain() if c.event != "vienne-2020"]
    traced = trace(Published(EGN, left), "national-2020/r1")
    assert traced["proposal"]["from"][1] == {"id": "vienne-2020/p1", "published": False}
    assert [d["code"] for d in traced["departements"]] == ["dep-09", "dep-31"]


def test_nothing_unpublished_reaches_a_page() -> None:
    left = [c for c in chain() if c.event != "haute-garonne-2020"]
    pub = Published(EGN, left)
    everything = browse(pub, per_page=200)
    assert not any(p["id"].startswith("haute-garonne") for p in everything["proposals"])
    assert "dep-31" not in territory_counts(pub)
    assert all(
        not p["id"].startswith("haute-garonne")
        for p in rollup_view(pub, "toulouse-2020", "acces")["proposals"]
    )


def test_browse_by_event_and_the_event_page() -> None:
    pub = Published(EGN, chain())
    assert [p["id"] for p in browse(pub, event="ariege-2020")["proposals"]] == [
        "ariege-2020/p1",
        "ariege-2020/p2",
    ]
    page = event_view(pub, "ariege-2020")
    assert [t["id"] for t in page["themes"]] == ["acces", "enseigner"]
    assert page["themes"][0]["proposals"][0]["arguments"] == [
        {"stance": "pour", "text": "Le confinement l'a montré"}
    ]


def test_the_version_changes_with_every_publication() -> None:
    before = Published(EGN, departements()).version
    assert Published(EGN, departements()).version == before
    later = [
        *departements(),
        contribution("toulouse-2020", proposal("toulouse-2020", "p1", "Autre")),
    ]
    assert Published(EGN, later).version != before
