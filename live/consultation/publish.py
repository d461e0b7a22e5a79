"""From an event's participation to its published contribution, and the reprise of the
territories' proposals by an upper event. No I/O: the store gathers, this decides.

What an organizer publishes is what she picks (`Choices`). By default, in each workshop,
the proposals the rapporteur retained for the restitution; in a workshop where none was
retained, every visible one (not hidden, not merged: a merged proposal's supports and
arguments are already its target's). Hidden and merged proposals cannot be picked.

Nothing personal goes out unless the person agreed: no author or supporter key ever (a
support is a count, an argument a stance and a text), and a rapporteur's or presenter's
name only when it is in `Choices.agreed`, the names that said yes.

A reprise is a proposal of an upper event (an académie's, the national day's) carrying
forward published proposals of the territories below it: merged (several into one) or
reworded (one, in other words). Its origins must be published, of other events, and from
territories within the upper event's own, so that each national proposal traces back to
the départements it came from (`views.trace`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from pydantic import ValidationError

from live.consultation.model import (
    BODY_LENGTH,
    MAX_ARGUMENTS,
    PROPOSAL_TITLE_LENGTH,
    SYNTHESIS_LENGTH,
    Consultation,
    ConsultationRefused,
    Contribution,
    ExperienceReport,
    PublishedArgument,
    PublishedProposal,
    Reprise,
    WorkshopSynthesis,
)
from live.model import Event
from live.participation.state import Participation, Proposal
from live.territories import Territories


@dataclass(frozen=True)
class Choices:
    """What the organizer decides when she reviews an event's contribution.

    `proposals`: the participation ids to publish (None: the default selection);
    `reports`: the experience reports' ids (None: all of them); `agreed`: the names of the
    rapporteurs and presenters who agreed to be named; `notes`: each workshop's synthesis
    text (its notes, as the synthesis gathers them); `rapporteurs`: who wrote each
    workshop's notes; `summaries`: a summary per report."""

    proposals: frozenset[str] | None = None
    reports: frozenset[str] | None = None
    agreed: frozenset[str] = frozenset()
    notes: Mapping[str, str] = field(default_factory=dict)
    rapporteurs: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    summaries: Mapping[str, str] = field(default_factory=dict)


def default_selection(state: Participation) -> frozenset[str]:
    """Per workshop: its retained proposals, or, if none was retained, every visible one."""
    chosen: set[str] = set()
    for workshop in {p.workshop for p in state.proposals.values()}:
        visible = [p for p in state.in_workshop(workshop) if p.status == "open"]
        retained = [p for p in visible if p.retained]
        chosen.update(p.id for p in (retained or visible))
    return frozenset(chosen)


def _proposal(consultation: Consultation, event: Event, p: Proposal) -> PublishedProposal:
    workshop = event.workshop(p.workshop)
    theme = consultation.theme(workshop.theme) if workshop else None
    if theme is None:
        raise ConsultationRefused(
            "consultation.unknown_theme",
            f"proposal {p.id}: its workshop's theme is not one of the consultation's",
            proposal=p.id,
            theme=workshop.theme if workshop else "",
        )
    visible = [a for a in p.arguments if not a.hidden][:MAX_ARGUMENTS]
    return PublishedProposal(
        id=f"{event.id}/{p.id}",
        theme=theme.id,
        subject=p.subject if theme.subject(p.subject) else "",
        title=p.title,
        body=p.body,
        supports=p.supports,
        arguments=tuple(PublishedArgument(stance=a.stance, text=a.text) for a in visible),
    )


def _reports(event: Event, choices: Choices) -> list[ExperienceReport]:
    out = []
    for report, workshop in event.all_reports():
        if choices.reports is not None and report.id not in choices.reports:
            continue
        site_id = report.site or (workshop.site if workshop else None)
        site = event.site(site_id) if site_id else None
        out.append(
            ExperienceReport(
                id=report.id,
                theme=workshop.theme if workshop else "",
                title=report.title,
                presenters=tuple(n for n in report.presenters if n in choices.agreed),
                site=site.name if site else "",
                summary=choices.summaries.get(report.id, ""),
            )
        )
    return out


