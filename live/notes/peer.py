"""One connection's side of a notes room: its rights, its bounded outbox, and how it ends.

The room never waits on a connection: it puts frames into the peer's outbox and moves on;
the connection's sender takes them out. What makes that safe against a slow or hostile
client is that the outbox is bounded twice:

- **In frames** (`OUTBOX`): a client that stopped reading while people type is closed
  with "behind" (1013, try again later) and resyncs when it reconnects.
- **In bytes** (`OUTBOX_BYTES`), counting what is queued *and* the batch the sender is
  still writing: frames differ enormously in size (a keystroke is 30 bytes, a joiner's
  sync answer is the whole document). A peer must be able to receive one full document
  state (up to `MAX_DOC`) plus the updates typed meanwhile, hence twice `MAX_DOC`.

Above every peer's bounds sits the process's (`budget.py`): the bytes all peers hold,
together, are charged to one `SendBudget`, and each sync answer is granted by it: one
that is not granted at once waits for its turn (`ask`: the peer holds only the state
vector meanwhile, and the sender builds the answer when the turn comes); any other frame
that does not fit closes the peer.

And a client cannot make the server copy the document for it over and over, which cost
one full state per frame before (eight read-only sockets repeating sync step 1 took the
server from 113 to 308 MB): a sync step 1 is answered only when no earlier answer is
still queued or being written (a newer state vector only asks for less, and what was
typed meanwhile is relayed anyway), and at most `SYNC_BURST` times in a row, then one per
`SYNC_EVERY` seconds; past that the connection is closed with "too_many_syncs". Yjs
clients send step 1 once per connection (y-websocket also every `resyncInterval`, unset by
default and in Relais' pages), so none of this touches them.

A peer whose sender is idle (nothing queued, nothing being written) may hand a frame
straight to its socket (`direct`, see `web/wire.py`): the same order, no wake-up; when the
socket cannot take it at once, the frame is queued as usual.

A peer ends in one of two ways, both final for the room (`closed`): `close()` drops what
is queued (the client reconnects and resyncs); `refuse()` replaces it with one error frame
that the sender writes before closing with the refusal's code, so the page can say why.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from pycrdt import merge_updates

from live.notes import ysync
from live.notes.budget import SendBudget
from live.notes.limits import OUTBOX, OUTBOX_BYTES, SYNC_BURST, SYNC_EVERY

Answer = Callable[["Peer", bytes], None]  # the room's: queue the answer to a state vector


class Peer:
    """One connection's side of a room: its rights and its bounded outbox.

    `send` never blocks: it appends to `queued` and wakes the connection's sender, which
    takes everything queued at once (`next_frames`). Past `maxsize` frames or `maxbytes`
    bytes the peer is closed instead: its client reconnects and resyncs.
    """

    def __init__(
        self,
        writer: bool,
        maxsize: int = OUTBOX,
        maxbytes: int = OUTBOX_BYTES,
        budget: SendBudget | None = None,
        key: str = "",
        crew: bool = False,
    ) -> None:
        self.writer = writer
        self.key = key  # the client's address: answers in turn are shared out by it
        self.crew = crew  # a link that runs the event: its answers go first
        self.maxsize = maxsize
        self.maxbytes = maxbytes
        self.budget = budget or SendBudget()
        self.queued: list[bytes] = []
        self._held = 0  # in `queued` plus the batch the sender is writing (charged)
        self.joined = False
        self.closed = False
        self.close_reason = "behind"  # the refusal code the connection closes with
        self.presence: set[int] = set()  # awareness client ids this connection announced
        self.authored = False  # an update of this connection brought new text
        # Writes a frame to the socket now, or says False (then it is queued).
        self.direct: Callable[[bytes], bool] | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._writing = 0  # bytes of the batch handed to the sender
        self._answer_queued = False  # a sync step 2 answer is in `queued`
        self._answer_writing = False  # ... or in the batch the sender is writing
        self._syncs = float(SYNC_BURST)  # token bucket of sync step 1 answers
        self._syncs_at = time.monotonic()
        self._asked: tuple[bytes, int, Answer] | None = None  # an answer waiting its turn
        self._granted = 0  # bytes of the answer granted by the budget, until it is written

    @property
    def queued_bytes(self) -> int:
        """Bytes in `queued` plus the batch the sender is writing."""
        return self._held

    @queued_bytes.setter
    def queued_bytes(self, value: int) -> None:
        """Every change is charged to (or refunded from) the process's budget."""
        delta, self._held = value - self._held, value
        if delta > 0:
            self.budget.charge(delta)
        elif delta < 0:
            self.budget.refund(-delta)

    # -- the room's side ---------------------------------------------------------------

    def send(self, frame: bytes) -> None:
        """A frame for this peer: written now when the sender is idle and the socket takes
        it (`direct`), else queued."""
        if self.closed:
            return
        if self.direct is not None and self.idle and self.direct(frame):
            return
        self._queue(frame)

    def send_answer(self, frame: bytes) -> None:
        """Queue a sync step 2 (the answer to the client's step 1). Always through the
        outbox, where it counts: until the sender has written it, further step 1s are
        not answered again (`answering`)."""
        if not self.closed and self._queue(frame):
            self._answer_queued = True

    def try_answer(self, size: int) -> bool:
        """Whether the budget grants an answer of about `size` bytes now (`send_answer`
        must follow)."""
        if self._granted or not self.budget.try_answer(size, self.key, self.crew):
            return False
        self._granted = size
        return True

    def ask(self, state: bytes, size: int, answer: Answer) -> None:
        """An answer (about `size` bytes) that the process's budget has no room for now:
        the sender calls `answer(self, state)` when its turn comes (`SendBudget`)."""
        if not self.closed:
            self._asked = (state, size, answer)
            self._wake()

    def _queue(self, frame: bytes) -> bool:
        if (
            len(self.queued) >= self.maxsize
            or self.queued_bytes + len(frame) > self.maxbytes
            or not self.budget.fits(len(frame))
        ):
            self.close()
            return False
        self.queued.append(frame)
        self.queued_bytes += len(frame)
        self._wake()
        return True

    @property
    def idle(self) -> bool:
        """The sender waits for frames: the last batch is written and nothing is queued,
        so a frame written now cannot overtake another."""
        return self._waiter is not None and not self._waiter.done()

    @property
    def answering(self) -> bool:
        """An answer to an earlier sync step 1 is not written yet (or not even built)."""
        return self._answer_queued or self._answer_writing or self._asked is not None

    def may_sync(self) -> bool:
        """Count one sync step 1; False past the allowance (the caller refuses it)."""
        now = time.monotonic()
        self._syncs = min(float(SYNC_BURST), self._syncs + (now - self._syncs_at) / SYNC_EVERY)
        self._syncs_at = now
        if self._syncs < 1:
            return False
        self._syncs -= 1
        return True

    def close(self, reason: str = "behind") -> None:
        """Drop what is queued and tell the sender to close (the client will resync).
        Safe to call from any task of the loop (a revocation closes the peer this way)."""
        if self.closed:
            return
        self.closed = True
        self.close_reason = reason
        self._asked = None
        self.queued, self.queued_bytes = [], self._writing
        self._wake()

    def release(self) -> None:
        """The connection is gone: whatever it held goes back to the process's budget."""
        self.close()
        self.queued, self.queued_bytes, self._writing = [], 0, 0
        self._answer_written()

    def _answer_written(self) -> None:
        if self._granted:
            self.budget.answer_done(self.key, self._granted)
            self._granted = 0

    def refuse(self, code: str, message: str) -> None:
        """End the connection because of what the client sent: one error frame (what every
        Yjs client logs), then a close with `code`'s close code, which Relais' pages
        explain. The client's document would silently diverge if it stayed connected."""
        if self.closed:
            return
        self.close(code)
        farewell = ysync.error(code, message)
        self.queued, self.queued_bytes = [farewell], self._writing + len(farewell)

    # -- the sender's side -------------------------------------------------------------

    async def next_frames(self) -> list[bytes] | None:
        """Everything queued, oldest first, consecutive updates merged into one frame; or
        None when the connection must close. Calling it again means the previous batch is
        written. A sender that fell behind thus catches up in a few large frames instead
        of many small ones."""
        self.queued_bytes -= self._writing
        if self._answer_writing:
            self._answer_written()
        self._writing, self._answer_writing = 0, False
        while not self.queued and not self.closed:
            if self._asked is not None:
                await self._answer_in_turn()
                continue
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        if not self.queued:
            return None
        frames, self.queued = self.queued, []
        self._writing = self.queued_bytes
        self._answer_writing, self._answer_queued = self._answer_queued, False
        return coalesce(frames)

    async def _answer_in_turn(self) -> None:
        """Wait for the budget's room for the answer asked, then have the room queue it
        (built now, from the document as it is: atomic with joining, see `room.py`)."""
        assert self._asked is not None
        size = self._asked[1]
        try:
            await self.budget.answer_turn(size, self.key, self.crew)
        except TimeoutError:
            self.close()
            return
        self._granted = size
        asked, self._asked = self._asked, None
        if asked is not None and not self.closed:
            state, _, answer = asked
            answer(self, state)

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)


def coalesce(frames: list[bytes]) -> list[bytes]:
    """Consecutive update frames merged into one (what a lagging client needs is the sum)."""
    if len(frames) == 1:
        return frames
    out: list[bytes] = []
    run: list[bytes] = []
    for frame in [*frames, b""]:
        if frame[:2] == bytes((ysync.SYNC, ysync.UPDATE)):
            run.append(ysync.Reader(frame[2:]).bytes())
            continue
        if run:
            out.append(ysync.update(run[0] if len(run) == 1 else merge_updates(*run)))
            run = []
        if frame:
            out.append(frame)
    return out
