"""The Redis backend against a real redis-server: what only several processes sharing one
store, or a store that can go away, can show. (The behavioural suite every backend passes,
Redis included, is tests/backends/test_backends.py.)"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import time
import urllib.request
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import redis

from live.agenda.catalogue import Catalogue
from live.backends.base import BackendUnavailable, SeqConflict
from live.backends.redis import RedisBackend
from live.links.signing import Claims
from tests.support.servers import LiveServer, RedisServer

pytestmark = pytest.mark.redis

DEMO = Path(__file__).resolve().parents[2] / "live" / "demo" / "ariege-2020.yaml"
REGIE = Claims(event="ariege-2020", role="facilitator", id="regie")


@pytest.fixture
async def make_backend(
    redis_server: RedisServer,
) -> AsyncIterator[Callable[..., Awaitable[RedisBackend]]]:
    """Opened backends on one fresh prefix of the session's server, each with its own
    connections, as separate server processes would have."""
    prefix = f"test-{secrets.token_hex(6)}:"
    opened: list[RedisBackend] = []

    async def make(url: str = redis_server.url, **options: Any) -> RedisBackend:
        b = RedisBackend(url, **{"prefix": prefix, **options})
        await b.open()
        opened.append(b)
        return b

    yield make
    for b in opened:
        await b.close()
    redis_server.clear(prefix)


async def test_writers_on_several_connections_never_share_nor_skip_a_seq(
    make_backend: Callable[..., Awaitable[RedisBackend]],
) -> None:
    writers = [await make_backend() for _ in range(6)]
    # All at once for the first seq: exactly one wins.
    results = await asyncio.gather(
        *(w.append("s", {"seq": 1, "by": i}) for i, w in enumerate(writers)),
        return_exceptions=True,
    )
    assert sum(r is None for r in results) == 1
    assert all(isinstance(r, SeqConflict) for r in results if r is not None)

    # Then each writer, on its own view of the log, tries to append until there are 300.
    acknowledged: dict[int, int] = {1: results.index(None)}
    refused = 0

    async def write(i: int, w: RedisBackend) -> None:
        nonlocal refused
        while True:
            entries = await w.read("s", since=max(0, len(acknowledged) - 8))
            seq = entries[-1]["seq"] + 1 if entries else len(acknowledged) + 1
            if seq > 300:
                return
            try:
                await w.append("s", {"seq": seq, "by": i})
            except SeqConflict:
                refused += 1
                continue
            assert seq not in acknowledged, f"seq {seq} acknowledged twice"
            acknowledged[seq] = i

    await asyncio.gather(*(write(i, w) for i, w in enumerate(writers)))
    log = await writers[0].read("s")
    assert [e["seq"] for e in log] == list(range(1, 301))  # gapless, no duplicate
    assert {e["seq"]: e["by"] for e in log} == acknowledged  # each seq is its one winner's
    assert refused > 0  # they did race


async def test_follow_returns_what_another_connection_appends(
    make_backend: Callable[..., Awaitable[RedisBackend]],
) -> None:
    reader, writer = await make_backend(), await make_backend()
    await writer.append("s", {"seq": 1})
    assert [e["seq"] for e in await reader.follow("s", 0, 5000)] == [1]  # there already

    loop = asyncio.get_running_loop()
    started = loop.time()
    waiting = asyncio.create_task(reader.follow("s", 1, 5000))
    await asyncio.sleep(0.2)
    assert not waiting.done()
    await writer.append("s", {"seq": 2, "name": "step.next"})
    assert await waiting == [{"seq": 2, "name": "step.next"}]
    assert loop.time() - started < 1  # woken by the append, not by the timeout

    started = loop.time()
    assert await reader.follow("s", 2, 300) == []
    assert 0.25 < loop.time() - started < 1.5


async def test_a_flushed_redis_is_an_empty_store_and_the_hub_starts_a_new_epoch(
    own_redis: RedisServer,
) -> None:
    backend = RedisBackend(own_redis.url)
    await backend.open()
    try:
        hub = Catalogue(backend)
        await hub.put(DEMO.read_text())
        live = hub.events["ariege-2020"]
        assert await live.command("step.next", {}, REGIE, "a") == 1
        await backend.save_snapshot(live.stream, 1, live.state.to_dict())
        epoch, version = live.epoch, await backend.definitions_version()

        with redis.Redis.from_url(own_redis.url) as r:
            r.flushdb()
        assert await backend.load_snapshot(live.stream) is None
        assert await backend.read(live.stream) == []
        assert await backend.get_record("epoch", "ariege-2020") is None

        restarted = Catalogue(backend)  # as a server starting on the flushed store
        await restarted.put(DEMO.read_text())
        again = restarted.events["ariege-2020"]
        assert again.epoch != epoch and again.state.seq == 0  # clients reload, not resume
        # and a process that followed the definitions sees the put after the flush
        assert await backend.definitions_version() != version
    finally:
        await backend.close()


async def test_redis_stopped_every_call_fails_fast_then_works_again_once_restarted(
    own_redis: RedisServer,
) -> None:
    backend = RedisBackend(own_redis.url)
    await backend.open()
    try:
        await backend.append("s", {"seq": 1})
        await backend.notes_append("ev/w", [b"\xff\x00"])
        await asyncio.sleep(1.2)  # past `appendfsync everysec`
        own_redis.stop()

        calls: dict[str, Callable[[], Awaitable[Any]]] = {
            "append": lambda: backend.append("s", {"seq": 2}),
            "read": lambda: backend.read("s"),
            "follow": lambda: backend.follow("s", 1, 5000),
            "load_snapshot": lambda: backend.load_snapshot("s"),
            "definitions_version": backend.definitions_version,
            "notes_append": lambda: backend.notes_append("ev/w", [b"x"]),
            "notes_load": lambda: backend.notes_load("ev/w"),
            "create_record": lambda: backend.create_record("k", "ev:1", {}),
            "list_records": lambda: backend.list_records("k", "ev:"),
            "drop_event": lambda: backend.drop_event("ev"),
        }
        for name, call in calls.items():
            started = time.monotonic()
            with pytest.raises(BackendUnavailable) as refused:
                await call()
            assert refused.value.code == "backend_unavailable", name
            # Never hangs: a bound far above its 2 s deadline (a busy CI runner is slow).
            assert time.monotonic() - started < 15, name
        other = RedisBackend(own_redis.url)  # a server starting meanwhile is told at once
        with pytest.raises(BackendUnavailable):
            await other.open()
        await other.close()

        own_redis.start()  # same port, same directory: its append-only file is read back
        assert await backend.read("s") == [{"seq": 1}]
        await backend.append("s", {"seq": 2})
        assert await backend.notes_load("ev/w") == [b"\xff\x00"]
    finally:
        await backend.close()


async def test_an_unresponsive_redis_fails_within_the_read_timeout(
    own_redis: RedisServer,
) -> None:
    backend = RedisBackend(own_redis.url)
    await backend.open()
    assert own_redis.proc is not None
    try:
        await backend.append("s", {"seq": 1})
        os.kill(own_redis.proc.pid, signal.SIGSTOP)  # hung: connections open, no answer
        for call in (lambda: backend.read("s"), lambda: backend.follow("s", 1, 500)):
            started = time.monotonic()
            with pytest.raises(BackendUnavailable):
                await call()
            # Never hangs: the 2 s deadline (+ the 0.5 s wait), bounded far above it.
            assert time.monotonic() - started < 15
        os.kill(own_redis.proc.pid, signal.SIGCONT)
        assert [e["seq"] for e in await backend.read("s")] == [1]
    finally:
        await backend.close()


async def test_binary_notes_updates_come_back_byte_for_byte(
    make_backend: Callable[..., Awaitable[RedisBackend]],
) -> None:
    backend = await make_backend()
    updates = [
        bytes(range(256)),
        b"\x00" * 1000,
        b"\xc3\x28\xa0\xa1\xed\xa0\x80",  # invalid UTF-8
        "é✓".encode("utf-16"),
        os.urandom(512 * 1024),  # a notes frame at its limit
        b"\r\n*1\r\n$4\r\nPING\r\n",  # looks like the protocol itself
    ]
    await backend.notes_append_many({"ev/w1": updates[:3], "ev/w2": updates[3:]})
    assert await backend.notes_load("ev/w1") == updates[:3]
    assert await backend.notes_load("ev/w2") == updates[3:]
    merged = os.urandom(4096)
    await backend.notes_compact("ev/w2", merged, 2)
    assert await backend.notes_load("ev/w2") == [merged, updates[5]]


async def test_instances_with_different_prefixes_share_one_redis_without_meeting(
    make_backend: Callable[..., Awaitable[RedisBackend]], redis_server: RedisServer
) -> None:
    one = await make_backend()
    other = await make_backend(prefix=f"test-{secrets.token_hex(6)}:")
    try:
        await one.put_definition("ev", "id: ev")
        await one.append("agenda:ev", {"seq": 1})
        await other.append("agenda:ev", {"seq": 1})  # its own log: seq 1 again
        assert await other.definitions() == {} and await other.definitions_version() == 0
        await other.drop_event("ev")
        assert await one.definitions() == {"ev": "id: ev"}
    finally:
        redis_server.clear(other.prefix)


async def test_forget_rewrites_the_append_only_file_without_the_deleted_record(
    own_redis: RedisServer,
) -> None:
    backend = RedisBackend(own_redis.url)
    await backend.open()
    name = f"Personne Effacée {secrets.token_hex(4)}".encode()

    def on_disk() -> bool:
        return any(name in p.read_bytes() for p in own_redis.dir.rglob("*") if p.is_file())

    try:
        await backend.put_record("registration", "ev:1", {"name": name.decode()})
        await backend.put_record("registration", "ev:2", {"name": "Reste"})
        await backend.delete_record("registration", "ev:1")
        assert on_disk()  # the append-only file still has the command that wrote it
        await backend.forget()
        deadline = time.monotonic() + 10
        while on_disk() and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        assert not on_disk()
        assert await backend.get_record("registration", "ev:2") == {"name": "Reste"}
    finally:
        await backend.close()


def test_the_server_runs_on_redis_and_keeps_its_state_there(
    tmp_path: Path, own_redis: RedisServer
) -> None:
    server = LiveServer(tmp_path / "data", backend="redis", env={"REDIS_URL": own_redis.url})

    def state() -> dict[str, Any]:
        with urllib.request.urlopen(f"{server.url}/api/events/ariege-2020/state") as r:
            return dict(json.load(r))

    server.start()
    try:
        epoch = state()["epoch"]
        with redis.Redis.from_url(own_redis.url) as r:
            assert r.hget("relais:records:epoch", "ariege-2020") is not None
        server.restart()
        assert state()["epoch"] == epoch
    finally:
        server.stop()