def _syntheses(event: Event, choices: Choices) -> list[WorkshopSynthesis]:
    out = []
    for w in event.workshops:
        text = choices.notes.get(w.id, "").strip()
        if not text:
            continue
        if len(text) > SYNTHESIS_LENGTH:
            raise ConsultationRefused(
                "consultation.too_large",
                f"workshop {w.id}: notes over {SYNTHESIS_LENGTH} characters",
                workshop=w.id,
            )
        names = tuple(n for n in choices.rapporteurs.get(w.id, ()) if n in choices.agreed)
        out.append(
            WorkshopSynthesis(
                workshop=w.id,
                theme=w.theme,
                title=event.workshop_title(w),
                text=text,
                rapporteurs=names[:5],
            )
        )
    return out


def contribution(
    consultation: Consultation,
    event: Event,
    state: Participation,
    published: datetime,
    choices: Choices | None = None,
) -> Contribution:
    """The contribution an organizer publishes for `event`: the chosen proposals (in the
    order they were made), the experience reports, the workshops' syntheses; refused
    (`ConsultationRefused`) for an event that is not the consultation's (or that names
    another territory than the consultation lists it in), a pick that is not a
    visible proposal, or a workshop whose theme the consultation does not have."""
    choices = choices or Choices()
    territory = consultation.territory_of(event.id)
    if territory is None:
        raise ConsultationRefused(
            "consultation.unknown_event",
            f"event {event.id} is not one of consultation {consultation.id}'s",
            event=event.id,
        )
    if event.territory is not None and event.territory != territory:
        raise ConsultationRefused(
            "consultation.wrong_territory",
            f"event {event.id} names {event.territory}, the consultation lists it in {territory}",
            event=event.id,
            territory=event.territory,
        )
    picked = default_selection(state) if choices.proposals is None else choices.proposals
    for pid in sorted(picked):
        p = state.proposals.get(pid)
        if p is None or p.status != "open":
            raise ConsultationRefused(
                "consultation.not_publishable",
                f"proposal {pid}: only a visible proposal (neither hidden nor merged) is published",
                proposal=pid,
            )
    chosen = [p for p in state.proposals.values() if p.id in picked]
    return _validated(
        consultation=consultation.id,
        event=event.id,
        event_title=event.title,
        event_date=event.date,
        territory=territory,
        published=published,
        proposals=tuple(_proposal(consultation, event, p) for p in chosen),
        reports=tuple(_reports(event, choices)),
        syntheses=tuple(_syntheses(event, choices)),
    )


def _validated(**fields: object) -> Contribution:
    try:
        return Contribution.model_validate(fields)
    except ValidationError as exc:
        raise ConsultationRefused(
            "consultation.invalid", str(exc).splitlines()[0], detail=str(exc)
        ) from None


def _published(others: Iterable[Contribution]) -> dict[str, tuple[PublishedProposal, str]]:
    """Every published proposal by id, with its event's territory."""
    return {p.id: (p, c.territory) for c in others for p in c.proposals}


def check(
    consultation: Consultation, contribution: Contribution, others: Iterable[Contribution]
) -> None:
    """Refuse (`ConsultationRefused`) a contribution the consultation cannot publish: of another
    consultation or of an event it does not list (or in another territory than the one it
    lists), with a theme or subject it does not have, or carrying forward an origin that
    is not published (`consultation.unknown_origin`) or comes from outside the event's
    territory (`consultation.origin_outside`). `others`: the contributions published now
    (the event's own, if any, is ignored: publishing replaces it)."""
    if contribution.consultation != consultation.id:
        raise ConsultationRefused(
            "consultation.wrong_consultation",
            f"contribution of {contribution.consultation}, not {consultation.id}",
        )
    listed = consultation.territory_of(contribution.event)
    if listed is None:
        raise ConsultationRefused(
            "consultation.unknown_event",
            f"event {contribution.event} is not one of the consultation's",
            event=contribution.event,
        )
    if listed != contribution.territory:
        raise ConsultationRefused(
            "consultation.wrong_territory",
            f"event {contribution.event} belongs to {listed}, not {contribution.territory}",
            event=contribution.event,
            territory=contribution.territory,
        )
    for p in contribution.proposals:
        theme = consultation.theme(p.theme)
        if theme is None:
            raise ConsultationRefused(
                "consultation.unknown_theme", f"{p.id}: theme {p.theme}", proposal=p.id
            )
        if p.subject and theme.subject(p.subject) is None:
            raise ConsultationRefused(
                "consultation.unknown_subject", f"{p.id}: subject {p.subject}", proposal=p.id
            )
    themes = [r.theme for r in contribution.reports] + [s.theme for s in contribution.syntheses]
    for theme_id in themes:
        if theme_id and consultation.theme(theme_id) is None:
            raise ConsultationRefused(
                "consultation.unknown_theme", f"theme {theme_id}", theme=theme_id
            )
    if any(p.origins for p in contribution.proposals):
        published = _published(c for c in others if c.event != contribution.event)
        tree = consultation.territories()
        for p in contribution.proposals:
            for origin in p.origins:
                _check_origin(tree, published, contribution, p.id, origin)


