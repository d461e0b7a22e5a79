"""The live side of each event: its state, its log, and the screens that follow it.

One `Live` per event holds the reduced state in memory. A command is checked, applied to
a copy of the state, appended to the backend, and only then made current and broadcast,
so what a client sees was always written first. Broadcasts are encoded once and handed
to each client's bounded outbox without waiting: a slow client never delays the others.
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

from live.agenda import commands
from live.agenda import protocol as messages
from live.agenda import state as agenda
from live.backends.base import Backend, SeqConflict
from live.errors import RelaisError
from live.links import COMMANDERS, Claims
from live.model import Event, parse_event

log = logging.getLogger("relais.hub")

APPEND_ATTEMPTS = 40  # a command retried on top of others' appends before "busy"
RESYNC = "\x00resync"  # sentinel in an outbox: send a fresh snapshot instead of events


def now_ms() -> int:
    return int(time.time() * 1000)


class Client:
    """One websocket's outbox, bounded in frames and in bytes. `push_event` never blocks:
    a client that falls behind drops what is queued and gets one fresh snapshot instead.
    A reply that does not fit closes the client (it reconnects and resyncs)."""

    def __init__(
        self, claims: Claims, maxsize: int, max_bytes: int = 1 << 20, audience: str = ""
    ) -> None:
        self.claims = claims
        self.audience = audience  # whose messages it may read (see `audience_of`)
        self.maxsize = maxsize
        self.max_bytes = max_bytes
        self.frames: deque[str] = deque()
        self.size = 0  # characters queued (frames are mostly ASCII JSON)
        self.behind = False
        self.close_reason: str | None = None
        self._waiter: asyncio.Future[None] | None = None

    @property
    def closed(self) -> bool:
        return self.close_reason is not None

    def _put(self, frame: str) -> bool:
        if len(self.frames) >= self.maxsize or self.size + len(frame) > self.max_bytes:
            return False
        self.frames.append(frame)
        self.size += len(frame)
        self._wake()
        return True

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def push_event(self, frame: str) -> None:
        if self.behind or self.close_reason is not None:
            return  # the snapshot it is waiting for will include this event
        if not self._put(frame):
            self.behind = True
            self.frames.clear()
            self.frames.append(RESYNC)
            self.size = len(RESYNC)
            self._wake()

    def push_reply(self, frame: str) -> None:
        """Acks, errors and pongs are never dropped silently: a client that cannot take
        them is closed, and it will reconnect and resync."""
        if self.close_reason is None and not self._put(frame):
            self.close("behind")

    def close(self, reason: str) -> None:
        """End the connection with `reason` (an error code: `behind`, `link_revoked`...);
        what is queued is dropped. Safe to call from any task: it only signals."""
        if self.close_reason is None:
            self.close_reason = reason
            self.frames.clear()
            self.size = 0
            self._wake()

    async def next_frame(self) -> str | None:
        """The next frame to send, or None once the client must close."""
        while not self.frames and self.close_reason is None:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        if self.close_reason is not None:
            return None
        frame = self.frames.popleft()
        self.size -= len(frame)
        return frame


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


class Hub:
    """Every event this process serves, by id. Definitions put in the backend by another
    process (`relais import` while the server runs) are followed with `refresh`, polled by
    `follow_definitions`: a new event is served, a changed one replaces the old."""

    POLL = 0.5  # seconds between two looks at the backend's definitions version

    def __init__(self, backend: Backend, snapshot_every: int = 100) -> None:
        self.backend = backend
        self.snapshot_every = snapshot_every
        self.events: dict[str, Live] = {}
        self.listeners: list[Listener] = []  # given to every event's Live (see Live)
        self._texts: dict[str, str] = {}  # the definition last seen per event, valid or not
        self._version: int | None = None  # the backend's definitions_version they match
        self._following: dict[str, asyncio.Task[None]] = {}  # per event, on a shared store
        # told the id of an event no longer served (deleted here or by another process)
        self.on_remove: list[Callable[[str], None]] = []

    async def load_all(self) -> None:
        await self.refresh()

    async def put(self, text: str, source: str = "<event>") -> Event:
        """Validate and store an event definition, and serve it live."""
        event = parse_event(text, source)
        await self.backend.put_definition(event.id, text)
        await self._activate(event)
        self._texts[event.id] = text
        return event

    async def refresh(self) -> list[str]:
        """Serve what the backend's definitions say now; the ids (re)activated. Reads no
        definition unless their version moved, and parses only the texts that changed. An
        invalid one is logged and the event keeps the definition it had."""
        version = await self.backend.definitions_version()
        if version == self._version:
            return []
        changed = []
        # The version is read first: a put landing after it moves it again, and is seen
        # at the next call even if this read already caught it.
        definitions = await self.backend.definitions()
        for event_id in [e for e in self.events if e not in definitions]:
            self.remove(event_id)  # deleted, here or by another process
            changed.append(event_id)
        for event_id, text in definitions.items():
            if self._texts.get(event_id) == text:
                continue
            try:  # in a thread: a large file takes tens of ms, the loop serves meanwhile
                event = await asyncio.to_thread(parse_event, text, f"{event_id}.yaml")
            except ValueError as exc:
                # Line numbers only: a reason can quote the file's values (speakers'
                # names), and logs are no place for personal data.
                problems = getattr(exc, "problems", [str(exc)])
                lines = [p.split(": ", 1)[0].rpartition(":")[2] for p in problems]
                log.error(
                    "event %s: stored definition refused (%d problems, lines %s), the event "
                    "keeps the one it had; `relais import` on the file says why",
                    event_id,
                    len(problems),
                    ", ".join(n for n in lines if n.isdigit()) or "?",
                )
            else:
                if self._fits(event):
                    await self._activate(event)  # if it fails, the next call tries again
                    changed.append(event.id)
            self._texts[event_id] = text  # a refused text is reported once, not each poll
        self._version = version
        return changed

    def _fits(self, event: Event) -> bool:
        """A new definition must still hold the step being run: the state points into the
        agenda by index, and a shorter agenda would leave it pointing at nothing."""
        live = self.events.get(event.id)
        step = live.state.step if live is not None else None
        if step is not None and step >= len(event.agenda):
            log.error(
                "event %s: new definition has %d steps, the event is at step %d; "
                "the event keeps the definition it had",
                event.id,
                len(event.agenda),
                step + 1,
            )
            return False
        return True

    async def follow_definitions(self, every: float | None = None) -> None:
        """Refresh forever (a task of the app's lifespan): an import reaches the running
        server within a poll. One tiny read per poll while nothing changes."""
        failing = False
        while True:
            await asyncio.sleep(self.POLL if every is None else every)
            try:
                await self.refresh()
            except Exception:  # the next poll tries again; serving goes on meanwhile
                if not failing:  # said once, not twice a second
                    log.exception("event definitions cannot be read; retrying")
                failing = True
            else:
                failing = False

    async def _activate(self, event: Event) -> None:
        live = self.events.get(event.id)
        if live is not None:
            live.redefine(event)
            return
        live = Live(event, self.backend, self.snapshot_every, self.listeners)
        await live.load()
        self.events[event.id] = live
        if self.backend.shared:  # other processes append to its log: follow it
            self._following[event.id] = asyncio.create_task(live.follow())

    def remove(self, event_id: str) -> Live | None:
        """Stop serving an event (deleted): its open pages are told it is gone."""
        live = self.events.pop(event_id, None)
        self._texts.pop(event_id, None)
        if live is None:
            return None
        task = self._following.pop(event_id, None)
        if task is not None:
            task.cancel()
        for client in list(live.clients):
            client.close("unknown_event")
        for callback in self.on_remove:
            try:
                callback(event_id)
            except Exception:
                log.exception("event %s: a removal follower failed", event_id)
        return live

    async def stop(self) -> None:
        """Stop following the shared logs (the app's shutdown)."""
        tasks = list(self._following.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._following.clear()

    def get(self, event_id: str) -> Live | None:
        return self.events.get(event_id)
