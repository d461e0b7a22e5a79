"""The .ics exports say where each site's people gather and who speaks, with roles."""

from __future__ import annotations

import icalendar

from live.event_file import parse_event
from live.people.calendar import agenda_ics, personal_ics
from tests.model.test_model import DEMO

POITIERS = parse_event((DEMO / "poitiers-2020.yaml").read_text())


def vevents(ics: bytes) -> dict[str, icalendar.Event]:
    cal = icalendar.Calendar.from_ical(ics)
    return {str(e["UID"]).split("@")[0]: e for e in cal.walk("VEVENT")}


def test_a_persons_shared_step_is_located_in_their_sites_room() -> None:
    niort = vevents(personal_ics(POITIERS, "niort", None, "https://relais.example/me"))
    opening = niort["poitiers-2020-ouverture-niort"]
    assert str(opening["LOCATION"]) == "Salle polyvalente, Lycée Paul Guérin, Niort, Niort"
    saint_jean = vevents(personal_ics(POITIERS, "saint-jean", None, "https://x.example/me"))
    assert str(saint_jean["poitiers-2020-ouverture-saint-jean"]["LOCATION"]).startswith("104, ")


def test_a_step_without_rooms_is_located_at_the_site_only() -> None:
    niort = vevents(personal_ics(POITIERS, "niort", None, "https://relais.example/me"))
    assert str(niort["poitiers-2020-pause-niort"]["LOCATION"]) == "Lycée Paul Guérin, Niort, Niort"


def test_the_ics_names_each_speaker_with_their_role() -> None:
    niort = vevents(personal_ics(POITIERS, "niort", None, "https://relais.example/me"))
    text = str(niort["poitiers-2020-ouverture-niort"]["DESCRIPTION"])
    assert text.splitlines() == [
        "Madame la Rectrice, rectrice de l'académie de Poitiers — à distance",
        "Nathalie Morin, directrice territoriale de Réseau Canopé (Atelier Canopé de Poitiers)",
    ]


def test_the_events_agenda_lists_every_sites_room_for_a_shared_step() -> None:
    opening = vevents(agenda_ics(POITIERS))["poitiers-2020-ouverture"]
    text = str(opening["DESCRIPTION"])
    assert "Lycée Paul Guérin, Niort : Salle polyvalente" in text
    assert "Lycée Louis Audoin Dubreuil, Saint-Jean-d'Angély : 104" in text
