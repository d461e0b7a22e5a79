"""The territories of French education: the Ministry's tree as of 2020 (18 régions
académiques, 30 académies, 101 départements), the questions an organizer's page asks of
it, and the local networks a consultation adds below a département."""

from __future__ import annotations

import re
import tomllib
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from live.errors import RelaisError
from live.model import SLUG
from live.territories import MAX_CODE, Territories, Territory, TerritoryError, check_code

ROOT = Path(__file__).resolve().parent.parent
REF = Territories.reference()

# The same tree written a second way, from the Ministry's list: région académique ->
# académie -> INSEE codes of its départements.
MINISTRY = {
    "ra-auvergne-rhone-alpes": {
        "ac-clermont-ferrand": "03 15 43 63",
        "ac-grenoble": "07 26 38 73 74",
        "ac-lyon": "01 42 69",
    },
    "ra-bourgogne-franche-comte": {"ac-besancon": "25 39 70 90", "ac-dijon": "21 58 71 89"},
    "ra-bretagne": {"ac-rennes": "22 29 35 56"},
    "ra-centre-val-de-loire": {"ac-orleans-tours": "18 28 36 37 41 45"},
    "ra-corse": {"ac-corse": "2a 2b"},
    "ra-grand-est": {
        "ac-nancy-metz": "54 55 57 88",
        "ac-reims": "08 10 51 52",
        "ac-strasbourg": "67 68",
    },
    "ra-hauts-de-france": {"ac-amiens": "02 60 80", "ac-lille": "59 62"},
    "ra-ile-de-france": {
        "ac-creteil": "77 93 94",
        "ac-paris": "75",
        "ac-versailles": "78 91 92 95",
    },
    "ra-normandie": {"ac-normandie": "14 27 50 61 76"},
    "ra-nouvelle-aquitaine": {
        "ac-bordeaux": "24 33 40 47 64",
        "ac-limoges": "19 23 87",
        "ac-poitiers": "16 17 79 86",
    },
    "ra-occitanie": {
        "ac-montpellier": "11 30 34 48 66",
        "ac-toulouse": "09 12 31 32 46 65 81 82",
    },
    "ra-pays-de-la-loire": {"ac-nantes": "44 49 53 72 85"},
    "ra-provence-alpes-cote-d-azur": {"ac-aix-marseille": "04 05 13 84", "ac-nice": "06 83"},
    "ra-guadeloupe": {"ac-guadeloupe": "971"},
    "ra-guyane": {"ac-guyane": "973"},
    "ra-martinique": {"ac-martinique": "972"},
    "ra-la-reunion": {"ac-la-reunion": "974"},
    "ra-mayotte": {"ac-mayotte": "976"},
}


def codes(territories: tuple[Territory, ...]) -> list[str]:
    return [t.code for t in territories]


def test_the_reference_holds_18_regions_30_academies_and_101_departements() -> None:
    assert len(REF.all("national")) == 1
    assert len(REF.all("region")) == 18
    assert len(REF.all("academie")) == 30
    assert len(REF.all("departement")) == 101
    assert REF.all("local") == ()
    assert len(REF) == len(REF.all()) == 150


def test_the_departements_are_france_s_101_insee_codes() -> None:
    metropolitan = {f"{n:02d}" for n in range(1, 96)} - {"20"} | {"2a", "2b"}
    overseas = {"971", "972", "973", "974", "976"}
    assert {t.code for t in REF.all("departement")} == {f"dep-{c}" for c in metropolitan | overseas}


def test_every_departement_sits_in_the_academie_and_region_the_ministry_lists() -> None:
    seen: list[str] = []
    for region, academies in MINISTRY.items():
        assert codes(REF.children(region)) == sorted(academies, key=lambda a: a.replace("-", " "))
        for academie, insee in academies.items():
            assert REF.level_of(academie) == "academie"
            deps = {f"dep-{c}" for c in insee.split()}
            assert {t.code for t in REF.children(academie)} == deps
            seen += deps
    assert len(seen) == len(set(seen)) == 101  # each one in exactly one académie
    assert {t.code for t in REF.children("fr")} == set(MINISTRY)


