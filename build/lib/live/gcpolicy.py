"""Keep the garbage collector's full passes off the live path.

With thousands of open websockets, a full collection walks every connection's objects and
stops the process for a few hundred milliseconds (measured: 240-300 ms at 5,000 clients),
and CPython starts one whenever the heap has grown by a quarter: during an event, that
delays a step change on every screen. So the automatic collector is switched off and this
task collects instead: the young generations every second (a few milliseconds: what is
new since the last pass), and everything only once an hour, logged, so that cycles left
by closed connections are still reclaimed.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time

log = logging.getLogger("relais.gc")


async def keep_collections_short(every: float = 1.0, full_every: float = 3600.0) -> None:
    """Run for the life of the app (started and cancelled by its lifespan)."""
    gc.collect()
    gc.disable()
    last_full = time.monotonic()
    try:
        while True:
            await asyncio.sleep(every)
            if time.monotonic() - last_full < full_every:
                gc.collect(1)
                continue
            started = time.perf_counter()
            gc.collect()
            last_full = time.monotonic()
            log.info("full collection: %.0f ms", (time.perf_counter() - started) * 1000)
    finally:
        gc.enable()
