"""An event loop that reports every step holding it too long (the server's, in tests).

`LiveServer(slow_callback=0.05)` starts uvicorn with `--loop tests.support.loopcheck:debug_loop`,
and every step the loop runs (a callback, a task's step) is timed. A step is reported as
"Executing <step> took X seconds" on the server's stderr, which the test reads back
(`LiveServer.slow_steps`), when its **CPU time** passes the threshold (read from
RELAIS_TEST_SLOW_CALLBACK): that is what a request costs every other client. Wall time
alone is not used for the threshold, since on a busy 2-core machine (a CI runner, a
browser test next door) the process is merely descheduled for tens of milliseconds in
the middle of a cheap step; but a step that blocks without using the CPU (a sleep, a
synchronous disk or network call) is reported too once the time it spent blocked passes
three times the threshold. Blocked is off the CPU and not waiting for it: the time the
thread sat runnable in the scheduler's queue (`/proc/thread-self/schedstat`, its second
field) is the machine's business, not the step's (a wall-time criterion failed once on a
loaded 2-core machine: a cheap step descheduled past 150 ms).
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


_schedstat: int | None = None  # the loop thread's /proc/thread-self/schedstat, kept open


def _queued() -> float:
    """Seconds this thread has spent runnable but waiting for a CPU (0 where unknown)."""
    global _schedstat
    try:
        if _schedstat is None:
            _schedstat = os.open("/proc/thread-self/schedstat", os.O_RDONLY)
        return int(os.pread(_schedstat, 64, 0).split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return 0.0


def _timed_run(self: events.Handle) -> None:
    """Handle._run, timed in CPU, wall and run-queue time (installed by `debug_loop`)."""
    wall, cpu, queued = time.perf_counter(), time.thread_time(), _queued()
    try:
        _run(self)
    finally:
        cpu = time.thread_time() - cpu
        wall = time.perf_counter() - wall
        blocked = wall - cpu - (_queued() - queued)
        threshold = float(os.environ.get(THRESHOLD_ENV, "0.05"))
        if cpu >= threshold or blocked >= 3 * threshold:
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
