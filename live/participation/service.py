"""The participation rooms this process serves: loaded at their event's first use, followed
across processes on a shared store, dropped with their event."""

from __future__ import annotations

import asyncio
import contextlib

from live.backends.base import Backend
from live.model import Event
from live.participation.room import Room


class ParticipationService:
    def __init__(self, backend: Backend, snapshot_every: int = 200) -> None:
        self.backend = backend
        self.snapshot_every = snapshot_every
        self.rooms: dict[str, Room] = {}
        self._loading: dict[str, asyncio.Task[Room]] = {}
        self._following: dict[str, asyncio.Task[None]] = {}

    async def room(self, event: Event) -> Room:
        """The event's room, loaded once however many sockets ask at the same time. A new
        definition of the event (the studio) is followed: the room checks polls against
        the event as it is now."""
        room = self.rooms.get(event.id)
        if room is not None:
            room.event = event
            return room
        task = self._loading.get(event.id)
        if task is None:
            task = self._loading[event.id] = asyncio.create_task(self._load(event))
        return await asyncio.shield(task)

    async def _load(self, event: Event) -> Room:
        try:
            room = Room(event, self.backend, self.snapshot_every)
            await room.load()
            self.rooms[event.id] = room
            if self.backend.shared:  # other processes append to its log: follow it
                self._following[event.id] = asyncio.create_task(room.follow())
            return room
        finally:
            self._loading.pop(event.id, None)

    async def drop(self, event_id: str) -> None:
        """The event is gone (deleted): its followers are told, its room forgotten."""
        room = self.rooms.pop(event_id, None)
        await self._stop(self._following.pop(event_id, None))
        if room is not None:
            for client in list(room.followers):
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
