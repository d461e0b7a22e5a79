"""Participation benchmark: 1,000 phones in 20 workshops propose and support, screens watch.

The server runs in its own process (uvicorn, as in production; SQLite by default). With
`--backend redis --processes 2` two server processes share one redis-server of the run's
own, the phones spread round-robin over them: each support reaches the phones of the
other process through the shared log. The phones are real websocket clients (handshake by
the `websockets` sans-I/O protocol, as in `bench/fanout.py`), each with its own device
cookie on its site's shared link, as a phone that scanned the QR code.

Each phone proposes once, then supports 10 proposals of its workshop (others' than its
own, in random order, at `--rate` supports per second over all phones) and withdraws one.

Measured:
- support -> every viewer: from the phone sending `support` to each follower of that
  workshop (its 50 phones and its screen) receiving the change: p50 / p99 / max;
- counts_exact: 1 if every proposal's final count, read from a fresh view of each
  workshop on every process, equals the supports acknowledged minus those withdrawn.

The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.fanout import BenchClient, now_ms, pct  # noqa: E402
from bench.server import free_port, start_redis, start_server, stop  # noqa: E402
from live.links.signing import Signer  # noqa: E402
from live.web.connections import DEVICE_COOKIE, raise_descriptor_limit  # noqa: E402

SECRET = "bench-secret"
EVENT = "bench-participation"
THEMES = ("acces", "enseigner", "ensemble", "responsable", "gouvernance")


def event_file(workshops: int) -> str:
    """The Ariège demo with `workshops` workshops at its one site."""
    text = (ROOT / "live" / "demo" / "ariege-2020.yaml").read_text(encoding="utf-8")
    text = re.sub(r"(?m)^id: .*$", f"id: {EVENT}", text, count=1)
    rows = "".join(
        f"  - {{id: atelier-{n}, theme: {THEMES[n % len(THEMES)]}, site: foix,"
        f" room: Salle {100 + n}, capacity: 60}}\n"
        for n in range(workshops)
    )
    return re.sub(r"(?ms)^workshops:\n(  - .*?\n)+", "workshops:\n" + rows, text, count=1)


class Phone(BenchClient):
    """A bench client that stamps the participation frames: `proposal` and `retained`
    (the change a command made), by seq. `cookie`: the device cookie a page gave it."""

    cookie: str | None = None
    last_view: dict[str, Any]

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        request = self.proto.connect()
        if self.cookie:
            request.headers["Cookie"] = f"{DEVICE_COOKIE}={self.cookie}"
        self.proto.send_request(request)
        self._flush()

    def _text(self, payload: bytes, arrived: float) -> None:
        if payload.startswith((b'{"type":"proposal","seq":', b'{"type":"retained","seq":')):
            start = payload.index(b'"seq":') + 6
            seq = int(payload[start : start + 20].split(b",", 1)[0])
            self.arrivals.setdefault(seq, arrived)
            return
        msg = json.loads(payload)
        if msg["type"] == "view":  # the whole picture, as the follower's view reads it
            self.last_view = msg
        key = msg.get("id", "") if msg["type"] in ("ack", "error") else msg["type"]
        waiter = self.waiters.pop(key, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(msg)


async def open_phone(uri: str, cookie: str | None) -> Phone:
    loop = asyncio.get_running_loop()
    opened: asyncio.Future[None] = loop.create_future()
    host, port = uri.split("//")[1].split("/")[0].split(":")

    def make() -> Phone:
        phone = Phone(uri, opened, {})
        phone.cookie = cookie
        return phone

    _, phone = await loop.create_connection(make, host, int(port))
    await asyncio.wait_for(opened, 30)
    view = phone.expect("view")
    phone.send({"type": "hello", "since": None, "epoch": None})
    await asyncio.wait_for(view, 30)
    return phone


async def command(phone: Phone, cid: str, name: str, **args: Any) -> dict[str, Any]:
    answer = phone.expect(cid)
    phone.send({"type": "command", "id": cid, "name": name, "args": args})
    result: dict[str, Any] = await asyncio.wait_for(answer, 30)
    return result


def settings(data: str, backend: str, redis_url: str) -> dict[str, str]:
    """The environment every process of the run shares: the server's and `relais import`'s."""
    env = {"RELAIS_DATA": data, "RELAIS_SECRET": SECRET, "LIVE_BACKEND": backend}
    if redis_url:
        env["REDIS_URL"] = redis_url
    return env


def import_event(env: dict[str, str], text: str, tmp: Path) -> None:
    path = tmp / f"{EVENT}.yaml"
    path.write_text(text, encoding="utf-8")
    data = env["RELAIS_DATA"]
    subprocess.run(
        [sys.executable, "-m", "live.cli", "--data", data, "import", str(path)],
        cwd=ROOT,
        env={**os.environ, **env},
        check=True,
        stdout=subprocess.DEVNULL,
    )


async def run(args: argparse.Namespace) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="relais-bench-part-"))
    redis: subprocess.Popen[bytes] | None = None
    servers: list[subprocess.Popen[bytes]] = []
    try:
        redis_url = ""
        if args.backend == "redis":
            redis, redis_url = start_redis(tmp / "redis")
        env = settings(str(tmp / "data"), args.backend, redis_url)
        import_event(env, event_file(args.workshops), tmp)
        ports = []
        for _ in range(args.processes):
            ports.append(free_port())
            servers.append(start_server(ports[-1], env))
        return await measure(args, ports)
    finally:
        for server in servers:
            stop(server)
        stop(redis)
        shutil.rmtree(tmp, ignore_errors=True)


async def measure(args: argparse.Namespace, ports: list[int]) -> dict[str, Any]:
    signer = Signer(SECRET)
    site = signer.sign(EVENT, "participant", site="foix")
    screen_link = signer.sign(EVENT, "screen", site="foix")
    workshops = [f"atelier-{n}" for n in range(args.workshops)]

    def uri(k: int, token: str, workshop: str) -> str:
        port = ports[k % len(ports)]
        return f"ws://127.0.0.1:{port}/ws/participation/{EVENT}?k={token}&w={workshop}"

    phones: list[tuple[Phone, str]] = []  # (phone, workshop); phone i on process i % N
    started = time.perf_counter()
    for i in range(0, args.phones, args.batch):
        batch = range(i, min(args.phones, i + args.batch))
        opened = await asyncio.gather(
            *(
                open_phone(
                    uri(j, site, workshops[j % len(workshops)]),
                    signer.sign("", "public", days=30),  # a device cookie, as a page gives
                )
                for j in batch
            )
        )
        phones += [(p, workshops[j % len(workshops)]) for p, j in zip(opened, batch, strict=True)]
    screens = await asyncio.gather(
        *(open_phone(uri(n, screen_link, w), None) for n, w in enumerate(workshops))
    )
    took = time.perf_counter() - started
    print(f"# {len(phones)} phones and {len(screens)} screens in {took:.1f} s", file=sys.stderr)

    # Each phone proposes once (spread: a person may propose every 10 s only).
    proposal_of: dict[int, str] = {}
    by_workshop: dict[str, list[int]] = defaultdict(list)
    for i in range(0, len(phones), args.batch):
        answers = await asyncio.gather(
            *(
                command(phones[j][0], f"p{j}", "propose", title=f"Proposition {j}")
                for j in range(i, min(len(phones), i + args.batch))
            )
        )
        for answer in answers:
            assert answer["type"] == "ack", answer
    # Ids are the state's: read them back from each workshop's view.
    for j, (_, w) in enumerate(phones):
        by_workshop[w].append(j)
    facilitator = signer.sign(EVENT, "facilitator")
    ids = {p["title"]: p["id"] for w in workshops for p in await moderated(uri(0, facilitator, w))}
    for j in range(len(phones)):
        proposal_of[j] = ids[f"Proposition {j}"]

    # The supports: each phone supports `supports` proposals of its workshop (not its own),
    # then withdraws the first; sent at `rate` per second over all phones, in random order.
    plan: list[tuple[int, str, str]] = []  # (phone, name, proposal)
    rng = random.Random(1)
    for j, (_, w) in enumerate(phones):
        others = [proposal_of[k] for k in by_workshop[w] if k != j]
        chosen = rng.sample(others, min(args.supports, len(others)))
        plan += [(j, "support", pid) for pid in chosen]
    rng.shuffle(plan)
    withdraw = {}  # phone -> the proposal it withdraws at the end
    for j, _, pid in plan:
        withdraw.setdefault(j, pid)
    followers = {
        w: [phones[k][0] for k in by_workshop[w]] + [screens[n]] for n, w in enumerate(workshops)
    }

    latencies: list[float] = []
    acked: Counter[str] = Counter()
    refused = 0
    sent_at: dict[int, tuple[float, str]] = {}  # seq -> (sent, workshop)
    interval = 1 / args.rate

    async def one(j: int, name: str, pid: str, n: int) -> None:
        nonlocal refused
        phone, w = phones[j]
        sent = now_ms()
        answer = await command(phone, f"s{n}", name, proposal=pid)
        if answer["type"] != "ack":
            refused += 1
            return
        acked[pid] += 1 if name == "support" else -1
        sent_at[answer["seq"]] = (sent, w)

    tasks = []
    begin = time.perf_counter()
    for n, (j, name, pid) in enumerate(
        plan + [(j, "unsupport", pid) for j, pid in withdraw.items()]
    ):
        tasks.append(asyncio.create_task(one(j, name, pid, n)))
        delay = begin + (n + 1) * interval - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
    await asyncio.gather(*tasks)
    await asyncio.sleep(2.0)  # the last changes reach everyone
    sending = time.perf_counter() - begin
    missing = 0
    for seq, (sent, w) in sent_at.items():
        for viewer in followers[w]:
            arrived = viewer.arrivals.get(seq)
            if arrived is None:
                missing += 1
            else:
                latencies.append(arrived - sent)

    # Final counts, from a fresh moderator view of every workshop on every process.
    exact = True
    for k in range(len(ports)):
        for w in workshops:
            counts = {p["id"]: p["supports"] for p in await moderated(uri(k, facilitator, w))}
            for j in by_workshop[w]:
                pid = proposal_of[j]
                if counts.get(pid) != acked[pid]:
                    exact = False
    for phone, _ in phones:
        phone.transport.close()  # type: ignore[union-attr]
    for screen in screens:
        screen.transport.close()  # type: ignore[union-attr]
    said = f"{refused} refused, {missing} deliveries missing"
    print(f"# {len(sent_at)} changes in {sending:.1f} s, {said}", file=sys.stderr)
    return {
        "phones": len(phones),
        "workshops": len(workshops),
        "screens": len(screens),
        "backend": args.backend,
        "processes": len(ports),
        "supports": sum(1 for _, name, _ in plan),
        "withdrawn": len(withdraw),
        "rate_per_s": args.rate,
        "p50_ms": round(pct(latencies, 50), 2) if latencies else None,
        "p99_ms": round(pct(latencies, 99), 2) if latencies else None,
        "max_ms": round(max(latencies), 2) if latencies else None,
        "refused": refused,
        "missing": missing,
        "counts_exact": int(exact and not refused and not missing),
    }


async def moderated(uri: str) -> list[dict[str, Any]]:
    """A workshop's proposals as a fresh moderator's view gives them (a facilitator's
    link, `uri`): what the server holds, read after the run."""
    check = await open_phone(uri, None)
    check.transport.close()  # type: ignore[union-attr]
    proposals: list[dict[str, Any]] = check.last_view["view"]["proposals"]
    return proposals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--phones", type=int, default=1000)
    parser.add_argument("--workshops", type=int, default=20)
    parser.add_argument("--supports", type=int, default=10, help="supports per phone")
    parser.add_argument("--rate", type=float, default=200.0, help="supports per second, all phones")
    parser.add_argument("--batch", type=int, default=100, help="concurrent connects")
    parser.add_argument("--backend", default="sqlite", choices=["sqlite", "redis"])
    parser.add_argument("--processes", type=int, default=1, help="server processes (Redis only)")
    args = parser.parse_args()
    if args.processes > 1 and args.backend != "redis":
        parser.error("--processes above 1 needs --backend redis (the shared store)")
    raise_descriptor_limit()  # thousands of client sockets in this process
    print(json.dumps(asyncio.run(run(args))))


if __name__ == "__main__":
    main()
