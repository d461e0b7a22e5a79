"""The participation of an event, live, on every backend: what is acknowledged is written,
each follower hears what concerns it as its view says, a restart or another process
rebuilds the same counts, and deleting the event deletes its log."""

from __future__ import annotations

import json
from typing import Any

import pytest

from live.agenda.outbox import Client
from live.backends.base import Backend
from live.errors import RelaisError
from live.links.signing import Claims
from live.participation.commands import Actor
from live.participation.live import Follower, LiveParticipation
from live.participation.service import ParticipationService
from tests.participation.room import (
    ACCES,
    ALICE,
    ARIEGE,
    BOB,
    CLARA,
    ENSEIGNER,
    FACILITATOR,
    RAPPORTEUR,
)


def client() -> Client:
    return Client(Claims(event=ARIEGE.id, role="participant"), maxsize=100)


def frames(c: Client) -> list[dict[str, Any]]:
    out = [json.loads(f) for f in c.frames]
    c.frames.clear()
    c.size = 0
    return out


async def room_on(backend: Backend) -> LiveParticipation:
    room = LiveParticipation(ARIEGE, backend)
    await room.load()
    return room


async def test_a_proposal_is_written_before_its_workshop_hears_of_it(backend: Backend) -> None:
    room = await room_on(backend)
    alice, bob, clara = client(), client(), client()
    room.join(alice, Follower(ALICE, ACCES, "participant"))
    room.join(bob, Follower(BOB, ACCES, "participant"))
    room.join(clara, Follower(CLARA, ENSEIGNER, "participant"))
    assert [f["type"] for f in frames(bob)] == ["view"]
    frames(alice), frames(clara)
    seq = await room.command("propose", {"title": "Des tablettes", "body": "…"}, ALICE, "l1", "c1")
    stored = await backend.read(room.stream)
    assert [e["seq"] for e in stored] == [seq] and stored[0]["actor"]["person"] == ALICE.person
    (to_bob,) = frames(bob)
    assert to_bob["proposal"]["title"] == "Des tablettes" and "mine" not in to_bob["proposal"]
    (to_alice,) = frames(alice)
    assert to_alice["proposal"]["mine"] is True
    assert frames(clara) == []  # another workshop


async def test_no_frame_carries_a_person_key(backend: Backend) -> None:
    room = await room_on(backend)
    bob, moderator = client(), client()
    room.join(bob, Follower(BOB, ACCES, "participant"))
    room.join(moderator, Follower(RAPPORTEUR, ACCES, "moderator"))
    await room.command("propose", {"title": "Un titre"}, ALICE, "l1", "c1")
    await room.command("support", {"proposal": "p1"}, BOB, "l2", "c1")
    sent = json.dumps(frames(bob) + frames(moderator))
    assert ALICE.person not in sent and BOB.person not in sent


async def test_a_refused_command_writes_and_sends_nothing(backend: Backend) -> None:
    room = await room_on(backend)
    bob = client()
    room.join(bob, Follower(BOB, ACCES, "participant"))
    frames(bob)
    with pytest.raises(RelaisError) as refused:
        await room.command("support", {"proposal": "p9"}, BOB, "l2", "c1")
    assert refused.value.code == "part.no_such_proposal"
    assert await backend.read(room.stream) == [] and frames(bob) == []


async def test_a_retried_command_is_acknowledged_not_counted_twice(backend: Backend) -> None:
    room = await room_on(backend)
    await room.command("propose", {"title": "Un titre"}, ALICE, "l1", "c1")
    first = await room.command("support", {"proposal": "p1"}, BOB, "l2", "c7")
    again = await room.command("support", {"proposal": "p1"}, BOB, "l2", "c7")
    assert first == again and room.state.proposals["p1"].supports == 1


async def test_a_restart_rebuilds_the_same_counts_from_snapshot_and_log(backend: Backend) -> None:
    room = LiveParticipation(ARIEGE, backend, snapshot_every=3)
    await room.load()
    await room.command("propose", {"title": "Un titre"}, ALICE, "l1", "c1")
    for who, link in ((BOB, "b"), (RAPPORTEUR, "r")):
        await room.command("support", {"proposal": "p1"}, who, link, "c1")
    await room.command("unsupport", {"proposal": "p1"}, BOB, "b", "c2")
    again = await room_on(backend)
    assert again.state.to_dict() == room.state.to_dict()
    assert again.state.proposals["p1"].supports == 1


