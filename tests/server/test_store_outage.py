"""A store that hangs (Redis paused with SIGSTOP, not killed) never makes the console lie.

A command is answered while the store is still silent: `pending` when its append may yet
land (then its `ack`, or `error`, once the store answers), a refusal only for a command
that will never be applied; nothing waits behind the event's lock to land in a burst when
the store comes back. An outage is logged once per process, and so is its end.

A real server (uvicorn, `LIVE_BACKEND=redis`) on a real redis-server of the test's own."""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from websockets.sync.client import ClientConnection, connect

from live.app import demo_definitions
from live.backends.redis import RedisBackend
from live.event_file import parse_event
from live.retention import sweep
from tests.support.servers import LiveServer, RedisServer

pytestmark = pytest.mark.redis
EVENT = "ariege-2020"


@pytest.fixture
def server(tmp_path: Path, own_redis: RedisServer) -> Iterator[LiveServer]:
    live = LiveServer(
        tmp_path / "data", backend="redis", env={"REDIS_URL": own_redis.url}, log_level="info"
    )
    live.start()
    try:
        yield live
    finally:
        live.stop()


def socket(
    server: LiveServer, role: str | None = "facilitator", token: str | None = None
) -> ClientConnection:
    """A page's socket; the same `token` is the same page's link (its command ids)."""
    token = token or (server.link(EVENT, role) if role else None)
    query = f"?k={token}" if token else ""
    return connect(f"{server.ws_url}/ws/events/{EVENT}{query}").__enter__()


def hello(ws: ClientConnection) -> Any:
    ws.send(json.dumps({"type": "hello"}))
    return json.loads(ws.recv(timeout=10))


def press(ws: ClientConnection, cid: str, name: str, **args: Any) -> None:
    ws.send(json.dumps({"type": "command", "id": cid, "name": name, "args": args}))


def answer(ws: ClientConnection, cid: str, kinds: tuple[str, ...] = ("ack", "error")) -> Any:
    """The next frame about command `cid` of one of `kinds`, skipping pushed events."""
    while True:
        msg = json.loads(ws.recv(timeout=20))
        if msg.get("id") == cid and msg["type"] in kinds:
            return msg


ANY = ("ack", "error", "pending")


def paused(store: RedisServer) -> None:
    assert store.proc is not None
    os.kill(store.proc.pid, signal.SIGSTOP)


def resumed(store: RedisServer) -> None:
    assert store.proc is not None
    os.kill(store.proc.pid, signal.SIGCONT)


def logged(store: RedisServer) -> list[tuple[str, str]]:
    """What the event's log holds: (command name, command id as the client sent it)."""
    with redis.Redis.from_url(store.url) as r:
        rows = r.xrange(f"relais:log:agenda:{EVENT}")
    entries = [json.loads(fields[b"e"]) for _id, fields in rows]
    return [(e["name"], e["cid"].rpartition(":")[2]) for e in entries]


def wait_until(condition: Callable[[], bool], what: str, within: float = 30) -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"still waiting for {what}")
        time.sleep(0.05)


def test_a_press_while_the_store_hangs_is_answered_not_confirmed_yet_then_acknowledged(
    server: LiveServer, own_redis: RedisServer
) -> None:
    ws = socket(server)
    hello(ws)
    assert answer_of(ws, "start", "step.next")["type"] == "ack"
    paused(own_redis)
    try:
        press(ws, "b", "step.next")
        first = answer(ws, "b", ANY)  # while the store is still silent
        assert first["type"] == "pending" and first["code"] == "outcome_unknown"
        assert "attente de confirmation" in first["message"]
        assert "rien n'a été modifié" not in first["message"]
    finally:
        resumed(own_redis)
    settled = answer(ws, "b")
    assert settled == {"type": "ack", "id": "b", "seq": 2}
    assert logged(own_redis) == [("step.next", "start"), ("step.next", "b")]


