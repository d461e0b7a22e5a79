"""What the territorial space's public pages show, computed with no I/O.

`Published` holds one consultation's published contributions indexed for the pages (built
again whenever one is published or unpublished: a few hundred times in a consultation's
life, read thousands of times a day); the functions below read it and return plain dicts
ready for a template or JSON. Only published contributions are ever in it, so nothing
unpublished reaches a page.

- `browse`: proposals by theme, subject, territory (within) and event, most supported first;
- `subject_view`: one subject's proposals across territories, and how many per territory;
- `territory_tree`: the tree of territories with, for each, its proposals, reports and
  events, itself and everything below it counted;
- `rollup_view`: for an upper event and a workshop's theme, the published proposals of
  the territories below it, those it already carried forward marked;
- `trace`: a proposal back through the reprises to the départements it came from;
- `event_view`: one event's contribution.

Every proposal shows its origin (event, date, territory and its path) and its support.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from live.consultation.model import Consultation, Contribution, PublishedProposal
from live.errors import RelaisError
from live.territories import Territories

PER_PAGE = 50
PER_PAGE_MAX = 200
TRACE_DEPTH = 10  # national ← région ← académie ← département ← locals: far below


@dataclass(frozen=True)
class Listed:
    """A published proposal and the contribution (event, territory) it belongs to."""

    proposal: PublishedProposal
    contribution: Contribution


def _order(e: Listed) -> tuple[int, str]:
    return (-e.proposal.supports, e.proposal.id)


class Published:
    """One consultation's published contributions, indexed for the pages."""

    def __init__(self, consultation: Consultation, contributions: Iterable[Contribution]) -> None:
        self.consultation = consultation
        self.tree: Territories = consultation.territories()
        self.contributions = {c.event: c for c in contributions}
        entries = [Listed(p, c) for c in self.contributions.values() for p in c.proposals]
        entries.sort(key=_order)
        self.ordered = entries
        self.entries = {e.proposal.id: e for e in entries}
        self.by_theme: dict[str, list[Listed]] = {}
        self.by_subject: dict[tuple[str, str], list[Listed]] = {}
        self.carried_by: dict[str, list[str]] = {}
        for e in entries:  # in order, so every list is sorted
            self.by_theme.setdefault(e.proposal.theme, []).append(e)
            self.by_subject.setdefault((e.proposal.theme, e.proposal.subject), []).append(e)
            for origin in e.proposal.origins:
                self.carried_by.setdefault(origin, []).append(e.proposal.id)
        self.counts = self._counts()
        stamp = sorted((c.event, c.published.isoformat()) for c in self.contributions.values())
        digest = hashlib.sha256(repr((consultation.model_dump_json(), stamp)).encode())
        # What the pages' ETag is made of: it changes with any publication.
        self.version = digest.hexdigest()[:20]

    def _counts(self) -> dict[str, Counter[str]]:
        """Per territory: its own and its descendants' proposals, reports and events."""
        counts: dict[str, Counter[str]] = {}
        for c in self.contributions.values():
            if c.territory not in self.tree:
                continue  # a local territory the consultation no longer lists
            for code in self.tree.ancestors(c.territory):
                n = counts.setdefault(code, Counter())
                n["proposals"] += len(c.proposals)
                n["reports"] += len(c.reports)
                n["events"] += 1
        return counts

    def within(self, territory: str | None) -> frozenset[str] | None:
        """The codes a territory filter allows (None: no filter, or the root's)."""
        if territory is None or territory == self.consultation.territory:
            return None
        if territory not in self.tree:
            raise RelaisError("not_found", f"unknown territory {territory}", territory=territory)
        return self.tree.descendants(territory)

    def territory(self, code: str) -> dict[str, Any]:
        t = self.tree.get(code)
        if t is None:
            return {"code": code, "name": code, "short": code, "level": "", "path": []}
        path = [{"code": p.code, "short": p.short} for p in self.tree.path(code)]
        return {"code": code, "name": t.name, "short": t.short, "level": t.level, "path": path}


