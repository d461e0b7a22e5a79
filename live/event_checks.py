"""Rules that span an event's fields: duplicate ids, references, the hub, the agenda's
order and overlaps (errors), and settings that cannot be satisfied (warnings).

Each problem carries its place and the places it refers to, so that `parse_event` can
name every line involved; the same rules apply whatever the event came from.
"""

from __future__ import annotations

from collections import Counter
from datetime import time
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from live.model import Event, Step

Loc = tuple[str | int, ...]


class Problem(NamedTuple):
    """One problem found across fields: where it is, what it says, and the places it
    refers to. `text` has one `{}` per reference, filled with that place's line."""

    loc: Loc
    text: str
    refs: tuple[Loc, ...] = ()


class Located(ValueError):
    """Problems that span fields (duplicates, order, references), each with its place:
    `parse_event` turns them into `file:line: field: reason` lines."""

    def __init__(self, problems: list[Problem]) -> None:
        # Without the file's lines (a dict validated directly), refer to places by name.
        texts = [
            f"{dotted(list(p.loc))}: "
            + (p.text.format(*(dotted(list(r)) for r in p.refs)) if p.refs else p.text)
            for p in problems
        ]
        super().__init__("; ".join(texts))
        self.problems = problems


def problems(event: Event) -> list[Problem]:
    """Everything that makes an event unusable, each at its own line: duplicate ids at the
    duplicate (naming the first), unknown references, the hub, the agenda's order."""
    found: list[Problem] = []
    for what, ids in (
        ("sites", [s.id for s in event.sites]),
        ("themes", [t.id for t in event.themes]),
        ("agenda", [s.id for s in event.agenda]),
        ("workshops", [w.id for w in event.workshops]),
    ):
        first: dict[str, int] = {}
        for i, ident in enumerate(ids):
            if ident in first:
                text = f"duplicate id {ident!r}, already used at line {{}}"
                found.append(Problem((what, i, "id"), text, ((what, first[ident], "id"),)))
            else:
                first[ident] = i
    site_ids = {s.id for s in event.sites}
    theme_ids = {t.id for t in event.themes}
    found += _report_problems(event, site_ids)
    for i, step in enumerate(event.agenda):
        for site in step.sites:
            if site not in site_ids:
                found.append(Problem(("agenda", i, "sites"), f"unknown site {site!r}"))
        for site in step.rooms:
            where: Loc = ("agenda", i, "rooms", site)
            if site not in site_ids:
                found.append(Problem(where, f"unknown site {site!r}"))
            elif step.sites and site not in step.sites:
                found.append(Problem(where, f"site {site!r} does not take part in this step"))
        for j, speaker in enumerate(step.speakers):
            if speaker.site is not None and speaker.site not in site_ids:
                where = ("agenda", i, "speakers", j, "site")
                found.append(Problem(where, f"unknown site {speaker.site!r}"))
    for i, w in enumerate(event.workshops):
        if w.site not in site_ids:
            found.append(Problem(("workshops", i, "site"), f"unknown site {w.site!r}"))
        if w.theme not in theme_ids:
            found.append(Problem(("workshops", i, "theme"), f"unknown theme {w.theme!r}"))
    found += _round_problems(event)
    hubs = [i for i, s in enumerate(event.sites) if s.hub]
    if len(event.sites) > 1 and not hubs:
        text = "several sites and none has `hub: true`: say which site leads the event"
        found.append(Problem(("sites",), text))
    for i in hubs[1:]:
        text = f"a second hub: site {event.sites[hubs[0]].id!r} at line {{}} is the hub already"
        found.append(Problem(("sites", i, "hub"), text, (("sites", hubs[0], "hub"),)))
    found += [p for p, fatal in _agenda_problems(event) if fatal]
    return found


def _report_problems(event: Event, site_ids: set[str]) -> list[Problem]:
    """Experience reports: one id each across the event (commands name them), known
    sites, and a `queue` only where it means something (a restitution)."""
    found: list[Problem] = []
    places: list[tuple[Loc, Any]] = [
        (("agenda", i, "reports", j), r)
        for i, s in enumerate(event.agenda)
        for j, r in enumerate(s.reports)
    ]
    places += [
        (("workshops", i, "reports", j), r)
        for i, w in enumerate(event.workshops)
        for j, r in enumerate(w.reports)
    ]
    first: dict[str, Loc] = {}
    for loc, report in places:
        if report.id in first:
            text = f"duplicate report id {report.id!r}, already used at line {{}}"
            found.append(Problem((*loc, "id"), text, ((*first[report.id], "id"),)))
        else:
            first[report.id] = loc
        if report.site is not None and report.site not in site_ids:
            found.append(Problem((*loc, "site"), f"unknown site {report.site!r}"))
    for i, step in enumerate(event.agenda):
        if step.queue == "reports" and step.kind != "restitution":
            text = "only a restitution calls reports in turn (`queue: reports`)"
            found.append(Problem(("agenda", i, "queue"), text))
    return found


