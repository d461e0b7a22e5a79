"""The bytes all notes connections of a process may hold on their way out, together.

Each connection's outbox is bounded (`peer.py`: twice a full document), but that is a
bound per socket, and sockets are cheap to open: 600 read-only sockets from one address,
each asking for a document near its 2 MB cap and never reading, took the server from 207
to 1,383 MB (plus 1.18 GB in kernel send queues) and the console's ping to 1.3 s. So the
outboxes of a process share one budget, `SendBudget`:

- **Everything held is counted**: each peer's queued bytes plus the batch it is writing,
  until its socket has taken it (`web/notes_ws.py` waits for the transport to drain, and
  caps the kernel's share of each socket). A typed update or a presence frame that would
  take the process past `limit` closes that peer as behind (it resyncs); the room never
  waits on anybody.
- **Answers take turns.** A sync step 2 (a joiner's copy of the document, up to
  `MAX_DOC`) is granted only while the answers in flight leave room for it (`answer_share`
  of the budget); otherwise the connection waits, holding only its state vector, and the
  answer is built when its turn comes (from the document as it is then). A socket that
  reads releases its grant within moments; one that does not holds it until the
  transport gives up on it (`web/wire.py`: `STALL` seconds without taking a byte).
- **Turns are fair.** The crew's links (screens, rapporteurs, the régie) are served
  before the public's, and one client address may hold at most `key_share` of the
  answers in flight while others wait: a flood of sockets from one device delays that
  device, not the screens nor the other phones.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field

from live.notes.limits import MAX_DOC

ANSWER_SHARE = 0.75  # of the budget, for answers in flight; the rest for updates
KEY_SHARE = 0.25  # of the answers in flight, for one client address while others wait
ANSWER_WAIT = 30.0  # seconds a connection may wait for its answer before it is closed


@dataclass
class _Turn:
    size: int
    key: str
    crew: bool
    granted: asyncio.Future[None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class SendBudget:
    """Bytes held by every notes connection of the process, against one limit, and the
    answers in flight, granted in turn."""

    def __init__(
        self,
        limit: int = 32 * MAX_DOC,
        answer_share: float = ANSWER_SHARE,
        key_share: float = KEY_SHARE,
    ) -> None:
        self.limit = limit
        self.answer_limit = int(limit * answer_share)
        self.key_limit = int(self.answer_limit * key_share)
        self.used = 0  # bytes held by every peer
        self.answering = 0  # bytes of answers granted and not yet written
        self.by_key: Counter[str] = Counter()
        self._turns: list[_Turn] = []

    # -- every frame ------------------------------------------------------------------------

    def charge(self, n: int) -> None:
        self.used += n

    def refund(self, n: int) -> None:
        self.used -= n

    def fits(self, n: int) -> bool:
        """Whether `n` more bytes stay within the process's limit."""
        return self.used + n <= self.limit

    # -- answers ----------------------------------------------------------------------------

    def try_answer(self, size: int, key: str, crew: bool) -> bool:
        """Grant an answer of about `size` bytes now, if nobody waits before it and it
        fits; the caller then owes `answer_done(key, size)`."""
        ahead = any(t.crew or not crew for t in self._turns)
        if ahead or not self._fits(size, key, crew):
            return False
        self._grant(size, key)
        return True

    async def answer_turn(self, size: int, key: str, crew: bool, wait: float = ANSWER_WAIT) -> None:
        """Wait for the grant of an answer of about `size` bytes (then owed back with
        `answer_done`). TimeoutError after `wait` seconds: the caller closes the
        connection, whose client resyncs later."""
        if self.try_answer(size, key, crew):
            return
        turn = _Turn(size, key, crew)
        self._turns.append(turn)
        self._serve()
        try:
            async with asyncio.timeout(wait):
                await turn.granted
        except BaseException:
            if turn in self._turns:
                self._turns.remove(turn)
            elif turn.granted.done() and not turn.granted.cancelled():
                self.answer_done(key, size)  # granted just as it gave up
            raise

    def answer_done(self, key: str, size: int) -> None:
        """An answer granted is written (or will never be): its room goes to the next."""
        self.answering -= size
        self.by_key[key] -= size
        if self.by_key[key] <= 0:
            del self.by_key[key]
        self._serve()

    @property
    def waiting(self) -> int:
        return len(self._turns)

    def _fits(self, size: int, key: str, crew: bool) -> bool:
        if self.answering and self.answering + size > self.answer_limit:
            return False
        mine = self.by_key.get(key, 0)
        if crew or not mine or mine + size <= self.key_limit:
            return True
        return not any(t.key != key for t in self._turns)  # its share binds while others wait

    def _grant(self, size: int, key: str) -> None:
        self.answering += size
        self.by_key[key] += size

    def _serve(self) -> None:
        """Grant every waiting turn that fits now, the crew's first, then in order."""
        for turn in sorted(self._turns, key=lambda t: not t.crew):
            if turn.granted.done():
                self._turns.remove(turn)
            elif self._fits(turn.size, turn.key, turn.crew):
                self._turns.remove(turn)
                self._grant(turn.size, turn.key)
                turn.granted.set_result(None)
