"""The collector policy: automatic passes off while the app runs, short full passes when
they are cheap (so a closed connection's cycles go within seconds), none while the heap is
large but the hourly one, and everything restored after."""

from __future__ import annotations

import asyncio
import gc
import time
import weakref
from collections import deque

from live.gcpolicy import FullPasses, keep_collections_short


async def test_automatic_collection_is_off_while_running_and_restored_after() -> None:
    assert gc.isenabled()
    task = asyncio.create_task(keep_collections_short(every=0.01, full_every=0.05))
    await asyncio.sleep(0.1)  # a few young passes and at least one full one
    assert not gc.isenabled()
    assert gc.get_freeze_count() > 0  # the startup heap is out of the passes' way
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0


class Connection:
    """Stands for what a closed websocket leaves: objects that refer to each other (as
    `websockets`' protocol and its parser do) and hold a buffer."""

    def __init__(self) -> None:
        self.me = self
        self.buffer = bytearray(1 << 20)


async def test_cycles_left_by_closed_connections_are_freed_within_seconds_not_an_hour() -> None:
    task = asyncio.create_task(keep_collections_short(every=0.01))
    try:
        await asyncio.sleep(0.05)
        connection = Connection()
        gone = weakref.ref(connection)
        await asyncio.sleep(0.1)  # open long enough to reach the oldest generation
        del connection  # closed: only a full pass can free it now
        deadline = time.monotonic() + 5
        while gone() is not None and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        assert gone() is None
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def passes(rate: float = 1e-4, **kw: float) -> FullPasses:
    """A model that knows a pass costs `rate` ms per block grown since start."""
    return FullPasses(base_blocks=0, rates=deque([rate]), **kw)


def test_a_cheap_full_pass_runs_at_most_its_share_of_the_time() -> None:
    model = passes(budget_ms=25, share=0.005)
    # 100,000 blocks grown since start: a 10 ms pass, so at most one every 2 s.
    assert not model.due(now=1.0, blocks=100_000)
    assert model.due(now=2.0, blocks=100_000)


def test_no_full_pass_while_many_clients_are_connected_but_the_hourly_one() -> None:
    model = passes(full_every=3600)
    crowd = 2_000_000  # a 200 ms pass: thousands of connections
    assert not any(model.due(now=t, blocks=crowd) for t in range(1, 3600, 7))
    assert model.due(now=3600, blocks=crowd)


def test_when_a_crowd_has_left_a_longer_pass_frees_what_it_left_at_once() -> None:
    model = passes(budget_ms=25, after_crowd_ms=100)
    assert not model.due(now=10, blocks=1_000_000)  # 1,500 connections: a 100 ms pass
    # They closed: their cycles (a 60 ms pass) are too long while clients stay, not now.
    assert model.due(now=11, blocks=600_000)


def test_one_pass_slowed_down_by_a_busy_machine_does_not_stop_the_passes() -> None:
    model = passes(budget_ms=25)
    heap = 120_000
    for t, took in ((10, 17.0), (20, 18.0), (30, 40.0)):  # the third one was unlucky
        model.learn(now=t, blocks=heap, took_ms=took)
    assert model.predicted_ms(heap) < 25
    assert model.due(now=40, blocks=heap)


def test_passes_that_grew_long_stop_being_run() -> None:
    model = passes(budget_ms=25)
    for t in range(3):
        model.learn(now=t * 10, blocks=120_000, took_ms=40.0)
    assert not model.due(now=100, blocks=120_000)
