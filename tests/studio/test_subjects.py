"""A theme's subjects in the studio: one title per line, ids made from the titles as other
ids are, and kept through a save (a title corrected in place keeps its id, so proposals
and questionnaire answers filed under it stay there)."""

from __future__ import annotations

import httpx
import yaml

from live.event_file import parse_event
from live.studio import forms
from live.studio.yaml_io import event_data
from tests.studio.test_studio import ARIEGE, DEMO, http, save, studio_page  # noqa: F401
from tests.support.servers import LiveServer
from tests.support.studio_forms import form_fields, notes_at

SHOWN = '[["egalite", "Égalité d’accès"], ["inclusion", "Inclusion"]]'


def test_the_form_shows_one_subject_per_line_and_keeps_their_ids() -> None:
    event = parse_event((DEMO / f"{ARIEGE}.yaml").read_text(encoding="utf-8"))
    raw = forms.from_data(event_data(event))
    acces = raw["themes"][0]
    assert acces["subjects"] == "Égalité d’accès\nNumérique et parentalité\nInclusion"
    assert "subjects" not in acces["_extra"], "shown, not kept aside"
    data = forms.to_data(raw)
    assert data["themes"][0]["subjects"] == [
        {"id": "egalite", "title": "Égalité d’accès"},
        {"id": "parentalite", "title": "Numérique et parentalité"},
        {"id": "inclusion", "title": "Inclusion"},
    ]


def test_a_new_line_gets_an_id_from_its_title_unique_in_the_theme() -> None:
    made = forms.subjects_data("\n Inclusion \n\nLa place des parents\nInclusion\n", "")
    assert made == [
        {"id": "inclusion", "title": "Inclusion"},
        {"id": "place-parents", "title": "La place des parents"},
        {"id": "inclusion-2", "title": "Inclusion"},
    ]
    assert forms.subjects_data("!!!", "") == [{"id": "sujet", "title": "!!!"}]


def test_moved_kept_and_corrected_subjects_keep_their_ids() -> None:
    moved = forms.subjects_data("Inclusion\nÉgalité d’accès", SHOWN)
    assert [s["id"] for s in moved] == ["inclusion", "egalite"]
    corrected = forms.subjects_data("Égalité d'accès pour tous\nInclusion", SHOWN)
    assert corrected[0] == {"id": "egalite", "title": "Égalité d'accès pour tous"}
    replaced = forms.subjects_data("Inclusion\nAutre chose", SHOWN)
    assert [s["id"] for s in replaced] == ["inclusion", "autre-chose"]
    assert forms.subjects_data("Inclusion", "not json") == [
        {"id": "inclusion", "title": "Inclusion"}
    ]


def test_the_studio_keeps_subjects_through_a_save_and_saves_new_ones(
    live_server: LiveServer,
    http: httpx.Client,  # noqa: F811
) -> None:
    fields = form_fields(studio_page(live_server, http, ARIEGE))
    assert fields["themes.0.subjects"].splitlines()[0] == "Égalité d’accès"
    fields["themes.1.subjects"] += "\nLe numérique en classe"
    r = save(live_server, http, ARIEGE, fields)
    assert r.status_code == 303, r.text
    token = live_server.link(ARIEGE, "organizer")
    saved = yaml.safe_load(http.get(f"/e/{ARIEGE}/studio/export", params={"k": token}).text)
    assert saved["themes"][0]["subjects"][0] == {"id": "egalite", "title": "Égalité d’accès"}
    assert saved["themes"][1]["subjects"][-1] == {
        "id": "numerique-classe",
        "title": "Le numérique en classe",
    }
    assert len(saved["themes"][1]["subjects"]) == 4


def test_too_many_subjects_are_refused_at_the_text_area(
    live_server: LiveServer,
    http: httpx.Client,  # noqa: F811
) -> None:
    fields = form_fields(studio_page(live_server, http, ARIEGE))
    fields["themes.0.subjects"] = "\n".join(f"Sujet {i}" for i in range(13))
    r = save(live_server, http, ARIEGE, fields)
    assert r.status_code == 422
    assert notes_at(r.text, "themes.0.subjects"), "said at the text area"
