"""The territorial space as one process holds it: per consultation, its published
contributions, the pages' index (`views.Published`) and the search index
(`search.SearchIndex`), kept current from the store.

A process loads every consultation at start (`Spaces.load`), applies its own publications
at once (`Spaces.publish`, `Spaces.unpublish`), and follows the others' through the
backend's announcements (`Spaces.follow`, a task of the app): one contribution reread per
announcement, everything reread after a reconnection. With one process (SQLite, memory)
nothing is announced and nothing needs to be.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from live.consultation.model import Consultation, Contribution
from live.consultation.search import SearchIndex
from live.consultation.store import Contributions
from live.consultation.views import Published

log = logging.getLogger(__name__)


class Space:
    """One consultation's published contributions in this process."""

    def __init__(self, consultation: Consultation, contributions: list[Contribution]) -> None:
        self.consultation = consultation
        self.contributions = {c.event: c for c in contributions}
        self.search = SearchIndex()
        self.search.rebuild(self.contributions.values())
        self.published = Published(consultation, self.contributions.values())

    def apply(self, contribution: Contribution) -> None:
        """An event's contribution was published (again)."""
        self.contributions[contribution.event] = contribution
        self.search.replace(contribution)
        self.published = Published(self.consultation, self.contributions.values())

    def drop(self, event: str) -> None:
        """An event's contribution was unpublished."""
        if self.contributions.pop(event, None) is not None:
            self.search.remove(event)
            self.published = Published(self.consultation, self.contributions.values())

    def close(self) -> None:
        self.search.close()


class Spaces:
    """Every consultation's space in this process."""

    def __init__(self, store: Contributions) -> None:
        self.store = store
        self.spaces: dict[str, Space] = {}

    def get(self, consultation_id: str) -> Space | None:
        return self.spaces.get(consultation_id)

    async def load(self) -> None:
        """(Re)read every consultation and its contributions from the store."""
        fresh = {}
        for consultation in await self.store.consultations():
            contributions = await self.store.list(consultation.id)
            fresh[consultation.id] = Space(consultation, contributions)
        old, self.spaces = self.spaces, fresh
        for space in old.values():
            space.close()

    async def reload(self, consultation_id: str) -> None:
        """Reread one consultation (its definition changed) and its contributions."""
        consultation = await self.store.consultation(consultation_id)
        old = self.spaces.pop(consultation_id, None)
        if consultation is not None:
            contributions = await self.store.list(consultation_id)
            self.spaces[consultation_id] = Space(consultation, contributions)
        if old is not None:
            old.close()

    async def publish(self, contribution: Contribution) -> None:
        await self.store.publish(contribution)
        space = self.spaces.get(contribution.consultation)
        if space is None:
            await self.reload(contribution.consultation)
        else:
            space.apply(contribution)

    @contextlib.asynccontextmanager
    async def writing(self, consultation_id: str, event: str) -> AsyncIterator[Space | None]:
        """One writer of this event's contribution across processes (`Contributions.writing`),
        with this process's copy of it reread from the store first: what the writer reads
        is what the last writer, in any process, left."""
        async with self.store.writing(consultation_id, event):
            await self.refresh(consultation_id, event)
            yield self.spaces.get(consultation_id)

    async def unpublish(self, consultation_id: str, event: str) -> bool:
        removed = await self.store.unpublish(consultation_id, event)
        space = self.spaces.get(consultation_id)
        if space is not None:
            space.drop(event)
        return removed

    async def refresh(self, consultation_id: str, event: str) -> None:
        """Another process published or unpublished this event's contribution: reread it."""
        space = self.spaces.get(consultation_id)
        if space is None:
            await self.reload(consultation_id)
            return
        contribution = await self.store.get(consultation_id, event)
        if contribution is None:
            space.drop(event)
        else:
            space.apply(contribution)

    async def follow(self) -> None:
        """Apply what the other processes publish, until cancelled (a task of the app on a
        shared store)."""
        async for change in self.store.changes():
            try:
                if change.consultation is None or change.event is None:
                    await self.load()
                else:
                    await self.refresh(change.consultation, change.event)
            except Exception as exc:  # the next announcement or reconnection rereads
                log.warning("the territorial space could not be brought up to date (%s)", exc)
