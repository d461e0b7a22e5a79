"""The seeds' questionnaire ("les sujets que vous souhaitez voir aborder prioritairement"):
ranked on the registration form and the personal page, checked (known subjects, three at
most per theme, none twice; nothing stored otherwise), kept with the person's data, and
added up per workshop on the desk (Borda points from the people placed there)."""

from __future__ import annotations

import html
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from live.event_file import parse_event
from live.people import tallies
from live.people.registration import Invalid, Registration, check, questionnaire
from live.people.store import Run
from tests.model.test_model import DEMO
from tests.people.test_organize import Desk, desk  # noqa: F401 (the fixture)

ARIEGE = parse_event((DEMO / "ariege-2020.yaml").read_text())
NOW = datetime(2020, 9, 20, tzinfo=ZoneInfo("Europe/Paris"))
GOOD = {
    "name": "Camille Martin",
    "email": "camille@example.fr",
    "category": "professeur",
    "site": "foix",
    "wishes": ["atelier-acces"],
    "consent": "on",
}


# -- the rules ----------------------------------------------------------------------------


def test_the_questionnaire_asks_about_each_theme_with_subjects_up_to_three_choices() -> None:
    asked = {t.id: n for t, n in questionnaire(ARIEGE)}
    assert asked == {"acces": 3, "enseigner": 3, "ensemble": 2, "responsable": 3, "gouvernance": 2}


def test_a_ranking_is_kept_best_first_with_blanks_closed_up_and_unanswered_themes_left_out() -> (
    None
):
    subjects = {"acces": ["", "inclusion", "egalite"], "enseigner": ["", "", ""]}
    fields = check(ARIEGE, GOOD | {"subjects": subjects}, NOW)
    assert fields["subjects"] == {"acces": ["inclusion", "egalite"]}
    assert check(ARIEGE, GOOD, NOW)["subjects"] == {}, "optional"


@pytest.mark.parametrize(
    ("subjects", "key"),
    [
        ({"acces": ["cooperation"]}, "reg.subjects_unknown"),  # another theme's subject
        ({"acces": ["nope"]}, "reg.subjects_unknown"),
        ({"nowhere": ["egalite"]}, "reg.subjects_unknown"),
        ({"acces": ["egalite", "inclusion", "parentalite", "egalite"]}, "reg.subjects_too_many"),
        ({"acces": ["egalite", "", "egalite"]}, "reg.subjects_twice"),
        ("egalite", "reg.subjects_unknown"),
    ],
)
def test_a_wrong_ranking_is_refused_by_its_field(subjects: object, key: str) -> None:
    with pytest.raises(Invalid) as exc:
        check(ARIEGE, GOOD | {"subjects": subjects}, NOW)
    assert exc.value.errors == {"subjects": key}


def test_a_record_without_subjects_reads_and_writes_as_before() -> None:
    fields = check(ARIEGE, GOOD, NOW)
    reg = Registration(id="a", **fields)
    assert "subjects" not in reg.to_dict()
    reg.subjects = {"acces": ["egalite"]}
    assert Registration.from_dict(reg.to_dict()).subjects == {"acces": ["egalite"]}


def _reg(pid: str, **subjects: list[str]) -> Registration:
    return Registration(pid, pid, f"{pid}@example.fr", "parent", "foix", [], subjects=subjects)


def test_the_ranking_of_a_workshop_counts_borda_points_of_the_people_placed_there() -> None:
    regs = [
        _reg("a", acces=["inclusion", "egalite", "parentalite"]),  # 3, 2, 1
        _reg("b", acces=["inclusion"]),  # 3
        _reg("c", acces=["egalite", "parentalite"]),  # 3, 2
        _reg("d"),  # no answer
        _reg("e", acces=["parentalite"]),  # placed elsewhere: not counted here
    ]
    run = Run(seed=1, placements={"a": "atelier-acces", "b": "atelier-acces", "c": "atelier-acces",
                                  "d": "atelier-acces", "e": "atelier-enseigner"})  # fmt: skip
    rows = {r.workshop.id: r for r in tallies.subject_rankings(ARIEGE, regs, run)}
    acces = rows["atelier-acces"]
    assert (acces.placed, acces.answered) == (4, 3)
    scored = [(s.subject.id, s.points, s.firsts) for s in acces.scores]
    assert scored == [("inclusion", 6, 2), ("egalite", 5, 1), ("parentalite", 3, 0)]
    assert rows["atelier-enseigner"].answered == 0, "an answer for another theme is not one"
    assert tallies.subject_rankings(ARIEGE, regs, None) == []