@pytest.mark.parametrize(
    "chain",
    [
        ("dep-09", "ac-toulouse", "ra-occitanie", "fr"),  # the Ariège half-day
        ("dep-86", "ac-poitiers", "ra-nouvelle-aquitaine", "fr"),  # the Poitiers morning
        ("dep-54", "ac-nancy-metz", "ra-grand-est", "fr"),  # the Grand Est day's hub
        ("dep-976", "ac-mayotte", "ra-mayotte", "fr"),
        ("dep-2a", "ac-corse", "ra-corse", "fr"),
        ("dep-14", "ac-normandie", "ra-normandie", "fr"),  # Caen and Rouen merged in 2020
    ],
)
def test_a_departement_climbs_to_its_academie_its_region_then_france(
    chain: tuple[str, ...],
) -> None:
    assert REF.ancestors(chain[0]) == chain
    assert codes(REF.path(chain[0])) == list(reversed(chain))
    assert [REF.level_of(c) for c in chain] == ["departement", "academie", "region", "national"]


def test_names_are_written_as_the_ministry_writes_them() -> None:
    assert REF.get("ra-nouvelle-aquitaine") == Territory(
        "ra-nouvelle-aquitaine",
        "Région académique Nouvelle-Aquitaine",
        "Nouvelle-Aquitaine",
        "region",
        "fr",
    )
    assert REF.get("ac-poitiers") == Territory(
        "ac-poitiers", "Académie de Poitiers", "Poitiers", "academie", "ra-nouvelle-aquitaine"
    )
    assert REF.get("dep-09") == Territory(
        "dep-09", "Ariège (09)", "Ariège", "departement", "ac-toulouse"
    )
    named = {
        c: REF.get(c) for c in ("ac-aix-marseille", "ac-guadeloupe", "ac-la-reunion", "dep-2a")
    }
    assert {c: t.name for c, t in named.items() if t} == {
        "ac-aix-marseille": "Académie d'Aix-Marseille",
        "ac-guadeloupe": "Académie de la Guadeloupe",
        "ac-la-reunion": "Académie de La Réunion",
        "dep-2a": "Corse-du-Sud (2A)",
    }
    for t in REF.all("region"):
        assert t.name == f"Région académique {t.short}"
    for t in REF.all("academie"):
        assert re.fullmatch(r"Académie (de |d'|de la )" + re.escape(t.short), t.name), t.name
    for t in REF.all("departement"):
        assert t.name == f"{t.short} ({t.code.removeprefix('dep-').upper()})"


def test_a_code_is_its_level_s_prefix_and_the_slug_of_the_short_name() -> None:
    prefix = {"region": "ra-", "academie": "ac-"}
    for t in REF.all("region") + REF.all("academie"):
        bare = unicodedata.normalize("NFKD", t.short).encode("ascii", "ignore").decode()
        assert t.code == prefix[t.level] + re.sub(r"[^a-z0-9]+", "-", bare.lower()).strip("-")


def test_every_code_fits_an_event_s_territory_field() -> None:
    assert all(re.fullmatch(SLUG, t.code) for t in REF.all())


def test_within_holds_for_the_territory_itself_and_everything_above_it() -> None:
    assert REF.within("dep-09", "dep-09")
    assert REF.within("dep-09", "ac-toulouse")
    assert REF.within("dep-09", "ra-occitanie")
    assert REF.within("dep-09", "fr")


def test_within_fails_for_a_neighbour_a_territory_below_or_an_unknown_code() -> None:
    assert not REF.within("dep-09", "ac-montpellier")
    assert not REF.within("dep-09", "dep-31")
    assert not REF.within("ac-toulouse", "dep-09")
    assert not REF.within("dep-20", "fr")  # no such département since 1976
    assert not REF.within("DEP-09", "fr")  # codes from outside go through check_code first


def test_children_are_sorted_by_short_name_with_accents_folded() -> None:
    regions = [t.short for t in REF.children("fr")]
    assert regions.index("Île-de-France") == regions.index("Hauts-de-France") + 1
    assert regions.index("La Réunion") == regions.index("Île-de-France") + 1
    assert [t.short for t in REF.children("ac-toulouse")] == [
        "Ariège",
        "Aveyron",
        "Gers",
        "Haute-Garonne",
        "Hautes-Pyrénées",
        "Lot",
        "Tarn",
        "Tarn-et-Garonne",
    ]
    assert REF.children("dep-09") == ()


