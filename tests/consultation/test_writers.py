"""Two writers of one event's contribution, in two processes that do not hear each other
yet: each reads what the other wrote before changing it, so neither loses the other's
acknowledged reprise; a writer kept waiting too long is refused and changes nothing; a
lease whose holder died does not block the next writer."""

from __future__ import annotations

import asyncio
import time

import pytest

from live.backends.base import Backend
from live.consultation import store as store_module
from live.consultation.model import ConsultationRefused
from live.consultation.publish import reprise
from live.consultation.space import Spaces
from live.consultation.store import LEASES, Contributions
from tests.consultation.world import EGN, contribution, departements

TOULOUSE = "toulouse-2020"


async def world(backend: Backend) -> tuple[Spaces, Spaces]:
    """Two processes' spaces on one store, neither following the other's announcements."""
    a, b = Spaces(Contributions(backend)), Spaces(Contributions(backend))
    await a.store.put_consultation(EGN)
    for c in departements():
        await a.store.publish(c)
    await a.load()
    await b.load()
    return a, b


async def add_reprise(spaces: Spaces, origin: str, title: str) -> None:
    async with spaces.writing(EGN.id, TOULOUSE) as space:
        assert space is not None
        base = space.contributions.get(TOULOUSE) or contribution(TOULOUSE)
        made = reprise(EGN, base, space.contributions.values(), [origin], "reworded", title)
        await spaces.publish(made)


async def test_two_processes_reprising_into_one_contribution_keep_both(backend: Backend) -> None:
    a, b = await world(backend)
    await add_reprise(a, "ariege-2020/p1", "Équiper les écoles")
    # b has not heard of Toulouse's contribution: it reads it again before writing.
    await add_reprise(b, "haute-garonne-2020/p3", "Former les familles")
    stored = await a.store.get(EGN.id, TOULOUSE)
    assert stored is not None
    assert [p.title for p in stored.proposals] == ["Équiper les écoles", "Former les familles"]
    assert await backend.list_records(LEASES) == {}  # released


async def test_a_writer_kept_waiting_is_refused_and_changes_nothing(
    backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = await world(backend)
    monkeypatch.setattr(store_module, "WAIT_SECONDS", 0.0)
    held, release = asyncio.Event(), asyncio.Event()

    async def slow_writer() -> None:
        async with a.writing(EGN.id, TOULOUSE):
            held.set()
            await release.wait()

    task = asyncio.create_task(slow_writer())
    await held.wait()
    with pytest.raises(ConsultationRefused) as refused:
        await add_reprise(b, "ariege-2020/p1", "Équiper les écoles")
    assert refused.value.code == "consultation.busy"
    release.set()
    await task
    assert await a.store.get(EGN.id, TOULOUSE) is None


async def test_a_lease_whose_holder_died_does_not_block_the_next_writer(backend: Backend) -> None:
    a, _ = await world(backend)
    await backend.put_record(LEASES, f"{EGN.id}/{TOULOUSE}", {"until": time.time() - 1})
    await add_reprise(a, "ariege-2020/p1", "Équiper les écoles")
    assert await a.store.get(EGN.id, TOULOUSE) is not None
