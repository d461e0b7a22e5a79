"""Notes benchmark: how fast does a rapporteur's keystroke reach the screens following it?

The server runs in its own process (uvicorn as `relais serve` runs it, SQLite backend, so
every relayed update is written first). The load runs in this process on bare asyncio
Protocols with hand-rolled websocket framing, to keep the generator light:

- editors are pycrdt documents that type one character at a random place every
  1/rate seconds (random phase, steady beat), as y-websocket clients would, and apply
  what the others type;
- viewers do the sync handshake, then stamp every update frame on arrival and read which
  (client, clock) runs it carries from the Yjs update itself (`keystrokes`), so each
  keystroke's delay is measured at each measured viewer, merged frames included.

Scenarios: one document with 3 editors and 500 viewers; then 30 documents edited at once,
each with 3 editors and 50 viewers. Same machine, same monotonic clock. Measured from the
editor's send to the viewer's receipt. Also reported: the server's CPU over the measured
period, the generator's, and what a small SQLite commit costs on this disk meanwhile.

On a 2-core machine the generator competes with the server for the CPU, and a busy
generator stamps arrivals late. By default latency is measured at 1 viewer in 5, chosen
at random (`--measure-every 1` measures all); the others read their socket in bulk once a
second, so the server does exactly the same work for them.

The last line printed is one JSON object (p50_ms, p99_ms, multi_doc_p50_ms,
multi_doc_p99_ms, ...).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pycrdt import Doc, Text, TransactionEvent

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.server import free_port, start_server  # noqa: E402
from live.backends.sqlite import SQLiteBackend  # noqa: E402
from live.links.signing import Signer  # noqa: E402
from live.notes import ysync  # noqa: E402

SECRET = "bench-secret"
EVENT = "bench-notes"


def bench_event(workshops: int) -> str:
    """An event definition with `workshops` workshops, one document each."""
    lines = [
        f"id: {EVENT}",
        "title: Banc d'essai des notes",
        "date: 2020-09-30",
        "sites: [{id: hub, name: Catalogue, hub: true}]",
        "themes: [{id: t, title: Thème}]",
        "agenda: [{id: a, kind: workshops, title: Ateliers, start: '14:00', duration: 120}]",
        "workshops:",
    ]
    lines += [f"  - {{id: w{i:02d}, theme: t, site: hub, capacity: 60}}" for i in range(workshops)]
    return "\n".join(lines) + "\n"


def keystrokes(update: bytes) -> list[tuple[int, int]]:
    """(client, end clock) of each struct run in a Yjs v1 update, without a document.

    Enough of the format for what editors here send (text insertions, as single or merged
    updates): Item structs with string content, and GC / Deleted / Skip runs.
    """
    r = ysync.Reader(update)
    runs = []
    for _ in range(r.uint()):
        structs, client, clock = r.uint(), r.uint(), r.uint()
        for _ in range(structs):
            info = update[r.pos]
            r.pos += 1
            kind = info & 0x1F
            if kind in (0, 10):  # GC, Skip
                clock += r.uint()
                continue
            if info & 0x80:
                r.uint(), r.uint()  # left origin
            if info & 0x40:
                r.uint(), r.uint()  # right origin
            if not info & 0xC0:
                if r.uint() == 1:
                    r.string()  # a root type's name
                else:
                    r.uint(), r.uint()  # parent item id
                if info & 0x20:
                    r.string()  # parent sub key
            if kind == 4:  # string: clocks count UTF-16 code units
                clock += len(r.string().encode("utf-16-le")) // 2
            elif kind == 1:  # deleted
                clock += r.uint()
            else:
                raise ValueError(f"content {kind} not expected in this benchmark")
        runs.append((client, clock))
    return runs


@dataclass
class DocRun:
    """One document under load: who typed what when, and every measured delay."""

    workshop: str
    sent: dict[int, dict[int, float]] = field(default_factory=dict)
    delays: list[float] = field(default_factory=list)
    measuring: bool = False
    since: float = 0.0  # keystrokes sent before this are warm-up


PARSED: dict[bytes, list[tuple[int, int]]] = {}  # each broadcast is parsed once, not per viewer


class Conn(asyncio.Protocol):
    """A minimal websocket client speaking y-websocket; subclasses handle the messages.

    Hand-rolled framing (RFC 6455) to keep the load generator's cost per message to a few
    microseconds: the server's frames are unmasked and unfragmented; ours are masked with
    a zero key (valid, and free to apply).
    """

    def __init__(self, path: str, run: DocRun) -> None:
        self.run = run
        self.path = path
        self.transport: asyncio.Transport | None = None
        self.opened = asyncio.get_running_loop().create_future()
        self.synced = asyncio.get_running_loop().create_future()
        self.closed = False
        self.buf = bytearray()
        self.handshaken = False
        self.measure = True  # False: read in bulk, ignore content (see data_received)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        key = base64.b64encode(os.urandom(16)).decode()
        transport.write(
            f"GET {self.path} HTTP/1.1\r\nHost: bench\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n".encode()
        )

    def data_received(self, data: bytes) -> None:
        t = time.monotonic()
        if (
            self.measure
            and self.handshaken
            and not self.buf
            and data[0] == 0x82
            and len(data) == 2 + data[1] < 128
        ):
            self.on_message(data[2:], t)  # the common case: one small binary frame
            return
        buf = self.buf
        buf += data
        if not self.handshaken:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            if not buf.startswith(b"HTTP/1.1 101"):
                self.opened.set_exception(ConnectionError(bytes(buf[:end]).decode()))
                return
            del buf[: end + 4]
            self.handshaken = True
            self.opened.set_result(None)
        while len(buf) >= 2:
            opcode, size, start = buf[0] & 0x0F, buf[1] & 0x7F, 2
            if size == 126:
                if len(buf) < 4:
                    return
                size, start = int.from_bytes(buf[2:4], "big"), 4
            elif size == 127:
                if len(buf) < 10:
                    return
                size, start = int.from_bytes(buf[2:10], "big"), 10
            if len(buf) < start + size:
                return
            payload = bytes(buf[start : start + size])
            del buf[: start + size]
            if opcode == 2:
                self.on_message(payload, t)
            elif opcode == 9:  # ping
                self._frame(0xA, payload)
            elif opcode == 8 and self.transport is not None:
                self.transport.close()
        if not self.measure and self.transport is not None and not self.closed:
            # a quiet viewer reads once a second, in one big chunk: the server's work is the
            # same, and the generator's cost per message all but vanishes
            self.transport.pause_reading()
            asyncio.get_running_loop().call_later(1.0, self._resume)

    def _resume(self) -> None:
        if self.transport is not None and not self.closed:
            self.transport.resume_reading()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if not self.opened.done():
            self.opened.set_exception(ConnectionError("handshake failed"))

    def send(self, message: bytes) -> None:
        self._frame(0x2, message)

    def _frame(self, opcode: int, payload: bytes) -> None:
        n = len(payload)
        if n < 126:
            head = bytes((0x80 | opcode, 0x80 | n))
        elif n < 1 << 16:
            head = bytes((0x80 | opcode, 0x80 | 126)) + n.to_bytes(2, "big")
        else:
            head = bytes((0x80 | opcode, 0x80 | 127)) + n.to_bytes(8, "big")
        assert self.transport is not None
        self.transport.write(head + b"\x00\x00\x00\x00" + payload)

    def on_message(self, frame: bytes, t: float) -> None:
        raise NotImplementedError


class Viewer(Conn):
    """Stamps each update's keystrokes: (editor client, clock) -> arrival time."""

    def __init__(self, uri: str, run: DocRun) -> None:
        super().__init__(uri, run)
        self.seen: dict[int, int] = {}

    def on_message(self, frame: bytes, t: float) -> None:
        if not self.measure:
            return
        runs = PARSED.get(frame)
        if runs is None:
            if frame[:2] == bytes((ysync.SYNC, ysync.STEP2)) and not self.synced.done():
                self.synced.set_result(None)
            if frame[:2] != bytes((ysync.SYNC, ysync.UPDATE)):
                return
            if len(PARSED) > 4096:
                PARSED.clear()
            runs = PARSED[frame] = keystrokes(ysync.Reader(frame[2:]).bytes())
        for client, end in runs:
            sent = self.run.sent.get(client)
            if sent is None:
                continue
            last = self.seen.get(client, 0)
            if end > last:
                self.seen[client] = end
                if self.run.measuring:
                    for clock in range(last + 1, end + 1):
                        t0 = sent.get(clock)
                        if t0 is not None and t0 >= self.run.since:
                            self.run.delays.append(t - t0)


