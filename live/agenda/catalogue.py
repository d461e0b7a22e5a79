"""Every event this process serves, by id, following their definitions in the backend.

An import or the studio stores a definition; every process notices it (`refresh`, polled
by `follow_definitions`) and serves the new or changed event, or stops serving a deleted
one. On a shared store each event's log is followed too (`Live.follow`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from live.agenda.live import Listener, Live
from live.backends.base import Backend, BackendUnavailable
from live.event_file import parse_event
from live.model import Event

log = logging.getLogger("relais.hub")


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
            except BackendUnavailable:  # the backend logs an outage, once per process
                failing = True
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
