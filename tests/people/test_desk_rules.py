"""The desk's and registration's rules as plain functions (live/people/tallies.py, desk.py,
registration.py, rounds.py): what the pages used to decide themselves, tested without a
server. One event with one round (the Ariège demo) and one with two (tests/people/test_rounds)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest

from live.backends.memory import MemoryBackend
from live.event_file import parse_event
from live.model import Event
from live.people import desk, rounds, tallies
from live.people.desk import MAX_UPLOAD, Refused
from live.people.registration import (
    Invalid,
    Registration,
    WorkshopSettings,
    keep_site,
    wish_rounds,
)
from live.people.store import People, Run
from tests.model.test_model import DEMO
from tests.people.test_rounds import ROUNDS

ONE = parse_event((DEMO / "ariege-2020.yaml").read_text(encoding="utf-8"), "ariege-2020.yaml")
TWO = parse_event(ROUNDS, "rounds.yaml")
MORNING, AFTERNOON = "ateliers-matin", "ateliers-apres-midi"


def person(pid: str, *wishes: str, site: str = "foix", **more: object) -> Registration:
    return Registration(pid, pid.title(), f"{pid}@example.fr", "prof", site, list(wishes), **more)  # type: ignore[arg-type]


def two_round_run() -> Run:
    """Ana placed in both rounds, Bea only in the morning, Cid registered since."""
    return Run(
        seed=1,
        rounds={
            MORNING: {"seed": 1, "placements": {"ana": "acces-matin", "bea": "enseigner-matin"},
                      "ranks": {"ana": 1, "bea": 1}, "closed": ["enseigner-matin"]},
            AFTERNOON: {"seed": 2, "placements": {"ana": "enseigner-aprem", "bea": None},
                        "ranks": {"ana": 1, "bea": None}, "closed": []},
        },
    )  # fmt: skip


REGS = [person("ana"), person("bea"), person("cid", "acces-matin")]


# -- one round or several: one function says it ------------------------------------------


def test_several_and_listed_say_one_round_or_several() -> None:
    assert not rounds.several(ONE) and rounds.listed(ONE) == []
    assert rounds.several(TWO)
    assert [r.key for r in rounds.listed(TWO)] == [MORNING, AFTERNOON]
    assert rounds.keys_at(TWO, "foix") == {MORNING, AFTERNOON}


# -- the desk's tallies --------------------------------------------------------------------


def test_placed_everywhere_needs_every_round_of_the_site() -> None:
    placed = tallies.placed_everywhere(TWO, two_round_run(), REGS)
    assert placed == {"ana": True, "bea": False, "cid": None}
    assert tallies.run_outcome(TWO, two_round_run(), REGS) == (1, 1)


def test_per_round_counts_each_round_once_and_nothing_with_one_round() -> None:
    counts = tallies.per_round(TWO, REGS, two_round_run())
    assert counts == [
        tallies.RoundCount(MORNING, 2, 0),
        tallies.RoundCount(AFTERNOON, 1, 1),
    ]
    one = Run(seed=1, placements={"ana": "atelier-acces"}, ranks={"ana": 1})
    assert tallies.per_round(ONE, REGS, one) == []


def test_counts_of_the_desk() -> None:
    counts = tallies.counts(TWO, REGS, two_round_run())
    assert counts["total"] == 3 and counts["placed"] == 1 and counts["since_run"] == 1
    assert counts["no_wishes"] == 2 and counts["by_site"] == [("Foix", 3)]
    assert len(counts["rounds"]) == 2
    assert tallies.counts(TWO, REGS, None)["rounds"] == []


def test_people_rounds_and_workshop_rows_name_rounds_only_when_several() -> None:
    labels = {MORNING: "Matin", AFTERNOON: "Après-midi"}
    rows = tallies.people_rounds(TWO, REGS, two_round_run(), labels)
    assert [r["label"] for r in rows["ana"]] == ["Matin", "Après-midi"]
    expected = {"label": "Après-midi", "wishes": [], "pinned": None, "in_run": True}
    expected |= {"placement": None, "rank": None, "confirmed": None}
    assert rows["bea"][1] == expected
    assert rows["cid"][0]["wishes"] == ["acces-matin"] and not rows["cid"][0]["in_run"]
    assert tallies.people_rounds(ONE, REGS, None, {}) == {}
    shown = tallies.workshop_rows(TWO, REGS, WorkshopSettings(), two_round_run(), labels)
    by_id = {row["w"].id: row for row in shown}
    assert by_id["acces-matin"]["placed"] == 1 and by_id["acces-matin"]["round"] == "Matin"
    assert by_id["enseigner-matin"]["below_minimum"]
    one = tallies.workshop_rows(ONE, [person("ana", pinned="atelier-acces")], WorkshopSettings(),
                                None, {"": "Ateliers"})  # fmt: skip
    assert one[0]["fixed"] == 1 and one[0]["round"] == ""


# -- an imported list, the seed, attendance -------------------------------------------------


def test_an_uploaded_list_is_decoded_checked_and_read() -> None:
    text = "name;email;category;site\nÉlise;elise@example.fr;prof;foix\n"
    for encoding in ("utf-8", "utf-8-sig", "cp1252"):
        (row,) = desk.read_list(text.encode(encoding))
        assert row["name"] == "Élise"
    refusals = {
        b"\x81\x8d\x8f\x90\x9d": "org.import_encoding",  # undefined in Windows-1252 too
        b"name;email\n": "org.import_empty",
        b"x" * (MAX_UPLOAD + 1): "org.import_too_big",
    }
    for data, key in refusals.items():
        with pytest.raises(Refused) as caught:
            desk.read_list(data)
        assert caught.value.key == key


def test_the_seed_and_attendance_are_checked_before_anything_is_kept() -> None:
    assert desk.seed("") is None and desk.seed("42") == 42
    with pytest.raises(Refused):
        desk.seed("-1")
    people = People(MemoryBackend(), ONE)
    assert asyncio.run(desk.save_attendance(ONE, people, {"foix": "120"})) == 120
    assert asyncio.run(people.attendance()) == {"foix": 120}
    with pytest.raises(Refused):
        asyncio.run(desk.save_attendance(ONE, people, {"foix": "douze"}))
    assert asyncio.run(people.attendance()) == {"foix": 120}


# -- the form: wish rounds, a confirmed person's site ---------------------------------------


def test_wish_rounds_one_round_and_several() -> None:
    closed = WorkshopSettings(closed=["atelier-acces"])
    ((_, offered, chosen, first),) = wish_rounds(ONE, closed, {"wishes": ["a", "b"]})
    assert "atelier-acces" not in [w.id for w in offered] and chosen == ["a", "b"] and first == 1
    posted = {"wishes": ["acces-matin", "", "enseigner-aprem", ""]}  # blanks kept in place
    shown = wish_rounds(TWO, WorkshopSettings(), posted)
    assert [(r.key, c, f) for r, _, c, f in shown] == [
        (MORNING, ["acces-matin", ""], 1),
        (AFTERNOON, ["enseigner-aprem", ""], 3),
    ]
    stored = wish_rounds(TWO, WorkshopSettings(), {"wishes": ["enseigner-aprem", "acces-matin"]})
    assert [c for _, _, c, _ in stored] == [["acces-matin"], ["enseigner-aprem"]]


def test_a_confirmed_person_keeps_their_site() -> None:
    keep_site(person("ana"), {"site": "ailleurs"})  # not confirmed: may move
    with pytest.raises(Invalid) as caught:
        keep_site(person("ana", confirmations={MORNING: "acces-matin"}), {"site": "ailleurs"})
    assert caught.value.errors == {"site": "reg.confirmed_site"}


# -- the person's workshops: the one their phone follows --------------------------------------


def at(event: Event, hhmm: str) -> datetime:
    hours, minutes = map(int, hhmm.split(":"))
    return datetime.combine(event.date, datetime.min.time(), event.tz) + timedelta(
        hours=hours, minutes=minutes
    )


def test_now_or_next_follows_the_day() -> None:
    morning, afternoon = TWO.workshop("acces-matin"), TWO.workshop("enseigner-aprem")
    assert morning is not None and afternoon is not None
    mine = [morning, afternoon]
    assert rounds.round_end(TWO, morning) == at(TWO, "12:00")
    assert rounds.now_or_next(TWO, mine, set(), at(TWO, "09:00")) is morning
    assert rounds.now_or_next(TWO, mine, set(), at(TWO, "13:00")) is afternoon
    assert rounds.now_or_next(TWO, mine, set(), at(TWO, "18:00")) is afternoon  # the last
    running = {"enseigner-aprem"}  # its timer started early: it wins
    assert rounds.now_or_next(TWO, mine, running, at(TWO, "09:00")) is afternoon
    assert rounds.now_or_next(TWO, [], set(), at(TWO, "09:00")) is None


def test_confirmed_list_and_times_for_one_round_or_several() -> None:
    reg = person("ana", confirmations={MORNING: "acces-matin", AFTERNOON: "enseigner-aprem"})
    assert [w.id for w in rounds.confirmed_list(TWO, reg)] == ["acces-matin", "enseigner-aprem"]
    assert [w.id for w in rounds.confirmed_list(ONE, person("bea", confirmed="atelier-acces"))] == [
        "atelier-acces"
    ]
    assert rounds.confirmed_list(ONE, person("cid")) == []
    assert rounds.workshop_times(TWO, "foix", TWO.workshop("acces-matin")) == "10:30–12:00"
    assert rounds.workshop_times(TWO, "foix") == "10:30–12:00, 14:00–15:30"