class Editor(Conn):
    """A Yjs editor typing one character at a random place every 1/rate seconds."""

    def __init__(self, uri: str, run: DocRun) -> None:
        super().__init__(uri, run)
        self.doc: Doc[Text] = Doc()
        self.text = self.doc.get("notes", type=Text)
        self.remote = False
        self.doc.observe(self._local)
        self.run.sent[self.doc.client_id] = {}

    def _local(self, event: TransactionEvent) -> None:
        if not self.remote:
            self.send(ysync.update(event.update))

    def on_message(self, frame: bytes, t: float) -> None:
        msg = ysync.parse(frame)
        if isinstance(msg, ysync.SyncStep1):
            self.send(ysync.sync_step2(self.doc.get_update(msg.state)))
        elif isinstance(msg, ysync.SyncStep2 | ysync.Update):
            self.remote = True
            try:
                self.doc.apply_update(msg.update)
            finally:
                self.remote = False
            if isinstance(msg, ysync.SyncStep2) and not self.synced.done():
                self.synced.set_result(None)

    async def type(self, rate: float, until: float) -> None:
        loop = asyncio.get_running_loop()
        beat = loop.time() + random.random() / rate  # a random phase, then a steady rate
        clock = 0
        sent = self.run.sent[self.doc.client_id]
        while time.monotonic() < until and not self.closed:
            await asyncio.sleep(max(0.0, beat - loop.time()))
            beat += 1 / rate
            data = str(self.text).encode()  # pycrdt positions are UTF-8 offsets
            position = random.randint(0, len(data))
            while position < len(data) and (data[position] & 0xC0) == 0x80:
                position += 1  # not inside a multi-byte character
            clock += 1
            sent[clock] = time.monotonic()
            self.text.insert(position, random.choice("abcdefghij "))


