"""One log of an event's commands and the state it reduces to, in one process: the
machinery the agenda (`agenda/live.py`) and the participation (`participation/live.py`)
share, so that both keep the same promises.

A command is checked and prepared against the state in memory, appended to the backend,
and only then made current and handed to the subclass to broadcast: what a client sees
was always written first. A refused command writes nothing.

Several processes may append to one log (`Backend.shared`): an append that lost the race
(`SeqConflict`) reads what the others wrote, applies it, and prepares the command again on
top; the log orders commands, never the fastest process. One reader per process and per
log (`follow`) brings what the others append.

A command is answered within `ANSWER_WITHIN` whatever the store does. When its append gets
no answer in time, its outcome is unknown (a paused Redis runs it when it wakes): it is
answered `Unsettled` at once, and the log is "in doubt" until the store answers the same
append again (idempotent by command id), which settles it exactly once. Meanwhile every
other command is refused at once, before it writes anything: none waits behind the lock
to be applied in a burst when the store comes back.
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
from collections.abc import Callable, Coroutine
from typing import Any, Generic, Protocol, TypeVar

from live.backends.base import Backend, BackendUnavailable, NoAnswer, SeqConflict
from live.errors import RelaisError

log = logging.getLogger("relais.log")

APPEND_ATTEMPTS = 40  # a command retried on top of others' appends before "busy"
ANSWER_WITHIN = 0.9  # seconds: every command is answered by then (ack, refusal or pending)
SETTLE_PAUSE = 0.25  # seconds between two tries to settle an unknown outcome
RECENT = 512  # entries kept in memory: catch-up of reconnecting clients, retried commands
DONE = 4096  # command ids remembered: a retried command is acknowledged, not redone

# Codes of the wire (the agenda's protocol names them too).
CONFLICT = "conflict"
OUTCOME_UNKNOWN = "outcome_unknown"


class Unsettled(RelaisError):
    """The store did not answer a command's append in time: it may still be applied.
    `outcome` gives its seq once the store answers, or the refusal if it never lands."""

    def __init__(self, outcome: asyncio.Future[int]) -> None:
        super().__init__(OUTCOME_UNKNOWN, "not confirmed yet: the store has not answered")
        self.outcome = outcome


def unavailable() -> BackendUnavailable:
    return BackendUnavailable("the store is not answering: nothing was changed")


def now_ms() -> int:
    return int(time.time() * 1000)


class Sequenced(Protocol):
    """A reduced state: the seq of the last entry it holds."""

    seq: int


S = TypeVar("S", bound=Sequenced)
Commit = Callable[[], S]  # makes a prepared entry current; returns the state after it


class _Doubt(Generic[S]):
    """A command whose append got no answer: what it would be, and who waits for it."""

    def __init__(self, key: str, entry: dict[str, Any], commit: Commit[S]) -> None:
        self.key = key
        self.entry = entry
        self.commit = commit
        self.outcome: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        # Read even when nobody waits any more (a closed socket): no "never retrieved".
        self.outcome.add_done_callback(lambda f: f.cancelled() or f.exception())


class EventLog(Generic[S]):
    """A log and its state. Subclasses say how the state is made (`empty`, `restore`,
    `dump`, `prepare`) and what follows an entry made current (`accepted`), a load
    (`loaded`) or a lost log (`resynced`)."""

    def __init__(self, backend: Backend, stream: str, epoch_key: str, snapshot_every: int) -> None:
        self.backend = backend
        self.stream = stream
        self.epoch_key = epoch_key  # records `epoch/{epoch_key}`: a flushed log gets a new one
        self.snapshot_every = snapshot_every
        self.state: S = self.empty()
        self.epoch = ""
        self.recent: deque[dict[str, Any]] = deque(maxlen=RECENT)
        # command id -> (seq, digest of name and args): a retried command is not redone,
        # and an id reused for another command is refused (`id_reused`), not acknowledged.
        self._done: dict[str, tuple[int, str]] = {}
        self._lock = asyncio.Lock()
        self._doubt: _Doubt[S] | None = None  # an append not answered yet: see `submit`
        self._tasks: set[asyncio.Task[None]] = set()  # settling, snapshots: kept alive

    # -- what a subclass says --------------------------------------------------------------

    def empty(self) -> S:
        raise NotImplementedError

    def restore(self, data: dict[str, Any]) -> S:
        raise NotImplementedError

    def dump(self, state: S) -> dict[str, Any]:
        raise NotImplementedError

    def prepare(self, state: S, entry: dict[str, Any]) -> Commit[S]:
        """Check `entry` against `state` (raising its refusal, nothing changed) and return
        what makes it current."""
        raise NotImplementedError

    def loaded(self, state: S) -> None:
        """The state rebuilt from the store is current."""
        self.state = state

    def accepted(self, entry: dict[str, Any], state: S) -> None:
        """An entry of the log was made current here (`state` is after it): broadcast it."""

    def resynced(self) -> None:
        """The log was lost and read anew: clients need a fresh picture."""

    # -- loading ---------------------------------------------------------------------------

    async def load(self) -> None:
        """Rebuild the state from the last snapshot and the log after it."""
        meta = await self.backend.get_record("epoch", self.epoch_key)
        if meta is None:  # a new log: one epoch, even when several processes start at once
            fresh = {"epoch": secrets.token_hex(8)}
            if await self.backend.create_record("epoch", self.epoch_key, fresh):
                meta = fresh
            else:
                meta = await self.backend.get_record("epoch", self.epoch_key) or fresh
        self.epoch = meta["epoch"]
        state = self.empty()
        snap = await self.backend.load_snapshot(self.stream)
        if snap is not None:
            state = self.restore(snap[1])
        # Read a little before the snapshot too: reconnecting clients and retried
        # commands are served from these recent entries after a restart.
        entries = await self.backend.read(self.stream, max(0, state.seq - RECENT))
        for entry in entries:
            if entry["seq"] > state.seq:
                state = self.prepare(state, entry)()
        self.loaded(state)
        for entry in entries:
            self._remember(entry)

    def _remember(self, entry: dict[str, Any]) -> None:
        self.recent.append(entry)
        if entry.get("cid"):
            self._done[entry["cid"]] = (entry["seq"], _digest(entry["name"], entry["args"]))
            if len(self._done) > DONE:
                self._done.pop(next(iter(self._done)))

    # -- commands --------------------------------------------------------------------------

    async def submit(self, name: str, args: dict[str, Any], key: str, extra: dict[str, Any]) -> int:
        """Prepare, persist, make current; return the seq. `args` are checked already;
        `key` identifies the command (its sender and id); `extra` goes in the entry (who
        sent it). Raises the state's refusal, and `Unsettled` when the store did not answer
        in time (see the module's docstring)."""
        deadline = asyncio.get_running_loop().time() + ANSWER_WITHIN
        for attempt in range(APPEND_ATTEMPTS):
            if attempt:  # others won the last seq: let them pass before trying again
                await asyncio.sleep(random.uniform(0, 0.002 * min(attempt, 10)))
            if (seq := self._known(key, name, args)) is not None:
                return seq
            try:  # the lock is held only by a command within its own deadline
                async with asyncio.timeout_at(deadline):
                    await self._lock.acquire()
            except TimeoutError:
                raise unavailable() from None  # it never started: it will never apply
            held = True
            try:
                if (seq := self._known(key, name, args)) is not None:
                    return seq
                entry: dict[str, Any] = {
                    "seq": self.state.seq + 1,
                    "t": now_ms(),
                    "name": name,
                    "args": args,
                    **extra,
                    "cid": key,
                }
                try:
                    commit = self.prepare(self.state, entry)
                except RelaisError:
                    # Refused on this process's state: on a shared store another process
                    # may have appended what makes it valid (a proposal made a moment ago
                    # over there). Read the log once before saying no.
                    if not self.backend.shared or not await self._caught_up(deadline):
                        raise
                    continue
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
                    doubt = self._doubt = _Doubt(key, entry, commit)
                    held = False
                    self._spawn(self._settle(doubt))
                    raise Unsettled(doubt.outcome) from None
                state = self._accept(entry, commit)
                if state.seq % self.snapshot_every == 0:
                    await self._save_snapshot(state, deadline)
                return int(entry["seq"])
            finally:
                if held:
                    self._lock.release()
        raise RelaisError(CONFLICT, "the log is busy; send the command again")

    async def _caught_up(self, deadline: float) -> bool:
        """Apply what other processes appended since this state (under the lock): True if
        anything was, so that a refused command is prepared again on top of it."""
        before = self.state.seq
        try:
            async with asyncio.timeout_at(deadline):
                entries = await self.backend.read(self.stream, before)
        except (TimeoutError, BackendUnavailable):
            return False  # the refusal stands: it was said on what is known here
        self._absorb(entries)
        return self.state.seq != before

    def _known(self, key: str, name: str, args: dict[str, Any]) -> int | None:
        """The seq of a command already in the log (acknowledged again, never applied
        twice), else None; while an append is in doubt, the same command is still pending
        and any other is refused before it writes anything (the store is not answering)."""
        if key in self._done:
            seq, digest = self._done[key]
            if digest != _digest(name, args):
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

    async def _settle(self, doubt: _Doubt[S]) -> None:
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
                self._accept(doubt.entry, doubt.commit)
                doubt.outcome.set_result(int(doubt.entry["seq"]))
                return
        finally:
            if not doubt.outcome.done():  # cancelled (the server stops): nothing known
                doubt.outcome.set_exception(unavailable())
            self._doubt = None
            self._lock.release()

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task: asyncio.Task[None] = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _accept(self, entry: dict[str, Any], commit: Commit[S]) -> S:
        """Make an entry of the log current here: the state after it, then its broadcast."""
        state = commit()
        self.state = state
        self._remember(entry)
        self.accepted(entry, state)
        return state

    def _absorb(self, entries: list[dict[str, Any]]) -> None:
        """Apply entries another process appended (under the lock), in log order, up to the
        first gap (the next read, from the state's seq, brings what is missing)."""
        for entry in entries:
            if entry["seq"] <= self.state.seq:
                continue  # this process wrote or read it already
            if entry["seq"] != self.state.seq + 1:
                return
            self._accept(entry, self.prepare(self.state, entry))

    # -- other processes -------------------------------------------------------------------

    async def follow(self, block_ms: int = 1000) -> None:
        """Follow the log that other processes append to: one reader per process and per
        log, never one per client (`Backend.follow` blocks in Redis's XREAD). Between two
        waits with nothing new it checks the log's epoch: a flushed or lost log gives a
        new one, and every client here gets a fresh picture. The store is read outside the
        lock: a command never waits behind a read. (A store that is away is logged by the
        backend, once per process.)"""
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
                    log.warning("%s: the shared log cannot be read (%s)", self.stream, exc)
                failing = True
                await asyncio.sleep(0.5)
            else:
                failing = False

    async def _check_epoch(self) -> None:
        meta = await self.backend.get_record("epoch", self.epoch_key)
        if meta is not None and meta.get("epoch") == self.epoch:
            return
        async with self._lock:
            log.warning("%s: the shared log was lost; starting a new one", self.stream)
            self.state = self.empty()
            self.recent.clear()
            self._done.clear()
            await self.load()
        self.resynced()

    async def _save_snapshot(self, state: S, deadline: float) -> None:
        """A snapshot only shortens the next load: the command is already in the log, so a
        failure here is logged, never reported as the command's failure (it was applied),
        and it is given only what is left of the command's time to answer."""
        try:
            async with asyncio.timeout_at(deadline):
                await self.backend.save_snapshot(self.stream, state.seq, self.dump(state))
        except (BackendUnavailable, TimeoutError):
            pass  # the backend said the store is away
        except Exception:
            log.exception("%s: snapshot at seq %d not saved", self.stream, state.seq)

    def entries_since(self, since: int) -> list[dict[str, Any]] | None:
        """The entries after `since`, if all of them are still in memory, else None."""
        seq = self.state.seq
        if since > seq:
            return None
        entries = [e for e in self.recent if e["seq"] > since]
        return entries if len(entries) == seq - since else None


def _digest(name: str, args: dict[str, Any]) -> str:
    """What a command id stands for: its name and checked args, the same whether they come
    from a request or back from the log (JSON turns tuples into lists; both dump alike)."""
    text = json.dumps([name, args], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()
