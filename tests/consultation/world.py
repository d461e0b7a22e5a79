"""A consultation for the tests, modelled on the 2020 "États généraux du numérique":
the Ariège and Haute-Garonne afternoons feed the académie de Toulouse's day, which feeds
the national days at Poitiers; the Vienne's afternoon (académie de Poitiers) and the Grand
Est regional day publish beside them."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from live.consultation.model import (
    Consultation,
    Contribution,
    EventPlace,
    LocalTerritory,
    PublishedArgument,
    PublishedProposal,
)
from live.consultation.publish import reprise
from live.event_file import parse_event

DEMO = Path(__file__).resolve().parents[2] / "live" / "demo"
ARIEGE = parse_event((DEMO / "ariege-2020.yaml").read_text())
GRAND_EST = parse_event((DEMO / "grand-est-2020.yaml").read_text())
WHEN = datetime(2020, 10, 20, 12, 0, tzinfo=UTC)

PLACES = {
    "ariege-2020": "dep-09",
    "pamiers-2020": "loc-pamiers",
    "haute-garonne-2020": "dep-31",
    "toulouse-2020": "ac-toulouse",
    "vienne-2020": "dep-86",
    "grand-est-2020": "ra-grand-est",
    "national-2020": "fr",
}

EGN = Consultation(
    id="egn-2020",
    title="États généraux du numérique pour l'éducation",
    territory="fr",
    themes=ARIEGE.themes,
    locals=(LocalTerritory(code="loc-pamiers", name="Bassin de Pamiers", parent="dep-09"),),
    events=tuple(EventPlace(event=e, territory=t) for e, t in PLACES.items()),
)


def proposal(
    event: str,
    pid: str,
    title: str,
    body: str = "",
    theme: str = "acces",
    subject: str = "egalite",
    supports: int = 0,
    arguments: tuple[tuple[str, str], ...] = (),
) -> PublishedProposal:
    return PublishedProposal(
        id=f"{event}/{pid}",
        theme=theme,
        subject=subject,
        title=title,
        body=body,
        supports=supports,
        arguments=tuple(PublishedArgument(stance=s, text=t) for s, t in arguments),  # type: ignore[arg-type]
    )


def contribution(event: str, *proposals: PublishedProposal, title: str = "") -> Contribution:
    return Contribution(
        consultation=EGN.id,
        event=event,
        event_title=title or f"Consultation {event}",
        event_date=date(2020, 10, 1),
        territory=PLACES[event],
        published=WHEN,
        proposals=proposals,
    )


def departements() -> list[Contribution]:
    """What the départements (and one network of the Ariège) published."""
    return [
        contribution(
            "ariege-2020",
            proposal(
                "ariege-2020",
                "p1",
                "Des équipements numériques pour chaque élève",
                "Prêter un ordinateur aux élèves qui n'en ont pas, dès la rentrée.",
                supports=12,
                arguments=(("pour", "Le confinement l'a montré"),),
            ),
            proposal(
                "ariege-2020",
                "p2",
                "Former les enseignants au numérique",
                "Des formations courtes, dans chaque bassin.",
                theme="enseigner",
                subject="formation",
                supports=7,
            ),
            title="États généraux du numérique pour l'éducation — Ariège",
        ),
        contribution(
            "pamiers-2020",
            proposal(
                "pamiers-2020",
                "p1",
                "Une connexion pour les familles éloignées",
                "La fracture numérique touche les villages de montagne.",
                supports=4,
            ),
        ),
        contribution(
            "haute-garonne-2020",
            proposal(
                "haute-garonne-2020",
                "p3",
                "Un ordinateur par eleve",
                "Equiper les eleves de college en ordinateurs portables.",
                supports=20,
            ),
            proposal(
                "haute-garonne-2020",
                "p4",
                "Accès au réseau dans les zones blanches",
                "Le haut débit pour toutes les écoles rurales.",
                subject="inclusion",
                supports=3,
            ),
        ),
        contribution(
            "vienne-2020",
            proposal(
                "vienne-2020",
                "p1",
                "Des tablettes pour les écoles",
                "Équiper les écoles maternelles.",
                supports=9,
            ),
        ),
    ]


def carried_up(deps: list[Contribution]) -> list[Contribution]:
    """The départements' contributions, Toulouse's day merging two of them and rewording
    Pamiers', and the national day merging Toulouse's merge with the Vienne's proposal."""
    toulouse = reprise(
        EGN,
        contribution("toulouse-2020", title="Journée académique de Toulouse"),
        deps,
        ["ariege-2020/p1", "haute-garonne-2020/p3"],
        "merged",
        "Un ordinateur pour chaque élève",
    )
    toulouse = reprise(EGN, toulouse, deps, ["pamiers-2020/p1"], "reworded", "Relier les familles")
    national = reprise(
        EGN,
        contribution("national-2020", title="États généraux nationaux — Poitiers"),
        [*deps, toulouse],
        ["toulouse-2020/r1", "vienne-2020/p1"],
        "merged",
        "Équiper chaque élève et chaque école",
    )
    return [*deps, toulouse, national]
