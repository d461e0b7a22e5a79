"""A consultation and a contribution validate alone: ids, bounds, a reprise's shape."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from live.consultation.model import (
    CONTRIBUTION_CHARS,
    MAX_ARGUMENTS,
    MAX_PROPOSALS,
    Consultation,
    Contribution,
    PublishedProposal,
)
from tests.consultation.world import EGN, contribution, proposal


def test_an_event_belongs_to_one_territory_of_its_consultation() -> None:
    assert EGN.territory_of("ariege-2020") == "dep-09"
    assert EGN.territory_of("ailleurs-2020") is None


def test_the_consultation_adds_its_local_networks_under_a_departement() -> None:
    tree = EGN.territories()
    assert tree.ancestors("loc-pamiers") == (
        "loc-pamiers",
        "dep-09",
        "ac-toulouse",
        "ra-occitanie",
        "fr",
    )


def test_an_event_listed_twice_is_refused() -> None:
    fields = EGN.model_dump()
    fields["events"] = [*fields["events"], {"event": "ariege-2020", "territory": "dep-31"}]
    with pytest.raises(ValidationError, match="listed twice"):
        Consultation.model_validate(fields)


def reprise(**fields: Any) -> PublishedProposal:
    base = {"id": "toulouse-2020/r1", "theme": "acces", "title": "Équiper les élèves"}
    return PublishedProposal.model_validate({**base, **fields})


def test_a_reworded_proposal_carries_exactly_one_origin() -> None:
    assert reprise(origins=["ariege-2020/p1"], reprise="reworded").origins == ("ariege-2020/p1",)
    with pytest.raises(ValidationError, match="exactly one"):
        reprise(origins=["ariege-2020/p1", "haute-garonne-2020/p3"], reprise="reworded")


def test_a_merged_proposal_carries_at_least_two_origins() -> None:
    with pytest.raises(ValidationError, match="at least two"):
        reprise(origins=["ariege-2020/p1"], reprise="merged")


def test_origins_without_a_reprise_kind_are_refused() -> None:
    with pytest.raises(ValidationError, match="without a reprise"):
        reprise(origins=["ariege-2020/p1"])


def test_a_proposal_of_another_event_is_refused_in_a_contribution() -> None:
    with pytest.raises(ValidationError, match="not of event"):
        contribution("ariege-2020", proposal("vienne-2020", "p1", "Des tablettes"))


def test_a_proposal_cannot_carry_forward_one_of_its_own_event() -> None:
    own = PublishedProposal(
        id="toulouse-2020/r1",
        theme="acces",
        title="x",
        origins=("toulouse-2020/p1", "ariege-2020/p1"),
        reprise="merged",
    )
    with pytest.raises(ValidationError, match="of this event"):
        contribution("toulouse-2020", own)


@pytest.mark.parametrize(
    "fields",
    [
        {"title": "x" * 201},
        {"body": "x" * 2001},
        {"title": ""},
        {"supports": -1},
        {"theme": "Pas un slug"},
        {"id": "sans-barre"},
        {"arguments": [{"stance": "pour", "text": "x"}] * (MAX_ARGUMENTS + 1)},
        {"arguments": [{"stance": "peut-être", "text": "x"}]},
        {"arguments": [{"stance": "pour", "text": "x" * 601}]},
        {"origins": [f"dep-{i}/p1" for i in range(101)], "reprise": "merged"},
    ],
)
def test_an_oversized_or_malformed_proposal_is_refused(fields: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        PublishedProposal.model_validate({"id": "e/p1", "theme": "acces", "title": "t", **fields})


def test_a_contribution_has_a_bounded_number_of_proposals() -> None:
    many = [proposal("ariege-2020", f"p{i}", "Du wifi") for i in range(MAX_PROPOSALS + 1)]
    with pytest.raises(ValidationError):
        contribution("ariege-2020", *many)


def test_a_contribution_has_a_bounded_size_in_all() -> None:
    body = "x" * 2000
    count = CONTRIBUTION_CHARS // 2000 + 1
    big = [proposal("ariege-2020", f"p{i}", "t", body) for i in range(min(count, MAX_PROPOSALS))]
    fields = contribution("ariege-2020").model_dump()
    fields["syntheses"] = [
        {"workshop": f"w{i}", "theme": "acces", "title": "t", "text": "y" * 100_000}
        for i in range(30)
    ]
    fields["proposals"] = [p.model_dump() for p in big]
    with pytest.raises(ValidationError, match="too large"):
        Contribution.model_validate(fields)
