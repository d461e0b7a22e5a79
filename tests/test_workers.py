"""The worker processes that keep heavy jobs off the event loop: a job runs elsewhere, a
flood is refused with a time to retry, and a job that dies or hangs fails alone."""

from __future__ import annotations

import asyncio
import os
import time

import pytest

from live.workers import Busy, Failed, Workers


async def test_a_job_runs_in_another_process() -> None:
    workers = Workers(size=1)
    try:
        assert await workers.run(os.getpid) != os.getpid()
    finally:
        workers.close()


async def test_a_job_waits_for_a_free_worker_rather_than_being_refused() -> None:
    workers = Workers(size=1, queue=4, wait=30)
    try:
        first = asyncio.create_task(workers.run(time.sleep, 0.5))
        await asyncio.sleep(0.05)
        assert await workers.run(os.getpid) > 0  # waited for the first job, then ran
        await first
    finally:
        workers.close()


async def test_with_every_worker_taken_and_the_queue_full_a_job_is_refused_with_a_delay() -> None:
    workers = Workers(size=1, queue=0, wait=30)
    try:
        first = asyncio.create_task(workers.run(time.sleep, 1))
        await asyncio.sleep(0.05)
        with pytest.raises(Busy) as refused:
            await workers.run(os.getpid)
        assert refused.value.retry_after >= 1
        await first
    finally:
        workers.close()


async def test_a_job_that_waited_too_long_for_a_worker_is_refused() -> None:
    workers = Workers(size=1, queue=4, wait=0.2)
    try:
        first = asyncio.create_task(workers.run(time.sleep, 2))
        await asyncio.sleep(0.05)
        with pytest.raises(Busy):
            await workers.run(os.getpid)
        first.cancel()
    finally:
        workers.close()


async def test_a_worker_that_dies_fails_its_job_and_the_next_job_gets_a_new_one() -> None:
    workers = Workers(size=1)
    try:
        with pytest.raises(Failed):
            await workers.run(os._exit, 1)
        assert await workers.run(os.getpid) > 0
    finally:
        workers.close()


async def test_a_job_over_its_time_is_stopped_and_the_next_job_runs() -> None:
    workers = Workers(size=1, timeout=0.5)
    try:
        with pytest.raises(Failed):
            await workers.run(time.sleep, 30)
        assert await workers.run(os.getpid) > 0
    finally:
        workers.close()
