"""Participation with several server processes on one redis-server, as a large day would
run it: phones on two processes support the same proposals, each phone sees the others'
supports whatever process they reached, and both processes end with the same exact
counts; a process killed without warning loses nothing that was acknowledged."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect

from live.web.connections import DEVICE_COOKIE
from tests.support.servers import LiveServer, RedisServer, on_one_redis

pytestmark = pytest.mark.redis
EVENT, ACCES = "ariege-2020", "atelier-acces"


@pytest.fixture
def processes(tmp_path: Path, own_redis: RedisServer) -> Iterator[list[LiveServer]]:
    with on_one_redis(tmp_path, own_redis, 2) as servers:
        yield servers


async def phone(server: LiveServer, token: str, cookie: str | None = None) -> ClientConnection:
    headers = {"Cookie": f"{DEVICE_COOKIE}={cookie}"} if cookie else None
    url = f"{server.ws_url}/ws/participation/{EVENT}?k={token}&w={ACCES}"
    ws = await connect(url, additional_headers=headers, max_size=None)
    await ws.send(json.dumps({"type": "hello", "since": None, "epoch": None}))
    await until(ws, lambda m: m["type"] == "view")
    return ws


def device(server: LiveServer, token: str) -> str:
    return str(httpx.get(f"{server.url}/e/{EVENT}/me?k={token}").cookies[DEVICE_COOKIE])


async def until(ws: ClientConnection, wanted: Any) -> dict[str, Any]:
    while True:
        msg: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), 15))
        if wanted(msg):
            return msg


async def send(ws: ClientConnection, cid: str, name: str, **args: Any) -> dict[str, Any]:
    await ws.send(json.dumps({"type": "command", "id": cid, "name": name, "args": args}))
    return await until(ws, lambda m: m["type"] in ("ack", "error") and m.get("id") == cid)


async def counts(server: LiveServer) -> dict[str, int]:
    """Every proposal's supports, from a fresh moderator's view of the workshop."""
    url = (
        f"{server.ws_url}/ws/participation/{EVENT}?k={server.link(EVENT, 'facilitator')}&w={ACCES}"
    )
    async with connect(url, max_size=None) as ws:
        await ws.send(json.dumps({"type": "hello", "since": None, "epoch": None}))
        view = await until(ws, lambda m: m["type"] == "view")
    return {p["id"]: p["supports"] for p in view["view"]["proposals"]}


async def test_phones_on_two_processes_count_every_support_once(
    processes: list[LiveServer],
) -> None:
    one, two = processes
    site = one.link(EVENT, "participant", site="foix")
    author = await phone(one, site, device(one, site))
    assert (await send(author, "c1", "propose", title="Des tablettes"))["type"] == "ack"
    phones = [await phone(server, site, device(server, site)) for server in (one, two) * 3]
    for n, ws in enumerate(phones):
        answer = await send(ws, f"s{n}", "support", proposal="p1")
        assert answer["type"] == "ack", answer
    assert (await send(phones[1], "u1", "unsupport", proposal="p1"))["type"] == "ack"
    watcher = phones[0]  # on process one: it hears the last change, made on process two
    await until(watcher, lambda m: m["type"] == "proposal" and m["proposal"]["supports"] == 5)
    assert await counts(one) == await counts(two) == {"p1": 5}
    for ws in (author, *phones):
        await ws.close()


async def test_a_process_killed_loses_no_acknowledged_support(processes: list[LiveServer]) -> None:
    one, two = processes
    site = one.link(EVENT, "participant", site="foix")
    author = await phone(two, site, device(two, site))
    await send(author, "c1", "propose", title="Former les parents")
    phones = [await phone(one, site, device(one, site)) for _ in range(4)]
    for n, ws in enumerate(phones):
        assert (await send(ws, f"s{n}", "support", proposal="p1"))["type"] == "ack"
    one.kill()  # kill -9: nothing flushed, nothing said
    assert await counts(two) == {"p1": 4}
    one.start()
    assert await counts(one) == {"p1": 4}
    await author.close()
