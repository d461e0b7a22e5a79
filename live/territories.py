"""The territories of French education as one tree: whose event it is, and where it reports.

Organizers hold roles per territory (an académie's organizer may run the events of its
départements) and the consultation groups events by territory, so every organizer's page
asks "is `dep-09` within `ac-toulouse`?". The tree is small (150 territories) and fixed, so
everything is computed once when it is built: `ancestors`, `within`, `children`, `path` and
`descendants` are dictionary look-ups, never walks.

Levels, top down: `national` (`fr`), `region` (région académique, `ra-<slug>`), `academie`
(`ac-<slug>`), `departement` (`dep-<INSEE code>`: `dep-09`, `dep-2a`, `dep-971`) and
`local` (`loc-<slug>`: a bassin or network below a département). The reference, packaged
as `territories.json`, holds the first four as the Ministry lists them since 2020 (Caen and
Rouen merged into Normandie, Mayotte its own académie): 18 régions académiques, 30
académies, 101 départements. Local territories are never in it: each consultation adds its
own with `with_local`, which returns a new tree and leaves the reference untouched.

Codes are the slug of the short name (`ac-la-reunion`, `ac-clermont-ferrand`), not the
académies' web domains (`ac-reunion.fr`, `ac-clermont.fr`): one rule, no exceptions to know.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Literal, NoReturn

from live.errors import RelaisError

Level = Literal["national", "region", "academie", "departement", "local"]
LEVELS: tuple[Level, ...] = ("national", "region", "academie", "departement", "local")

MAX_CODE = 64
MAX_NAME = 120  # a local network's name, as an organizer types it

_SLUG = r"[a-z0-9]+(?:-[a-z0-9]+)*"
_CODES: tuple[tuple[Level, re.Pattern[str]], ...] = (
    ("national", re.compile(r"fr", re.ASCII)),
    ("region", re.compile(rf"ra-{_SLUG}", re.ASCII)),
    ("academie", re.compile(rf"ac-{_SLUG}", re.ASCII)),
    ("departement", re.compile(r"dep-(?:[0-9]{2}|2[ab]|97[0-9])", re.ASCII)),
    ("local", re.compile(rf"loc-{_SLUG}", re.ASCII)),
)
# The level a territory's parent may have: a network may group smaller ones.
_PARENT_LEVELS: dict[Level, frozenset[Level]] = {
    "national": frozenset(),
    "region": frozenset({"national"}),
    "academie": frozenset({"region"}),
    "departement": frozenset({"academie"}),
    "local": frozenset({"departement", "local"}),
}
_NONE: frozenset[str] = frozenset()


class TerritoryError(RelaisError):
    """A territory code, name or parent refused; `params["reason"]` says which rule."""

    code = "territory_invalid"


def _refuse(territory: object, reason: str, **params: Any) -> NoReturn:
    shown = str(territory)
    shown = shown if len(shown) <= MAX_CODE else shown[:MAX_CODE] + "…"  # never echo a flood
    raise TerritoryError(
        message=f"territory {shown!r}: {reason}", territory=shown, reason=reason, **params
    )


def _level(code: str) -> Level | None:
    for level, pattern in _CODES:
        if pattern.fullmatch(code):
            return level
    return None


def check_code(code: object) -> str:
    """The canonical form of a territory code (trimmed, lowercase), or a `TerritoryError`.

    For codes from outside (a form, a URL, an event file): the tree's methods take
    canonical codes only, so that the per-page look-ups stay plain dictionary hits."""
    if not isinstance(code, str):
        _refuse(code, "not_text")
    if len(code) > 4 * MAX_CODE:  # bound the work before normalizing
        _refuse(code, "too_long")
    canonical = code.strip().lower()
    if len(canonical) > MAX_CODE:
        _refuse(code, "too_long")
    if _level(canonical) is None:
        _refuse(code, "bad_code")
    return canonical


def _fold(text: str) -> str:
    """Accents, case and punctuation folded: "Île-de-France" sorts among the I's."""
    text = text.replace("œ", "oe").replace("Œ", "oe").replace("æ", "ae").replace("Æ", "ae")
    bare = "".join(
        c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)
    ).casefold()
    return " ".join(re.sub(r"[^0-9a-z]+", " ", bare).split())


