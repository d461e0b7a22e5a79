"""A websocket client's outbox: bounded in frames and in bytes, never blocking the sender.

A broadcast hands one encoded frame to every client without waiting. A client that falls
behind drops what is queued and gets one fresh snapshot instead (`RESYNC`); a reply that
does not fit closes the client, which reconnects and resyncs.

A client whose send task is idle (nothing queued, nothing being sent) may take an event
frame straight to its socket instead (`direct`, see `web/wire.py`): the same order, no
task wake-up. When the socket cannot take it at once, the frame is queued as usual.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable

from live.links.signing import Claims

RESYNC = "\x00resync"  # sentinel in an outbox: send a fresh snapshot instead of events


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
        # Writes an event frame to the socket now, or says False (then it is queued).
        self.direct: Callable[[str], bool] | None = None
        self._waiter: asyncio.Future[None] | None = None

    @property
    def closed(self) -> bool:
        return self.close_reason is not None

    @property
    def idle(self) -> bool:
        """Its send task waits for a frame: nothing is queued and nothing is in flight, so
        a frame written now cannot overtake another."""
        return self._waiter is not None and not self._waiter.done()

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
        if self.direct is not None and frame != RESYNC and self.idle and self.direct(frame):
            return
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
