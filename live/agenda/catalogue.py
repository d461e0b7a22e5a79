"""The event catalogue: every event this process serves, by id, following their
definitions in the backend, and what may be done to one (create, replace, archive, delete).

An import or the studio stores a definition; every process notices it (`refresh`, polled
by `follow_definitions`) and serves the new or changed event, or stops serving a deleted
one. On a shared store each event's log is followed too (`Live.follow`). Whichever path a
new definition takes (the studio here, `relais import` in another process), one rule says
whether the running event can take it (`fits`).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from live.agenda.live import Listener, Live
from live.agenda.state import State
from live.backends.base import Backend, BackendUnavailable
from live.errors import RelaisError
from live.event_file import parse_event
from live.model import Event

log = logging.getLogger("relais.hub")

# Told the id of an event no longer served; awaited when it returns an awaitable, before
# the event's data is dropped (a notes room writes its pending updates as it closes).
RemovalFollower = Callable[[str], Awaitable[None] | None]


class NotStored(RelaisError):
    """A definition the catalogue did not store, and why (`code`): `id_taken` (a new
    event's id is an event's already), `unknown_event` (no such event is served),
    `other_event` (the definition is another event's: `found` is its id), `archived` (an
    archived event is not edited), `step_running` (`fits`: `step` is the step being run,
    counted from 1)."""


def fits(state: State, event: Event) -> bool:
    """Whether a run at `state` can take `event` as its new definition. The state points
    into the run-of-show by index: the definition's agenda, which must still hold the step
    being run; unless the run-of-show was edited live (`State.agenda`, see rundown.py):
    then the run follows its own copy of the steps, which a new definition leaves as it is
    (`state.live_event`), and the definition's agenda may be any length."""
    return state.agenda is not None or state.step is None or state.step < len(event.agenda)


def stage(live: Live, archived: set[str]) -> str:
    """draft: never run; live: started (or ended); archived: put away by the admin."""
    if live.definition.id in archived:
        return "archived"
    state = live.state
    return "live" if state.step is not None or state.ended is not None else "draft"


class Archive:
    """The events the administrator put away (records `archived/{event}`): hidden from the
    home page, not editable; their links and pages still work. `Backend.drop_event`
    removes an event's record with the rest of its data."""

    KIND = "archived"

    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    async def ids(self) -> set[str]:
        return set(await self.backend.list_records(self.KIND))

    async def holds(self, event_id: str) -> bool:
        return await self.backend.get_record(self.KIND, event_id) is not None

    async def put(self, event_id: str) -> None:
        at = datetime.now().astimezone().isoformat()
        await self.backend.put_record(self.KIND, event_id, {"at": at})

    async def take_out(self, event_id: str) -> None:
        await self.backend.delete_record(self.KIND, event_id)


