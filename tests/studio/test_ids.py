"""Ids made from names and titles (`studio.forms`): short (32 characters at most, cut
between words, little words dropped) and unique, a row's in its list as a new event's among
the events, by one function (`ids.unique_id`)."""

from __future__ import annotations

from live.studio import forms, ids


def test_an_id_made_from_a_long_title_is_short_cut_between_words_without_little_words() -> None:
    ident = ids.slug("États généraux du numérique, Ariège 2020")
    assert ident == "etats-generaux-numerique-ariege"
    title = "Un numérique responsable et souverain pour tous les élèves du territoire"
    made = ids.slug(title)
    assert len(made) <= 32 and made == "numerique-responsable-souverain"
    assert ids.slug("De la") == "de-la"  # only little words: kept
    assert ids.slug("x" * 50) == "x" * 32  # one long word: cut


def test_ids_made_from_the_same_long_name_stay_unique_and_short() -> None:
    name = "Lycée polyvalent régional Paul Guérin de Niort"
    rows = [{**forms.blank_row("sites"), "name": name} for _ in range(3)]
    forms._fill_ids("sites", rows)
    ids = [row["id"] for row in rows]
    assert len(set(ids)) == 3 and all(len(i) <= 32 for i in ids)
    assert ids[0] == "lycee-polyvalent-regional-paul"
    assert ids[1] == "lycee-polyvalent-regional-paul-2"  # 32 characters, suffix within


def test_a_new_event_id_is_its_title_and_year_unique_among_the_events() -> None:
    title = "États généraux du numérique Ariège"
    assert ids.event_id(title, "2026-09-30", "ariege", set()) == "etats-generaux-numerique-2026"
    taken = {"etats-generaux-numerique-2026"}
    assert ids.event_id(title, "2026-09-30", "ariege", taken) == "etats-generaux-numerique-2026-2"
    long = "Un numérique responsable et souverain pour tous les élèves du territoire 2026"
    made = ids.event_id(long, "2026-09-30", "ariege", set())
    assert made == "numerique-responsable-2026"  # the year kept, last, within 32
    again = ids.event_id(long, "2026-09-30", "ariege", {made})
    assert len(again) <= 32 and again.endswith("-2026-2")
    assert ids.event_id("", "2026-09-30", "poitiers", set()) == "poitiers-2026"  # the model's


def test_unique_id_adds_a_number_within_the_length() -> None:
    def make(limit: int) -> str:
        return "x" * limit

    assert ids.unique_id(make, set()) == "x" * 32
    assert ids.unique_id(make, {"x" * 32}) == "x" * 30 + "-2"
    assert ids.unique_id(make, {"x" * 32, "x" * 30 + "-2"}) == "x" * 30 + "-3"