def _round_problems(event: Event) -> list[Problem]:
    """Workshop rounds: a workshop's `step` names a workshops step its site takes part in.
    Once workshops name their step (rounds), one without `step` on a site with several
    workshops steps is ambiguous: which round? (A file naming none keeps one round.)"""
    found: list[Problem] = []
    steps = {s.id: i for i, s in enumerate(event.agenda)}
    rounds = any(w.step is not None for w in event.workshops)
    for i, w in enumerate(event.workshops):
        if w.step is None:
            if not rounds:
                continue
            several = [
                j
                for j, s in enumerate(event.agenda)
                if s.kind == "workshops" and (not s.sites or w.site in s.sites)
            ]
            if len(several) > 1:
                named = ", ".join(f"{event.agenda[j].id!r} (line {{}})" for j in several)
                text = (
                    f"site {w.site!r} has several workshops steps: {named}; "
                    "say which one this workshop runs in with `step:`"
                )
                refs = tuple(("agenda", j, "id") for j in several)
                found.append(Problem(("workshops", i, "id"), text, refs))
            continue
        where: Loc = ("workshops", i, "step")
        j = steps.get(w.step)
        if j is None:
            found.append(Problem(where, f"unknown step {w.step!r}"))
            continue
        step = event.agenda[j]
        if step.kind != "workshops":
            text = f"step {w.step!r} (line {{}}) is a {step.kind} step, not a workshops step"
            found.append(Problem(where, text, (("agenda", j, "kind"),)))
        elif step.sites and w.site not in step.sites:
            text = f"site {w.site!r} does not take part in step {w.step!r} (line {{}})"
            found.append(Problem(where, text, (("agenda", j, "sites"),)))
    return found


def _agenda_problems(event: Event) -> list[tuple[Problem, bool]]:
    """Steps out of order (always fatal) and steps that overlap on a common site (fatal
    unless one of the two says `allow_overlap: true`: then a warning). Steps listing
    different sites may run at the same time; steps listing none concern every site."""
    out: list[tuple[Problem, bool]] = []
    agenda = event.agenda
    for i in range(1, len(agenda)):
        prev, step = agenda[i - 1], agenda[i]
        if step.start < prev.start:
            text = (
                f"step {step.id!r} starts at {step.start:%H:%M}, before step {prev.id!r} "
                f"(line {{}}, {prev.start:%H:%M}): steps must be in chronological order"
            )
            out.append((Problem(("agenda", i, "start"), text, (("agenda", i - 1, "start"),)), True))
    for i, step in enumerate(agenda):
        start = _minutes(step.start)
        for j in range(i):
            prev = agenda[j]
            end = _minutes(prev.start) + prev.duration
            if not (_minutes(prev.start) <= start < end) or not _share_a_site(prev, step):
                continue
            text = (
                f"step {step.id!r} starts at {step.start:%H:%M}, while step {prev.id!r} "
                f"(line {{}}) runs until {end // 60 % 24:02d}:{end % 60:02d}"
            )
            allowed = step.allow_overlap or prev.allow_overlap
            if not allowed:
                text += " (shorten it, or add `allow_overlap: true` to a parallel step)"
            problem = Problem(("agenda", i, "start"), text, (("agenda", j, "start"),))
            out.append((problem, not allowed))
    return out


def _minutes(t: time) -> int:
    return t.hour * 60 + t.minute


def _share_a_site(a: Step, b: Step) -> bool:
    return not a.sites or not b.sites or bool(set(a.sites) & set(b.sites))


def warnings(event: Event) -> list[Problem]:
    """Settings that parse but cannot be satisfied as written: the organizer is told,
    the event still loads."""
    found = [p for p, fatal in _agenda_problems(event) if not fatal]
    for i, step in enumerate(event.agenda):
        if step.queue == "reports" and not step.reports and not event.reports_for(step):
            text = "`queue: reports`, but none of its workshops has reports: nobody to call"
            found.append(Problem(("agenda", i, "queue"), text))
    wishes = event.registration.wishes
    short: list[tuple[int, str, int]] = []  # (site index, site id, its workshops)
    for i, site in enumerate(event.sites):
        # Wishes are asked per round: the round with the fewest workshops tells.
        per_round = Counter(
            s.id if (s := event.workshop_step(w)) else ""
            for w in event.workshops
            if w.site == site.id
        )
        count = min(per_round.values(), default=0)
        if 0 < count < wishes:
            short.append((i, site.id, count))
    if short:
        named = ", ".join(f"{ident!r} has {count} (line {{}})" for _, ident, count in short)
        text = f"{wishes} wishes asked, more than some sites have workshops: {named}"
        refs = tuple(("sites", i, "id") for i, _, _ in short)
        found.append(Problem(("registration", "wishes"), text, refs))
    sites = {s.id: i for i, s in enumerate(event.sites)}
    for i, w in enumerate(event.workshops):
        i_site = sites.get(w.site)
        if i_site is None:
            continue
        site = event.sites[i_site]
        if 0 < site.capacity < w.capacity:
            text = (
                f"{w.capacity} seats, more than site {site.id!r} holds ({site.capacity}, line {{}})"
            )
            ref = ("sites", i_site, "capacity")
            found.append(Problem(("workshops", i, "capacity"), text, (ref,)))
    return found


def dotted(loc: list[Any]) -> str:
    """`agenda[2].start` from ("agenda", 2, "start")."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out