class Catalogue:
    """Every event this process serves, by id. Definitions put in the backend by another
    process (`relais import` while the server runs) are followed with `refresh`, polled by
    `follow_definitions`: a new event is served, a changed one replaces the old."""

    POLL = 0.5  # seconds between two looks at the backend's definitions version

    def __init__(self, backend: Backend, snapshot_every: int = 100) -> None:
        self.backend = backend
        self.snapshot_every = snapshot_every
        self.events: dict[str, Live] = {}
        self.listeners: list[Listener] = []  # given to every event's Live (see Live)
        self.archive = Archive(backend)
        self._texts: dict[str, str] = {}  # the definition last seen per event, valid or not
        self._version: int | None = None  # the backend's definitions_version they match
        self._following: dict[str, asyncio.Task[None]] = {}  # per event, on a shared store
        # One change at a time: a refresh reading the definitions while an event is being
        # deleted would serve it again.
        self._lock = asyncio.Lock()
        # told the id of an event no longer served (deleted here or by another process),
        # under the lock: a follower calls no method of the catalogue
        self.on_remove: list[RemovalFollower] = []

    async def load_all(self) -> None:
        await self.refresh()

    async def put(self, text: str, source: str = "<event>") -> Event:
        """Validate and store an event definition, and serve it live (the demo events, at
        start: parsed on the event loop)."""
        event = parse_event(text, source)
        async with self._lock:
            await self._store(event, text)
        return event

    # -- what the studio and the administration do ---------------------------------------

    async def taken_ids(self) -> set[str]:
        """The ids a new event cannot have: served here, or stored (by another process, or
        refused when read back)."""
        return set(self.events) | set(await self.backend.definitions())

    async def create(self, text: str, source: str = "<event>") -> Event:
        """Store and serve a new event. DefinitionError: the text is refused, as `relais
        import` refuses it; NotStored(`id_taken`): its id is an event's already."""
        event = await asyncio.to_thread(parse_event, text, source)  # a large file: 1 s
        async with self._lock:
            if event.id in await self.taken_ids():
                raise NotStored("id_taken", f"{event.id} is taken", event=event.id)
            await self._store(event, text)
        return event

    async def replace(self, event_id: str, text: str, source: str = "<event>") -> Event:
        """Put a definition in place of a served event's, and serve it at once (pages
        already open follow it). The text is parsed off the event loop, and what is stored
        is what was parsed, so another process reading it serves the same event.
        DefinitionError: the text is refused; NotStored: `unknown_event`, `other_event`,
        `archived`, or `step_running` (`fits`)."""
        event = await asyncio.to_thread(parse_event, text, source)
        async with self._lock:
            live = self.events.get(event_id)
            if live is None:
                raise NotStored("unknown_event", f"{event_id} is not served")
            if event.id != event_id:
                raise NotStored("other_event", f"{event.id} is not {event_id}", found=event.id)
            if await self.archive.holds(event_id):
                raise NotStored("archived", f"{event_id} is archived")
            if not fits(live.state, event):
                step = (live.state.step or 0) + 1
                raise NotStored("step_running", f"{event_id} runs step {step}", step=step)
            await self._store(event, text)
        return event

    async def archived(self) -> set[str]:
        """The ids of the events put away (see `Archive`)."""
        return await self.archive.ids()

    async def set_archived(self, event_id: str, archived: bool) -> bool:
        """Archive or unarchive a served event; False if no such event is served."""
        if event_id not in self.events:
            return False
        if archived:
            await self.archive.put(event_id)
        else:
            await self.archive.take_out(event_id)
        return True

    async def delete(self, event_id: str) -> bool:
        """Stop serving the event (the removal followers close its notes and its plenary,
        then its open pages are told it is gone), then remove everything stored for it and
        fold the database's log so that no copy of its personal data stays in the files
        (`Backend.drop_event`, `forget`). False if no such event is served."""
        async with self._lock:
            if event_id not in self.events:
                return False
            await self._stop_serving(event_id)
            await self.backend.drop_event(event_id)
            await self.backend.forget()
        return True

    # -- following the backend ------------------------------------------------------------

    async def refresh(self) -> list[str]:
        """Serve what the backend's definitions say now; the ids (re)activated. Reads no
        definition unless their version moved, and parses only the texts that changed. An
        invalid one, or one the run cannot take (`fits`), is logged and the event keeps the
        definition it had."""
        async with self._lock:
            return await self._refresh()

    async def _refresh(self) -> list[str]:
        version = await self.backend.definitions_version()
        if version == self._version:
            return []
        changed = []
        # The version is read first: a put landing after it moves it again, and is seen
        # at the next call even if this read already caught it.
        definitions = await self.backend.definitions()
        for event_id in [e for e in self.events if e not in definitions]:
            await self._stop_serving(event_id)  # deleted, here or by another process
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
        """`fits`, said in the log when a stored definition is refused for it."""
        live = self.events.get(event.id)
        if live is None or fits(live.state, event):
            return True
        log.error(
            "event %s: new definition has %d steps, the event is at step %d; "
            "the event keeps the definition it had",
            event.id,
            len(event.agenda),
            (live.state.step or 0) + 1,
        )
        return False

    async def follow_definitions(self, every: float | None = None) -> None:
        """Refresh forever (a task of the app's lifespan): an import reaches the running
        server within a poll. One tiny read per poll while nothing changes."""
        failing = False
        while True:
            await asyncio.sleep(self.POLL if every is None else every)
            try:
                await self.refresh()
            except BackendUnavailable:  # the backend logs an outage, once per process
                failing = True
            except Exception:  # the next poll tries again; serving goes on meanwhile
                if not failing:  # said once, not twice a second
                    log.exception("event definitions cannot be read; retrying")
                failing = True
            else:
                failing = False

    async def _store(self, event: Event, text: str) -> None:
        """Store a definition and serve it (under the lock). A refresh then finds its text
        already seen and parses nothing."""
        await self.backend.put_definition(event.id, text)
        await self._activate(event)
        self._texts[event.id] = text

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

    async def _stop_serving(self, event_id: str) -> None:
        """Stop serving an event (deleted): no page finds it any more, the removal
        followers are told (and awaited), then its open pages are told it is gone."""
        live = self.events.pop(event_id, None)
        self._texts.pop(event_id, None)
        if live is None:
            return
        task = self._following.pop(event_id, None)
        if task is not None:
            task.cancel()
        for follower in self.on_remove:
            try:
                done = follower(event_id)
                if inspect.isawaitable(done):
                    await done
            except Exception:
                log.exception("event %s: a removal follower failed", event_id)
        for client in list(live.clients):
            client.close("unknown_event")

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
