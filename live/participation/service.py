"""The events' participation this process serves: loaded at their event's first use, followed
across processes on a shared store, dropped with their event."""

from __future__ import annotations

import asyncio
import contextlib

from live.backends.base import Backend
from live.model import Event
from live.participation.live import LiveParticipation


class ParticipationService:
    def __init__(self, backend: Backend, snapshot_every: int = 200) -> None:
        self.backend = backend
        self.snapshot_every = snapshot_every
        self.served: dict[str, LiveParticipation] = {}
        self._loading: dict[str, asyncio.Task[LiveParticipation]] = {}
        self._following: dict[str, asyncio.Task[None]] = {}

    async def of(self, event: Event) -> LiveParticipation:
        """The event's participation, loaded once however many sockets ask at the same
        time. A new definition of the event (the studio) is followed: its polls are
        checked against the event as it is now."""
        live = self.served.get(event.id)
        if live is not None:
            live.event = event
            return live
        task = self._loading.get(event.id)
        if task is None:
            task = self._loading[event.id] = asyncio.create_task(self._load(event))
        return await asyncio.shield(task)

    async def _load(self, event: Event) -> LiveParticipation:
        try:
            live = LiveParticipation(event, self.backend, self.snapshot_every)
            await live.load()
            self.served[event.id] = live
            if self.backend.shared:  # other processes append to its log: follow it
                self._following[event.id] = asyncio.create_task(live.follow())
            return live
        finally:
            self._loading.pop(event.id, None)

    async def drop(self, event_id: str) -> None:
        """The event is gone (deleted): its followers are told, its live forgotten."""
        live = self.served.pop(event_id, None)
        await self._stop(self._following.pop(event_id, None))
        if live is not None:
            for client in list(live.followers):
                client.close("unknown_event")

    async def close(self) -> None:
        for event_id in list(self._following):
            await self._stop(self._following.pop(event_id))

    @staticmethod
    async def _stop(task: asyncio.Task[None] | None) -> None:
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