def test_descendants_are_the_territory_and_all_below_it() -> None:
    toulouse = {f"dep-{c}" for c in MINISTRY["ra-occitanie"]["ac-toulouse"].split()}
    assert REF.descendants("ac-toulouse") == toulouse | {"ac-toulouse"}
    assert REF.descendants("dep-09") == {"dep-09"}
    assert REF.descendants("fr") == {t.code for t in REF.all()}


def test_all_lists_the_tree_depth_first_as_a_select_list_would() -> None:
    everything = codes(REF.all())
    assert everything[:4] == ["fr", "ra-auvergne-rhone-alpes", "ac-clermont-ferrand", "dep-03"]
    toulouse = everything.index("ac-toulouse")
    assert everything[toulouse + 1 : toulouse + 9] == codes(REF.children("ac-toulouse"))
    assert codes(REF.all("academie"))[:3] == ["ac-clermont-ferrand", "ac-grenoble", "ac-lyon"]
    with pytest.raises(ValueError):
        REF.all("canton")  # type: ignore[arg-type]


@given(st.sampled_from(codes(REF.all())), st.sampled_from(codes(REF.all())))
def test_within_ancestors_and_descendants_tell_the_same_story(a: str, b: str) -> None:
    assert REF.within(a, b) == (b in REF.ancestors(a)) == (a in REF.descendants(b))
    assert REF.path(a)[-1] == REF.get(a)
    assert all(REF.get(child.code) == child and child.parent == a for child in REF.children(a))


def test_an_unknown_code_is_absent_and_refused_where_a_territory_is_needed() -> None:
    assert REF.get("ac-caen") is None  # merged into Normandie in 2020
    assert "ac-caen" not in REF
    assert "ac-normandie" in REF
    for ask in (REF.ancestors, REF.path, REF.children, REF.descendants, REF.level_of):
        with pytest.raises(TerritoryError) as refused:
            ask("ac-caen")
        assert refused.value.params["reason"] == "unknown"


def test_a_refusal_is_a_relais_error_coded_territory_invalid() -> None:
    with pytest.raises(RelaisError) as refused:
        check_code("académie de Poitiers")
    assert isinstance(refused.value, TerritoryError)
    assert refused.value.code == "territory_invalid"
    assert refused.value.params == {"territory": "académie de Poitiers", "reason": "bad_code"}


@pytest.mark.parametrize(
    ("given", "canonical"),
    [
        ("fr", "fr"),
        (" DEP-2A ", "dep-2a"),
        ("dep-971", "dep-971"),
        ("Ac-Nancy-Metz", "ac-nancy-metz"),
        ("loc-bassin-de-pamiers", "loc-bassin-de-pamiers"),
    ],
)
def test_check_code_trims_and_lowercases_a_code(given: str, canonical: str) -> None:
    assert check_code(given) == canonical


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "france",
        "dep-9",
        "dep-2c",
        "dep-9a",
        "dep-١٢",  # Arabic-Indic digits are digits, not an INSEE code
        "ac-poitiers-",
        "ac--poitiers",
        "ac-poitiérs",
        "ac poitiers",
        "loc-",
        "loc-" + "a" * MAX_CODE,
        "x" * 100_000,
        None,
        9,
    ],
)
def test_check_code_refuses_what_is_not_a_territory_code(bad: object) -> None:
    with pytest.raises(TerritoryError) as refused:
        check_code(bad)
    assert len(refused.value.params["territory"]) <= MAX_CODE + 1  # never echoes a flood


def test_the_reference_is_built_once_and_cannot_be_changed() -> None:
    assert Territories.reference() is REF
    with pytest.raises(AttributeError):
        REF._by_code = {}
    with pytest.raises(AttributeError):
        del REF._by_code


