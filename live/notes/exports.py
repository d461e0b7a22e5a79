"""The synthesis downloads, rendered in a worker process and kept while the notes hold.

Rendering is deterministic: the same notes, event and language give the same file. So a
rendered file is kept under a digest of exactly what it is made from, and downloading an
unchanged synthesis again (every organizer and facilitator at the end of the day, or a
reload) costs a lookup; two requests for the same one at once share one render. The cache
is bounded by entries and bytes, least recently used first out.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import OrderedDict

from live.notes import synthesis
from live.notes.synthesis import Format, Synthesis
from live.workers import Workers


def fingerprint(s: Synthesis, fmt: str, lang: str) -> str:
    """A digest of everything a rendered synthesis depends on. Each text's length goes in
    before the texts themselves, so that no two different syntheses hash the same input
    (the proposals go in whole: their repr quotes every text)."""
    h = hashlib.sha256()
    outline = [
        (
            theme,
            [(w.workshop, w.title, w.site, w.rapporteurs, len(w.text), w.proposals) for w in items],
        )
        for theme, items in s.themes
    ]
    h.update(repr((fmt, lang, s.event, sorted(s.attendance.items()), outline)).encode())
    for _, items in s.themes:
        for w in items:
            h.update(w.text.encode())
    return h.hexdigest()


class Exports:
    """Rendered syntheses, by fingerprint."""

    def __init__(self, workers: Workers, max_entries: int = 16, max_bytes: int = 32 << 20) -> None:
        self.workers = workers
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._kept: OrderedDict[str, bytes] = OrderedDict()
        self._size = 0
        self._rendering: dict[str, asyncio.Future[bytes]] = {}

    async def synthesis(self, s: Synthesis, fmt: Format, lang: str) -> bytes:
        """The synthesis as `fmt`: kept, being rendered for someone else, or rendered now.
        Raises `workers.Busy` or `workers.Failed` as `Workers.run` does."""
        key = await asyncio.to_thread(fingerprint, s, fmt, lang)  # megabytes, at worst
        kept = self._kept.get(key)
        if kept is not None:
            self._kept.move_to_end(key)
            return kept
        rendering = self._rendering.get(key)
        if rendering is None:
            rendering = asyncio.ensure_future(self._render(key, s, fmt, lang))
            self._rendering[key] = rendering
            rendering.add_done_callback(self._rendered)
        # Shielded: a reader who leaves does not cancel the render the others wait for.
        return await asyncio.shield(rendering)

    async def _render(self, key: str, s: Synthesis, fmt: Format, lang: str) -> bytes:
        body = await self.workers.run(synthesis.render, s, fmt, lang)
        self._keep(key, body)
        return body

    def _rendered(self, future: asyncio.Future[bytes]) -> None:
        for key, rendering in list(self._rendering.items()):
            if rendering is future:
                del self._rendering[key]
        if not future.cancelled():
            future.exception()  # retrieved here: every reader may have left

    def _keep(self, key: str, body: bytes) -> None:
        if len(body) > self.max_bytes:
            return
        self._kept[key] = body
        self._size += len(body)
        while len(self._kept) > self.max_entries or self._size > self.max_bytes:
            _, old = self._kept.popitem(last=False)
            self._size -= len(old)