async def open_conn(cls: type[Conn], host: str, port: int, path: str, run: DocRun) -> Conn:
    loop = asyncio.get_running_loop()
    _, conn = await loop.create_connection(lambda: cls(path, run), host, port)
    await asyncio.wait_for(conn.opened, 30)
    conn.send(ysync.sync_step1(b"\x00"))
    await asyncio.wait_for(conn.synced, 30)
    return conn


async def scenario(
    data: Path,
    host: str,
    port: int,
    signer: Signer,
    docs: int,
    editors: int,
    viewers: int,
    rate: float,
    seconds: float,
    warmup: float,
    server: subprocess.Popen[bytes],
    measure_every: int = 1,
) -> dict[str, Any]:
    runs = [DocRun(f"w{i:02d}") for i in range(docs)]
    screen = signer.sign(EVENT, "screen")
    conns: list[Conn] = []
    for run in runs:
        path = f"/ws/notes/{EVENT}/{run.workshop}"
        for start in range(0, viewers, 50):
            batch = [
                open_conn(Viewer, host, port, f"{path}?k={screen}", run)
                for _ in range(start, min(viewers, start + 50))
            ]
            conns += await asyncio.gather(*batch)
        token = signer.sign(EVENT, "rapporteur", workshop=run.workshop)
        for _ in range(editors):
            conns.append(await open_conn(Editor, host, port, f"{path}?k={token}", run))
    viewers_all = [c for c in conns if isinstance(c, Viewer)]
    random.shuffle(viewers_all)
    measured = viewers_all[:: max(1, measure_every)]
    for v in viewers_all:
        if v not in measured:
            v.measure = False
    begin = time.monotonic()
    until = begin + warmup + seconds
    typing = [asyncio.create_task(c.type(rate, until)) for c in conns if isinstance(c, Editor)]
    await asyncio.sleep(warmup)
    for run in runs:
        run.measuring, run.since = True, time.monotonic()
    cpu0, own0, t0 = server_cpu(server), time.process_time(), time.monotonic()
    probe = DiskProbe(data)
    probe.start()
    await asyncio.gather(*typing)
    probe.stop()
    cpu1, own1, t1 = server_cpu(server), time.process_time(), time.monotonic()
    await asyncio.sleep(1.0)  # let the last keystrokes arrive
    for run in runs:
        run.measuring = False
    delays = sorted(d * 1000 for run in runs for d in run.delays)
    typed = {
        id(run): sum(1 for sent in run.sent.values() for t in sent.values() if run.since <= t)
        for run in runs
    }
    for c in conns:
        if c.transport is not None:
            c.transport.close()
    await asyncio.sleep(0.5)
    return {
        "p50_ms": round(percentile(delays, 50), 2),
        "p99_ms": round(percentile(delays, 99), 2),
        "max_ms": round(delays[-1], 2) if delays else None,
        "samples": len(delays),
        "expected_samples": sum(typed[id(v.run)] for v in measured),
        "measured_viewers": len(measured),
        "keystrokes": sum(typed.values()),
        "server_cpu_pct": round(100 * (cpu1 - cpu0) / (t1 - t0), 1),
        "disk_commit_p50_ms": round(percentile(probe.times, 50), 2),
        "disk_commit_p99_ms": round(percentile(probe.times, 99), 2),
        "generator_cpu_pct": round(100 * (own1 - own0) / (t1 - t0), 1),
        "loadavg_1min": round(os.getloadavg()[0], 2),
    }