def test_local_networks_go_below_a_departement_or_another_local_network() -> None:
    ariege = REF.with_local(
        [
            ("loc-ecole-de-foix", "École de Foix", "loc-bassin-de-foix"),  # parent named after
            ("LOC-Bassin-de-Foix", "  Bassin de  Foix ", "dep-09"),
            ("loc-bassin-de-pamiers", "Bassin de Pamiers", "dep-09"),
        ]
    )
    assert ariege.get("loc-bassin-de-foix") == Territory(
        "loc-bassin-de-foix", "Bassin de Foix", "Bassin de Foix", "local", "dep-09"
    )
    assert ariege.ancestors("loc-ecole-de-foix") == (
        "loc-ecole-de-foix",
        "loc-bassin-de-foix",
        "dep-09",
        "ac-toulouse",
        "ra-occitanie",
        "fr",
    )
    assert ariege.within("loc-ecole-de-foix", "ac-toulouse")
    assert codes(ariege.children("dep-09")) == ["loc-bassin-de-foix", "loc-bassin-de-pamiers"]
    assert "loc-ecole-de-foix" in ariege.descendants("ra-occitanie")
    assert codes(ariege.all("local")) == [
        "loc-bassin-de-foix",
        "loc-ecole-de-foix",
        "loc-bassin-de-pamiers",
    ]
    assert len(ariege) == 153


def test_adding_local_networks_leaves_the_reference_as_it_was() -> None:
    REF.with_local([("loc-grand-poitiers", "Grand Poitiers", "dep-86")])
    assert "loc-grand-poitiers" not in REF
    assert REF.children("dep-86") == ()
    assert REF.with_local([]) is REF


def test_local_networks_can_be_added_to_a_tree_that_already_has_some() -> None:
    once = REF.with_local([("loc-nancy", "Nancy", "dep-54")])
    twice = once.with_local([("loc-nancy-nord", "Nancy Nord", "loc-nancy")])
    assert twice.ancestors("loc-nancy-nord")[:3] == ("loc-nancy-nord", "loc-nancy", "dep-54")
    assert "loc-nancy-nord" not in once


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        ([("loc-x", "X", "dep-20")], "unknown_parent"),
        ([("loc-x", "X", "ac-toulouse")], "bad_parent"),  # an académie's network is a département
        ([("loc-x", "X", "fr")], "bad_parent"),
        ([("loc-x", "X", "dep-09"), ("loc-x", "Y", "dep-31")], "duplicate"),
        ([("loc-x", "X", "dep-09"), ("LOC-X", "Y", "dep-31")], "duplicate"),
        ([("loc-a", "A", "loc-b"), ("loc-b", "B", "loc-a")], "cycle"),
        ([("loc-a", "A", "loc-a")], "cycle"),
        ([("dep-09", "Ariège", "ac-toulouse")], "not_local"),
        ([("ac-foix", "Foix", "dep-09")], "not_local"),
        ([("loc-foix ouest", "Foix", "dep-09")], "bad_code"),
        ([("loc-x", "X", "dep 09")], "bad_code"),
        ([("loc-x", "   ", "dep-09")], "bad_name"),
        ([("loc-x", "a" * 121, "dep-09")], "bad_name"),
        ([("loc-x", "Foix\u202eesrever", "dep-09")], "bad_name"),
    ],
)
def test_a_local_network_is_refused_with_a_reason(
    extra: list[tuple[str, str, str]], reason: str
) -> None:
    with pytest.raises(TerritoryError) as refused:
        REF.with_local(extra)
    assert refused.value.code == "territory_invalid"
    assert refused.value.params["reason"] == reason


def test_a_local_network_cannot_take_a_reference_code() -> None:
    local = REF.with_local([("loc-foix", "Foix", "dep-09")])
    with pytest.raises(TerritoryError) as refused:
        local.with_local([("loc-foix", "Foix encore", "dep-09")])
    assert refused.value.params["reason"] == "duplicate"


def test_a_tree_without_france_at_its_top_is_refused() -> None:
    with pytest.raises(TerritoryError) as refused:
        Territories([Territory("ra-corse", "Région académique Corse", "Corse", "region", "fr")])
    assert refused.value.params["reason"] == "no_root"
    with pytest.raises(TerritoryError) as refused:
        Territories([Territory("fr", "France", "France", "region", None)])
    assert refused.value.params["reason"] == "bad_code"


def test_the_reference_file_ships_in_the_package() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "territories.json" in pyproject["tool"]["setuptools"]["package-data"]["live"]
    assert (ROOT / "live" / "territories.json").is_file()
