"""What each audience reads of the participation, as plain dicts ready for JSON.

No view carries a person key: a participant learns which proposals are hers and which
she supports as booleans, a moderator sees every proposal of her workshop (hidden ones
with their reasons, merged ones with where they went) but not who wrote or supported
them, and the screens see only what was retained, with its support count.
"""

from __future__ import annotations

from typing import Any

from live.participation.commands import Actor
from live.participation.state import STANCES, Argument, Participation, Poll, Proposal


def _stances(arguments: list[Argument]) -> dict[str, int]:
    """How many visible arguments of each stance."""
    return {s: sum(a.stance == s and not a.hidden for a in arguments) for s in STANCES}


def _card(p: Proposal) -> dict[str, Any]:
    """What every audience may know of a proposal."""
    return {
        "id": p.id,
        "subject": p.subject,
        "title": p.title,
        "body": p.body,
        "created": p.created,
        "retained": p.retained,
        "supports": p.supports,
        "stances": _stances(p.arguments),
    }


def proposal_card(p: Proposal, person: str) -> dict[str, Any] | None:
    """One proposal as a participant (`person`) of its workshop sees it, or None if she
    may not: an open one with her flags (`mine`, `supported`); her own hidden or merged
    one with the reason, or where it went; visible arguments, and her own hidden ones
    with their reason."""
    mine = p.author == person
    if p.status != "open" and not mine:
        return None
    card = {**_card(p), "status": p.status, "mine": mine, "supported": person in p.supporters}
    if p.status == "hidden":
        card["hide_reason"] = p.hide_reason
    if p.status == "merged":
        card["merged_into"] = p.merged_into
    card["arguments"] = [
        {
            "id": a.id,
            "stance": a.stance,
            "text": a.text,
            "t": a.t,
            "mine": a.author == person,
            **({"hidden": True, "hide_reason": a.hide_reason} if a.hidden else {}),
        }
        for a in p.arguments
        if not a.hidden or a.author == person
    ]
    return card


def proposal_public(p: Proposal) -> dict[str, Any]:
    """One proposal as any participant of its workshop may be sent it (a broadcast):
    no person key and no one's flags, so a client keeps `mine` and `supported` from its
    own view. A hidden one is only `{id, status: "hidden"}`, a merged one says where it
    went, so that a client drops it; hidden arguments are left out."""
    if p.status == "hidden":
        return {"id": p.id, "status": "hidden"}
    if p.status == "merged":
        return {"id": p.id, "status": "merged", "merged_into": p.merged_into}
    return {
        **_card(p),
        "status": p.status,
        "arguments": [
            {"id": a.id, "stance": a.stance, "text": a.text, "t": a.t}
            for a in p.arguments
            if not a.hidden
        ],
    }


def proposal_for_author(p: Proposal) -> dict[str, Any]:
    """One proposal as its author sees it: hers in every status, hidden with the reason."""
    card = proposal_card(p, p.author)
    assert card is not None  # an author sees her proposal in every status
    return card


def proposal_for_moderator(p: Proposal) -> dict[str, Any]:
    """One proposal for its workshop's rapporteur or a facilitator: in every status,
    hidden with the reason, merged with the target, its corrections, every argument
    (hidden ones with their reasons), and no person key."""
    return {
        **_card(p),
        "status": p.status,
        "hide_reason": p.hide_reason,
        "merged_into": p.merged_into,
        "history": [{"t": c.t, "title": c.title, "body": c.body} for c in p.history],
        "arguments": [
            {
                "id": a.id,
                "stance": a.stance,
                "text": a.text,
                "t": a.t,
                "hidden": a.hidden,
                "hide_reason": a.hide_reason,
            }
            for a in p.arguments
        ],
    }


def participant_view(state: Participation, actor: Actor) -> dict[str, Any]:
    """A participant's view of her workshop: each proposal as `proposal_card` gives it
    to her, in the order they were made."""
    cards = (proposal_card(p, actor.person) for p in state.in_workshop(actor.workshop or ""))
    return {"workshop": actor.workshop, "proposals": [c for c in cards if c is not None]}


def moderator_view(state: Participation, workshop: str) -> dict[str, Any]:
    """Everything of a workshop for its rapporteur or a facilitator (`proposal_for_moderator`
    of each proposal)."""
    proposals = [proposal_for_moderator(p) for p in state.in_workshop(workshop)]
    return {"workshop": workshop, "proposals": proposals}


def screen_view(state: Participation, workshop: str) -> dict[str, Any]:
    """The screens during a workshop's restitution: its retained proposals, most
    supported first (then in the order they were made)."""
    retained = [p for p in state.in_workshop(workshop) if p.retained and p.status == "open"]
    retained.sort(key=lambda p: (-p.supports, p.created, int(p.id[1:])))
    return {"workshop": workshop, "retained": [_card(p) for p in retained]}


def poll_result(poll: Poll) -> dict[str, Any]:
    """A poll and its results: votes per option, or for a ranking, Borda points (with n
    options, a first place is worth n-1 points, the last 0)."""
    n = len(poll.options)
    result: dict[str, Any] = {
        "id": poll.id,
        "scope": poll.scope,
        "target": poll.target,
        "kind": poll.kind,
        "question": poll.question,
        "options": list(poll.options),
        "status": poll.status,
        "voters": len(poll.votes),
    }
    if poll.kind == "ranking":
        points = [0] * n
        for ranking in poll.votes.values():
            for place, option in enumerate(ranking):
                points[option] += n - 1 - place
        result["points"] = points
    else:
        counts = [0] * n
        for choices in poll.votes.values():
            for option in choices:
                counts[option] += 1
        result["counts"] = counts
    return result


def poll_results(state: Participation, scope: str, target: str = "") -> list[dict[str, Any]]:
    """The polls asked to one audience (a workshop, a site, or everyone with target ""),
    in the order they were opened, with their results."""
    return [poll_result(p) for p in state.polls.values() if p.scope == scope and p.target == target]


def polls_for(state: Participation, actor: Actor) -> list[dict[str, Any]]:
    """The polls asked to a person (to everyone, her site or her workshop), each with
    its results and her own current vote (None before she votes)."""
    asked = {"everyone": "", "site": actor.site, "workshop": actor.workshop}
    return [
        {**poll_result(p), "mine": list(p.votes[actor.person]) if actor.person in p.votes else None}
        for p in state.polls.values()
        if asked[p.scope] == p.target
    ]