class DiskProbe(threading.Thread):
    """Times a small SQLite commit (WAL, synchronous=FULL, as the server's) every 50 ms in
    the same directory: what one write-ahead costs on this disk while the test runs."""

    def __init__(self, folder: Path) -> None:
        super().__init__(daemon=True)
        self.path = folder / "probe.sqlite3"
        self.times: list[float] = []
        self.done = threading.Event()

    def run(self) -> None:
        db = sqlite3.connect(self.path, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.execute("CREATE TABLE IF NOT EXISTS t (data BLOB)")
        while not self.done.wait(0.05):
            t0 = time.perf_counter()
            db.execute("BEGIN IMMEDIATE")
            db.execute("INSERT INTO t VALUES (?)", (b"x" * 40,))
            db.execute("COMMIT")
            self.times.append((time.perf_counter() - t0) * 1000)
        db.close()
        self.times.sort()

    def stop(self) -> None:
        self.done.set()
        self.join()


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(len(values) * p / 100))]


def server_cpu(proc: subprocess.Popen[bytes]) -> float:
    """Seconds of CPU the server process has used (user + system)."""
    fields = Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def prepare(data: Path, workshops: int) -> None:
    backend = SQLiteBackend(data / "relais.sqlite3")
    await backend.open()
    await backend.put_definition(EVENT, bench_event(workshops))
    await backend.close()


def start(data: Path, port: int) -> subprocess.Popen[bytes]:
    return start_server(
        port,
        {
            "RELAIS_DATA": str(data),
            "RELAIS_SECRET": SECRET,
            "LIVE_BACKEND": os.environ.get("BENCH_BACKEND", "sqlite"),
            "RELAIS_DEMO": "",
        },
    )


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--viewers", type=int, default=500)
    ap.add_argument("--editors", type=int, default=3)
    ap.add_argument("--rate", type=float, default=10.0, help="characters per second per editor")
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--warmup", type=float, default=3.0)
    ap.add_argument("--docs", type=int, default=30)
    ap.add_argument("--doc-viewers", type=int, default=50)
    ap.add_argument("--only", choices=["one", "multi"], default=None)
    ap.add_argument(
        "--measure-every",
        type=int,
        default=5,
        help="measure on 1 viewer in N (a random sample); the others read in bulk once a "
        "second, so the generator sharing the machine stays light",
    )
    args = ap.parse_args()
    signer = Signer(SECRET)
    result: dict[str, Any] = {
        "editors": args.editors,
        "rate_chars_s": args.rate,
        "seconds": args.seconds,
        "viewers": args.viewers,
        "measure_every": args.measure_every,
        "docs": args.docs,
        "doc_viewers": args.doc_viewers,
    }
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        await prepare(data, max(args.docs, 1))
        port = free_port()
        server = start(data, port)
        try:
            if args.only in (None, "one"):
                one = await scenario(
                    data,
                    "127.0.0.1",
                    port,
                    signer,
                    1,
                    args.editors,
                    args.viewers,
                    args.rate,
                    args.seconds,
                    args.warmup,
                    server,
                    args.measure_every,
                )
                print("one document:", json.dumps(one), flush=True)
                result.update(one)
            if args.only in (None, "multi"):
                multi = await scenario(
                    data,
                    "127.0.0.1",
                    port,
                    signer,
                    args.docs,
                    args.editors,
                    args.doc_viewers,
                    args.rate,
                    args.seconds,
                    args.warmup,
                    server,
                    args.measure_every,
                )
                print(f"{args.docs} documents:", json.dumps(multi), flush=True)
                result.update({f"multi_doc_{k}": v for k, v in multi.items()})
        finally:
            server.terminate()
            server.wait(10)
    result["targets_met"] = bool(
        result.get("p99_ms", 0) <= 50 and result.get("multi_doc_p99_ms", 0) <= 100
    )
    print(json.dumps(result))


if __name__ == "__main__":
    asyncio.run(main())
