"""CPU-heavy work off the event loop: a small pool of worker processes.

Everything live (step changes, pongs, notes relays) runs on one event loop, so a handler
that computes for a second stops every screen for that second: a PDF of the synthesis took
fpdf2 1.4 s for five workshops of notes, and the worst pong of 200 pinging clients was
1.4 s meanwhile. Such work runs here, in other processes (a thread would still hold the
GIL for most of it):

- **spawn**, not fork: a worker is a fresh interpreter that imports what the job needs,
  not a copy of the server's heap, sockets and threads; and it runs at a lower priority
  (nice 10), so that on a small machine the event loop gets the CPU first;
- **created at first use** (a server that never exports starts no process) and shut down
  by the app's lifespan;
- **bounded**: at most `size` jobs run at once; the next ones wait for a free worker, at
  most `queue` of them and at most `wait` seconds each, then `Busy` is raised (the route
  answers 503 with Retry-After). An organizer clicking "PDF" expects the file, a little
  later if need be: waiting is right for the few requests an event makes; refusing is for
  a flood, which must not pile up requests (and their data) without end;
- **a job that runs too long** (`timeout`) or a worker that dies (the OOM killer, say)
  fails that job (`Failed`); the pool is replaced at the next one.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

log = logging.getLogger("relais.workers")

T = TypeVar("T")


class Busy(Exception):
    """Every worker is taken and too many jobs wait: try again in `retry_after` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"all workers busy; retry in {retry_after} s")
        self.retry_after = retry_after


class Failed(Exception):
    """A job's worker died or ran out of time."""


def default_size() -> int:
    """One worker per core beyond the one the event loop needs; at least one, at most two."""
    return max(1, min(2, (os.cpu_count() or 2) - 1))


class Workers:
    """A process pool for jobs too heavy for the event loop."""

    def __init__(
        self,
        size: int | None = None,
        queue: int = 8,
        wait: float = 30.0,
        timeout: float = 120.0,
    ) -> None:
        self.size = size or default_size()
        self.queue = queue
        self.wait = wait
        self.timeout = timeout
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None
        self._slots = asyncio.Semaphore(self.size)
        self._waiting = 0

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """`fn(*args)` in a worker process (both picklable: a module-level function)."""
        if self._slots.locked() and self._waiting >= self.queue:
            raise Busy(self._retry_after())
        self._waiting += 1
        try:
            await asyncio.wait_for(self._slots.acquire(), self.wait)
        except TimeoutError:
            raise Busy(self._retry_after()) from None
        finally:
            self._waiting -= 1
        try:
            return await self._submit(fn, *args)
        finally:
            self._slots.release()

    async def _submit(self, fn: Callable[..., T], *args: Any) -> T:
        pool = self._pool
        if pool is None:
            context = multiprocessing.get_context("spawn")
            pool = self._pool = concurrent.futures.ProcessPoolExecutor(
                self.size, context, initializer=_background
            )
        future = asyncio.get_running_loop().run_in_executor(pool, fn, *args)
        try:
            return await asyncio.wait_for(future, self.timeout)
        except TimeoutError:
            log.error("a %s job ran over %.0f s: its worker is stopped", _name(fn), self.timeout)
            self._discard(pool, kill=True)
            raise Failed(f"{_name(fn)} took over {self.timeout:.0f} s") from None
        except BrokenProcessPool:
            log.error("a worker died during a %s job", _name(fn))
            self._discard(pool, kill=False)
            raise Failed(f"the worker running {_name(fn)} died") from None

    def _retry_after(self) -> int:
        return max(1, round(self.wait / 4))

    def _discard(
        self, pool: concurrent.futures.ProcessPoolExecutor, kill: bool, wait: bool = False
    ) -> None:
        """Stop using `pool`; the next job starts a fresh one."""
        if self._pool is pool:
            self._pool = None
        if kill:
            terminate = getattr(pool, "terminate_workers", None)  # Python 3.14
            if terminate is not None:
                terminate()
            else:  # before it, the processes are only in the executor's own table
                for process in list((getattr(pool, "_processes", None) or {}).values()):
                    process.terminate()
        pool.shutdown(wait=wait, cancel_futures=True)

    def close(self) -> None:
        """Stop the workers (the lifespan's end); a running job is abandoned. Waits for
        the pool's own thread to wind down (milliseconds, the workers being stopped), so
        that its queues are released even if the process then ends by a signal."""
        if self._pool is not None:
            self._discard(self._pool, kill=True, wait=True)


def _background() -> None:
    """A worker yields the CPU to the server: on a small machine, the core a render takes
    is one the event loop may need for a step change."""
    if hasattr(os, "nice"):
        os.nice(10)


def _name(fn: Callable[..., Any]) -> str:
    return getattr(fn, "__qualname__", repr(fn))