# -- on the real server -------------------------------------------------------------------


def _ranked(**themes: list[str]) -> dict[str, str]:
    return {f"subject-{t}-{i}": s for t, chosen in themes.items() for i, s in enumerate(chosen, 1)}


def test_a_ranking_on_the_form_is_stored_and_shown_on_the_desk(desk: Desk) -> None:  # noqa: F811
    page = html.unescape(desk.client.get(f"{desk.server.url}/e/ariege-2020/register").text)
    assert 'for="subject-acces-1">1er choix' in page and "Sujets à aborder en priorité" in page
    desk.register("Ana", "atelier-acces", **_ranked(acces=["inclusion", "egalite"]))
    desk.register("Bob", "atelier-acces", **_ranked(acces=["egalite", "", "inclusion"]))
    desk.register("Cleo", "atelier-acces", **_ranked(acces=["inclusion"]))
    desk.register("Dan", "atelier-acces")
    before = desk.page()
    assert "après la répartition" in before
    desk.run(1)
    page = desk.page()
    table = page[page.index('id="subjects-table"') :]
    row = re.search(r'<tr data-workshop="atelier-acces">.*?</tr>', table, re.S)
    assert row, "the workshop's ranking"
    text = row.group(0)
    assert "3 sur 4" in text
    order = re.findall(r'data-subject="([^"]+)"', text)
    assert order == ["inclusion", "egalite", "parentalite"]
    assert "Inclusion — 8 points, 2 en 1er choix" in text
    assert "Égalité d’accès — 5 points, 1 en 1er choix" in text
    person = desk.people()["ana@example.fr"]["id"]
    data = desk.get(f"/person/{person}.json").json()
    assert data["registration"]["subjects"] == {"acces": ["inclusion", "egalite"]}, "her data"


@pytest.mark.parametrize(
    ("ranked", "said"),
    [
        (_ranked(acces=["egalite", "egalite"]), "Le même sujet est choisi deux fois"),
        (_ranked(acces=["cooperation"]), "ne fait pas partie des sujets proposés"),
        ({"subject-acces-1": "egalite", "subject-acces-2": "nope"}, "ne fait pas partie"),
    ],
)
def test_a_wrong_ranking_is_said_at_its_field_and_nothing_is_stored(
    desk: Desk,  # noqa: F811
    ranked: dict[str, str],
    said: str,
) -> None:
    form = {"name": "Ana", "email": "ana@example.fr", "category": "professeur", "site": "foix"}
    form |= {"wish1": "atelier-acces", "consent": "on", **ranked}
    r = desk.client.post(f"{desk.server.url}/e/ariege-2020/register", data=form)
    assert r.status_code == 422
    page = html.unescape(r.text)
    assert 'id="subjects-error"' in page and said in page
    if ranked.get("subject-acces-1") == "egalite":
        assert 'value="egalite" selected' in page, "what was chosen is shown again"
    assert desk.people() == {}


def test_the_personal_page_shows_and_changes_the_ranking(desk: Desk) -> None:  # noqa: F811
    link = desk.register("Ana", "atelier-acces", **_ranked(enseigner=["formation"]))
    page = html.unescape(desk.client.get(link).text)
    chosen = re.search(r'<select id="subject-enseigner-1".*?</select>', page, re.S)
    assert chosen and 'value="formation" selected' in chosen.group(0)
    form = {"name": "Ana", "email": "ana@example.fr", "category": "professeur", "site": "foix"}
    form |= {"wish1": "atelier-acces", "consent": "on"}
    form |= _ranked(acces=["parentalite", "inclusion"])
    r = desk.client.post(link, data=form)
    assert r.status_code == 200, r.text
    person = desk.people()["ana@example.fr"]["id"]
    data = desk.get(f"/person/{person}.json").json()
    assert data["registration"]["subjects"] == {"acces": ["parentalite", "inclusion"]}
