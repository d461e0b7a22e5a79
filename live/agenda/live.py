"""The live side of each event: its state, its log, and the screens that follow it.

(The clients' bounded outboxes are in `outbox.py`; the events a process serves, following
their definitions, in `events.py`.)

One `Live` per event holds the reduced state in memory. A command is checked, applied to
a copy of the state, appended to the backend, and only then made current and broadcast,
so what a client sees was always written first. Broadcasts are encoded once and handed
to each client's bounded outbox without waiting: a slow client never delays the others.

A command is answered within `ANSWER_WITHIN` whatever the store does. When its append gets
no answer in time, its outcome is unknown (a paused Redis runs it when it wakes): it is
answered `Unsettled` at once, and the event is "in doubt" until the store answers the
same append again (idempotent by command id), which settles it exactly once. Meanwhile
every other command is refused at once, before it writes anything: none waits behind the
lock to be applied in a burst when the store comes back.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import random
import secrets
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from live.agenda import commands, protocol
from live.agenda.outbox import RESYNC, Client
from live.agenda.state import EVERYONE, State, live_event, view
from live.backends.base import Backend, BackendUnavailable, NoAnswer, SeqConflict
from live.errors import RelaisError
from live.links.signing import COMMANDERS, Claims
from live.model import Event

log = logging.getLogger("relais.hub")

APPEND_ATTEMPTS = 40  # a command retried on top of others' appends before "busy"
ANSWER_WITHIN = 0.9  # seconds: every command is answered by then (ack, refusal or pending)
SETTLE_PAUSE = 0.25  # seconds between two tries to settle an unknown outcome


class Unsettled(RelaisError):
    """The store did not answer a command's append in time: it may still be applied.
    `outcome` gives its seq once the store answers, or the refusal if it never lands."""

    def __init__(self, outcome: asyncio.Future[int]) -> None:
        super().__init__(protocol.OUTCOME_UNKNOWN, "not confirmed yet: the store has not answered")
        self.outcome = outcome


def unavailable() -> BackendUnavailable:
    return BackendUnavailable("the store is not answering: nothing was changed")


class _Doubt:
    """A command whose append got no answer: what it would be, and who waits for it."""

    def __init__(self, key: str, entry: dict[str, Any], state: State) -> None:
        self.key = key
        self.entry = entry
        self.state = state
        self.outcome: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        # Read even when nobody waits any more (a closed socket): no "never retrieved".
        self.outcome.add_done_callback(lambda f: f.cancelled() or f.exception())


def now_ms() -> int:
    return int(time.time() * 1000)


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
        self.info = protocol.event_info(event)  # the event as pages see it...
        self.rev = protocol.revision(self.info)  # ...and its fingerprint
        self.listeners = listeners if listeners is not None else []
        self.backend = backend
        self.snapshot_every = snapshot_every
        self.state = State()
        self.state_dict: dict[str, Any] = self.state.public()
        self.epoch = ""
        self.clients: set[Client] = set()
        self.recent: deque[dict[str, Any]] = deque(maxlen=512)
        # command id -> (seq, digest of name and args): a retried command is not redone,
        # and an id reused for another command is refused (`id_reused`), not acknowledged.
        self._done: dict[str, tuple[int, str]] = {}
        self._lock = asyncio.Lock()
        self._doubt: _Doubt | None = None  # an append not answered yet: see `command`
        self._tasks: set[asyncio.Task[None]] = set()  # settling, snapshots: kept alive

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
        state = State()
        snap = await self.backend.load_snapshot(self.stream)
        if snap is not None:
            state = State.from_dict(snap[1])
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

    def _set(self, state: State) -> None:
        self.state = state
        self.state_dict = state.public()
        self._describe(live_event(state, self.definition))
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
        """Check, apply, persist, broadcast; return the seq. Raises on any refusal, and
        `Unsettled` when the store did not answer in time (see the module's docstring).

        With several processes on one log (`Backend.shared`), another may append first:
        the append is refused (SeqConflict), this process takes what the log holds and
        applies the command again on top of it. The log orders commands, never the
        fastest process, and what is broadcast is always what follows the log."""
        clean = commands.check(name, args, claims.role, claims.site, claims.workshop)
        key = f"{claims.id}:{cid}"
        deadline = asyncio.get_running_loop().time() + ANSWER_WITHIN
        for attempt in range(APPEND_ATTEMPTS):
            if attempt:  # others won the last seq: let them pass before trying again
                await asyncio.sleep(random.uniform(0, 0.002 * min(attempt, 10)))
            if (seq := self._known(key, name, clean)) is not None:
                return seq
            try:  # the lock is held only by a command within its own deadline
                async with asyncio.timeout_at(deadline):
                    await self._lock.acquire()
            except TimeoutError:
                raise unavailable() from None  # it never started: it will never apply
            held = True
            try:
                if (seq := self._known(key, name, clean)) is not None:
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
                    async with asyncio.timeout_at(deadline):
                        await self.backend.append(self.stream, entry)
                except SeqConflict:
                    try:
                        async with asyncio.timeout_at(deadline):
                            entries = await self.backend.read(self.stream, self.state.seq)
                    except TimeoutError:
                        raise unavailable() from None  # a read: nothing of ours written
                    self._absorb(entries)
                    continue
                except (TimeoutError, BackendUnavailable) as exc:
                    if not isinstance(exc, TimeoutError | NoAnswer):
                        raise  # refused before anything was sent: nothing written
                    # Maybe written: the lock goes to the task that settles it.
                    doubt = self._doubt = _Doubt(key, entry, state)
                    held = False
                    self._spawn(self._settle(doubt))
                    raise Unsettled(doubt.outcome) from None
                self._accept(entry, state)
                if state.seq % self.snapshot_every == 0:
                    await self._save_snapshot(state, deadline)
                return int(entry["seq"])
            finally:
                if held:
                    self._lock.release()
        raise RelaisError(protocol.CONFLICT, "the log is busy; send the command again")

    def _known(self, key: str, name: str, clean: dict[str, Any]) -> int | None:
        """The seq of a command already in the log (acknowledged again, never applied
        twice), else None; while
        an append is in doubt, the same command is still pending and any other is refused
        before it writes anything (the store is not answering)."""
        if key in self._done:
            seq, digest = self._done[key]
            if digest != _digest(name, clean):
                cid = key.partition(":")[2]
                raise RelaisError(
                    "id_reused", f"command id {cid!r} was used for another command", id=cid
                )
            return seq
        doubt = self._doubt
        if doubt is not None:
            if doubt.key == key:
                raise Unsettled(doubt.outcome)
            raise unavailable()
        return None

    async def _settle(self, doubt: _Doubt) -> None:
        """Send the append in doubt again until the store answers (the lock is held, so
        nothing else moves meanwhile). The store then says it holds the entry, once,
        whichever copy landed, or that its seq went to another process's: then it will
        never apply."""
        try:
            while True:
                try:
                    await self.backend.append(self.stream, doubt.entry)
                except SeqConflict:
                    doubt.outcome.set_exception(unavailable())
                    with contextlib.suppress(Exception):  # else `follow` reads it
                        self._absorb(await self.backend.read(self.stream, self.state.seq))
                    return
                except (TimeoutError, BackendUnavailable):
                    await asyncio.sleep(SETTLE_PAUSE)
                    continue
                self._accept(doubt.entry, doubt.state)
                doubt.outcome.set_result(int(doubt.entry["seq"]))
                return
        finally:
            if not doubt.outcome.done():  # cancelled (the server stops): nothing known
                doubt.outcome.set_exception(unavailable())
            self._doubt = None
            self._lock.release()

    def _spawn(self, work: Any) -> None:
        task: asyncio.Task[None] = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _accept(self, entry: dict[str, Any], state: State) -> None:
        """Make an entry of the log current here: the state after it, then its broadcast."""
        self._set(state)
        self._remember(entry)
        self.publish(entry)

    def _absorb(self, entries: list[dict[str, Any]]) -> None:
        """Apply entries another process appended (under the lock), in log order, up to the
        first gap (the next read, from the state's seq, brings what is missing)."""
        for entry in entries:
            if entry["seq"] <= self.state.seq:
                continue  # this process wrote or read it already
            if entry["seq"] != self.state.seq + 1:
                return
            self._accept(entry, commands.apply(self.state, entry, self.definition))

    async def follow(self, block_ms: int = 1000) -> None:
        """Follow the log that other processes append to: one reader per process and per
        event, never one per client (`Backend.follow` blocks in Redis's XREAD). Between
        two waits with nothing new it checks the log's epoch: a flushed or lost log gives
        a new one, and every client here gets a fresh snapshot. The store is read outside
        the lock: a command never waits behind a read. (A store that is away is logged
        by the backend, once per process.)"""
        failing = False
        while True:
            try:
                entries = await self.backend.follow(self.stream, self.state.seq, block_ms)
                if entries:
                    async with self._lock:
                        self._absorb(entries)
                else:
                    await self._check_epoch()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if not failing and not isinstance(exc, BackendUnavailable):
                    log.warning("event %s: the shared log cannot be read (%s)", self.event.id, exc)
                failing = True
                await asyncio.sleep(0.5)
            else:
                failing = False

    async def _check_epoch(self) -> None:
        meta = await self.backend.get_record("epoch", self.event.id)
        if meta is not None and meta.get("epoch") == self.epoch:
            return
        async with self._lock:
            log.warning("event %s: the shared log was lost; starting a new one", self.event.id)
            self.state = State()
            self.recent.clear()
            self._done.clear()
            await self.load()
        for client in self.clients:
            client.push_event(RESYNC)

    async def _save_snapshot(self, state: State, deadline: float) -> None:
        """A snapshot only shortens the next load: the command is already in the log, so a
        failure here is logged, never reported as the command's failure (it was applied),
        and it is given only what is left of the command's time to answer."""
        try:
            async with asyncio.timeout_at(deadline):
                await self.backend.save_snapshot(self.stream, state.seq, state.to_dict())
        except (BackendUnavailable, TimeoutError):
            pass  # the backend said the store is away
        except Exception:
            log.exception("event %s: snapshot at seq %d not saved", self.event.id, state.seq)

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
        seq = self.state.seq
        if since is not None and epoch == self.epoch and since <= seq:
            # `recent` is gapless up to `seq`: it holds all that was missed, or too little.
            entries = [e for e in self.recent if e["seq"] > since]
            if len(entries) == seq - since:
                seen = view(self.state_dict, audience)
                return protocol.events(entries, seen, self.epoch, now, audience, self.rev)
        return self.snapshot(now, audience)

    def snapshot(self, now: int | None = None, audience: str = "") -> str:
        now = now_ms() if now is None else now
        seen = view(self.state_dict, audience)
        return protocol.snapshot(seen, self.epoch, now, self.rev)


def _digest(name: str, args: dict[str, Any]) -> str:
    """What a command id stands for: its name and checked args, the same whether they come
    from a request or back from the log (JSON turns tuples into lists; both dump alike)."""
    text = json.dumps([name, args], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()