def _check_origin(
    tree: Territories,
    published: Mapping[str, tuple[PublishedProposal, str]],
    contribution: Contribution,
    proposal: str,
    origin: str,
) -> None:
    found = published.get(origin)
    if found is None:
        raise ConsultationRefused(
            "consultation.unknown_origin",
            f"{proposal}: origin {origin} is not a published proposal",
            proposal=proposal,
            origin=origin,
        )
    if not tree.within(found[1], contribution.territory):
        raise ConsultationRefused(
            "consultation.origin_outside",
            f"{proposal}: origin {origin} comes from {found[1]}, outside {contribution.territory}",
            proposal=proposal,
            origin=origin,
            territory=found[1],
        )


def reprise(
    consultation: Consultation,
    contribution: Contribution,
    others: Iterable[Contribution],
    origins: Iterable[str],
    kind: Reprise,
    title: str,
    body: str = "",
    subject: str | None = None,
) -> Contribution:
    """`contribution` (an upper event's) with one more proposal, `{event}/r<n>`, carrying
    forward `origins`: its theme theirs (the first one's), its subject theirs when they
    share one (else `subject`, or none), its supports theirs added up (different events,
    different people), its arguments theirs (up to the bound). Refused as `check` refuses."""
    origins = tuple(dict.fromkeys(origins))
    others = list(others)
    published = _published(c for c in others if c.event != contribution.event)
    tree = consultation.territories()
    pid = f"{contribution.event}/r{_next_reprise(contribution)}"
    for origin in origins:
        _check_origin(tree, published, contribution, pid, origin)
    carried = [published[o][0] for o in origins]
    if not carried:
        raise ConsultationRefused(
            "consultation.no_origin", "a reprise carries forward at least one origin"
        )
    if subject is None:
        subjects = {p.subject for p in carried}
        subject = subjects.pop() if len(subjects) == 1 else ""
    arguments = tuple(a for p in carried for a in p.arguments)[:MAX_ARGUMENTS]
    if len(title) > PROPOSAL_TITLE_LENGTH or len(body) > BODY_LENGTH:
        raise ConsultationRefused(
            "consultation.too_large", f"{pid}: title or body too long", proposal=pid
        )
    try:
        new = PublishedProposal(
            id=pid,
            theme=carried[0].theme,
            subject=subject,
            title=title,
            body=body,
            supports=sum(p.supports for p in carried),
            arguments=arguments,
            origins=origins,
            reprise=kind,
        )
    except ValidationError as exc:
        raise ConsultationRefused(
            "consultation.invalid", str(exc).splitlines()[0], detail=str(exc)
        ) from None
    fields = contribution.model_dump()
    fields["proposals"] = (*contribution.proposals, new)
    result = _validated(**fields)
    check(consultation, result, others)
    return result


def _next_reprise(contribution: Contribution) -> int:
    numbers = [
        int(local[1:])
        for p in contribution.proposals
        if (local := p.id.partition("/")[2]).startswith("r") and local[1:].isdigit()
    ]
    return max(numbers, default=0) + 1
