"""Ids made from names, the one way: a slug of the words that say something, cut between
words to fit, then made unique in its list (`-2`, `-3`… within the same length). The
studio's rows, a new event and a theme's subjects take theirs here."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Container
from datetime import date

# An id made from a name is short (it is in every link and every CSV), cut between words,
# without the little words a title is full of: "États généraux du numérique, Ariège
# 2020" -> "etats-generaux-numerique-ariege". static/js/studio.js makes the same.
SLUG_LENGTH = 32
STOP_WORDS = frozenset(
    {"a", "au", "aux", "avec", "d", "dans", "de", "des", "du", "en", "et", "l", "la", "le"}
    | {"les", "par", "pour", "sur", "un", "une", "of", "the", "and"}
)


def slug(text: str, limit: int = SLUG_LENGTH, stop_words: bool = True) -> str:
    """An id from a name: `Lycée Paul Guérin, Niort` -> `lycee-paul-guerin-niort`; at most
    `limit` characters, cut between words, little words dropped (unless it is all)."""
    return joined(words_of(text, stop_words), limit)


def words_of(text: str, stop_words: bool = True) -> list[str]:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = [w for w in re.split(r"[^a-z0-9]+", ascii_text.lower()) if w]
    kept = [w for w in words if w not in STOP_WORDS] if stop_words else words
    return kept or words


def joined(words: list[str], limit: int) -> str:
    """The words joined by dashes, as many as fit in `limit` (the first one cut if alone
    it is longer)."""
    out = ""
    for word in words:
        longer = f"{out}-{word}" if out else word
        if len(longer) > limit:
            break
        out = longer
    return out or (words[0][:limit] if words else "")


def unique_id(make: Callable[[int], str], taken: Container[str]) -> str:
    """`make(SLUG_LENGTH)`, or if it is taken the first of `make(limit) + "-2"`, `"-3"`…
    that is not, each cut to fit in SLUG_LENGTH: the one way an id is made unique (a
    row's in its list, a new event's among the events)."""
    ident, n = make(SLUG_LENGTH), 2
    while ident in taken:
        suffix = f"-{n}"
        ident, n = make(SLUG_LENGTH - len(suffix)) + suffix, n + 1
    return ident


def event_id(title: str, day: str, model: str, taken: Container[str]) -> str:
    """A new event's id: its title and year, short ("États généraux du numérique Ariège"
    in 2020 -> "etats-generaux-numerique-2020": the year always kept, last), or the
    model's name and the year; not an event's already (`taken`). The organizer may change
    it. `day` is the date typed (the year of today if it has none)."""
    year = day[:4] if day[:4].isdecimal() else str(date.today().year)
    words = title.replace(year, " ")  # the year goes last, whatever the cut

    def make(limit: int) -> str:
        return f"{slug(words, limit - len(year) - 1) or model}-{year}"

    return unique_id(make, taken)
