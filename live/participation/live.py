"""One event's participation, live: its log (`participation:{event}`), its state, and the
phones, consoles and screens that follow it.

The log machinery is the agenda's (`live/eventlog.py`): a command is checked at the edge,
prepared against the state, appended, and only then committed and broadcast; several
processes on one store append to one log, in one order, and each follows the others.

A change is sent only to those it concerns (`changes.changed`): a proposal to the
followers of its workshop, a poll to the audience it is asked to. Each follower reads it
as its view says (`views`): a participant the public card (her own cards, with her flags,
to her), a moderator everything, a screen the retained proposals. Each frame is built
once per kind of reader, never once per follower, except for the one or two people the
change is about (its author, the person who acted).
"""

from __future__ import annotations

import json
from collections import deque
from dataclasses import dataclass
from typing import Any, Literal

from live.agenda.outbox import RESYNC, Client
from live.backends.base import Backend
from live.eventlog import RECENT, Commit, EventLog, Unsettled, now_ms
from live.model import Event
from live.participation import commands
from live.participation.changes import Changed, changed
from live.participation.commands import Actor
from live.participation.state import Participation, Proposal
from live.participation.views import (
    moderator_view,
    participant_view,
    poll_result,
    polls_for,
    proposal_card,
    proposal_for_moderator,
    proposal_public,
    screen_view,
)

__all__ = ["Follower", "LiveParticipation", "Unsettled"]

Mode = Literal["participant", "moderator", "screen"]


@dataclass(frozen=True)
class Follower:
    """What a socket follows: one workshop, as a participant (`actor.person`), a
    moderator or a screen. `actor` is who it acts as (its link, its person)."""

    actor: Actor
    workshop: str
    mode: Mode


def _dumps(frame: dict[str, Any]) -> str:
    return json.dumps(frame, ensure_ascii=False, separators=(",", ":"))


