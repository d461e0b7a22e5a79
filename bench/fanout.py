"""Fan-out benchmark: N websocket clients follow one event; how fast does a step change reach all?

The server runs in its own process (uvicorn, as in production, SQLite backend by default).
With `--backend redis` the run starts a redis-server of its own; with `--processes N` (Redis
only) N server processes serve the one event, the clients spread round-robin over them, and
the facilitator's commands go to process 0: the others see them through the shared log.
The clients run here, in this process: each is a real websocket client (handshake and
framing by the `websockets` sans-I/O protocol) on a bare asyncio Protocol, so that the load
generator stays light and its own cost shows as little as possible in the figures.

Measured:
- delivery latency of a step change, from the facilitator sending the command to each
  client receiving the event (same machine, same clock): p50 / p99 / max over all rounds;
- server RSS per idle connected client (after all have said hello; all processes summed,
  Redis left out);
- clock-offset error: each client estimates its offset to the server clock NTP-style
  (min-RTT of 3 pings, as static/js/live.js does); the true offset is 0 on one machine.

The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, cast

from websockets.client import ClientProtocol
from websockets.http11 import Response
from websockets.uri import parse_uri

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.server import free_port, start_redis, start_server, stop  # noqa: E402
from live.links.signing import Signer  # noqa: E402
from live.web.connections import raise_descriptor_limit  # noqa: E402

SECRET = "bench-secret"
EVENT = "ariege-2020"


def now_ms() -> float:
    return time.time() * 1000


class BenchClient(asyncio.Protocol):
    """A websocket client that stamps each frame the moment its bytes arrive."""

    def __init__(self, uri: str, on_open: asyncio.Future[None], tally: dict[int, int]) -> None:
        self.proto = ClientProtocol(parse_uri(uri), max_size=None)
        self.on_open = on_open
        self.tally = tally  # seq -> clients that have it, shared: "all arrived" in O(1)
        self.transport: asyncio.Transport | None = None
        self.arrivals: dict[int, float] = {}  # seq -> ms
        self.pongs: list[tuple[float, float, float]] = []
        self.waiters: dict[str, asyncio.Future[Any]] = {}
        self.seq = 0
        self.open = False
        self.buffer = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, yet behave as one.
        self.transport = cast(asyncio.Transport, transport)
        self.proto.send_request(self.proto.connect())
        self._flush()

    def _flush(self) -> None:
        assert self.transport is not None
        for data in self.proto.data_to_send():
            if data:
                self.transport.write(data)

    def data_received(self, data: bytes) -> None:
        arrived = now_ms()
        if not self.open:
            # The handshake goes through the websockets sans-I/O protocol.
            self.proto.receive_data(data)
            for ev in self.proto.events_received():
                if isinstance(ev, Response):
                    self.open = True
                    if not self.on_open.done():
                        self.on_open.set_result(None)
            self._flush()
            return
        # After it, server frames are unmasked and unfragmented here: parse them directly,
        # so that the load generator costs as little as possible per frame.
        buf = self.buffer + data if self.buffer else data
        i = 0
        while len(buf) - i >= 2:
            opcode = buf[i] & 0x0F
            length = buf[i + 1] & 0x7F
            head = 2
            if length == 126:
                if len(buf) - i < 4:
                    break
                length = int.from_bytes(buf[i + 2 : i + 4], "big")
                head = 4
            elif length == 127:
                if len(buf) - i < 10:
                    break
                length = int.from_bytes(buf[i + 2 : i + 10], "big")
                head = 10
            if len(buf) - i < head + length:
                break
            payload = buf[i + head : i + head + length]
            i += head + length
            if opcode == 0x1:
                self._text(payload, arrived)
            elif opcode == 0x9:  # keepalive ping from the server
                self.proto.send_pong(payload)
                self._flush()
        self.buffer = buf[i:]

    def _text(self, payload: bytes, arrived: float) -> None:
        if payload.startswith(b'{"type":"event","seq":'):
            # The hot path: stamp the event without decoding its whole state.
            seq = int(payload[22:40].split(b",", 1)[0])
            self.arrivals[seq] = arrived
            self.seq = seq
            self.tally[seq] = self.tally.get(seq, 0) + 1
        else:
            self._frame(json.loads(payload), arrived)

    def _frame(self, msg: dict[str, Any], arrived: float) -> None:
        kind = msg["type"]
        if kind == "event":
            self.arrivals[msg["seq"]] = arrived
            self.seq = msg["seq"]
            self.tally[self.seq] = self.tally.get(self.seq, 0) + 1
        elif kind in ("snapshot", "events"):
            self.seq = msg["seq"]
        elif kind == "pong":
            self.pongs.append((msg["t0"], msg["t1"], arrived))
        waiter = self.waiters.pop(kind, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(msg)

    def send(self, payload: dict[str, Any]) -> None:
        self.proto.send_text(json.dumps(payload).encode())
        self._flush()

    def expect(self, kind: str) -> asyncio.Future[Any]:
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.waiters[kind] = fut
        return fut

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.on_open.done():
            self.on_open.set_exception(ConnectionError("closed during handshake"))


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def start(port: int, data: str, backend: str, redis_url: str = "") -> subprocess.Popen[bytes]:
    env = {"RELAIS_DATA": data, "RELAIS_SECRET": SECRET, "RELAIS_DEMO": "1"}
    if redis_url:
        env["REDIS_URL"] = redis_url
    return start_server(port, {**env, "LIVE_BACKEND": backend})


async def connect(uri: str, tally: dict[int, int] | None = None) -> BenchClient:
    loop = asyncio.get_running_loop()
    opened: asyncio.Future[None] = loop.create_future()
    host, port = uri.split("//")[1].split("/")[0].split(":")
    seen = tally if tally is not None else {}
    _, client = await loop.create_connection(
        lambda: BenchClient(uri, opened, seen), host, int(port)
    )
    await asyncio.wait_for(opened, 30)  # a handshake that never ends fails the run, not hangs it
    return client


TICK_MS = 1000 / os.sysconf("SC_CLK_TCK")


def cpu_ms(pid: int) -> float:
    """CPU time (user + system) a process has used: where a round's time goes."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * TICK_MS


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def run(args: argparse.Namespace) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="relais-bench-"))
    redis: subprocess.Popen[bytes] | None = None
    servers: list[subprocess.Popen[bytes]] = []
    try:
        redis_url = ""
        if args.backend == "redis":
            redis, redis_url = start_redis(tmp / "redis")
        ports = []
        for _ in range(args.processes):  # one after the other: each loads the demo event
            ports.append(free_port())
            servers.append(start(ports[-1], str(tmp), args.backend, redis_url))
        return await measure(args, ports, servers, redis)
    finally:
        for server in servers:
            stop(server)
        stop(redis)
        shutil.rmtree(tmp, ignore_errors=True)


