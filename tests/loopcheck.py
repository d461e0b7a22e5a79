"""An event loop that reports every step holding it too long (the server's, in tests).

`LiveServer(slow_callback=0.05)` starts uvicorn with `--loop tests.loopcheck:debug_loop`:
asyncio's debug mode then logs "Executing <callback or task step> took X seconds" for each
step over the threshold (read from RELAIS_TEST_SLOW_CALLBACK), on the server's stderr,
which the test reads back (`LiveServer.slow_steps`).
"""

from __future__ import annotations

import asyncio
import os
import re
import time
from typing import Any

THRESHOLD_ENV = "RELAIS_TEST_SLOW_CALLBACK"
SLOW_STEP = re.compile(r"Executing (.+) took (\d+\.\d+) seconds")


class DebugLoop(asyncio.SelectorEventLoop):
    """Stays in debug mode: uvicorn's runner calls `set_debug(False)` on the loop it gets."""

    def set_debug(self, enabled: bool) -> None:
        super().set_debug(True)


def debug_loop() -> asyncio.AbstractEventLoop:
    loop = DebugLoop()
    loop.slow_callback_duration = float(os.environ.get(THRESHOLD_ENV, "0.05"))
    return loop


def slow_steps(log: str) -> list[tuple[float, str]]:
    """(seconds, what) of every step the log says held the loop too long."""
    return [(float(m.group(2)), m.group(1)) for m in SLOW_STEP.finditer(log)]


async def blocking_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """An ASGI app whose every request holds the loop 100 ms (the check's own test)."""
    if scope["type"] != "http":
        return
    time.sleep(0.1)
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"blocked 100 ms"})
