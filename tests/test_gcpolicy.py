"""The collector policy: automatic full passes off while the app runs, back on after."""

from __future__ import annotations

import asyncio
import gc

from live.gcpolicy import keep_collections_short


async def test_automatic_collection_is_off_while_running_and_restored_after() -> None:
    assert gc.isenabled()
    task = asyncio.create_task(keep_collections_short(every=0.01, full_every=0.05))
    await asyncio.sleep(0.1)  # a few young passes and at least one full one
    assert not gc.isenabled()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert gc.isenabled()
