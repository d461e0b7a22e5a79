"""Every participation command, declared once: its arguments, who may send it, what it does.

As for the agenda (`live/agenda/commands.py`): `check` at the edge refuses an unknown
command, a role that may not send it or bad arguments, and returns the normalized
arguments the log keeps; `apply` is the reducer, which may still refuse an entry for the
current state (supporting twice, a full workshop). It is also how a log is replayed: the
time `t` is read from each entry, never the clock, and new ids come from a counter in the
state, so a replay rebuilds exactly the same state.

A log entry is `{"seq": int, "t": epoch ms, "name": str, "args": {...}, "actor":
{"person", "role", "workshop", "site"}}`: the actor is what the sender's link says (the
edge fills it, never the arguments), kept in the entry so that a replay authorizes and
counts exactly as the first run did.

The reducer is in two phases, with no copy of a state that holds an event's supports:
`prepare` runs every check of an entry and changes nothing (a refused entry leaves the
state exactly as it was), and returns the commit that changes it in place. A live event
prepares a command before appending it to the log and commits once the store took it;
`apply` is both at once, for a replay.

One piece on purpose, as the agenda's: the registry at the bottom is the one place that
says what a command is (its arguments, in `args.py`; its roles; its case), and its cases
are the reducer's; cutting the cases off the registry would declare each command twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from live.agenda.args import parse

# The same codes as the agenda's for the same refusals.
from live.agenda.protocol import FORBIDDEN, INVALID_ARGS, UNKNOWN_COMMAND
from live.errors import RelaisError
from live.model import Event
from live.participation.args import (
    Argue,
    Correct,
    Hide,
    Merge,
    PollOpen,
    PollRef,
    ProposalRef,
    Propose,
    Target,
    Vote,
)
from live.participation.state import (
    ARGUMENTS_PER_PERSON,
    ARGUMENTS_PER_PROPOSAL,
    POLLS_PER_EVENT,
    PROPOSALS_PER_PERSON,
    PROPOSALS_PER_WORKSHOP,
    PROPOSE_INTERVAL_MS,
    Argument,
    Correction,
    Participation,
    Poll,
    Proposal,
    Rejected,
)

Commit = Callable[[], None]  # a prepared entry's change, run once the store took it


# Roles, as the links name them (live/links/signing.py). Screens, hosts, speakers and the
# public send nothing here.
VOICES = frozenset({"participant", "rapporteur"})  # propose, support, argue, vote
MODERATORS = frozenset({"rapporteur", "facilitator", "organizer"})  # a rapporteur: hers only
COMMANDERS = frozenset({"facilitator", "organizer"})  # polls; moderate every workshop


class CommandError(RelaisError):
    """A command refused at the edge (unknown, forbidden, bad arguments)."""


@dataclass(frozen=True)
class Actor:
    """Who sends a command, as their link says: an opaque person key, the link's role,
    and the workshop and site the link (or the person's assignment) belongs to."""

    person: str
    role: str
    workshop: str | None = None
    site: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "person": self.person,
            "role": self.role,
            "workshop": self.workshop,
            "site": self.site,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Actor:
        return cls(d["person"], d["role"], d.get("workshop"), d.get("site"))


# -- who may act where ----------------------------------------------------------------


def _proposal(state: Participation, pid: str) -> Proposal:
    p = state.proposals.get(pid)
    if p is None:
        raise Rejected("part.no_such_proposal", f"no proposal {pid!r}", proposal=pid)
    return p


def _argument(state: Participation, aid: str) -> tuple[Proposal, Argument]:
    for p in state.proposals.values():
        for a in p.arguments:
            if a.id == aid:
                return p, a
    raise Rejected("part.no_such_argument", f"no argument {aid!r}", argument=aid)


def _poll(state: Participation, qid: str) -> Poll:
    poll = state.polls.get(qid)
    if poll is None:
        raise Rejected("part.no_such_poll", f"no poll {qid!r}", poll=qid)
    return poll


def _speaks_in(actor: Actor, workshop: str) -> None:
    """A participant or rapporteur acts in her own workshop only."""
    if actor.workshop != workshop:
        raise Rejected(
            "part.other_workshop", "one acts in one's own workshop only", workshop=workshop
        )


def _moderates(actor: Actor, workshop: str) -> None:
    """A rapporteur moderates her workshop; a facilitator or organizer, every one."""
    if actor.role not in COMMANDERS and actor.workshop != workshop:
        raise Rejected(
            "part.other_workshop", "a rapporteur moderates her own workshop", workshop=workshop
        )


def _open(p: Proposal) -> None:
    if p.status == "hidden":
        raise Rejected("part.hidden", f"proposal {p.id!r} is hidden", proposal=p.id)
    if p.status == "merged":
        raise Rejected(
            "part.merged", f"proposal {p.id!r} was merged", proposal=p.id, into=p.merged_into
        )


def _new_id(state: Participation, prefix: str) -> str:
    """Take the next id: only inside a commit, so that a preparation dropped after a
    refused append leaves the counter as it was."""
    n = state.next_id
    state.next_id += 1
    return f"{prefix}{n}"


# -- the reducer's cases ------------------------------------------------------------------
#
# Each case runs every check against the current state, changing nothing, then returns
# `commit`, which changes it. Between the two the state must not change (`prepare`
# guards that by its seq): what a case found (a proposal, a count) is what it commits on.


def _propose(state: Participation, args: Propose, actor: Actor, t: int) -> Commit:
    workshop = actor.workshop
    if not workshop:
        raise Rejected("part.no_workshop", "this link has no workshop to propose to")
    ours = state.in_workshop(workshop)
    if len(ours) >= PROPOSALS_PER_WORKSHOP:
        raise Rejected("part.workshop_full", "the workshop has all the proposals it can take")
    if sum(p.author == actor.person for p in ours) >= PROPOSALS_PER_PERSON:
        raise Rejected(
            "part.too_many_proposals", "one person's proposals in a workshop are bounded"
        )
    last = max(
        (p.created for p in state.proposals.values() if p.author == actor.person), default=None
    )
    if last is not None and t - last < PROPOSE_INTERVAL_MS:
        wait = PROPOSE_INTERVAL_MS - (t - last)
        raise Rejected("part.too_soon", "a new proposal waits a few seconds", wait_ms=wait)

    def commit() -> None:
        pid = _new_id(state, "p")
        state.proposals[pid] = Proposal(
            id=pid,
            workshop=workshop,
            subject=args.subject,
            title=args.title,
            body=args.body,
            author=actor.person,
            created=t,
        )

    return commit


def _support(state: Participation, args: ProposalRef, actor: Actor, t: int) -> Commit:
    p = _proposal(state, args.proposal)
    _speaks_in(actor, p.workshop)
    _open(p)
    if actor.person in p.supporters:
        raise Rejected("part.already_supported", "one support per person", proposal=p.id)

    def commit() -> None:
        p.supporters.add(actor.person)

    return commit


def _unsupport(state: Participation, args: ProposalRef, actor: Actor, t: int) -> Commit:
    """Withdraw a support, even from a hidden proposal (the person still owns it)."""
    p = _proposal(state, args.proposal)
    _speaks_in(actor, p.workshop)
    if actor.person not in p.supporters:
        raise Rejected("part.not_supported", "there is no support to withdraw", proposal=p.id)

    def commit() -> None:
        p.supporters.discard(actor.person)

    return commit


def _argue(state: Participation, args: Argue, actor: Actor, t: int) -> Commit:
    p = _proposal(state, args.proposal)
    _speaks_in(actor, p.workshop)
    _open(p)
    if len(p.arguments) >= ARGUMENTS_PER_PROPOSAL:
        raise Rejected("part.proposal_full", "the proposal has all the arguments it can take")
    mine = sum(a.author == actor.person for q in state.in_workshop(p.workshop) for a in q.arguments)
    if mine >= ARGUMENTS_PER_PERSON:
        raise Rejected(
            "part.too_many_arguments", "one person's arguments in a workshop are bounded"
        )

    def commit() -> None:
        aid = _new_id(state, "a")
        p.arguments.append(Argument(aid, actor.person, args.stance, args.text, t))

    return commit


def _hide(state: Participation, args: Hide, actor: Actor, t: int) -> Commit:
    """Hide a proposal or an argument; its author alone still sees it, with the reason."""
    if args.argument is not None:
        p, a = _argument(state, args.argument)
        _moderates(actor, p.workshop)
        if a.hidden:
            raise Rejected("part.already_hidden", "already hidden", argument=a.id)

        def commit_argument() -> None:
            a.hidden, a.hide_reason = True, args.reason

        return commit_argument
    assert args.proposal is not None  # the model asks for one of the two
    p = _proposal(state, args.proposal)
    _moderates(actor, p.workshop)
    if p.status == "hidden":
        raise Rejected("part.already_hidden", "already hidden", proposal=p.id)
    _open(p)

    def commit() -> None:
        p.status, p.hide_reason = "hidden", args.reason

    return commit


def _unhide(state: Participation, args: Target, actor: Actor, t: int) -> Commit:
    if args.argument is not None:
        p, a = _argument(state, args.argument)
        _moderates(actor, p.workshop)
        if not a.hidden:
            raise Rejected("part.not_hidden", "not hidden", argument=a.id)

        def commit_argument() -> None:
            a.hidden, a.hide_reason = False, ""

        return commit_argument
    assert args.proposal is not None
    p = _proposal(state, args.proposal)
    _moderates(actor, p.workshop)
    if p.status != "hidden":
        raise Rejected("part.not_hidden", "not hidden", proposal=p.id)

    def commit() -> None:
        p.status, p.hide_reason = "open", ""

    return commit


def _correct(state: Participation, args: Correct, actor: Actor, t: int) -> Commit:
    """A moderator fixes a typo; what it replaced is kept, with when."""
    p = _proposal(state, args.proposal)
    _moderates(actor, p.workshop)
    if p.status == "merged":
        _open(p)  # refused: its text went with the merge
    title = p.title if args.title is None else args.title
    body = p.body if args.body is None else args.body
    if (title, body) == (p.title, p.body):
        raise Rejected("part.unchanged", "the correction changes nothing", proposal=p.id)

    def commit() -> None:
        p.history.append(Correction(t, p.title, p.body))
        p.title, p.body = title, body

    return commit


def _merge(state: Participation, args: Merge, actor: Actor, t: int) -> Commit:
    """Merge a duplicate into another proposal of the same workshop: its supporters join
    the target's (a person who supported both counts once), its arguments and its
    "retained" mark go with them; the duplicate keeps only its text and `merged_into`."""
    source, target = _proposal(state, args.source), _proposal(state, args.target)
    if source.id == target.id:
        raise Rejected("part.same_proposal", "a proposal is not merged into itself")
    if source.workshop != target.workshop:
        raise Rejected("part.different_workshops", "merged proposals share a workshop")
    _moderates(actor, source.workshop)
    _open(source)
    _open(target)

    def commit() -> None:
        target.supporters |= source.supporters
        source.supporters = set()
        target.arguments = sorted(
            [*target.arguments, *source.arguments], key=lambda a: (a.t, int(a.id[1:]))
        )
        source.arguments = []
        target.retained = target.retained or source.retained
        source.retained = False
        source.status, source.merged_into = "merged", target.id

    return commit


def _retain(state: Participation, args: ProposalRef, actor: Actor, t: int) -> Commit:
    """Mark a proposal "retenue pour la restitution": the screens show it then."""
    p = _proposal(state, args.proposal)
    _moderates(actor, p.workshop)
    _open(p)
    if p.retained:
        raise Rejected("part.already_retained", "already retained", proposal=p.id)

    def commit() -> None:
        p.retained = True

    return commit


def _unretain(state: Participation, args: ProposalRef, actor: Actor, t: int) -> Commit:
    p = _proposal(state, args.proposal)
    _moderates(actor, p.workshop)
    if not p.retained:
        raise Rejected("part.not_retained", "not retained", proposal=p.id)

    def commit() -> None:
        p.retained = False

    return commit


def _poll_open(state: Participation, args: PollOpen, actor: Actor, t: int) -> Commit:
    if len(state.polls) >= POLLS_PER_EVENT:
        raise Rejected("part.too_many_polls", "the event has all the polls it can take")

    def commit() -> None:
        qid = _new_id(state, "q")
        state.polls[qid] = Poll(
            qid, args.scope, args.target, args.kind, args.question, tuple(args.options), t
        )

    return commit


def _vote(state: Participation, args: Vote, actor: Actor, t: int) -> Commit:
    """One current vote per person: a new vote replaces hers (in every kind of poll). A
    person may change her mind while the poll is open, as in a room; counting her last
    vote only keeps "one person, one vote" exact, and a replay gives the same."""
    poll = _poll(state, args.poll)
    if poll.status != "open":
        raise Rejected("part.poll_closed", "the poll is closed", poll=poll.id)
    where = {"workshop": actor.workshop, "site": actor.site}.get(poll.scope, "")
    if poll.scope != "everyone" and where != poll.target:
        raise Rejected("part.not_asked", "this poll is asked to others", poll=poll.id)
    choices, n = args.choices, len(poll.options)
    if any(not 0 <= c < n for c in choices):
        raise Rejected("part.no_such_option", f"options are 0 to {n - 1}", options=n)
    if poll.kind == "one" and len(choices) != 1:
        raise Rejected("part.one_choice", "this poll takes one choice", poll=poll.id)
    if len(set(choices)) != len(choices):
        raise Rejected("part.repeated_option", "an option is chosen twice", poll=poll.id)
    if poll.kind == "ranking" and len(choices) != n:
        raise Rejected("part.not_a_ranking", "a ranking orders every option once", options=n)

    def commit() -> None:
        poll.votes[actor.person] = tuple(choices)

    return commit


def _poll_close(state: Participation, args: PollRef, actor: Actor, t: int) -> Commit:
    poll = _poll(state, args.poll)
    if poll.status != "open":
        raise Rejected("part.poll_closed", "the poll is already closed", poll=poll.id)

    def commit() -> None:
        poll.status, poll.closed = "closed", t

    return commit


# -- the registry --------------------------------------------------------------------------


@dataclass(frozen=True)
class Command:
    """What a command is: its arguments, the roles that may send it, its reducer case."""

    args: type[BaseModel]
    handler: Callable[[Participation, Any, Actor, int], Commit]
    roles: frozenset[str]


COMMANDS: dict[str, Command] = {
    "propose": Command(Propose, _propose, VOICES),
    "support": Command(ProposalRef, _support, VOICES),
    "unsupport": Command(ProposalRef, _unsupport, VOICES),
    "argue": Command(Argue, _argue, VOICES),
    "hide": Command(Hide, _hide, MODERATORS),
    "unhide": Command(Target, _unhide, MODERATORS),
    "correct": Command(Correct, _correct, MODERATORS),
    "merge": Command(Merge, _merge, MODERATORS),
    "retain": Command(ProposalRef, _retain, MODERATORS),
    "unretain": Command(ProposalRef, _unretain, MODERATORS),
    "poll_open": Command(PollOpen, _poll_open, COMMANDERS),
    "vote": Command(Vote, _vote, VOICES),
    "poll_close": Command(PollRef, _poll_close, COMMANDERS),
}

# Every code a refusal of this package may carry (for the string tables and HTTP status).
CODES = (
    UNKNOWN_COMMAND,
    INVALID_ARGS,
    FORBIDDEN,
    "part.no_person",
    "part.no_such_workshop",
    "part.no_such_site",
    "part.seq_stale",
    "part.no_workshop",
    "part.workshop_full",
    "part.too_many_proposals",
    "part.too_soon",
    "part.no_such_proposal",
    "part.no_such_argument",
    "part.no_such_poll",
    "part.other_workshop",
    "part.hidden",
    "part.merged",
    "part.already_supported",
    "part.not_supported",
    "part.proposal_full",
    "part.too_many_arguments",
    "part.already_hidden",
    "part.not_hidden",
    "part.unchanged",
    "part.same_proposal",
    "part.different_workshops",
    "part.already_retained",
    "part.not_retained",
    "part.too_many_polls",
    "part.poll_closed",
    "part.not_asked",
    "part.no_such_option",
    "part.one_choice",
    "part.repeated_option",
    "part.not_a_ranking",
)


def _parse(name: str, command: Command, args: dict[str, Any]) -> BaseModel:
    return parse(name, command.args, args, CommandError)


def _allowed(name: str, command: Command, actor: Actor) -> None:
    if actor.role not in command.roles:
        raise CommandError(FORBIDDEN, f"role {actor.role!r} may not send {name!r}", name=name)
    if actor.role in VOICES and not actor.person:
        raise CommandError("part.no_person", "a voice needs a person")


def check(
    name: str, args: dict[str, Any], actor: Actor, event: Event | None = None
) -> dict[str, Any]:
    """Validate a command from `actor` (and, given the event, the workshop or site a
    poll is asked to); return its normalized arguments, what the log keeps."""
    command = COMMANDS.get(name)
    if command is None:
        raise CommandError(UNKNOWN_COMMAND, f"unknown command {name!r}", name=name)
    _allowed(name, command, actor)
    parsed = _parse(name, command, args)
    if event is not None and isinstance(parsed, PollOpen):
        if parsed.scope == "workshop" and event.workshop(parsed.target) is None:
            raise CommandError("part.no_such_workshop", "unknown workshop", workshop=parsed.target)
        if parsed.scope == "site" and event.site(parsed.target) is None:
            raise CommandError("part.no_such_site", "unknown site", site=parsed.target)
    return parsed.model_dump(exclude_none=True)


def prepare(state: Participation, entry: dict[str, Any]) -> Commit:
    """Check one log entry against `state`, changing nothing, and return what applies
    it: raise Rejected if it cannot apply. The returned commit, called once and while
    the state is as it was prepared on, changes it in place and sets its seq; this is
    how a command is checked before its append to the log and applied only once the
    store took it (if another process appended first, drop it and prepare again on top
    of the others' entries). New ids are taken at commit, from the state's counter."""
    seq = int(entry["seq"])
    if seq <= state.seq:
        raise Rejected("part.seq_stale", f"entry {seq} is not after {state.seq}", seq=seq)
    name = entry["name"]
    command = COMMANDS.get(name)
    if command is None:
        raise Rejected(UNKNOWN_COMMAND, f"unknown command {name!r}", name=name)
    actor = Actor.from_dict(entry["actor"])
    try:
        _allowed(name, command, actor)
        args = _parse(name, command, entry.get("args") or {})
    except CommandError as exc:
        raise Rejected(exc.code, exc.message, **exc.params) from None
    change = command.handler(state, args, actor, int(entry["t"]))
    base = state.seq

    def commit() -> None:
        if state.seq != base:  # a programming error, never a user's: fail loudly
            raise RuntimeError(f"entry {seq} was prepared on seq {base}, not {state.seq}")
        change()
        state.seq = seq

    return commit


def apply(state: Participation, entry: dict[str, Any]) -> Participation:
    """Apply one log entry to `state` (in place) and return it; raise Rejected, with
    `state` untouched, if it cannot apply."""
    prepare(state, entry)()
    return state


def replay(entries: list[dict[str, Any]], state: Participation | None = None) -> Participation:
    """The state a log gives (entries of other capabilities are skipped by name)."""
    state = state or Participation()
    for entry in entries:
        if entry["name"] in COMMANDS:
            apply(state, entry)
    return state
