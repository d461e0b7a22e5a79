"""Keep the garbage collector's full passes short, and still give closed connections back.

With thousands of open websockets, a full collection walks every connection's objects and
stops the process for a few hundred milliseconds (measured: 240-300 ms at 5,000 clients),
and CPython starts one whenever the heap has grown by a quarter: during an event, that
delays a step change on every screen. So the automatic collector is switched off and this
task collects instead: the young generations every second (a few milliseconds: what is
new since the last pass), and everything when that is cheap.

Why full passes are needed at all: a closed websocket leaves reference cycles that only a
full pass frees, and none of them is Relais's (after a wave, no object of `live` is left;
measured with `gc.get_objects`). `websockets`' sans-I/O protocol keeps its parser as a
generator whose frame refers back to the protocol, and that protocol holds the
connection's reader and, when the browser negotiated permessage-deflate, a compressor and
a decompressor (about 40 KB); an asyncio transport keeps a bound method of itself. A
connection lives longer than two young passes, so all of it is in the oldest generation
when it closes. With a full pass only once an hour, four waves of 1,500 page loads grew
the server from 224 to 419 MB (`bench/churn.py`); with the passes below, and
permessage-deflate off (`relais serve`: its 40 KB per page, open or closed, buys little
on frames of a few hundred bytes), it stays within a few percent of the first wave.

What a full pass costs (a 2-core VM): about 0.3 µs per object it walks, plus freeing the
garbage it finds. So:

- The objects the server starts with (modules, templates, catalogs, the events: about
  100,000, a 30 ms walk) are moved out of the collector's sight once, after start
  (`gc.freeze`): they live as long as the process, and a full pass then walks only what
  came since.
- A pass's length is foreseen from the heap grown since start (allocated blocks, which
  `sys.getallocatedblocks` counts for free) at the cost per block of the last passes
  (their median: one pass slowed down by a busy machine changes nothing).
- While clients stay connected, a full pass runs only if it is foreseen under `budget`
  (25 ms) and at most a `share` of the time (0.5 %: a 25 ms pass every 5 s at most, a
  2 ms one every second): the connections' cycles are freed as they close, in small
  passes, while the crowd is small.
- When a crowd has just left (the heap fell by a fifth from its peak since the last
  pass), a pass foreseen under `after_crowd` (100 ms) runs at once: the clients it would
  delay are gone, and it is what gives their memory back. Measured after 1,500 closes:
  17 ms, 24 ms with permessage-deflate, 57 ms with it on a loaded machine.
- While many clients are connected (1,500: a 140 ms walk; 10,000: about a second), no
  full pass runs, as before: a large fan-out keeps its latency, and the cycles of
  connections closed meanwhile wait until the crowd thins out, or for the hourly pass
  that bounds them whatever happens (logged, as it may be long).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import statistics
import sys
import time
from collections import deque
from dataclasses import dataclass, field

log = logging.getLogger("relais.gc")


@dataclass
class FullPasses:
    """When a full collection is worth its pause: a cost model learnt from the passes made,
    and the heap's peak since the last one."""

    budget_ms: float = 25.0  # the longest pass while clients stay connected
    after_crowd_ms: float = 100.0  # the longest pass once a crowd has left
    share: float = 0.005  # of the time spent in full passes while clients stay, at most
    full_every: float = 3600.0  # a full pass at least this often, whatever it costs
    base_blocks: int = 0  # allocated blocks when the startup heap was frozen
    last: float = 0.0  # monotonic time of the last full pass
    peak: int = 0  # the most blocks seen since then
    rates: deque[float] = field(default_factory=lambda: deque([1e-4], maxlen=5))  # ms/block

    def predicted_ms(self, blocks: int) -> float:
        return statistics.median(self.rates) * max(0, blocks - self.base_blocks)

    def crowd_left(self, blocks: int) -> bool:
        """The heap fell by a fifth (and by 50,000 blocks, a few hundred connections) from
        its peak since the last pass: many connections closed."""
        fell = self.peak - blocks
        return fell >= 50_000 and fell >= (self.peak - self.base_blocks) // 5

    def due(self, now: float, blocks: int) -> bool:
        self.peak = max(self.peak, blocks)
        since = now - self.last
        if since >= self.full_every:
            return True
        cost = self.predicted_ms(blocks)
        if self.crowd_left(blocks):
            return cost <= self.after_crowd_ms
        return cost <= self.budget_ms and since >= cost / 1000 / self.share

    def learn(self, now: float, blocks: int, took_ms: float) -> None:
        """Remember what a pass over `blocks` took (the median of the last five rates)."""
        self.last = now
        self.peak = 0
        grown = blocks - self.base_blocks
        if grown >= 10_000:  # below, the fixed costs say nothing about the rate
            self.rates.append(took_ms / grown)


def collect_fully(passes: FullPasses) -> float:
    """One full pass; what it took, in ms."""
    blocks = sys.getallocatedblocks()
    started = time.perf_counter()
    gc.collect()
    took = (time.perf_counter() - started) * 1000
    passes.learn(time.monotonic(), blocks, took)
    return took


async def keep_collections_short(every: float = 1.0, full_every: float = 3600.0) -> None:
    """Run for the life of the app (started and cancelled by its lifespan)."""
    started = time.perf_counter()
    gc.collect()
    took = (time.perf_counter() - started) * 1000
    blocks = sys.getallocatedblocks()
    gc.freeze()
    gc.disable()
    passes = FullPasses(full_every=full_every, base_blocks=blocks, last=time.monotonic())
    # The first estimate: this walk, three times over, as freeing garbage costs about
    # twice as much again per block as walking live objects (measured after a wave).
    passes.rates[0] = 3 * max(took / max(blocks, 1), 1e-7)
    log.info("startup heap frozen: %d objects (a %.0f ms walk)", gc.get_freeze_count(), took)
    try:
        while True:
            await asyncio.sleep(every)
            if not passes.due(time.monotonic(), sys.getallocatedblocks()):
                gc.collect(1)
                continue
            took = collect_fully(passes)
            level = logging.INFO if took > passes.after_crowd_ms else logging.DEBUG
            log.log(level, "full collection: %.0f ms", took)
    finally:
        gc.unfreeze()
        gc.enable()
