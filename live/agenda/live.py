"""The live side of each event: its run-of-show state, its log, and the screens that
follow it.

(The clients' bounded outboxes are in `outbox.py`; the events a process serves, following
their definitions, in `catalogue.py`; how a log is appended, followed, settled and
snapshotted, in `live/eventlog.py`, which the participation shares.)

One `Live` per event holds the reduced state in memory. A command is checked at the edge,
applied to a copy of the state, appended to the backend, and only then made current and
broadcast. Broadcasts are encoded once and handed to each client's bounded outbox without
waiting: a slow client never delays the others.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from live.agenda import commands, protocol
from live.agenda.outbox import RESYNC, Client
from live.agenda.state import EVERYONE, State, live_event, view
from live.backends.base import Backend
from live.eventlog import Commit, EventLog, Unsettled, now_ms
from live.links.signing import COMMANDERS, Claims
from live.model import Event

log = logging.getLogger("relais.hub")

__all__ = ["Listener", "Live", "Unsettled", "audience_of", "now_ms"]

Listener = Callable[[Event, State], None]


def audience_of(claims: Claims, event: Event) -> str:
    """Whose messages a client may read: the régie every site's, a site's link (screen,
    host, participant) or a workshop's (rapporteur) its site's, the public page only the
    messages to every site."""
    if claims.role in COMMANDERS:
        return EVERYONE
    if claims.site:
        return claims.site
    workshop = event.workshop(claims.workshop) if claims.workshop else None
    return workshop.site if workshop else ""


class Live(EventLog[State]):
    """The live state of one event and the clients following it. `listeners` are told each
    new state (at load, after each command): what follows the agenda outside it (the
    plenary relay follows the floor) without the domain doing any I/O."""

    def __init__(
        self,
        event: Event,
        backend: Backend,
        snapshot_every: int = 100,
        listeners: list[Listener] | None = None,
    ) -> None:
        self.definition = event  # as the event file says
        self.event = event  # as it runs: with the run-of-show edited live (see _set)
        self.info = protocol.event_info(event)  # the event as pages see it...
        self.rev = protocol.revision(self.info)  # ...and its fingerprint
        self.listeners = listeners if listeners is not None else []
        self.clients: set[Client] = set()
        super().__init__(backend, f"agenda:{event.id}", event.id, snapshot_every)
        self.state_dict: dict[str, Any] = self.state.public()

    # -- the log's state (see EventLog) ----------------------------------------------------

    def empty(self) -> State:
        return State()

    def restore(self, data: dict[str, Any]) -> State:
        return State.from_dict(data)

    def dump(self, state: State) -> dict[str, Any]:
        return state.to_dict()

    def prepare(self, state: State, entry: dict[str, Any]) -> Commit[State]:
        new = commands.apply(state, entry, self.definition)  # a copy: `state` is untouched
        return lambda: new

    def loaded(self, state: State) -> None:
        self._set(state)

    def accepted(self, entry: dict[str, Any], state: State) -> None:
        self._set(state)
        self.publish(entry)

    def resynced(self) -> None:
        for client in self.clients:
            client.push_event(RESYNC)

    async def command(self, name: str, args: dict[str, Any], claims: Claims, cid: str) -> int:
        """Check at the edge, then apply, persist, broadcast (`EventLog.submit`); return the
        seq. Raises on any refusal, and `Unsettled` when the store did not answer in time."""
        clean = commands.check(name, args, claims.role, claims.site, claims.workshop)
        return await self.submit(name, clean, f"{claims.id}:{cid}", {"by": claims.role})

    def _set(self, state: State) -> None:
        self.state = state
        self.state_dict = state.public()
        self._describe(live_event(state, self.definition))
        for listener in self.listeners:
            try:
                listener(self.event, state)
            except Exception:  # the command is written: a follower's fault is only logged
                log.exception("event %s: a listener failed at seq %d", self.event.id, state.seq)

    def redefine(self, event: Event) -> None:
        """Serve a new definition (an import, the studio): pages that are open follow it."""
        self.definition = event
        self._describe(live_event(self.state, event))

    def _describe(self, event: Event) -> None:
        """Make `event` the one that runs; when pages would see it differently, send them
        the new picture, encoded once for all, before anything that depends on it."""
        if event is self.event:
            return
        self.event = event
        info = protocol.event_info(event)
        rev = protocol.revision(info)
        if rev != self.rev:
            self.info, self.rev = info, rev
            self.broadcast(protocol.definition(info, rev))
        for client in self.clients:
            client.audience = audience_of(client.claims, event)  # a workshop changed site

    def publish(self, entry: dict[str, Any]) -> None:
        """Send an applied entry to every client. Encoded once for all, unless a message
        to one site is shown: then once per audience, so that its text reaches only that
        site's clients and the régie (at most sites + 2 encodings, never one per client)."""
        if not self.state.site_messages and protocol.private_to(entry) is None:
            self.broadcast(protocol.event(entry, self.state_dict))
            return
        frames: dict[str, str] = {}
        for client in self.clients:
            frame = frames.get(client.audience)
            if frame is None:
                seen = view(self.state_dict, client.audience)
                frame = frames[client.audience] = protocol.event(entry, seen, client.audience)
            client.push_event(frame)

    def broadcast(self, frame: str) -> None:
        for client in self.clients:
            client.push_event(frame)

    def catch_up(self, since: int | None, epoch: str | None, audience: str = "") -> str:
        """What a (re)connecting client needs: the entries it missed, or a snapshot."""
        now = now_ms()
        if since is not None and epoch == self.epoch:
            entries = self.entries_since(since)
            if entries is not None:
                seen = view(self.state_dict, audience)
                return protocol.events(entries, seen, self.epoch, now, audience, self.rev)
        return self.snapshot(now, audience)

    def snapshot(self, now: int | None = None, audience: str = "") -> str:
        now = now_ms() if now is None else now
        seen = view(self.state_dict, audience)
        return protocol.snapshot(seen, self.epoch, now, self.rev)
