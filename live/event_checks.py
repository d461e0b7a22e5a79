"""Rules that span an event's fields: duplicate ids, references, the hub, the agenda's
order and overlaps (errors), and settings that cannot be satisfied (warnings).

Each problem carries its place and the places it refers to, so that `parse_event` can
name every line involved; the same rules apply whatever the event came from. It also
carries a stable code and its values (`unknown_site`, {"site": "foix"}): the file importer
logs the English `text`; `relais import` and the studio say `studio.problem.<code>`, in the
terminal's or the page's language.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import time
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from live.model import Event, Step

Loc = tuple[str | int, ...]
NO_PARAMS: Mapping[str, Any] = MappingProxyType({})

# What the whole event may hold of what each step or workshop holds a bounded number of
# (model.py bounds each list): speakers per step times steps would otherwise make pages
# and `definition` frames of megabytes. Generous: the Grand Est day has 4 speakers, 30
# reports, 28 rooms.
EVENT_TOTALS = {"speakers": 120, "reports": 300, "rooms": 600, "sites": 600}
WHAT = {
    "speakers": "speakers",
    "reports": "experience reports",
    "rooms": "rooms (per site, over all steps)",
    "sites": "sites listed by steps",
}


class Problem(NamedTuple):
    """One problem found across fields: where it is, what it says, and the places it
    refers to. `text` (English, for `relais import`) has one `{}` per reference, filled
    with that place's line. `code` and `params` say the same for a translated sentence
    (`studio.problem.<code>`): the values it quotes, `{ref}` for its one reference, or
    `items` (one dict per reference, in order) when it refers to several places."""

    loc: Loc
    text: str
    refs: tuple[Loc, ...] = ()
    code: str = "invalid"
    params: Mapping[str, Any] = NO_PARAMS


class Invalid(ValueError):
    """A field's own rule broken (raised in a model's validator): the English sentence
    pydantic reports, with a code and values for a translated one."""

    def __init__(self, code: str, text: str, **params: Any) -> None:
        super().__init__(text)
        self.code = code
        self.params = params


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
    lists: list[tuple[Loc, list[str]]] = [
        (("sites",), [s.id for s in event.sites]),
        (("themes",), [t.id for t in event.themes]),
        (("agenda",), [s.id for s in event.agenda]),
        (("workshops",), [w.id for w in event.workshops]),
    ]
    lists += [  # a theme's subjects: what proposals and answers are filed under
        (("themes", i, "subjects"), [s.id for s in theme.subjects])
        for i, theme in enumerate(event.themes)
    ]
    for what, ids in lists:
        first: dict[str, int] = {}
        for i, ident in enumerate(ids):
            if ident in first:
                text = f"duplicate id {ident!r}, already used at line {{}}"
                ref = (*what, first[ident], "id")
                params = {"id": ident}
                found.append(Problem((*what, i, "id"), text, (ref,), "duplicate_id", params))
            else:
                first[ident] = i
    site_ids = {s.id for s in event.sites}
    theme_ids = {t.id for t in event.themes}
    found += _report_problems(event, site_ids)
    for i, step in enumerate(event.agenda):
        for site in step.sites:
            if site not in site_ids:
                found.append(_unknown_site(("agenda", i, "sites"), site))
        for site in step.rooms:
            where: Loc = ("agenda", i, "rooms", site)
            if site not in site_ids:
                found.append(_unknown_site(where, site))
            elif step.sites and site not in step.sites:
                text = f"site {site!r} does not take part in this step"
                found.append(Problem(where, text, (), "site_not_in_step", {"site": site}))
        for j, speaker in enumerate(step.speakers):
            if speaker.site is not None and speaker.site not in site_ids:
                found.append(_unknown_site(("agenda", i, "speakers", j, "site"), speaker.site))
    for i, w in enumerate(event.workshops):
        if w.site not in site_ids:
            found.append(_unknown_site(("workshops", i, "site"), w.site))
        if w.theme not in theme_ids:
            text = f"unknown theme {w.theme!r}"
            params = {"theme": w.theme}
            found.append(Problem(("workshops", i, "theme"), text, (), "unknown_theme", params))
    found += _round_problems(event)
    hubs = [i for i, s in enumerate(event.sites) if s.hub]
    if len(event.sites) > 1 and not hubs:
        text = "several sites and none has `hub: true`: say which site leads the event"
        found.append(Problem(("sites",), text, (), "no_hub"))
    for i in hubs[1:]:
        hub = event.sites[hubs[0]].id
        text = f"a second hub: site {hub!r} at line {{}} is the hub already"
        ref = ("sites", hubs[0], "hub")
        found.append(Problem(("sites", i, "hub"), text, (ref,), "second_hub", {"hub": hub}))
    found += [p for p, fatal in _agenda_problems(event) if fatal]
    return found + size_problems(event)


def size_problems(event: Event) -> list[Problem]:
    """Totals over the event past `EVENT_TOTALS`, each at the list where it is passed:
    speakers, experience reports, rooms and sites named by steps."""
    lists: dict[str, list[tuple[Loc, int]]] = {what: [] for what in EVENT_TOTALS}
    for i, step in enumerate(event.agenda):
        for what, items in (
            ("speakers", step.speakers),
            ("reports", step.reports),
            ("rooms", step.rooms),
            ("sites", step.sites),
        ):
            lists[what].append((("agenda", i, what), len(items)))
    for i, w in enumerate(event.workshops):
        lists["reports"].append((("workshops", i, "reports"), len(w.reports)))
    found: list[Problem] = []
    for what, places in lists.items():
        limit, total = EVENT_TOTALS[what], 0
        for loc, count in places:
            total += count
            if total > limit:
                text = f"more than {limit} {WHAT[what]} in the whole event"
                params = {"n": limit, "field": what}
                found.append(Problem(loc, text, (), "event_too_many", params))
                break
    return found


def _unknown_site(loc: Loc, site: str) -> Problem:
    return Problem(loc, f"unknown site {site!r}", (), "unknown_site", {"site": site})


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
            refs = ((*first[report.id], "id"),)
            params = {"id": report.id}
            found.append(Problem((*loc, "id"), text, refs, "duplicate_report_id", params))
        else:
            first[report.id] = loc
        if report.site is not None and report.site not in site_ids:
            found.append(_unknown_site((*loc, "site"), report.site))
    for i, step in enumerate(event.agenda):
        if step.queue == "reports" and step.kind != "restitution":
            text = "only a restitution calls reports in turn (`queue: reports`)"
            found.append(Problem(("agenda", i, "queue"), text, (), "queue_not_restitution"))
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
                items = tuple({"step": event.agenda[j].id} for j in several)
                params = {"site": w.site, "items": items}
                found.append(Problem(("workshops", i, "id"), text, refs, "which_round", params))
            continue
        where: Loc = ("workshops", i, "step")
        j = steps.get(w.step)
        if j is None:
            text = f"unknown step {w.step!r}"
            found.append(Problem(where, text, (), "unknown_step", {"step": w.step}))
            continue
        step = event.agenda[j]
        if step.kind != "workshops":
            text = f"step {w.step!r} (line {{}}) is a {step.kind} step, not a workshops step"
            params = {"step": w.step, "kind": step.kind}
            refs = (("agenda", j, "kind"),)
            found.append(Problem(where, text, refs, "not_a_workshops_step", params))
        elif step.sites and w.site not in step.sites:
            text = f"site {w.site!r} does not take part in step {w.step!r} (line {{}})"
            params = {"site": w.site, "step": w.step}
            refs = (("agenda", j, "sites"),)
            found.append(Problem(where, text, refs, "site_not_in_round", params))
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
            params = {
                "step": step.id,
                "start": f"{step.start:%H:%M}",
                "prev": prev.id,
                "prev_start": f"{prev.start:%H:%M}",
            }
            refs = (("agenda", i - 1, "start"),)
            problem = Problem(("agenda", i, "start"), text, refs, "out_of_order", params)
            out.append((problem, True))
    for i, step in enumerate(agenda):
        start = _minutes(step.start)
        for j in range(i):
            prev = agenda[j]
            end = _minutes(prev.start) + prev.duration
            if not (_minutes(prev.start) <= start < end) or not _share_a_site(prev, step):
                continue
            until = f"{end // 60 % 24:02d}:{end % 60:02d}"
            text = (
                f"step {step.id!r} starts at {step.start:%H:%M}, while step {prev.id!r} "
                f"(line {{}}) runs until {until}"
            )
            allowed = step.allow_overlap or prev.allow_overlap
            if not allowed:
                text += " (shorten it, or add `allow_overlap: true` to a parallel step)"
            params = {"step": step.id, "start": f"{step.start:%H:%M}", "prev": prev.id}
            params["end"] = until
            code = "overlap_allowed" if allowed else "overlap"
            refs = (("agenda", j, "start"),)
            problem = Problem(("agenda", i, "start"), text, refs, code, params)
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
            found.append(Problem(("agenda", i, "queue"), text, (), "no_reports_to_call"))
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
        items = tuple({"site": ident, "count": count} for _, ident, count in short)
        params = {"wishes": wishes, "items": items}
        found.append(Problem(("registration", "wishes"), text, refs, "few_workshops", params))
    for i, w in enumerate(event.workshops):
        # Without a room, the confirmation, the personal page and the site sheet cannot
        # say where to go; a workshop held over visio has its link instead.
        if not w.room.strip() and not w.visio_url:
            text = "no room: participants will not know where to go (give `room`, or `visio_url`)"
            found.append(Problem(("workshops", i, "room"), text, (), "no_room"))
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
            params = {"capacity": w.capacity, "site": site.id, "site_capacity": site.capacity}
            where: Loc = ("workshops", i, "capacity")
            found.append(Problem(where, text, (ref,), "over_site_capacity", params))
    return found


def dotted(loc: list[Any]) -> str:
    """`agenda[2].start` from ("agenda", 2, "start")."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out