class LiveParticipation(EventLog[Participation]):
    """The participation of one event in this process."""

    def __init__(self, event: Event, backend: Backend, snapshot_every: int = 200) -> None:
        self.event = event
        # socket -> what it follows; by workshop, for the broadcasts
        self.followers: dict[Client, Follower] = {}
        self.by_workshop: dict[str, set[Client]] = {}
        self.touched: deque[Changed] = deque(maxlen=RECENT)  # what each recent entry changed
        super().__init__(
            backend, f"participation:{event.id}", f"{event.id}:participation", snapshot_every
        )

    # -- the log's state (see EventLog) ----------------------------------------------------

    def empty(self) -> Participation:
        return Participation()

    def restore(self, data: dict[str, Any]) -> Participation:
        return Participation.from_dict(data)

    def dump(self, state: Participation) -> dict[str, Any]:
        return state.to_dict()

    def prepare(self, state: Participation, entry: dict[str, Any]) -> Commit[Participation]:
        change = commands.prepare(state, entry)

        def commit() -> Participation:
            change()
            return state

        return commit

    def resynced(self) -> None:
        self.touched.clear()  # what changed in the lost log says nothing of the new one
        for client in self.followers:
            client.push_event(RESYNC)

    async def command(
        self, name: str, args: dict[str, Any], actor: Actor, link_id: str, cid: str
    ) -> int:
        """Check at the edge, then prepare, append, commit, broadcast; return the seq. A
        command id is the sender's: the link's, and on a site's shared link the person's
        (each phone numbers its own commands)."""
        clean = commands.check(name, args, actor, self.event)
        sender = f"{link_id}+{actor.person.replace(':', '-')}"
        return await self.submit(name, clean, f"{sender}:{cid}", {"actor": actor.to_dict()})

    # -- followers -------------------------------------------------------------------------

    def join(
        self,
        client: Client,
        follower: Follower,
        since: int | None = None,
        epoch: str | None = None,
    ) -> None:
        """Register a socket and queue what it lacks in one synchronous step, no gap: a
        page that says what it has (`since`, `epoch`) gets the cards and polls changed
        since, when they are still known here; any other its whole picture."""
        self.leave(client)
        self.followers[client] = follower
        self.by_workshop.setdefault(follower.workshop, set()).add(client)
        client.behind = False
        frames = self._since(follower, since) if epoch == self.epoch else None
        for frame in frames if frames is not None else [self.snapshot(follower)]:
            client.push_reply(frame)

    def _since(self, follower: Follower, since: int | None) -> list[str] | None:
        """The frames that bring a follower from `since` to now: each proposal of its
        workshop and each poll asked to it that changed since, as its view reads them,
        then `caught_up`; None if what changed since is no longer all known here."""
        seq = self.state.seq
        if since is None or since > seq:
            return None
        changes = [c for c in self.touched if c.seq > since]
        if len(changes) != seq - since:
            return None
        proposals: dict[str, None] = {}  # in the order they changed, once each
        polls: dict[str, None] = {}
        for change in changes:
            if follower.workshop in change.workshops:
                proposals.update(dict.fromkeys(change.proposals))
                polls.update(dict.fromkeys(change.polls))
        person = follower.actor.person
        frames = []
        for pid in proposals:
            p = self.state.proposals[pid]
            key = self._key(follower, p, "")
            frames.append(self._proposal_frame(p, key, person, seq))
            if key == "screen":
                break  # one picture of the retained proposals says it all
        for qid in polls:
            poll = poll_result(self.state.polls[qid])
            frames.append(_dumps({"type": "poll", "seq": seq, "poll": poll}))
        return [*frames, _dumps({"type": "caught_up", "seq": seq, "epoch": self.epoch})]

    def leave(self, client: Client) -> None:
        follower = self.followers.pop(client, None)
        if follower is not None:
            watchers = self.by_workshop.get(follower.workshop)
            if watchers is not None:
                watchers.discard(client)
                if not watchers:
                    del self.by_workshop[follower.workshop]

    def snapshot(self, follower: Follower) -> str:
        """A follower's whole picture: its workshop as its mode sees it, and its polls."""
        state = self.state
        if follower.mode == "moderator":
            seen = moderator_view(state, follower.workshop)
        elif follower.mode == "screen":
            seen = screen_view(state, follower.workshop)
        else:
            seen = participant_view(state, follower.actor)
        return _dumps(
            {
                "type": "view",
                "seq": state.seq,
                "epoch": self.epoch,
                "t": now_ms(),
                "mode": follower.mode,
                "view": seen,
                "polls": polls_for(state, follower.actor),
            }
        )

    # -- broadcasts ------------------------------------------------------------------------

    def accepted(self, entry: dict[str, Any], state: Participation) -> None:
        change = changed(state, entry, self.event)
        self.touched.append(change)
        actor = entry.get("actor") or {}
        acting = actor.get("person") or ""
        for pid in change.proposals:
            self._send_proposal(pid, change.workshops[0], int(entry["seq"]), acting)
        for qid in change.polls:  # to the workshops it is asked to (`changed` names them)
            poll = poll_result(state.polls[qid])
            frame = _dumps({"type": "poll", "seq": change.seq, "poll": poll})
            for workshop in change.workshops:
                for client in self.by_workshop.get(workshop, ()):
                    client.push_event(frame)

    def _send_proposal(self, pid: str, workshop: str, seq: int, acting: str) -> None:
        p = self.state.proposals[pid]
        frames: dict[str, str] = {}
        for client in self.by_workshop.get(workshop, ()):
            follower = self.followers[client]
            key = self._key(follower, p, acting)
            frame = frames.get(key)
            if frame is None:
                frame = frames[key] = self._proposal_frame(p, key, follower.actor.person, seq)
            client.push_event(frame)

    @staticmethod
    def _key(follower: Follower, p: Proposal, acting: str) -> str:
        """Which reading of a proposal a follower gets: the moderators', the screens', a
        person's own (its author, or who just acted on it), or the public card."""
        person = follower.actor.person
        if follower.mode == "moderator":
            return "moderator"
        if follower.mode == "screen":
            return "screen"
        if person and person in (p.author, acting):
            return f"person:{person}"
        return "public"

    def _proposal_frame(self, p: Proposal, key: str, person: str, seq: int) -> str:
        if key == "moderator":
            return _dumps({"type": "proposal", "seq": seq, "proposal": proposal_for_moderator(p)})
        if key == "screen":
            return _dumps({"type": "retained", "seq": seq, **screen_view(self.state, p.workshop)})
        if key.startswith("person:"):
            card = proposal_card(p, person) or proposal_public(p)
            return _dumps({"type": "proposal", "seq": seq, "proposal": card})
        return _dumps({"type": "proposal", "seq": seq, "proposal": proposal_public(p)})
