"""An event loop that reports every step holding it too long (the server's, in tests).

`LiveServer(slow_callback=0.05)` starts uvicorn with `--loop tests.loopcheck:debug_loop`,
and every step the loop runs (a callback, a task's step) is timed. A step is reported as
"Executing <step> took X seconds" on the server's stderr, which the test reads back
(`LiveServer.slow_steps`), when its **CPU time** passes the threshold (read from
RELAIS_TEST_SLOW_CALLBACK): that is what a request costs every other client. Wall time
alone is not used for the threshold, since on a busy 2-core machine (a CI runner, a
browser test next door) the process is merely descheduled for tens of milliseconds in
the middle of a cheap step; but a step that blocks without using the CPU (a sleep, a
synchronous disk or network call) is reported too once its wall time passes three times
the threshold.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import time
from asyncio import base_events, events
from typing import Any

THRESHOLD_ENV = "RELAIS_TEST_SLOW_CALLBACK"
SLOW_STEP = re.compile(r"Executing (.+) took (\d+\.\d+) seconds")
log = logging.getLogger("asyncio")
_run = events.Handle._run


def _timed_run(self: events.Handle) -> None:
    """Handle._run, timed in CPU and wall time (installed by `debug_loop`)."""
    wall, cpu = time.perf_counter(), time.thread_time()
    try:
        _run(self)
    finally:
        cpu = time.thread_time() - cpu
        wall = time.perf_counter() - wall
        threshold = float(os.environ.get(THRESHOLD_ENV, "0.05"))
        if cpu >= threshold or wall >= 3 * threshold:
            what = base_events._format_handle(self)  # type: ignore[attr-defined]  # the task, named
            log.warning("Executing %s took %.3f seconds (wall %.3f)", what, cpu, wall)


class DebugLoop(asyncio.SelectorEventLoop):
    """Keeps its creation tracebacks (debug mode: uvicorn's runner turns it off on the
    loop it gets) but leaves slow steps to `_timed_run`."""

    def set_debug(self, enabled: bool) -> None:
        super().set_debug(True)


def debug_loop() -> asyncio.AbstractEventLoop:
    events.Handle._run = _timed_run  # type: ignore[method-assign]
    loop = DebugLoop()
    loop.slow_callback_duration = 3600.0  # asyncio's own, wall-clock report: off
    return loop


def slow_steps(log: str) -> list[tuple[float, str]]:
    """(seconds, what) of every step the log says held the loop too long."""
    return [(float(m.group(2)), m.group(1)) for m in SLOW_STEP.finditer(log)]


async def blocking_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """An ASGI app whose every request holds the loop, sleeping 200 ms then computing for
    120 ms (the check's own test)."""
    if scope["type"] != "http":
        return
    time.sleep(0.2)  # blocking without the CPU: reported by its wall time
    until = time.thread_time() + 0.12
    while time.thread_time() < until:  # and holding the CPU: reported by its CPU time
        pass
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"blocked 100 ms"})
