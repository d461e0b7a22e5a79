"""One event's participation as data: proposals with their supporters and arguments, and
polls with their votes. No I/O; only a commit of `commands.prepare` (or `commands.apply`,
both at once) changes it, and sets `seq` to the entry's.

Counts are never stored: a proposal's support count is the size of its set of supporters,
so it is exact after any replay, merge or withdrawal. A person is an opaque key given by
the edge (a personal link's person, or a device identity on a shared link); it stays in
the state to enforce "once per person", and never reaches a view or an export.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from live.errors import RelaisError

Status = Literal["open", "hidden", "merged"]
Stance = Literal["pour", "contre", "nuance"]
Scope = Literal["workshop", "site", "everyone"]
Kind = Literal["one", "several", "ranking"]
PollStatus = Literal["open", "closed"]

STANCES: tuple[Stance, ...] = ("pour", "contre", "nuance")

# Bounds (lengths are in characters).
TITLE_MAX = 120
BODY_MAX = 1000
ARGUMENT_MAX = 600
REASON_MAX = 200
QUESTION_MAX = 200
OPTION_MAX = 120
OPTIONS_MIN, OPTIONS_MAX = 2, 12
PROPOSALS_PER_PERSON = 10  # in one workshop
ARGUMENTS_PER_PERSON = 30  # in one workshop
PROPOSALS_PER_WORKSHOP = 300
ARGUMENTS_PER_PROPOSAL = 200
PROPOSE_INTERVAL_MS = 10_000  # a person's next proposal, at the earliest
POLLS_PER_EVENT = 50


class Rejected(RelaisError):
    """A participation command refused; the state is left exactly as it was."""


@dataclass
class Correction:
    """A moderator's correction: when, and the title and body it replaced."""

    t: int
    title: str
    body: str


@dataclass
class Argument:
    id: str
    author: str
    stance: Stance
    text: str
    t: int
    hidden: bool = False
    hide_reason: str = ""  # shown to its author only


@dataclass
class Proposal:
    """A proposal to a workshop. `supporters` is the truth of its support; a merged one
    has handed its supporters and arguments to `merged_into`, so nothing counts twice."""

    id: str
    workshop: str
    subject: str  # one of the theme's subjects (a slug), or ""
    title: str
    body: str
    author: str
    created: int
    status: Status = "open"
    hide_reason: str = ""
    merged_into: str | None = None
    retained: bool = False
    history: list[Correction] = field(default_factory=list)
    supporters: set[str] = field(default_factory=set)
    arguments: list[Argument] = field(default_factory=list)

    @property
    def supports(self) -> int:
        return len(self.supporters)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "workshop": self.workshop,
            "subject": self.subject,
            "title": self.title,
            "body": self.body,
            "author": self.author,
            "created": self.created,
            "status": self.status,
            "hide_reason": self.hide_reason,
            "merged_into": self.merged_into,
            "retained": self.retained,
            "history": [asdict(c) for c in self.history],
            "supporters": sorted(self.supporters),
            "arguments": [asdict(a) for a in self.arguments],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Proposal:
        return cls(
            id=d["id"],
            workshop=d["workshop"],
            subject=d["subject"],
            title=d["title"],
            body=d["body"],
            author=d["author"],
            created=d["created"],
            status=d["status"],
            hide_reason=d["hide_reason"],
            merged_into=d["merged_into"],
            retained=d["retained"],
            history=[Correction(**c) for c in d["history"]],
            supporters=set(d["supporters"]),
            arguments=[Argument(**a) for a in d["arguments"]],
        )


@dataclass
class Poll:
    """A question to one workshop, one site or everyone (`target` is "" then). `votes`
    holds each person's one current vote: option indexes (in order, for a ranking)."""

    id: str
    scope: Scope
    target: str
    kind: Kind
    question: str
    options: tuple[str, ...]
    opened: int
    status: PollStatus = "open"
    closed: int | None = None
    votes: dict[str, tuple[int, ...]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "scope": self.scope,
            "target": self.target,
            "kind": self.kind,
            "question": self.question,
            "options": list(self.options),
            "opened": self.opened,
            "status": self.status,
            "closed": self.closed,
            "votes": {p: list(v) for p, v in sorted(self.votes.items())},
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Poll:
        return cls(
            id=d["id"],
            scope=d["scope"],
            target=d["target"],
            kind=d["kind"],
            question=d["question"],
            options=tuple(d["options"]),
            opened=d["opened"],
            status=d["status"],
            closed=d["closed"],
            votes={p: tuple(v) for p, v in d["votes"].items()},
        )


@dataclass
class Participation:
    """One event's participation. `seq` is the last log entry applied (the event's log
    also carries other commands, so it grows but may skip); `next_id` numbers every new
    proposal, argument and poll, so ids are the same on every replay."""

    seq: int = 0
    next_id: int = 1
    proposals: dict[str, Proposal] = field(default_factory=dict)
    polls: dict[str, Poll] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Everything, for snapshots (person keys included: never send it to a client)."""
        return {
            "seq": self.seq,
            "next_id": self.next_id,
            "proposals": [p.to_dict() for p in self.proposals.values()],
            "polls": [p.to_dict() for p in self.polls.values()],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Participation:
        proposals = (Proposal.from_dict(p) for p in d["proposals"])
        polls = (Poll.from_dict(p) for p in d["polls"])
        return cls(
            seq=d["seq"],
            next_id=d["next_id"],
            proposals={p.id: p for p in proposals},
            polls={p.id: p for p in polls},
        )

    def in_workshop(self, workshop: str) -> list[Proposal]:
        """A workshop's proposals, in the order they were made."""
        return [p for p in self.proposals.values() if p.workshop == workshop]
