"""Contributions in the backend's records, on every backend: publish (again), unpublish,
list, refusals that store nothing; and on Redis, several processes that each keep their
own pages and search index and answer the same."""

from __future__ import annotations

import asyncio
import secrets

import pytest

from live.backends.base import Backend
from live.backends.redis import RedisBackend
from live.consultation.model import ConsultationRefused
from live.consultation.publish import reprise
from live.consultation.space import Spaces
from live.consultation.store import Contributions
from live.consultation.views import browse
from tests.consultation.world import EGN, contribution, departements, proposal
from tests.support.servers import RedisServer


async def loaded(backend: Backend) -> Contributions:
    store = Contributions(backend)
    await store.put_consultation(EGN)
    for c in departements():
        await store.publish(c)
    return store


async def test_published_contributions_are_listed_by_event(backend: Backend) -> None:
    store = await loaded(backend)
    assert await store.consultation(EGN.id) == EGN
    listed = await store.list(EGN.id)
    assert [c.event for c in listed] == [
        "ariege-2020",
        "haute-garonne-2020",
        "pamiers-2020",
        "vienne-2020",
    ]
    assert listed == sorted(departements(), key=lambda c: c.event)


async def test_publishing_again_replaces_the_whole_contribution(backend: Backend) -> None:
    store = await loaded(backend)
    again = contribution("ariege-2020", proposal("ariege-2020", "p9", "Autre chose"))
    await store.publish(again)
    stored = await store.get(EGN.id, "ariege-2020")
    assert stored is not None and [p.id for p in stored.proposals] == ["ariege-2020/p9"]


async def test_an_unpublished_contribution_is_gone(backend: Backend) -> None:
    store = await loaded(backend)
    assert await store.unpublish(EGN.id, "vienne-2020") is True
    assert await store.get(EGN.id, "vienne-2020") is None
    assert "vienne-2020" not in [c.event for c in await store.list(EGN.id)]
    assert await store.unpublish(EGN.id, "vienne-2020") is False


async def test_a_reprise_of_an_unknown_origin_stores_nothing(backend: Backend) -> None:
    store = await loaded(backend)
    carried = reprise(
        EGN, contribution("toulouse-2020"), departements(), ["ariege-2020/p1"], "reworded", "R"
    )
    await store.unpublish(EGN.id, "ariege-2020")
    with pytest.raises(ConsultationRefused) as refusal:
        await store.publish(carried)
    assert refusal.value.code == "consultation.unknown_origin"
    assert await store.get(EGN.id, "toulouse-2020") is None


async def test_a_contribution_of_an_unknown_consultation_is_refused(backend: Backend) -> None:
    store = Contributions(backend)
    with pytest.raises(ConsultationRefused) as refusal:
        await store.publish(departements()[0])
    assert refusal.value.code == "consultation.unknown"


async def test_a_process_sees_its_own_publications_at_once(backend: Backend) -> None:
    store = await loaded(backend)
    spaces = Spaces(store)
    await spaces.load()
    space = spaces.get(EGN.id)
    assert space is not None and len(space.search) == 6
    await spaces.unpublish(EGN.id, "ariege-2020")
    assert space.search.search("ordinateur").hits[0].id == "haute-garonne-2020/p3"
    assert "ariege-2020" not in space.published.contributions
    await spaces.publish(departements()[0])
    assert [h.id for h in space.search.search("ordinateur").hits] == [
        "haute-garonne-2020/p3",
        "ariege-2020/p1",
    ]


async def until(condition: object, seconds: float = 5.0) -> None:
    """Wait for `condition()` (a process applying another's announcement)."""
    deadline = asyncio.get_running_loop().time() + seconds
    while not condition():  # type: ignore[operator]
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("the other process never caught up")
        await asyncio.sleep(0.02)


@pytest.mark.redis
async def test_two_processes_on_redis_answer_the_same(redis_server: RedisServer) -> None:
    prefix = f"test-{secrets.token_hex(6)}:"
    one, two = (
        RedisBackend(redis_server.url, prefix=prefix),
        RedisBackend(redis_server.url, prefix=prefix),
    )
    await one.open()
    await two.open()
    try:
        first = Spaces(await loaded(one))
        second = Spaces(Contributions(two))
        await first.load()
        following = [asyncio.create_task(s.follow()) for s in (first, second)]
        await until(lambda: second.get(EGN.id) is not None)  # loaded on subscribing

        def answers(spaces: Spaces) -> tuple[list[str], list[str]]:
            space = spaces.get(EGN.id)
            assert space is not None
            found = [h.id for h in space.search.search("élèves équipés").hits]
            shown = [p["id"] for p in browse(space.published, theme="acces")["proposals"]]
            return found, shown

        assert answers(first) == answers(second)
        await first.unpublish(EGN.id, "ariege-2020")
        await until(lambda: "ariege-2020" not in second.get(EGN.id).contributions)  # type: ignore[union-attr]
        assert answers(first) == answers(second)
        assert "ariege-2020/p1" not in answers(second)[0] + answers(second)[1]
        await first.publish(
            contribution("toulouse-2020", proposal("toulouse-2020", "p1", "Équiper les élèves"))
        )
        await until(lambda: "toulouse-2020" in second.get(EGN.id).contributions)  # type: ignore[union-attr]
        assert answers(first) == answers(second)
        assert "toulouse-2020/p1" in answers(second)[0]
        for task in following:
            task.cancel()
        await asyncio.gather(*following, return_exceptions=True)
    finally:
        await one.close()
        await two.close()
        redis_server.clear(prefix)