def test_presses_while_the_store_hangs_are_refused_at_once_and_never_applied_later(
    server: LiveServer, own_redis: RedisServer
) -> None:
    ws = socket(server)
    hello(ws)
    screen = socket(server, None)
    hello(screen)
    assert answer_of(ws, "start", "step.next")["type"] == "ack"
    paused(own_redis)
    try:
        press(ws, "b", "step.next")
        assert answer(ws, "b", ANY)["type"] == "pending"
        refused = [answer_of(ws, f"c{i}", "step.next", ANY) for i in range(4)]
    finally:
        resumed(own_redis)
    assert [(r["type"], r["code"]) for r in refused] == [("error", "backend_unavailable")] * 4
    assert all("rien n'a été modifié" in r["message"] for r in refused)
    assert answer(ws, "b")["seq"] == 2
    # Nothing queued lands after the store is back: the next command is the very next seq.
    assert answer_of(ws, "after", "timer.pause") == {"type": "ack", "id": "after", "seq": 3}
    assert logged(own_redis) == [
        ("step.next", "start"),
        ("step.next", "b"),
        ("timer.pause", "after"),
    ]
    seen = []
    while not seen or seen[-1]["seq"] < 3:
        msg = json.loads(screen.recv(timeout=20))
        if msg["type"] == "event":
            seen.append(msg)
    assert [(m["seq"], m["state"]["step"]) for m in seen] == [(1, 0), (2, 1), (3, 1)]


def test_a_pending_press_sent_again_after_a_reconnect_is_applied_once(
    server: LiveServer, own_redis: RedisServer
) -> None:
    link = server.link(EVENT, "facilitator")
    ws = socket(server, token=link)
    hello(ws)
    paused(own_redis)
    try:
        press(ws, "b", "step.next")
        assert answer(ws, "b", ANY)["type"] == "pending"
        ws.close()  # the page loses its socket meanwhile, and sends the command again
    finally:
        resumed(own_redis)
    again = socket(server, token=link)
    hello(again)
    press(again, "b", "step.next")
    assert answer(again, "b") == {"type": "ack", "id": "b", "seq": 1}
    assert logged(own_redis) == [("step.next", "b")]


def test_an_outage_is_logged_once_in_one_line_and_so_is_its_end(
    server: LiveServer, own_redis: RedisServer
) -> None:
    ws = socket(server)
    hello(ws)
    paused(own_redis)
    try:
        wait_until(lambda: "stockage indisponible" in server.log(), "the outage logged")
        press(ws, "b", "step.next")
        assert answer(ws, "b", ANY)["type"] == "pending"
        assert answer_of(ws, "c", "step.next", ANY)["type"] == "error"
    finally:
        resumed(own_redis)
    wait_until(lambda: "stockage de nouveau disponible après" in server.log(), "its end")
    assert answer(ws, "b")["type"] == "ack"
    text = server.log()
    assert text.count("stockage indisponible") == 1
    assert text.count("stockage de nouveau disponible") == 1
    assert "Traceback" not in text


async def test_a_retention_pass_with_nothing_to_purge_rewrites_no_file(
    own_redis: RedisServer,
) -> None:
    backend = RedisBackend(own_redis.url)
    await backend.open()
    try:
        # The demo days (2020) are past any retention.
        events = [parse_event(text, name) for name, text in demo_definitions().items()]
        assert len(events) > 1
        await sweep(backend, events, days=1, confirm_hours=24)
        await sweep(backend, events, days=1, confirm_hours=24)
        assert aof_rewrites(own_redis) == 0
        # Something to purge: one rewrite for the whole pass, not one per event.
        await backend.put_record("registration", f"{events[0].id}:p1", {"email": "a@b.fr"})
        await sweep(backend, events, days=1, confirm_hours=24)
        wait_until(lambda: aof_rewrites(own_redis) == 1, "the rewrite")
        await sweep(backend, events, days=1, confirm_hours=24)
        assert aof_rewrites(own_redis) == 1
    finally:
        await backend.close()


def aof_rewrites(store: RedisServer) -> int:
    with redis.Redis.from_url(store.url) as r:
        info = r.info("persistence")
    return int(info["aof_rewrites"]) + int(info["aof_rewrite_in_progress"])


def answer_of(
    ws: ClientConnection,
    cid: str,
    name: str,
    kinds: tuple[str, ...] = ("ack", "error"),
    **args: Any,
) -> Any:
    press(ws, cid, name, **args)
    return answer(ws, cid, kinds)
