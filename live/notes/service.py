"""The loaded notes rooms of the server, by document name (a document not loaded is read
from the store: notes/stored.py).

Rooms load on their first connection and unload `idle` seconds after their last one
leaves, written and compacted first; all share one group-commit `Writer`. The names the
rooms credit are personal data: `erase_names` forgets them in memory and in the backend.
"""

from __future__ import annotations

import asyncio
import logging

from live.backends.base import RESUBSCRIBED, Backend
from live.model import Event, Workshop
from live.notes.budget import SendBudget
from live.notes.credits import RAPPORTEURS, log_failure
from live.notes.peer import Peer
from live.notes.room import Room, doc_name, template_for
from live.notes.stored import stored_rapporteurs, stored_text
from live.notes.synthesis import Synthesis, collect
from live.notes.writer import CHANNEL, Writer, parse_announcement
from live.participation.state import Participation

log = logging.getLogger("relais.notes")


class NotesService:
    """Every loaded room, by document name, sharing one writer. A room unloads `idle`
    seconds after its last connection leaves (written and compacted first)."""

    def __init__(
        self,
        backend: Backend,
        *,
        idle: float = 30.0,
        compact_every: int = 500,
        budget: SendBudget | None = None,
    ) -> None:
        self.backend = backend
        self.writer = Writer(backend)
        self.budget = budget or SendBudget()  # every room's connections, together
        self.idle = idle
        self.compact_every = compact_every
        self.rooms: dict[str, Room] = {}
        self._loading: dict[str, asyncio.Task[Room]] = {}
        self._closing: dict[str, asyncio.Task[None]] = {}
        self._unload: dict[str, asyncio.TimerHandle] = {}

    async def room(self, event: Event, workshop: Workshop) -> Room:
        name = doc_name(event.id, workshop.id)
        handle = self._unload.pop(name, None)
        if handle is not None:
            handle.cancel()
        if name in self.rooms:
            return self.rooms[name]
        task = self._loading.get(name)
        if task is None:
            task = asyncio.create_task(self._load(name, template_for(event, workshop)))
            self._loading[name] = task
        return await asyncio.shield(task)

    async def _load(self, name: str, template: str) -> Room:
        try:
            closing = self._closing.get(name)
            if closing is not None:  # its last compaction must land before we count rows
                await asyncio.wait([closing])
            room = Room(name, self.backend, self.compact_every, self.writer, budget=self.budget)
            await room.load(template)
            self.rooms[name] = room
            if self.backend.shared:  # what others wrote while it loaded was not relayed here
                await room.reread()
            return room
        finally:
            self._loading.pop(name, None)

    def release(self, room: Room, peer: Peer) -> None:
        """A connection ended; schedule the room's unload if it was the last one."""
        room.disconnect(peer)
        if not room.peers and room.name not in self._unload:
            loop = asyncio.get_running_loop()
            self._unload[room.name] = loop.call_later(self.idle, self._start_unload, room)

    def _start_unload(self, room: Room) -> None:
        self._unload.pop(room.name, None)
        if not room.peers and self.rooms.get(room.name) is room:
            del self.rooms[room.name]
            task = asyncio.create_task(room.close())
            self._closing[room.name] = task
            task.add_done_callback(log_failure)
            task.add_done_callback(self._closed)

    def _closed(self, task: asyncio.Task[None]) -> None:
        for name, closing in list(self._closing.items()):
            if closing is task:
                del self._closing[name]

    async def follow_others(self) -> None:
        """Relay what other processes write (a task of the app on a shared store): each
        announced update reaches this process's clients of that room; after a reconnection,
        every loaded room rereads the store (announcements made meanwhile are lost)."""
        async for message in self.backend.announcements(CHANNEL):
            if message == RESUBSCRIBED:
                for loaded in list(self.rooms.values()):
                    try:
                        await loaded.reread()
                    except Exception as exc:
                        log.warning("notes %s: cannot reread (%s)", loaded.name, exc)
                continue
            parsed = parse_announcement(message)
            if parsed is None or parsed[0] == self.writer.origin:
                continue  # malformed, or this process's own (already relayed here)
            room = self.rooms.get(parsed[1])
            if room is not None:
                room.remote(parsed[2])

    async def text(self, event_id: str, workshop_id: str) -> str:
        """The current text of a workshop's notes ("" when nobody ever opened them)."""
        name = doc_name(event_id, workshop_id)
        room = self.rooms.get(name)
        if room is not None:
            await room.flush()
            return str(room.text)
        closing = self._closing.get(name)
        if closing is not None:  # an unloading room writes its last updates first
            await asyncio.wait([closing])
        return await stored_text(self.backend, name)

    async def rapporteurs(self, event_id: str, workshop_id: str) -> list[str]:
        name = doc_name(event_id, workshop_id)
        room = self.rooms.get(name)
        if room is not None:
            await room.credits.forget_if_purged()  # a purge elsewhere wins over what it holds
            return list(room.credits.names())
        return await stored_rapporteurs(self.backend, name)

    async def synthesis(
        self, event: Event, participation: Participation | None = None
    ) -> Synthesis:
        """What the synthesis of `event` says, loaded rooms read with their latest updates
        written first (what the synthesis page renders: a handler reads no backend), with
        the proposals of `participation` (the participation room's state) when given."""
        return await collect(event, self.backend, self, participation)

    async def erase_names(self, event_id: str, workshop_id: str | None = None) -> None:
        """Forget the rapporteurs' names credited in an event's notes (one workshop's, or
        every workshop's): in the loaded rooms, so none writes them back, and in the
        stored `rapporteurs` records. The text of the notes stays. The organizer's desk
        calls it, and so must a purge of the event's personal data in a running server."""

        def chosen(name: str) -> bool:
            if workshop_id is not None:
                return name == doc_name(event_id, workshop_id)
            return name.startswith(doc_name(event_id, ""))

        busy = [t for n, t in [*self._loading.items(), *self._closing.items()] if chosen(n)]
        if busy:  # a room being loaded reads the names, one being closed may write them
            await asyncio.wait(busy)
        for room in [r for n, r in self.rooms.items() if chosen(n)]:
            await room.credits.erase()
        if workshop_id is not None:
            keys = [doc_name(event_id, workshop_id)]
        else:
            keys = list(await self.backend.list_records(RAPPORTEURS, doc_name(event_id, "")))
        for key in keys:
            await self.backend.delete_record(RAPPORTEURS, key)
        for room in [r for n, r in self.rooms.items() if chosen(n)]:
            if room.credits.names():  # loaded while the records were being deleted
                await room.credits.erase()

    async def drop(self, event_id: str) -> None:
        """Close an event's rooms now (the event is being deleted): every connection is
        refused (`unknown_event`), pending updates are written, and no room of the event
        stays loaded to write anything after the caller deletes the documents."""
        prefix = doc_name(event_id, "")
        tasks = [*self._loading.items(), *self._closing.items()]
        busy = [t for n, t in tasks if n.startswith(prefix)]
        if busy:
            await asyncio.wait(busy)
        for name in [n for n in self._unload if n.startswith(prefix)]:
            self._unload.pop(name).cancel()
        for name in [n for n in self.rooms if n.startswith(prefix)]:
            room = self.rooms.pop(name)
            for peer in list(room.peers):
                peer.refuse("unknown_event", "this event has been deleted")
            try:
                await room.close()
            except Exception:
                log.exception("notes %s: cannot close cleanly", room.name)

    async def close(self) -> None:
        for handle in self._unload.values():
            handle.cancel()
        self._unload.clear()
        rooms, self.rooms = list(self.rooms.values()), {}
        if self._closing:
            await asyncio.wait(list(self._closing.values()))
        for room in rooms:
            try:
                await room.close()
            except Exception:
                log.exception("notes %s: cannot close cleanly", room.name)
        await self.writer.close()
