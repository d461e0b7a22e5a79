"""Publishing an event's contribution from its participation, and the reprise of the
territories' proposals by an upper event."""

from __future__ import annotations

import json

import pytest

from live.consultation.model import ConsultationRefused, Contribution
from live.consultation.publish import Choices, check, contribution, default_selection, reprise
from live.participation.state import Participation
from tests.consultation.world import EGN, GRAND_EST, WHEN, departements
from tests.consultation.world import contribution as made
from tests.participation.room import (
    ALICE,
    ARIEGE,
    BOB,
    CLARA,
    RAPPORTEUR,
    Room,
)


def ariege_room() -> Room:
    room = Room()
    wifi = room.propose(ALICE, "Du wifi dans les écoles", body="Partout", subject="egalite")
    room.propose(BOB, "Des tablettes")
    hidden = room.propose(BOB, "Hors sujet", body="Mon voisin, M. Untel…")
    room.do(RAPPORTEUR, "hide", proposal=hidden, reason="Nomme quelqu'un")
    room.do(BOB, "support", proposal=wifi)
    room.do(BOB, "argue", proposal=wifi, stance="pour", text="Oui, partout")
    room.do(RAPPORTEUR, "retain", proposal=wifi)
    room.propose(CLARA, "Former les enseignants", subject="formation")
    return room


def test_by_default_a_workshop_publishes_its_retained_proposals_else_its_visible_ones() -> None:
    state = ariege_room().state
    by_title = {p.title: p.id for p in state.proposals.values()}
    # atelier-acces retained one; atelier-enseigner retained none: its visible one goes.
    expected = {by_title["Du wifi dans les écoles"], by_title["Former les enseignants"]}
    assert default_selection(state) == expected


def test_a_contribution_holds_the_proposals_with_support_and_arguments_without_anyone() -> None:
    room = ariege_room()
    c = contribution(EGN, ARIEGE, room.state, WHEN)
    assert (c.event, c.territory, c.event_date.isoformat()) == (
        "ariege-2020",
        "dep-09",
        "2020-09-30",
    )
    wifi = c.proposal("ariege-2020/p1")
    assert wifi is not None
    assert (wifi.theme, wifi.subject, wifi.supports) == ("acces", "egalite", 1)
    assert [(a.stance, a.text) for a in wifi.arguments] == [("pour", "Oui, partout")]
    text = c.model_dump_json()
    assert "person:" not in text and "device:" not in text  # no author or supporter key


def test_the_organizer_picks_what_is_published() -> None:
    room = ariege_room()
    c = contribution(EGN, ARIEGE, room.state, WHEN, Choices(proposals=frozenset({"p2"})))
    assert [p.id for p in c.proposals] == ["ariege-2020/p2"]


@pytest.mark.parametrize("pid", ["p3", "p99"])
def test_a_hidden_or_unknown_proposal_cannot_be_published(pid: str) -> None:
    with pytest.raises(ConsultationRefused) as refusal:
        contribution(EGN, ARIEGE, ariege_room().state, WHEN, Choices(proposals=frozenset({pid})))
    assert refusal.value.code == "consultation.not_publishable"


def test_a_merged_proposal_is_not_published_its_target_is() -> None:
    room = Room()
    a = room.propose(ALICE, "Du wifi")
    b = room.propose(BOB, "Le wifi partout")
    room.do(RAPPORTEUR, "merge", source=a, target=b)
    assert default_selection(room.state) == {b}


def test_an_event_the_consultation_does_not_list_is_refused() -> None:
    with pytest.raises(ConsultationRefused) as refusal:
        contribution(EGN.model_copy(update={"events": ()}), ARIEGE, ariege_room().state, WHEN)
    assert refusal.value.code == "consultation.unknown_event"


def test_an_event_naming_another_territory_than_the_consultation_lists_is_refused() -> None:
    elsewhere = ARIEGE.model_copy(update={"territory": "dep-31"})
    with pytest.raises(ConsultationRefused) as refusal:
        contribution(EGN, elsewhere, ariege_room().state, WHEN)
    assert refusal.value.code == "consultation.wrong_territory"


