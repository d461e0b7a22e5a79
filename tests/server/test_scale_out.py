"""Several server processes on one Redis serve one event as one: commands sent to any of
them are linearized, every client sees the same events in the same order, a client can
move between processes, a process can die, and Redis can go away and come back.

Three real server processes (uvicorn, `LIVE_BACKEND=redis`) on different ports share one
real redis-server started for each test."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.sync.client import ClientConnection, connect

from live.links.signing import Signer
from tests.links.test_sheet import Sheet
from tests.support.servers import SECRET, LiveServer, RedisServer, on_one_redis
from tests.support.yclient import YClient

pytestmark = pytest.mark.redis
EVENT = "ariege-2020"
WORKSHOP = "atelier-acces"


@pytest.fixture
def processes(tmp_path: Path, own_redis: RedisServer) -> Iterator[list[LiveServer]]:
    with on_one_redis(tmp_path, own_redis, 3) as servers:
        yield servers


def socket(server: LiveServer, role: str | None = "facilitator") -> ClientConnection:
    query = f"?k={server.link(EVENT, role)}" if role else ""
    return connect(f"{server.ws_url}/ws/events/{EVENT}{query}").__enter__()


def hello(ws: ClientConnection, since: int | None = None, epoch: str | None = None) -> Any:
    ws.send(json.dumps({"type": "hello", "since": since, "epoch": epoch}))
    return json.loads(ws.recv(timeout=5))


def send(ws: ClientConnection, cid: str, name: str, **args: Any) -> dict[str, Any]:
    """A command and its answer (ack or error), skipping the events pushed meanwhile."""
    ws.send(json.dumps({"type": "command", "id": cid, "name": name, "args": args}))
    while True:
        msg = json.loads(ws.recv(timeout=10))
        if msg.get("id") == cid and msg["type"] in ("ack", "error"):
            return dict(msg)


class Follower:
    """A screen on one process that records the seq and name of every event it sees."""

    def __init__(self, server: LiveServer) -> None:
        self.ws = socket(server, None)
        first = hello(self.ws)
        self.epoch = first["epoch"]
        self.seen: list[tuple[int, str]] = []
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            for frame in self.ws:
                msg = json.loads(frame)
                if msg["type"] == "event":
                    self.seen.append((msg["seq"], msg["name"]))
        except Exception:
            pass

    def wait_for(self, seq: int, timeout: float = 10) -> list[tuple[int, str]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and (not self.seen or self.seen[-1][0] < seq):
            time.sleep(0.02)
        return list(self.seen)

    def close(self) -> None:
        self.ws.close()
        self.thread.join(5)


def log_of(server: LiveServer) -> list[dict[str, Any]]:
    ws = socket(server)
    events = hello(ws, since=0, epoch=hello(socket(server))["epoch"])
    ws.close()
    return list(events["events"]) if events["type"] == "events" else []


def test_commands_sent_to_three_processes_at_once_are_linearized(
    processes: list[LiveServer],
) -> None:
    first = socket(processes[0])
    hello(first)
    assert send(first, "start", "step.next")["type"] == "ack"
    acks: dict[str, int] = {}

    def console(i: int) -> None:
        ws = socket(processes[i])
        hello(ws)
        for n in range(15):
            answer = send(ws, f"p{i}-{n}", "timer.adjust", minutes=1)
            assert answer["type"] == "ack", answer
            acks[f"p{i}-{n}"] = answer["seq"]
        ws.close()

    threads = [threading.Thread(target=console, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(acks) == 45
    assert sorted(acks.values()) == list(range(2, 47))  # gapless, no seq given twice
    for server in processes:  # every process holds the same state: all 45 applied
        ws = socket(server)
        state = hello(ws)["state"]
        assert state["seq"] == 46 and state["timer"]["duration_ms"] == (45 + 45) * 60_000
        ws.close()


def test_a_client_on_each_process_sees_every_event_in_the_same_order(
    processes: list[LiveServer],
) -> None:
    followers = [Follower(server) for server in processes]
    consoles = [socket(server) for server in processes]
    for ws in consoles:
        hello(ws)
    names = ["step.next", "timer.pause", "timer.resume", "timer.adjust", "step.next"]
    for i, name in enumerate(names):
        args = {"minutes": 2} if name == "timer.adjust" else {}
        assert send(consoles[i % 3], f"c{i}", name, **args)["type"] == "ack"
    seen = [f.wait_for(len(names)) for f in followers]
    assert seen[0] == [(i + 1, name) for i, name in enumerate(names)]
    assert seen[0] == seen[1] == seen[2]
    for f in followers:
        f.close()


def test_a_client_moving_to_another_process_receives_exactly_what_it_missed(
    processes: list[LiveServer],
) -> None:
    ws = socket(processes[0])
    snapshot = hello(ws)
    send(ws, "a", "step.next")
    send(ws, "b", "timer.pause")
    ws.close()
    other = socket(processes[1])
    send(other, "c", "timer.resume")
    send(other, "d", "step.next")
    other.close()
    moved = socket(processes[2], None)
    missed = hello(moved, since=2, epoch=snapshot["epoch"])
    assert missed["type"] == "events"
    assert [(e["seq"], e["name"]) for e in missed["events"]] == [
        (3, "timer.resume"),
        (4, "step.next"),
    ]
    moved.close()


def test_a_process_killed_mid_event_loses_nothing_acknowledged(
    processes: list[LiveServer],
) -> None:
    doomed, survivor = processes[0], processes[1]
    screen = Follower(doomed)
    ws = socket(doomed)
    hello(ws)
    acked = [send(ws, "k0", "step.next")]
    acked += [send(ws, f"k{i}", "timer.adjust", minutes=1) for i in range(1, 4)]
    assert [a["type"] for a in acked] == ["ack"] * 4
    seen = screen.wait_for(4)
    doomed.kill()
    screen.close()
    # The screen resumes on another process exactly where it left off.
    resumed = socket(survivor, None)
    answer = hello(resumed, since=seen[-1][0], epoch=screen.epoch)
    assert answer["type"] == "events" and answer["events"] == [] and answer["seq"] == 4
    resumed.close()
    assert [(e["seq"], e["name"]) for e in log_of(survivor)] == [
        (1, "step.next"),
        (2, "timer.adjust"),
        (3, "timer.adjust"),
        (4, "timer.adjust"),
    ]


def test_with_redis_away_commands_fail_fast_and_all_resumes_after(
    processes: list[LiveServer], own_redis: RedisServer
) -> None:
    redis = own_redis
    ws = socket(processes[0])
    hello(ws)
    assert send(ws, "a", "step.next")["type"] == "ack"
    screen = Follower(processes[1])
    redis.stop()
    started = time.monotonic()
    answer = send(ws, "b", "timer.pause")
    assert answer["type"] == "error" and answer["code"] == "backend_unavailable"
    assert "indisponible" in answer["message"] or "unavailable" in answer["message"]
    assert time.monotonic() - started < 15  # answered, not hung (a loaded runner is slow)
    redis.start()
    deadline = time.monotonic() + 10
    while True:  # the pool reconnects by itself
        answer = send(ws, f"retry-{time.monotonic()}", "timer.pause")
        if answer["type"] == "ack" or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert answer["type"] == "ack" and answer["seq"] == 2
    assert screen.wait_for(2)[-1] == (2, "timer.pause")  # the other process follows again
    screen.close()
    ws.close()


def notes(server: LiveServer, role: str, **claims: Any) -> YClient:
    token = server.link(EVENT, role, **claims)
    return YClient(f"{server.ws_url}/ws/notes/{EVENT}/{WORKSHOP}?k={token}")


async def test_notes_typed_on_one_process_appear_on_the_others(
    processes: list[LiveServer],
) -> None:
    async with (
        notes(processes[0], "rapporteur", workshop=WORKSHOP) as rapporteur,
        notes(processes[1], "screen", site="foix") as screen,
        notes(processes[2], "rapporteur", workshop=WORKSHOP) as co_rapporteur,
    ):
        rapporteur.type(len("## Constats\n\n"), "Zones blanches en montagne. ")
        co_rapporteur.append("Former les équipes.")
        deadline = time.monotonic() + 5  # each client on its own process: poll all three
        while not str(screen) == str(rapporteur) == str(co_rapporteur):
            assert time.monotonic() < deadline, (str(screen), str(rapporteur), str(co_rapporteur))
            await asyncio.sleep(0.02)
        assert str(screen).count("## Constats") == 1  # one template, whoever loaded first
        assert "Zones blanches en montagne." in str(screen)
        assert "Former les équipes." in str(screen)
    # Written before relayed: a screen opened later on yet another process reads it all.
    async with notes(processes[2], "screen", site="foix") as late:
        assert "Zones blanches en montagne." in str(late)


def test_a_link_revoked_on_one_process_closes_its_pages_on_the_others(
    processes: list[LiveServer],
) -> None:
    with httpx.Client(timeout=30, follow_redirects=True) as client:
        sheet = Sheet(processes[0], client)
        sheet.k = processes[0].link(EVENT, "organizer")
        sheet.base = f"{processes[0].url}/e/{EVENT}/links"
        screen = sheet.links()["screen:foix"]
        token = str(httpx.URL(screen).params["k"])
        with connect(f"{processes[1].ws_url}/ws/events/{EVENT}?k={token}") as ws:
            hello(ws)
            link = Signer(SECRET).verify(token, EVENT, now=0).id
            assert sheet.post("revoke", slot="screen:foix", link=link).status_code == 200
            frames = []
            with contextlib.suppress(Exception):
                while True:
                    frames.append(json.loads(ws.recv(timeout=5)))
            assert [f.get("code") for f in frames if f["type"] == "error"] == ["link_revoked"]
            assert ws.close_code == 4403


def test_relais_serve_with_workers_serves_one_event_from_several_processes(
    tmp_path: Path, own_redis: RedisServer
) -> None:
    """`relais serve --workers 2`: connections land on either process, and every client
    sees the same events in the same order."""
    import os
    import subprocess
    import sys
    import urllib.request

    from tests.support.servers import ROOT, free_port

    port = free_port()
    env = {
        **os.environ,
        "RELAIS_DATA": str(tmp_path / "data"),
        "RELAIS_SECRET": SECRET,
        "LIVE_BACKEND": "redis",
        "REDIS_URL": own_redis.url,
    }
    relais = [sys.executable, "-m", "live.cli", "serve", "--demo", "--port", str(port)]
    server = subprocess.Popen(
        [*relais, "--workers", "2", "--log-level", "warning"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    proxy = LiveServer(tmp_path / "unused")
    proxy.port, proxy.url, proxy.ws_url = port, f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{proxy.url}/healthz", timeout=1):
                    break
            except OSError:
                time.sleep(0.2)
        followers = [Follower(proxy) for _ in range(8)]
        ws = socket(proxy)
        hello(ws)
        for i, name in enumerate(["step.next", "timer.pause", "timer.resume", "step.next"]):
            assert send(ws, f"w{i}", name)["type"] == "ack"
        seen = [f.wait_for(4) for f in followers]
        assert all(s == seen[0] for s in seen) and [n for _, n in seen[0]] == [
            "step.next",
            "timer.pause",
            "timer.resume",
            "step.next",
        ]
        for f in followers:
            f.close()
        ws.close()
    finally:
        server.terminate()
        server.wait(20)


def test_relais_serve_with_workers_needs_redis(tmp_path: Path) -> None:
    from live.cli import main

    assert main(["--data", str(tmp_path), "serve", "--workers", "2"]) == 2
