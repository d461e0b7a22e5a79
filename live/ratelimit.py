"""Rate limits: how often one key (a client address, an event, a mail recipient) may act.

A token bucket per key: `rate` actions at once, then one more each `per / rate` seconds,
so "5 per minute" lets a person retry a few times in a row but not a script send 300.
Kept in memory (one process; a restart forgets, which only ever lets someone through
sooner) and bounded: at most `max_keys` keys, the least recently seen dropped first, so a
flood of distinct keys costs a fixed amount of memory instead of growing it.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

MAX_KEYS = 10_000


class Limiter:
    def __init__(
        self,
        rate: int,
        per: float,
        max_keys: int = MAX_KEYS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`rate` actions per `per` seconds for each key; `rate` <= 0 means no limit."""
        self.rate, self.per, self.max_keys, self.clock = rate, per, max_keys, clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # tokens, at

    def hit(self, key: str) -> float:
        """Count one action of `key`: 0 if allowed, else the seconds to wait before the
        next one would be (nothing is counted then)."""
        if self.rate <= 0:
            return 0.0
        now = self.clock()
        tokens, at = self._buckets.pop(key, (float(self.rate), now))
        tokens = min(float(self.rate), tokens + (now - at) * self.rate / self.per)
        if tokens >= 1:
            tokens -= 1
            wait = 0.0
        else:
            wait = (1 - tokens) * self.per / self.rate
        self._buckets[key] = (tokens, now)  # the most recently seen, last
        while len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)
        return wait

    def __len__(self) -> int:
        return len(self._buckets)
