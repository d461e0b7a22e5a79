"""Full-text search in French over a consultation's published contributions.

The engine is SQLite's FTS5 (stdlib `sqlite3`, `tokenize='unicode61 remove_diacritics 2'`),
ranked by bm25 (title weighs most, then the body, then the arguments or a report's site
and presenters). What it indexes is not the text as written but its French stems: every
word folded (case, accents, œ/æ) then cut by Snowball's French stemmer
(`snowballstemmer`), stop words left out. A query goes through the same function, so
"numériques" finds "numérique", "élève" finds "eleves", "accès" finds "acces". The words
of a hit are marked in its snippet by the same stems. Filters: theme, subject, event, kind
(proposal or report) and territory (within: the territory and everything below it).
A query is bounded (`QUERY_MAX` characters, `TERMS_MAX` words) and so is a page of results
(`LIMIT_MAX`).

Where the index lives, with one process or several: each process holds its own index, an
in-memory SQLite database per consultation, built from the published contributions in the
backend's records (`store.Contributions.list`) and updated in place when a contribution is
published or unpublished (`Space.apply` / `Space.drop` in `space.py`). With several
processes on the shared backend (Redis), the store announces every publication and
unpublication on the backend's `consultation` channel; each process rereads that one
contribution and updates its own index, and after a reconnection to the store rereads
them all (`space.follow`). Every process thus indexes the same records, with the same
stemmer and the same ranking (ties broken by id), and answers the same.
"""

from __future__ import annotations

import json
import re
import sqlite3
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

import snowballstemmer

from live.consultation.model import Contribution

QUERY_MAX = 200  # characters of a query
TERMS_MAX = 12  # words of a query that count
WORD_MAX = 40  # characters of a word that counts (longer: no French word, not indexed)
LIMIT_MAX = 100  # results in one page
SNIPPET_WORDS = 30  # words around the first hit in a snippet

# Title, body, extra (arguments; a report's site and presenters): what a word is worth.
WEIGHTS = (10.0, 3.0, 1.0)

Kind = Literal["proposal", "report"]

# Words that say nothing of what a proposal is about (folded, as `terms` sees them).
STOP_WORDS = frozenset(
    """a ai au aux avec c ce ces cet cette d dans de des du elle elles en est et etre eux il
    ils j je l la le les leur leurs lui m ma mais me mes moi mon n ne nos notre nous on ont
    ou par pas pour qu que qui s sa sans se ses si son sont sur t ta te tes toi ton tu un une
    vos votre vous y""".split()  # noqa: SIM905 - a list of words reads as one
)

_WORD = re.compile(r"[^\W_]+")
_STEMMER = snowballstemmer.stemmer("french")


def fold(text: str) -> str:
    """Lowercase, accents off, ligatures opened: what a person may type for a word."""
    text = text.lower().replace("œ", "oe").replace("æ", "ae")
    if text.isascii():
        return text
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """The French stem of one folded word ("" for a stop word). Cached: the stemmer is
    pure Python (~40 µs a word) and a consultation's vocabulary is a few thousand words."""
    if word in STOP_WORDS or (len(word) < 2 and not word.isdigit()) or len(word) > WORD_MAX:
        return ""
    return str(_STEMMER.stemWord(word))


def stems(text: str) -> list[str]:
    """The stems of a text, in order, stop words left out."""
    return [s for w in _WORD.findall(fold(text)) if (s := stem(w))]


def terms(query: str) -> list[str]:
    """A query's distinct stems, at most `TERMS_MAX`, from its first `QUERY_MAX` characters."""
    return list(dict.fromkeys(stems(query[:QUERY_MAX])))[:TERMS_MAX]


Segment = tuple[str, bool]  # a piece of text, and whether it is a hit