def test_presenters_and_rapporteurs_are_named_only_if_they_agreed() -> None:
    report, _ = next((r, w) for r, w in GRAND_EST.all_reports() if len(r.presenters) == 2)
    agreed, refused = report.presenters
    w = GRAND_EST.workshops[0]
    choices = Choices(
        agreed=frozenset({agreed, "Mme Rapporteure"}),
        notes={w.id: "## Constats\n\nLe réseau manque."},
        rapporteurs={w.id: ("Mme Rapporteure", "M. Discret")},
        summaries={report.id: "Un ENT commun."},
    )
    c = contribution(EGN, GRAND_EST, Participation(), WHEN, choices)
    published = next(r for r in c.reports if r.id == report.id)
    assert published.presenters == (agreed,)
    assert published.summary == "Un ENT commun."
    assert len(c.reports) == len(GRAND_EST.all_reports())
    (synthesis,) = c.syntheses
    assert synthesis.rapporteurs == ("Mme Rapporteure",)
    assert refused not in c.model_dump_json() and "M. Discret" not in c.model_dump_json()


def test_the_organizer_may_leave_reports_out() -> None:
    c = contribution(EGN, GRAND_EST, Participation(), WHEN, Choices(reports=frozenset()))
    assert c.reports == ()


# -- reprise -----------------------------------------------------------------------------


def academy() -> Contribution:
    return made("toulouse-2020", title="Journée académique de Toulouse")


def test_an_academy_merges_proposals_of_its_departements() -> None:
    c = reprise(
        EGN,
        academy(),
        departements(),
        ["ariege-2020/p1", "haute-garonne-2020/p3"],
        "merged",
        "Un ordinateur pour chaque élève",
        "Prêter ou donner un ordinateur à chaque élève qui n'en a pas.",
    )
    (r,) = c.proposals
    assert (r.id, r.reprise, r.origins) == (
        "toulouse-2020/r1",
        "merged",
        ("ariege-2020/p1", "haute-garonne-2020/p3"),
    )
    assert (r.theme, r.subject, r.supports) == ("acces", "egalite", 32)
    again = reprise(EGN, c, departements(), ["pamiers-2020/p1"], "reworded", "Relier les familles")
    assert [p.id for p in again.proposals] == ["toulouse-2020/r1", "toulouse-2020/r2"]


def refusal_of(origins: list[str], event: str = "toulouse-2020") -> str:
    with pytest.raises(ConsultationRefused) as refusal:
        reprise(EGN, made(event), departements(), origins, "reworded", "Reprise")
    return refusal.value.code


def test_an_origin_that_is_not_published_is_refused() -> None:
    assert refusal_of(["ariege-2020/p99"]) == "consultation.unknown_origin"
    assert refusal_of(["cantal-2020/p1"]) == "consultation.unknown_origin"


def test_an_origin_outside_the_events_territory_is_refused() -> None:
    assert refusal_of(["vienne-2020/p1"]) == "consultation.origin_outside"  # académie de Poitiers
    assert refusal_of(["haute-garonne-2020/p3"], "ariege-2020") == "consultation.origin_outside"


def test_check_refuses_a_contribution_whose_origin_was_unpublished_meanwhile() -> None:
    carried = reprise(EGN, academy(), departements(), ["ariege-2020/p1"], "reworded", "R")
    others = [c for c in departements() if c.event != "ariege-2020"]
    with pytest.raises(ConsultationRefused) as refusal:
        check(EGN, carried, others)
    assert refusal.value.code == "consultation.unknown_origin"


def test_an_event_publishes_in_its_own_territory_only() -> None:
    wrong = made("ariege-2020").model_copy(update={"territory": "dep-31"})
    with pytest.raises(ConsultationRefused) as refusal:
        check(EGN, wrong, [])
    assert refusal.value.code == "consultation.wrong_territory"


def test_a_theme_or_subject_the_consultation_does_not_have_is_refused() -> None:
    (c,) = [c for c in departements() if c.event == "vienne-2020"]
    fields = json.loads(c.model_dump_json())
    fields["proposals"][0]["subject"] = "inconnu"
    with pytest.raises(ConsultationRefused) as refusal:
        check(EGN, Contribution.model_validate(fields), [])
    assert refusal.value.code == "consultation.unknown_subject"
    fields["proposals"][0]["theme"] = "inconnu"
    with pytest.raises(ConsultationRefused) as refusal:
        check(EGN, Contribution.model_validate(fields), [])
    assert refusal.value.code == "consultation.unknown_theme"


def test_a_title_too_long_for_a_reprise_is_refused() -> None:
    with pytest.raises(ConsultationRefused) as refusal:
        reprise(EGN, academy(), departements(), ["ariege-2020/p1"], "reworded", "x" * 201)
    assert refusal.value.code == "consultation.too_large"
