"""Rate limits: how often one key (a client address, an event, a mail recipient) may act.

A token bucket per key: `rate` actions at once, then one more each `per / rate` seconds,
so "5 per minute" lets a person retry a few times in a row but not a script send 300.
Kept in memory (one process; a restart forgets, which only ever lets someone through
sooner) and bounded: at most `max_keys` keys, the least recently seen dropped first, so a
flood of distinct keys costs a fixed amount of memory instead of growing it.

`Bucket` is one such bucket on its own, for a single connection's frames (the live
websocket): the same arithmetic, without keys.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

MAX_KEYS = 10_000


@dataclass(slots=True)
class Bucket:
    """`burst` actions at once, refilled at `rate` a second."""

    rate: float
    burst: float
    tokens: float
    at: float

    @classmethod
    def full(cls, rate: float, burst: float, now: float) -> Bucket:
        return cls(rate, burst, burst, now)

    def take(self, now: float) -> float:
        """Count one action: 0 if allowed, else the seconds to wait before the next one
        would be (nothing is counted then)."""
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


class Limiter:
    def __init__(
        self,
        rate: int,
        per: float,
        max_keys: int = MAX_KEYS,
        clock: Callable[[], float] = time.monotonic,
        burst: int | None = None,
    ) -> None:
        """`rate` actions per `per` seconds for each key, `burst` of them at once (`rate`
        unless given: a class registering together needs more at once than an hour's
        pace would give); `rate` or `burst` <= 0 means no limit."""
        self.rate, self.per, self.max_keys, self.clock = rate, per, max_keys, clock
        self.burst = burst
        self._buckets: OrderedDict[str, Bucket] = OrderedDict()

    def hit(self, key: str, rate: int | None = None) -> float:
        """Count one action of `key`: 0 if allowed, else the seconds to wait before the
        next one would be (nothing is counted then). `rate`, when given, is this key's own
        (an event's budget follows its capacity, which its organizer may change)."""
        rate = self.rate if rate is None else rate
        burst = rate if self.burst is None else self.burst
        if rate <= 0 or burst <= 0:
            return 0.0
        now = self.clock()
        bucket = self._buckets.pop(key, None) or Bucket.full(rate / self.per, burst, now)
        bucket.rate, bucket.burst = rate / self.per, burst
        wait = bucket.take(now)
        self._buckets[key] = bucket  # the most recently seen, last
        while len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)
        return wait

    def __len__(self) -> int:
        return len(self._buckets)