def highlight(text: str, wanted: frozenset[str], words: int | None = None) -> list[Segment]:
    """`text` cut into pieces, the words whose stem is wanted marked; with `words`, only a
    window of that many words around the first hit (or the beginning), with "…" where
    text was left out. The page escapes each piece and marks the hits (`<mark>`)."""
    matches = list(_WORD.finditer(text))
    hits = [i for i, m in enumerate(matches) if stem(fold(m.group())) in wanted]
    start_char, end_char = 0, len(text)
    if words is not None and len(matches) > words:
        first = hits[0] if hits else 0
        lo = max(0, min(first - words // 3, len(matches) - words))
        hi = lo + words
        start_char = matches[lo].start() if lo > 0 else 0
        end_char = matches[hi - 1].end() if hi < len(matches) else len(text)
    out: list[Segment] = [("…", False)] if start_char > 0 else []
    at = start_char
    for i in hits:
        m = matches[i]
        if m.start() < start_char or m.end() > end_char:
            continue
        if m.start() > at:
            out.append((text[at : m.start()], False))
        out.append((m.group(), True))
        at = m.end()
    if end_char > at:
        out.append((text[at:end_char], False))
    if end_char < len(text):
        out.append(("…", False))
    return out


@dataclass(frozen=True)
class Hit:
    id: str  # a proposal's published id, or a report's `report_id`
    kind: Kind
    event: str
    territory: str
    theme: str
    subject: str
    supports: int
    title: list[Segment]
    snippet: list[Segment]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "event": self.event,
            "territory": self.territory,
            "theme": self.theme,
            "subject": self.subject,
            "supports": self.supports,
            "title": [list(s) for s in self.title],
            "snippet": [list(s) for s in self.snippet],
        }


@dataclass(frozen=True)
class Results:
    query: str
    terms: tuple[str, ...]
    hits: tuple[Hit, ...]
    more: bool  # another page follows


_SCHEMA = """
CREATE TABLE docs (
    rowid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, kind TEXT NOT NULL,
    event TEXT NOT NULL, territory TEXT NOT NULL, theme TEXT NOT NULL, subject TEXT NOT NULL,
    supports INTEGER NOT NULL, title TEXT NOT NULL, body TEXT NOT NULL
);
CREATE INDEX docs_event ON docs (event);
CREATE VIRTUAL TABLE fts USING fts5 (
    title, body, extra, tokenize = 'unicode61 remove_diacritics 2'
);
"""


class SearchIndex:
    """One consultation's published proposals and reports, searchable: an in-memory
    SQLite database of this process (see the module's docstring)."""

    def __init__(self) -> None:
        self.db = sqlite3.connect(":memory:", isolation_level=None)
        self.db.executescript(_SCHEMA)

    def close(self) -> None:
        self.db.close()

    def __len__(self) -> int:
        return int(self.db.execute("SELECT count(*) FROM docs").fetchone()[0])

    def replace(self, contribution: Contribution) -> None:
        """Index an event's contribution in place of what it had, in one transaction."""
        rows = list(_documents(contribution))
        with _transaction(self.db):
            self._remove(contribution.event)
            for doc, (title, body, extra) in rows:
                cur = self.db.execute(
                    "INSERT INTO docs (id, kind, event, territory, theme, subject, supports,"
                    " title, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    doc,
                )
                self.db.execute(
                    "INSERT INTO fts (rowid, title, body, extra) VALUES (?, ?, ?, ?)",
                    (cur.lastrowid, " ".join(stems(title)), " ".join(stems(body)), extra),
                )

    def remove(self, event: str) -> None:
        """Take an event's contribution out of the index."""
        with _transaction(self.db):
            self._remove(event)

    def _remove(self, event: str) -> None:
        self.db.execute(
            "DELETE FROM fts WHERE rowid IN (SELECT rowid FROM docs WHERE event = ?)", (event,)
        )
        self.db.execute("DELETE FROM docs WHERE event = ?", (event,))

    def rebuild(self, contributions: Iterable[Contribution]) -> None:
        """Index exactly these contributions (at start, after a reconnection)."""
        with _transaction(self.db):
            self.db.execute("DELETE FROM fts")
            self.db.execute("DELETE FROM docs")
        for c in contributions:
            self.replace(c)

    def search(
        self,
        query: str,
        *,
        theme: str | None = None,
        subject: str | None = None,
        event: str | None = None,
        kind: Kind | None = None,
        territories: Iterable[str] | None = None,
        limit: int = 20,
        offset: int = 0,
    ) -> Results:
        """The best hits for `query` (all its words, by stem), best first (bm25, then id),
        within the filters: `territories` is the set of codes allowed (a territory and its
        descendants, `Territories.descendants`), None for all."""
        wanted = terms(query)
        limit = max(1, min(limit, LIMIT_MAX))
        offset = max(0, min(offset, 10 * LIMIT_MAX))
        if not wanted:
            return Results(query[:QUERY_MAX], (), (), False)
        where, params = ["fts MATCH ?"], [" AND ".join(f'"{t}"' for t in wanted)]
        for column, value in (("theme", theme), ("subject", subject), ("event", event)):
            if value is not None:
                where.append(f"d.{column} = ?")
                params.append(value)
        if kind is not None:
            where.append("d.kind = ?")
            params.append(kind)
        if territories is not None:
            where.append("d.territory IN (SELECT value FROM json_each(?))")
            params.append(json.dumps(sorted(territories)))
        sql = (
            "SELECT d.id, d.kind, d.event, d.territory, d.theme, d.subject, d.supports,"
            " d.title, d.body FROM fts JOIN docs d ON d.rowid = fts.rowid"
            f" WHERE {' AND '.join(where)}"
            f" ORDER BY bm25(fts, {', '.join(map(str, WEIGHTS))}), d.id LIMIT ? OFFSET ?"
        )
        rows = self.db.execute(sql, (*params, limit + 1, offset)).fetchall()
        chosen = frozenset(wanted)
        hits = tuple(
            Hit(
                id=r[0],
                kind=r[1],
                event=r[2],
                territory=r[3],
                theme=r[4],
                subject=r[5],
                supports=r[6],
                title=highlight(r[7], chosen),
                snippet=highlight(r[8], chosen, SNIPPET_WORDS),
            )
            for r in rows[:limit]
        )
        return Results(query[:QUERY_MAX], tuple(wanted), hits, len(rows) > limit)


class _transaction:
    """BEGIN … COMMIT, ROLLBACK on an error (the connection is in autocommit mode)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN")

    def __exit__(self, kind: object, *_: object) -> None:
        self.db.execute("ROLLBACK" if kind is not None else "COMMIT")


def report_id(event: str, report: str) -> str:
    """A report's id among the hits: never a proposal's (those are `p<n>` or `r<n>`)."""
    return f"{event}/rex-{report}"


Row = tuple[str, str, str, str, str, str, int, str, str]


def _documents(c: Contribution) -> Iterable[tuple[Row, tuple[str, str, str]]]:
    """What is indexed of a contribution: each proposal, each experience report."""
    for p in c.proposals:
        extra = " ".join(s for a in p.arguments for s in stems(a.text))
        row: Row = (p.id, "proposal", c.event, c.territory, p.theme, p.subject, p.supports,
                    p.title, p.body)  # fmt: skip
        yield row, (p.title, p.body, extra)
    for r in c.reports:
        extra = " ".join(stems(" ".join((r.site, *r.presenters))))
        row = (report_id(c.event, r.id), "report", c.event, c.territory, r.theme, "", 0,
               r.title, r.summary)  # fmt: skip
        yield row, (r.title, r.summary, extra)