async def measure(
    args: argparse.Namespace,
    ports: list[int],
    servers: list[subprocess.Popen[bytes]],
    redis: subprocess.Popen[bytes] | None,
) -> dict[str, Any]:
    bases = [f"ws://127.0.0.1:{port}/ws/events/{EVENT}" for port in ports]
    signer = Signer(SECRET)
    # Warm up every server (imports, first event load) before the memory baseline.
    for base in bases:
        warm = await connect(base)
        warm.send({"type": "hello"})
        await asyncio.sleep(0.5)
        warm.transport.close()  # type: ignore[union-attr]
    await asyncio.sleep(0.5)
    rss_before = sum(rss_kb(s.pid) for s in servers)

    tally: dict[int, int] = {}
    clients: list[BenchClient] = []  # client i on process i % len(bases)
    started = time.perf_counter()
    for i in range(0, args.clients, args.batch):
        n = min(args.batch, args.clients - i)
        clients += await asyncio.gather(
            *(connect(bases[(i + j) % len(bases)], tally) for j in range(n))
        )
    snapshots = [c.expect("snapshot") for c in clients]
    for c in clients:
        c.send({"type": "hello"})
    await asyncio.gather(*snapshots)
    connect_s = time.perf_counter() - started
    await asyncio.sleep(1.0)
    rss_after = sum(rss_kb(s.pid) for s in servers)
    print(
        f"# {len(clients)} clients connected to {len(bases)} process(es) in {connect_s:.1f} s",
        file=sys.stderr,
    )

    # Clock offset: 3 pings per client, staggered so the pings do not queue up.
    for _ in range(3):
        for i in range(0, len(clients), 50):
            for c in clients[i : i + 50]:
                c.send({"type": "ping", "t0": now_ms()})
            await asyncio.sleep(0.005)
        await asyncio.sleep(0.3)
    errors = []
    for c in clients:
        if c.pongs:
            t0, t1, t2 = min(c.pongs, key=lambda p: p[2] - p[0])
            errors.append(abs(t1 - (t0 + t2) / 2))

    # Step changes from the facilitator (on process 0), each awaited by every client.
    console = await connect(f"{bases[0]}?k={signer.sign(EVENT, 'facilitator')}")
    snap = console.expect("snapshot")
    console.send({"type": "hello"})
    await snap
    # The load generator's own garbage collector must not pause inside a measurement.
    gc.collect()
    gc.freeze()
    latencies: list[float] = []
    by_process: list[list[float]] = [[] for _ in bases]
    firsts: list[list[float]] = [[] for _ in bases]  # each process's first delivery
    # CPU used during the counted rounds (from the command to the last arrival): each
    # server process, Redis, and this load generator, which shares the 2 cores.
    pids = [s.pid for s in servers] + ([redis.pid] if redis is not None else [])
    cpu = [0.0] * (len(pids) + 1)
    for r in range(-args.warmup, args.rounds):
        ack = console.expect("ack")
        cpu_before = [cpu_ms(pid) for pid in pids] + [time.process_time() * 1000]
        sent = now_ms()
        console.send(
            {"type": "command", "id": f"r{r}", "name": "step.goto", "args": {"index": r % 2}}
        )
        seq = (await ack)["seq"]
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and tally.get(seq, 0) < len(clients):
            await asyncio.sleep(0.01)
        cpu_after = [cpu_ms(pid) for pid in pids] + [time.process_time() * 1000]
        got = [c.arrivals[seq] - sent for c in clients if seq in c.arrivals]
        missing = len(clients) - len(got)
        if r >= 0:
            latencies += got
            cpu = [t + b - a for t, a, b in zip(cpu, cpu_before, cpu_after, strict=True)]
            for k in range(len(bases)):
                mine = [
                    c.arrivals[seq] - sent for c in clients[k :: len(bases)] if seq in c.arrivals
                ]
                by_process[k] += mine
                firsts[k].append(min(mine, default=0.0))
        print(
            f"# round {r}{' (warm-up)' * (r < 0)}: p50 {statistics.median(got):.1f} ms,"
            f" max {max(got):.1f} ms" + (f", {missing} missing" if missing else ""),
            file=sys.stderr,
        )
        await asyncio.sleep(args.pause)
    for c in [*clients, console]:
        c.transport.close()  # type: ignore[union-attr]
    rounds = max(1, args.rounds)
    names = [f"server {k}" for k in range(len(servers))] + ["redis"] * (redis is not None)
    print(
        "# CPU per round, command to last arrival: "
        + ", ".join(
            f"{n} {t / rounds:.0f} ms" for n, t in zip([*names, "bench"], cpu, strict=True)
        ),
        file=sys.stderr,
    )
    for k, mine in enumerate(by_process):
        print(
            f"# process {k}: first delivery p50 {statistics.median(firsts[k]):.1f} ms,"
            f" p50 {pct(mine, 50):.1f} ms, p99 {pct(mine, 99):.1f} ms",
            file=sys.stderr,
        )
    figures = {
        "clients": len(clients),
        "rounds": args.rounds,
        "backend": args.backend,
        "processes": len(bases),
        "command_process": 0,
        "p50_ms": round(pct(latencies, 50), 2),
        "p99_ms": round(pct(latencies, 99), 2),
        "max_ms": round(max(latencies), 2),
        "rss_per_client_kb": round((rss_after - rss_before) / max(1, len(clients)), 2),
        "server_rss_mb": round(rss_after / 1024, 1),
        "offset_error_p50_ms": round(pct(errors, 50), 3),
        "offset_error_p99_ms": round(pct(errors, 99), 3),
        "connect_seconds": round(connect_s, 2),
    }
    if len(bases) > 1:  # the command's process against the ones that follow the log
        figures["p99_ms_by_process"] = [round(pct(v, 99), 2) for v in by_process]
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=1, help="rounds not counted")
    parser.add_argument("--pause", type=float, default=0.3, help="seconds between rounds")
    parser.add_argument("--batch", type=int, default=200, help="concurrent connects")
    parser.add_argument("--backend", default="sqlite", choices=["sqlite", "memory", "redis"])
    parser.add_argument(
        "--processes", type=int, default=1, help="server processes on one Redis (--backend redis)"
    )
    args = parser.parse_args()
    if args.processes < 1:
        parser.error("--processes must be at least 1")
    if args.processes > 1 and args.backend != "redis":
        parser.error(
            f"--processes {args.processes} needs --backend redis: only Redis is shared by"
            f" several server processes (--backend {args.backend} is one process's own)"
        )
    raise_descriptor_limit()  # thousands of client sockets in this process
    print(json.dumps(asyncio.run(run(args))))


if __name__ == "__main__":
    main()
