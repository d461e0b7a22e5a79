"""The live side of each event: its state, its log, and the screens that follow it.

(The clients' bounded outboxes are in `outbox.py`; the events a process serves, following
their definitions, in `events.py`.)

One `Live` per event holds the reduced state in memory. A command is checked, applied to
a copy of the state, appended to the backend, and only then made current and broadcast,
so what a client sees was always written first. Broadcasts are encoded once and handed
to each client's bounded outbox without waiting: a slow client never delays the others.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import random
import secrets
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from live.agenda import commands
from live.agenda import protocol as messages
from live.agenda import state as agenda
from live.agenda.outbox import RESYNC, Client
from live.backends.base import Backend, SeqConflict
from live.errors import RelaisError
from live.links import COMMANDERS, Claims
from live.model import Event

log = logging.getLogger("relais.hub")

APPEND_ATTEMPTS = 40  # a command retried on top of others' appends before "busy"


def now_ms() -> int:
    return int(time.time() * 1000)


Listener = Callable[[Event, agenda.State], None]


def audience_of(claims: Claims, event: Event) -> str:
    """Whose messages a client may read: the régie every site's, a site's link (screen,
    host, participant) or a workshop's (rapporteur) its site's, the public page only the
    messages to every site."""
    if claims.role in COMMANDERS:
        return agenda.EVERYONE
    if claims.site:
        return claims.site
    workshop = event.workshop(claims.workshop) if claims.workshop else None
    return workshop.site if workshop else ""


class Live:
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
        self.info = messages.event_info(event)  # the event as pages see it...
        self.rev = messages.revision(self.info)  # ...and its fingerprint
        self.listeners = listeners if listeners is not None else []
        self.backend = backend
        self.snapshot_every = snapshot_every
        self.state = agenda.State()
        self.state_dict: dict[str, Any] = self.state.public()
        self.epoch = ""
        self.clients: set[Client] = set()
        self.recent: deque[dict[str, Any]] = deque(maxlen=512)
        # command id -> (seq, digest of name and args): a retried command is not redone,
        # and an id reused for another command is refused (`id_reused`), not acknowledged.
        self._done: dict[str, tuple[int, str]] = {}
        self._lock = asyncio.Lock()

    @property
    def stream(self) -> str:
        return f"agenda:{self.event.id}"

    async def load(self) -> None:
        """Rebuild the state from the last snapshot and the log after it."""
        meta = await self.backend.get_record("epoch", self.event.id)
        if meta is None:  # a new log: one epoch, even when several processes start at once
            fresh = {"epoch": secrets.token_hex(8)}
            if await self.backend.create_record("epoch", self.event.id, fresh):
                meta = fresh
            else:
                meta = await self.backend.get_record("epoch", self.event.id) or fresh
        self.epoch = meta["epoch"]
        state = agenda.State()
        snap = await self.backend.load_snapshot(self.stream)
        if snap is not None:
            state = agenda.State.from_dict(snap[1])
        # Read a little before the snapshot too: reconnecting clients and retried
        # commands are served from these recent entries after a restart.
        recent = self.recent.maxlen or 0
        entries = await self.backend.read(self.stream, max(0, state.seq - recent))
        state = commands.replay(
            [e for e in entries if e["seq"] > state.seq], self.definition, state
        )
        self._set(state)
        for entry in entries:
            self._remember(entry)

    def _set(self, state: agenda.State) -> None:
        self.state = state
        self.state_dict = state.public()
        self._describe(agenda.live_event(state, self.definition))
        for listener in self.listeners:
            try:
                listener(self.event, state)
            except Exception:  # the command is written: a follower's fault is only logged
                log.exception("event %s: a listener failed at seq %d", self.event.id, state.seq)

    def _remember(self, entry: dict[str, Any]) -> None:
        self.recent.append(entry)
        if entry.get("cid"):
            self._done[entry["cid"]] = (entry["seq"], _digest(entry["name"], entry["args"]))
            if len(self._done) > 4096:
                self._done.pop(next(iter(self._done)))

    async def command(self, name: str, args: dict[str, Any], claims: Claims, cid: str) -> int:
        """Check, apply, persist, broadcast; return the seq. Raises on any refusal.

        With several processes on one log (`Backend.shared`), another may append first:
        the append is refused (SeqConflict), this process takes what the log holds and
        applies the command again on top of it. The log orders commands, never the
        fastest process, and what is broadcast is always what follows the log."""
        clean = commands.check(name, args, claims.role, claims.site, claims.workshop)
        key = f"{claims.id}:{cid}"
        for attempt in range(APPEND_ATTEMPTS):
            if attempt:  # others won the last seq: let them pass before trying again
                await asyncio.sleep(random.uniform(0, 0.002 * min(attempt, 10)))
            async with self._lock:
                if key in self._done:
                    seq, digest = self._done[key]
                    if digest != _digest(name, clean):
                        raise RelaisError(
                            "id_reused", f"command id {cid!r} was used for another command", id=cid
                        )
                    return seq
                entry: dict[str, Any] = {
                    "seq": self.state.seq + 1,
                    "t": now_ms(),
                    "name": name,
                    "args": clean,
                    "by": claims.role,
                    "cid": key,
                }
                state = commands.apply(self.state, entry, self.definition)
                try:
                    await self.backend.append(self.stream, entry)
                except SeqConflict:
                    await self._absorb(await self.backend.read(self.stream, self.state.seq))
                    continue
                self._accept(entry, state)
                if state.seq % self.snapshot_every == 0:
                    await self._save_snapshot(state)
                return int(entry["seq"])
        raise RelaisError(messages.CONFLICT, "the log is busy; send the command again")

    def _accept(self, entry: dict[str, Any], state: agenda.State) -> None:
        """Make an entry of the log current here: the state after it, then its broadcast."""
        self._set(state)
        self._remember(entry)
        self.publish(entry)

    async def _absorb(self, entries: list[dict[str, Any]]) -> None:
        """Apply entries another process appended (under the lock), in log order."""
        for entry in entries:
            if entry["seq"] <= self.state.seq:
                continue  # this process wrote or read it already
            if entry["seq"] != self.state.seq + 1:  # a gap: read exactly what is missing
                await self._absorb(await self.backend.read(self.stream, self.state.seq))
                return
            self._accept(entry, commands.apply(self.state, entry, self.definition))

    async def follow(self, block_ms: int = 1000) -> None:
        """Follow the log that other processes append to: one reader per process and per
        event, never one per client (`Backend.follow` blocks in Redis's XREAD). Between
        two waits with nothing new it checks the log's epoch: a flushed or lost log gives
        a new one, and every client here gets a fresh snapshot."""
        failing = False
        while True:
            try:
                entries = await self.backend.follow(self.stream, self.state.seq, block_ms)
                async with self._lock:
                    if entries:
                        await self._absorb(entries)
                    else:
                        await self._check_epoch()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if not failing:  # said once, not every second
                    log.warning("event %s: the shared log cannot be read (%s)", self.event.id, exc)
                failing = True
                await asyncio.sleep(0.5)
            else:
                if failing:
                    log.warning("event %s: the shared log is readable again", self.event.id)
                failing = False

    async def _check_epoch(self) -> None:
        meta = await self.backend.get_record("epoch", self.event.id)
        if meta is not None and meta.get("epoch") == self.epoch:
            return
        log.warning("event %s: the shared log was lost; starting a new one", self.event.id)
        self.state = agenda.State()
        self.recent.clear()
        self._done.clear()
        await self.load()
        for client in self.clients:
            client.push_event(RESYNC)

    async def _save_snapshot(self, state: agenda.State) -> None:
        """A snapshot only shortens the next load: the command is already in the log, so a
        failure here is logged, never reported as the command's failure (it was applied)."""
        try:
            await self.backend.save_snapshot(self.stream, state.seq, state.to_dict())
        except Exception:
            log.exception("event %s: snapshot at seq %d not saved", self.event.id, state.seq)

    def redefine(self, event: Event) -> None:
        """Serve a new definition (an import, the studio): pages that are open follow it."""
        self.definition = event
        self._describe(agenda.live_event(self.state, event))

    def _describe(self, event: Event) -> None:
        """Make `event` the one that runs; when pages would see it differently, send them
        the new picture, encoded once for all, before anything that depends on it."""
        if event is self.event:
            return
        self.event = event
        info = messages.event_info(event)
        rev = messages.revision(info)
        if rev != self.rev:
            self.info, self.rev = info, rev
            self.broadcast(messages.definition(info, rev))
        for client in self.clients:
            client.audience = audience_of(client.claims, event)  # a workshop changed site

    def publish(self, entry: dict[str, Any]) -> None:
        """Send an applied entry to every client. Encoded once for all, unless a message
        to one site is shown: then once per audience, so that its text reaches only that
        site's clients and the régie (at most sites + 2 encodings, never one per client)."""
        if not self.state.site_messages and messages.private_to(entry) is None:
            self.broadcast(messages.event(entry, self.state_dict))
            return
        frames: dict[str, str] = {}
        for client in self.clients:
            frame = frames.get(client.audience)
            if frame is None:
                view = agenda.view(self.state_dict, client.audience)
                frame = frames[client.audience] = messages.event(entry, view, client.audience)
            client.push_event(frame)

    def broadcast(self, frame: str) -> None:
        for client in self.clients:
            client.push_event(frame)

    def catch_up(self, since: int | None, epoch: str | None, audience: str = "") -> str:
        """What a (re)connecting client needs: the entries it missed, or a snapshot."""
        now = now_ms()
        seq = self.state.seq
        if since is not None and epoch == self.epoch and since <= seq:
            # `recent` is gapless up to `seq`: it holds all that was missed, or too little.
            entries = [e for e in self.recent if e["seq"] > since]
            if len(entries) == seq - since:
                view = agenda.view(self.state_dict, audience)
                return messages.events(entries, view, self.epoch, now, audience, self.rev)
        return self.snapshot(now, audience)

    def snapshot(self, now: int | None = None, audience: str = "") -> str:
        now = now_ms() if now is None else now
        view = agenda.view(self.state_dict, audience)
        return messages.snapshot(view, self.epoch, now, self.rev)


def _digest(name: str, args: dict[str, Any]) -> str:
    """What a command id stands for: its name and checked args, the same whether they come
    from a request or back from the log (JSON turns tuples into lists; both dump alike)."""
    text = json.dumps([name, args], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()