def _collation(territory: Territory) -> tuple[str, str, str]:
    # By short name: académies read "Guadeloupe", "Lyon", not "de la Guadeloupe", "de Lyon".
    return (_fold(territory.short), _fold(territory.name), territory.code)


@dataclass(frozen=True, slots=True)
class Territory:
    """One territory: `name` in full ("Académie de Poitiers"), `short` in lists ("Poitiers")."""

    code: str
    name: str
    short: str
    level: Level
    parent: str | None


class Territories:
    """An immutable tree of territories rooted at `fr`, with every answer precomputed.

    Built from any iterable of `Territory` in any order; refused (`TerritoryError`) unless
    every code is canonical and matches its level, is unique, and has a parent of the level
    just above (a local one: a département or another local one), `fr` at the top."""

    __slots__ = (
        "_above",
        "_ancestors",
        "_by_code",
        "_by_level",
        "_children",
        "_descendants",
        "_path",
    )
    _by_code: dict[str, Territory]
    _ancestors: dict[str, tuple[str, ...]]
    _above: dict[str, frozenset[str]]
    _path: dict[str, tuple[Territory, ...]]
    _children: dict[str, tuple[Territory, ...]]
    _descendants: dict[str, frozenset[str]]
    _by_level: dict[Level | None, tuple[Territory, ...]]

    def __init__(self, territories: Iterable[Territory]) -> None:
        by_code: dict[str, Territory] = {}
        for t in territories:
            if t.code in by_code:
                _refuse(t.code, "duplicate")
            by_code[t.code] = t
        if "fr" not in by_code:
            _refuse("fr", "no_root")
        for t in by_code.values():
            if not isinstance(t.code, str) or _level(t.code) != t.level:
                _refuse(t.code, "bad_code", level=t.level)
            if not t.name.strip() or not t.short.strip():
                _refuse(t.code, "bad_name")
            if t.level == "national":
                if t.parent is not None:
                    _refuse(t.code, "bad_parent", parent=t.parent)
                continue
            parent = by_code.get(t.parent) if t.parent is not None else None
            if parent is None:
                _refuse(t.code, "unknown_parent", parent=t.parent)
            if parent.level not in _PARENT_LEVELS[t.level]:
                _refuse(t.code, "bad_parent", parent=t.parent)

        ancestors: dict[str, tuple[str, ...]] = {}
        for code in by_code:
            chain = [code]
            seen = {code}
            while chain[-1] not in ancestors and (up := by_code[chain[-1]].parent) is not None:
                if up in seen:  # only local networks can loop, each naming the other
                    _refuse(code, "cycle", parent=up)
                seen.add(up)
                chain.append(up)
            rest = ancestors.get(chain[-1], (chain[-1],))
            for i in range(len(chain) - 1, -1, -1):
                ancestors[chain[i]] = (*chain[i:-1], *rest)

        below: dict[str, list[Territory]] = {code: [] for code in by_code}
        descendants: dict[str, set[str]] = {code: set() for code in by_code}
        for t in by_code.values():
            if t.parent is not None:
                below[t.parent].append(t)
            for up in ancestors[t.code]:
                descendants[up].add(t.code)
        children = {code: tuple(sorted(ts, key=_collation)) for code, ts in below.items()}

        order: list[Territory] = []
        stack = [by_code["fr"]]
        while stack:  # depth first, each level sorted: the order of a select list
            t = stack.pop()
            order.append(t)
            stack.extend(reversed(children[t.code]))
        by_level: dict[Level | None, tuple[Territory, ...]] = {None: tuple(order)}
        for level in LEVELS:
            by_level[level] = tuple(t for t in order if t.level == level)

        init = object.__setattr__
        init(self, "_by_code", by_code)
        init(self, "_ancestors", ancestors)
        init(self, "_above", {code: frozenset(chain) for code, chain in ancestors.items()})
        init(
            self,
            "_path",
            {code: tuple(by_code[c] for c in reversed(chain)) for code, chain in ancestors.items()},
        )
        init(self, "_children", children)
        init(self, "_descendants", {code: frozenset(s) for code, s in descendants.items()})
        init(self, "_by_level", by_level)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Territories is immutable: with_local returns a new tree")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("Territories is immutable")

    @classmethod
    def reference(cls) -> Territories:
        """The Ministry's tree (packaged `territories.json`), read and built once."""
        return _reference()

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    def __len__(self) -> int:
        return len(self._by_code)

    def __repr__(self) -> str:
        return f"<Territories: {len(self._by_code)}>"

    def get(self, code: str) -> Territory | None:
        return self._by_code.get(code)

    def _known(self, code: str) -> Territory:
        territory = self._by_code.get(code)
        if territory is None:
            _refuse(code, "unknown")
        return territory

    def level_of(self, code: str) -> Level:
        return self._known(code).level

    def ancestors(self, code: str) -> tuple[str, ...]:
        """`code` first, then its parent, ... up to `fr`: an organizer's role at any of
        them covers it."""
        chain = self._ancestors.get(code)
        if chain is None:
            _refuse(code, "unknown")
        return chain

    def within(self, code: str, ancestor: str) -> bool:
        """Whether `code` is `ancestor` or below it; False for an unknown code (a stale
        event's territory grants nothing). One set look-up: asked on every page."""
        return ancestor in self._above.get(code, _NONE)

    def path(self, code: str) -> tuple[Territory, ...]:
        """From `fr` down to `code`: the breadcrumb."""
        path = self._path.get(code)
        if path is None:
            _refuse(code, "unknown")
        return path

    def children(self, code: str) -> tuple[Territory, ...]:
        """The territories just below, by short name with accents folded."""
        children = self._children.get(code)
        if children is None:
            _refuse(code, "unknown")
        return children

    def descendants(self, code: str) -> frozenset[str]:
        """`code` and every territory below it: the events an organizer there may see."""
        below = self._descendants.get(code)
        if below is None:
            _refuse(code, "unknown")
        return below

    def all(self, level: Level | None = None) -> tuple[Territory, ...]:
        """Every territory (or those of one level), depth first in `children` order."""
        if level not in self._by_level:
            raise ValueError(f"unknown level {level!r}")
        return self._by_level[level]

    def with_local(self, extra: Iterable[tuple[str, str, str]]) -> Territories:
        """A new tree with local networks `(code, name, parent)` added below départements
        or other local networks (named in any order); this one is left as it was."""
        added: list[Territory] = []
        for item in extra:
            code, name, parent = item
            code = check_code(code)
            if _level(code) != "local":
                _refuse(code, "not_local")
            parent = check_code(parent)
            if not isinstance(name, str):
                _refuse(code, "bad_name")
            name = " ".join(unicodedata.normalize("NFC", name).split())
            if not name or len(name) > MAX_NAME:
                _refuse(code, "bad_name")
            if any(unicodedata.category(c).startswith("C") for c in name):
                _refuse(code, "bad_name")
            added.append(Territory(code, name, name, "local", parent))
        if not added:
            return self
        return Territories([*self._by_code.values(), *added])


def _read(node: dict[str, Any], parent: str | None, level: int) -> Iterable[Territory]:
    yield Territory(node["code"], node["name"], node["short"], LEVELS[level], parent)
    for child in node.get("children", ()):
        yield from _read(child, node["code"], level + 1)


@cache
def _reference() -> Territories:
    text = resources.files("live").joinpath("territories.json").read_text(encoding="utf-8")
    return Territories(_read(json.loads(text)["tree"], None, 0))