async def test_a_merge_counts_a_person_who_supported_both_once(backend: Backend) -> None:
    room = await room_on(backend)
    screen = client()
    room.join(screen, Follower(FACILITATOR, ACCES, "screen"))
    await room.command("propose", {"title": "Des tablettes"}, ALICE, "l1", "c1")
    await room.command("propose", {"title": "Tablettes"}, BOB, "l2", "c1")
    for person, link in ((ALICE, "l1"), (BOB, "l2")):
        for pid in ("p1", "p2"):
            await room.command("support", {"proposal": pid}, person, link, f"s{pid}")
    await room.command("merge", {"source": "p2", "target": "p1"}, RAPPORTEUR, "l3", "c1")
    await room.command("retain", {"proposal": "p1"}, RAPPORTEUR, "l3", "c2")
    assert room.state.proposals["p1"].supports == 2
    last = frames(screen)[-1]
    assert last["type"] == "retained" and last["retained"][0]["supports"] == 2


async def test_a_poll_reaches_the_workshops_it_is_asked_to(backend: Backend) -> None:
    room = await room_on(backend)
    alice, clara = client(), client()
    room.join(alice, Follower(ALICE, ACCES, "participant"))
    room.join(clara, Follower(CLARA, ENSEIGNER, "participant"))
    frames(alice), frames(clara)
    args = {"scope": "workshop", "target": ACCES, "kind": "one", "question": "Lequel ?"}
    await room.command("poll_open", {**args, "options": ["A", "B"]}, FACILITATOR, "f", "c1")
    await room.command("vote", {"poll": "q1", "choices": [1]}, ALICE, "l1", "c1")
    polls = [f for f in frames(alice) if f["type"] == "poll"]
    assert polls[-1]["poll"]["counts"] == [0, 1] and frames(clara) == []


async def test_deleting_the_event_deletes_its_participation(backend: Backend) -> None:
    service = ParticipationService(backend)
    room = await service.of(ARIEGE)
    follower = client()
    room.join(follower, Follower(ALICE, ACCES, "participant"))
    await room.command("propose", {"title": "Un titre"}, ALICE, "l1", "c1")
    await service.drop(ARIEGE.id)
    await backend.drop_event(ARIEGE.id)
    assert follower.close_reason == "unknown_event"
    assert (
        await backend.read(room.stream) == [] and await backend.load_snapshot(room.stream) is None
    )
    await service.close()


@pytest.mark.redis
async def test_two_processes_on_one_store_count_every_support_once(redis_server: Any) -> None:
    from live.backends.redis import RedisBackend

    prefix = "test-participation-two:"
    one = RedisBackend(redis_server.url, prefix=prefix)
    two = RedisBackend(redis_server.url, prefix=prefix)
    await one.open()
    await two.open()
    try:
        a, b = await room_on(one), await room_on(two)
        await a.command("propose", {"title": "Un titre"}, ALICE, "l1", "c1")
        others = [Actor(f"device:{n}", "participant", ACCES, "foix") for n in range(6)]
        people = [ALICE, BOB, *others]
        for n, person in enumerate(people):  # each process appends on top of the other's
            room = a if n % 2 else b
            await room.command("support", {"proposal": "p1"}, person, f"s{n}", "c1")
        await b.command("unsupport", {"proposal": "p1"}, BOB, "s1", "c2")
        entries = await one.read(a.stream)
        fresh = await room_on(one)
        assert fresh.state.proposals["p1"].supports == len(people) - 1
        assert [e["seq"] for e in entries] == list(range(1, len(entries) + 1))
    finally:
        redis_server.clear(prefix)
        await one.close()
        await two.close()


async def test_a_page_that_says_what_it_has_gets_only_what_changed_since(
    backend: Backend,
) -> None:
    room = await room_on(backend)
    bob = client()
    room.join(bob, Follower(BOB, ACCES, "participant"))
    (view,) = frames(bob)
    await room.command("propose", {"title": "Un titre"}, ALICE, "l1", "c1")
    await room.command("propose", {"title": "Ailleurs"}, CLARA, "l3", "c1")  # not his workshop
    await room.command("support", {"proposal": "p1"}, RAPPORTEUR, "r", "c1")
    back = client()  # Bob's page, reconnected: it had the view of seq 0
    room.join(back, Follower(BOB, ACCES, "participant"), view["seq"], view["epoch"])
    got = frames(back)
    assert [f["type"] for f in got] == ["proposal", "caught_up"]
    assert got[0]["proposal"]["supports"] == 1 and got[1]["seq"] == room.state.seq
    stale = client()  # another log's epoch (a flushed store): the whole picture again
    room.join(stale, Follower(BOB, ACCES, "participant"), view["seq"], "another")
    assert [f["type"] for f in frames(stale)] == ["view"]
    restarted = await room_on(backend)  # what changed is no longer known: the whole picture
    again = client()
    restarted.join(again, Follower(BOB, ACCES, "participant"), view["seq"], view["epoch"])
    assert [f["type"] for f in frames(again)] == ["view"]