def _page(page: int, per_page: int, total: int) -> tuple[int, int, int]:
    per_page = max(1, min(per_page, PER_PAGE_MAX))
    pages = max(1, -(-total // per_page))
    page = max(1, min(page, pages))
    return page, per_page, pages


def origin(pub: Published, c: Contribution) -> dict[str, Any]:
    """Where a proposal comes from: its event and its territory."""
    return {
        "event": c.event,
        "event_title": c.event_title,
        "date": c.event_date.isoformat(),
        "territory": pub.territory(c.territory),
    }


def card(pub: Published, e: Listed, arguments: bool = False) -> dict[str, Any]:
    """A proposal as every page shows it: its text, support, origin, and reprises (the
    proposals it carries forward, those that carry it forward)."""
    p = e.proposal
    stances = Counter(a.stance for a in p.arguments)
    out: dict[str, Any] = {
        "id": p.id,
        "theme": p.theme,
        "subject": p.subject,
        "title": p.title,
        "body": p.body,
        "supports": p.supports,
        "stances": {s: stances.get(s, 0) for s in ("pour", "contre", "nuance")},
        "origin": origin(pub, e.contribution),
        "reprise": p.reprise,
        "origins": list(p.origins),
        "carried_by": list(pub.carried_by.get(p.id, ())),
    }
    if arguments:
        out["arguments"] = [{"stance": a.stance, "text": a.text} for a in p.arguments]
    return out


def _theme_subject(pub: Published, theme: str, subject: str | None) -> tuple[Any, Any]:
    t = pub.consultation.theme(theme)
    if t is None:
        raise RelaisError("not_found", f"unknown theme {theme}", theme=theme)
    s = None
    if subject:
        s = t.subject(subject)
        if s is None:
            raise RelaisError("not_found", f"unknown subject {subject}", subject=subject)
    return t, s


def _chosen(
    pub: Published,
    theme: str | None,
    subject: str | None,
    territory: str | None,
    event: str | None,
) -> list[Listed]:
    if theme is not None and subject is not None:
        base = pub.by_subject.get((theme, subject), [])
    elif theme is not None:
        base = pub.by_theme.get(theme, [])
    else:
        base = pub.ordered
    allowed = pub.within(territory)
    if allowed is None and event is None:
        return base
    return [
        e
        for e in base
        if (allowed is None or e.contribution.territory in allowed)
        and (event is None or e.contribution.event == event)
    ]


def browse(
    pub: Published,
    *,
    theme: str | None = None,
    subject: str | None = None,
    territory: str | None = None,
    event: str | None = None,
    page: int = 1,
    per_page: int = PER_PAGE,
) -> dict[str, Any]:
    """Published proposals within the filters, most supported first (then by id)."""
    if theme is not None:
        _theme_subject(pub, theme, subject)
    chosen = _chosen(pub, theme, subject, territory, event)
    page, per_page, pages = _page(page, per_page, len(chosen))
    shown = chosen[(page - 1) * per_page : page * per_page]
    return {
        "version": pub.version,
        "total": len(chosen),
        "page": page,
        "pages": pages,
        "per_page": per_page,
        "proposals": [card(pub, e) for e in shown],
    }


def _per_child(pub: Published, scope: str, entries: Iterable[Listed]) -> list[dict[str, Any]]:
    """How many of `entries` each territory just below `scope` holds (scope's own apart)."""
    children = pub.tree.children(scope)
    below = {code: t.code for t in children for code in pub.tree.descendants(t.code)}
    n: Counter[str] = Counter()
    for e in entries:
        n[below.get(e.contribution.territory, scope)] += 1
    rows = [{"code": t.code, "short": t.short, "proposals": n[t.code]} for t in children]
    own = pub.tree.get(scope)
    if n[scope] and own is not None:
        rows.insert(0, {"code": scope, "short": own.short, "proposals": n[scope]})
    return rows


def subject_view(
    pub: Published,
    theme: str,
    subject: str,
    territory: str | None = None,
    page: int = 1,
    per_page: int = PER_PAGE,
) -> dict[str, Any]:
    """One subject's page: its proposals across territories (or within one), most
    supported first, and how many each territory below the scope published."""
    t, s = _theme_subject(pub, theme, subject)
    scope = territory or pub.consultation.territory
    chosen = _chosen(pub, theme, subject, territory, None)
    listing = browse(
        pub, theme=theme, subject=subject, territory=territory, page=page, per_page=per_page
    )
    return {
        **listing,
        "consultation": {"id": pub.consultation.id, "title": pub.consultation.title},
        "theme": {"id": t.id, "title": t.title},
        "subject": {"id": s.id, "title": s.title},
        "territory": pub.territory(scope),
        "by_territory": _per_child(pub, scope, chosen),
    }


def territory_counts(pub: Published) -> dict[str, dict[str, int]]:
    """Per territory with something published: proposals, reports and events, itself
    and everything below it counted."""
    return {
        code: {k: n[k] for k in ("proposals", "reports", "events")}
        for code, n in sorted(pub.counts.items())
    }


def territory_tree(pub: Published, root: str | None = None, empty: bool = True) -> dict[str, Any]:
    """The tree from `root` (the consultation's own by default) with its counts; `empty`
    False leaves out the territories with nothing published."""
    root = root or pub.consultation.territory
    if root not in pub.tree:
        raise RelaisError("not_found", f"unknown territory {root}", territory=root)

    def node(code: str, depth: int) -> dict[str, Any]:
        t = pub.tree.get(code)
        n = pub.counts.get(code, Counter())
        kids = [node(c.code, depth + 1) for c in pub.tree.children(code)] if depth < 8 else []
        return {
            "code": code,
            "name": t.name if t else code,
            "short": t.short if t else code,
            "level": t.level if t else "",
            "proposals": n["proposals"],
            "reports": n["reports"],
            "events": n["events"],
            "children": [k for k in kids if empty or k["events"]],
        }

    return {"version": pub.version, **node(root, 0)}


def rollup_view(
    pub: Published,
    event: str,
    theme: str,
    subject: str | None = None,
    page: int = 1,
    per_page: int = PER_PAGE,
) -> dict[str, Any]:
    """What an upper event's organizer reviews before carrying proposals forward: the
    published proposals on `theme` (and `subject`) of the events of the territories within
    its own (not its own), most supported first, each marked `carried` when one of its
    reprises already carries it; how many per territory below; and its reprises so far."""
    c = pub.contributions.get(event)
    territory = c.territory if c else pub.consultation.territory_of(event)
    if territory is None:
        raise RelaisError("not_found", f"event {event} is not the consultation's", event=event)
    t, _ = _theme_subject(pub, theme, subject)
    allowed = pub.tree.descendants(territory) if territory in pub.tree else frozenset()
    base = pub.by_subject.get((theme, subject), []) if subject else pub.by_theme.get(theme, [])
    chosen = [
        e for e in base if e.contribution.territory in allowed and e.contribution.event != event
    ]
    own = [p for p in (c.proposals if c else ()) if p.theme == theme and p.origins]
    carried = {o for p in own for o in p.origins}
    page, per_page, pages = _page(page, per_page, len(chosen))
    shown = chosen[(page - 1) * per_page : page * per_page]
    return {
        "version": pub.version,
        "event": event,
        "territory": pub.territory(territory),
        "theme": {"id": t.id, "title": t.title},
        "subject": subject or "",
        "total": len(chosen),
        "page": page,
        "pages": pages,
        "per_page": per_page,
        "by_territory": _per_child(pub, territory, chosen) if territory in pub.tree else [],
        "proposals": [{**card(pub, e), "carried": e.proposal.id in carried} for e in shown],
        "reprises": [card(pub, pub.entries[p.id]) for p in own if p.id in pub.entries],
    }


def trace(pub: Published, proposal_id: str) -> dict[str, Any]:
    """A proposal and, recursively, the proposals it carries forward, down to those that
    carry none (a département's, a local network's); `departements`: the départements they
    came from (a local network's counts as its département's); `sources`: every territory
    a leaf came from; both by code. An origin no longer published shows as
    `{"id", "published": False}`."""
    e = pub.entries.get(proposal_id)
    if e is None:
        raise RelaisError("not_found", f"no published proposal {proposal_id}", id=proposal_id)
    leaves: set[str] = set()

    def node(entry: Listed, seen: frozenset[str], depth: int) -> dict[str, Any]:
        out = card(pub, entry)
        children = []
        for oid in entry.proposal.origins:
            found = pub.entries.get(oid)
            if found is None:
                children.append({"id": oid, "published": False})
            elif oid in seen or depth >= TRACE_DEPTH:
                children.append({"id": oid, "published": True, "cycle": True})
            else:
                children.append(node(found, seen | {oid}, depth + 1))
        if not entry.proposal.origins:
            leaves.add(entry.contribution.territory)
        return {**out, "published": True, "from": children}

    root = node(e, frozenset({proposal_id}), 0)
    departements: set[str] = set()
    for code in leaves:
        chain = pub.tree.ancestors(code) if code in pub.tree else ()
        dep = next((a for a in chain if pub.tree.level_of(a) == "departement"), None)
        if dep is not None:
            departements.add(dep)
    return {
        "version": pub.version,
        "proposal": root,
        "departements": [pub.territory(d) for d in sorted(departements)],
        "sources": [pub.territory(s) for s in sorted(leaves)],
    }


def event_view(pub: Published, event: str) -> dict[str, Any]:
    """One event's published contribution: its proposals by theme (most supported first),
    its experience reports and its workshops' syntheses."""
    c = pub.contributions.get(event)
    if c is None:
        raise RelaisError("not_found", f"nothing published for {event}", event=event)
    themes = []
    for t in pub.consultation.themes:
        mine = sorted((Listed(p, c) for p in c.proposals if p.theme == t.id), key=_order)
        if mine:
            themes.append(
                {
                    "id": t.id,
                    "title": t.title,
                    "proposals": [card(pub, e, arguments=True) for e in mine],
                }
            )
    return {
        "version": pub.version,
        **origin(pub, c),
        "published": c.published.isoformat(timespec="seconds"),
        "themes": themes,
        "reports": [r.model_dump() for r in c.reports],
        "syntheses": [s.model_dump() for s in c.syntheses],
    }
