"""A receiver's queue of encoded frames: bounded, never waited on, restarted at keyframes.

Filled by a feed from the publisher's receive path, emptied by the receiver's sender at
its own pace. A receiver too slow to keep up loses its queued video and skips to the next
keyframe; the others never wait for it and its memory never grows (python-websockets'
broadcast rule: never wait on a slow client). Timestamps are rewritten so that the
receiver sees one continuous media timeline across floor changes and publisher restarts.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable

from live.plenary.frames import CLOCK_RATE, EncodedFrame, Kind

# What an outbox holds at most: two seconds of video (a 640x480 keyframe is 20-60 KB), one
# second of Opus.
VIDEO_FRAMES = 60
AUDIO_FRAMES = 50
OUTBOX_BYTES = 2 * 1024 * 1024


class RateMeter:
    """Events per second over the last two seconds (frames forwarded, frames received)."""

    WINDOW = 2.0

    def __init__(self) -> None:
        self._times: deque[float] = deque(maxlen=256)
        self.count = 0
        self.last: float | None = None

    def tick(self, now: float) -> None:
        self._times.append(now)
        self.count += 1
        self.last = now

    def rate(self, now: float) -> float:
        recent = sum(1 for t in self._times if now - t <= self.WINDOW)
        return round(recent / self.WINDOW, 1)


class Closed(Exception):
    """The outbox was closed: its receiver is gone."""


class Outbox:
    """One receiver's queue of one kind: filled by the feed without ever waiting, emptied
    by the receiver's sender at its own pace.

    Nothing is queued before `start` (the receiver's transport is up and its sender asks
    for the first frame). Video starts, and restarts after an overflow or a change of
    source, at a keyframe."""

    def __init__(
        self,
        kind: Kind,
        clock: Callable[[], float],
        max_frames: int | None = None,
        max_bytes: int = OUTBOX_BYTES,
    ) -> None:
        self.kind = kind
        self.clock = clock
        self.max_frames = max_frames or (VIDEO_FRAMES if kind == "video" else AUDIO_FRAMES)
        self.max_bytes = max_bytes
        self.queue: deque[tuple[EncodedFrame, int]] = deque()
        self.bytes = 0
        self.started = False
        self.started_at: float | None = None
        self.closed = False
        self.waiting_keyframe = kind == "video"
        self.waiting_since: float | None = None
        self.on_start: Callable[[Outbox], None] | None = None
        self.forwarded = RateMeter()
        self.dropped = 0
        self.overflows = 0
        self._waiter: asyncio.Future[None] | None = None
        # timeline: output timestamp = input timestamp + offset, re-based per source
        self._source: object = None
        self._offset = 0
        self._last_out: int | None = None
        self._last_out_at = 0.0

    def start(self) -> None:
        """The receiver is ready for frames: from now on the feed fills this outbox."""
        if not self.started:
            self.started = True
            self.started_at = self.clock()
            self.restart()
            if self.on_start is not None:
                self.on_start(self)

    def restart(self) -> None:
        """Start again from a keyframe (video): a new source, or frames were lost."""
        if self.kind == "video":
            self.waiting_keyframe = True
            self.waiting_since = self.clock()

    def push(self, media: EncodedFrame, source: object) -> bool:
        """Queue a frame from `source` (one publisher's session), without ever waiting.
        Returns whether this outbox still waits for a keyframe."""
        if not self.started or self.closed:
            return False
        if source is not self._source:
            self._rebase(media, source)
        if self.waiting_keyframe:
            if not media.keyframe:
                self.dropped += 1
                return True
            self.waiting_keyframe = False
            self.waiting_since = None
        size = len(media.data)
        if len(self.queue) >= self.max_frames or self.bytes + size > self.max_bytes:
            self._overflow(size)
            if self.waiting_keyframe and not media.keyframe:
                self.dropped += 1
                return True
            self.waiting_keyframe = False
            self.waiting_since = None
        out = media.timestamp + self._offset
        self.queue.append((media, out))
        self.bytes += size
        self._last_out, self._last_out_at = out, self.clock()
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)
        return False

    def _overflow(self, incoming: int) -> None:
        """Too much queued: video drops all it holds and waits for the next keyframe;
        audio drops its oldest frames."""
        self.overflows += 1
        if self.kind == "video":
            self.dropped += len(self.queue)
            self.queue.clear()
            self.bytes = 0
            self.restart()
            return
        while self.queue and (
            len(self.queue) >= self.max_frames or self.bytes + incoming > self.max_bytes
        ):
            media, _ = self.queue.popleft()
            self.bytes -= len(media.data)
            self.dropped += 1

    def _rebase(self, media: EncodedFrame, source: object) -> None:
        """A new source: continue the output timeline from where it is, by the time that
        passed (each source's timestamps start anywhere)."""
        self._source = source
        if self._last_out is None:
            self._offset = -media.timestamp
        else:
            elapsed = max(0.0, self.clock() - self._last_out_at)
            step = max(1, int(elapsed * CLOCK_RATE[self.kind]))
            self._offset = self._last_out + step - media.timestamp
        self.restart()

    async def get(self) -> tuple[EncodedFrame, int]:
        """The next frame and its output timestamp; Closed once the receiver is gone."""
        while not self.queue:
            if self.closed:
                raise Closed
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self.take()

    def take(self) -> tuple[EncodedFrame, int]:
        """The next queued frame (the queue must not be empty), counted as forwarded."""
        media, out = self.queue.popleft()
        self.bytes -= len(media.data)
        if self.kind == "video":
            self.forwarded.tick(self.clock())
        return media, out

    def close(self) -> None:
        self.closed = True
        self.queue.clear()
        self.bytes = 0
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)
