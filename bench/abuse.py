"""Abuse: what a hostile public and a stalled store can make the server hold or say.

Two runs, one JSON object (`python bench/abuse.py`; `--only notes|store`):

**notes** (issue 19, item 1): a workshop's notes near their 2 MB cap; `--sockets` (600)
participant notes sockets from one address each send one sync step 1 (the whole document,
please) and never read a byte, while a console pings every 50 ms and, midway, a site
screen opens the same notes. Figures:

- `rss_growth_mb`: the server's resident memory at its peak, minus before (required ≤ 300;
  it was 1,176: every socket's answer held in its outbox and transport);
- `worst_console_ping_ms`: the longest console ping during the attack (required ≤ 300);
- `screen_join_ms`: how long the screen waited for the whole document meanwhile;
- `reset_within_s`: sockets the server let go (reset) by the end of the run, and the
  seconds the run lasted (keepalive alone would have taken about 40 s).

**store** (items 2): see `bench/abuse_store.py` (Redis paused with SIGSTOP while the
régie presses "next" once a second).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pycrdt import Doc, Text  # noqa: E402
from websockets.client import ClientProtocol  # noqa: E402
from websockets.uri import parse_uri  # noqa: E402

from bench import abuse_store  # noqa: E402
from bench.churn import notes_text, raise_open_files  # noqa: E402
from bench.fanout import connect, now_ms  # noqa: E402
from bench.server import free_port, start_server, stop  # noqa: E402
from live.backends.sqlite import SQLiteBackend  # noqa: E402
from live.links.signing import Signer  # noqa: E402
from live.notes import ysync  # noqa: E402
from live.notes.limits import MAX_DOC, MAX_FRAME  # noqa: E402
from live.notes.room import TEXT, doc_name  # noqa: E402

SECRET = "bench-secret"
EVENT = "ariege-2020"
WORKSHOP = "atelier-acces"
HOST = "127.0.0.1"


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def prepare(data: Path, size: int) -> int:
    """Store notes of about `size` bytes for the workshop, in updates the room accepts."""
    doc: Doc[Text] = Doc()
    text = doc.get(TEXT, type=Text)
    body, rows = notes_text(400, seed=1), []
    while len(str(text).encode()) < size:
        before = doc.get_state()
        text += body[: min(len(body), MAX_FRAME // 2, size - len(str(text).encode()))]
        rows.append(doc.get_update(before))
    backend = SQLiteBackend(data / "relais.sqlite3")
    await backend.open()
    await backend.notes_append(doc_name(EVENT, WORKSHOP), rows)
    await backend.close()
    return len(doc.get_update())


class Silent(asyncio.Protocol):
    """A notes socket that asks for the document once, then never reads again."""

    def __init__(self, uri: str) -> None:
        self.proto = ClientProtocol(parse_uri(uri), max_size=None)
        loop = asyncio.get_running_loop()
        self.opened: asyncio.Future[None] = loop.create_future()
        self.reset = False
        self.lost = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.proto.send_request(self.proto.connect())
        for data in self.proto.data_to_send():
            transport.write(data)

    def data_received(self, data: bytes) -> None:
        if self.opened.done():
            return  # what it is sent once it reads again: not parsed
        self.proto.receive_data(data)
        self.proto.events_received()
        if self.proto.state is self.proto.state.OPEN and not self.opened.done():
            self.proto.send_binary(ysync.sync_step1(b"\x00"))
            for out in self.proto.data_to_send():
                self.transport.write(out)
            self.transport.pause_reading()  # and never again
            self.opened.set_result(None)

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        self.reset = isinstance(exc, ConnectionResetError)
        if not self.opened.done():
            self.opened.set_exception(ConnectionError("refused"))


async def open_silent(port: int, path: str) -> Silent:
    loop = asyncio.get_running_loop()
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    await loop.sock_connect(sock, (HOST, port))
    _, silent = await loop.create_connection(lambda: Silent(f"ws://{HOST}:{port}{path}"), sock=sock)
    await asyncio.wait_for(silent.opened, 30)
    return silent


async def screen_join(port: int, token: str) -> float:
    """A site screen opening the notes: ms until it holds the whole document."""
    from bench.churn import open_socket

    started = time.perf_counter()
    sock = await open_socket(port, f"/ws/notes/{EVENT}/{WORKSHOP}?k={token}")
    step2 = bytes((ysync.SYNC, ysync.STEP2))
    await sock.ask(ysync.sync_step1(b"\x00"), lambda data: data[:2] == step2)
    elapsed = (time.perf_counter() - started) * 1000
    await sock.close(clean=False)
    return elapsed


async def notes_run(args: argparse.Namespace) -> dict[str, Any]:
    raise_open_files()
    signer = Signer(SECRET)
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        doc_bytes = await prepare(data, args.doc_bytes)
        port = free_port()
        proc = start_server(
            port, {"RELAIS_DATA": str(data), "RELAIS_SECRET": SECRET, "RELAIS_DEMO": "1"}
        )
        try:
            console = await connect(
                f"ws://{HOST}:{port}/ws/events/{EVENT}?k={signer.sign(EVENT, 'facilitator')}"
            )
            snapshot = console.expect("snapshot")
            console.send({"type": "hello"})
            await asyncio.wait_for(snapshot, 30)
            # Warm the room (loaded once, as on the day) and the baseline.
            await screen_join(port, signer.sign(EVENT, "screen", site="foix"))
            await asyncio.sleep(1)
            before = rss_mb(proc.pid)
            stop_ping = asyncio.Event()
            peak = before

            async def sample() -> None:
                nonlocal peak
                while not stop_ping.is_set():
                    peak = max(peak, rss_mb(proc.pid))
                    await asyncio.sleep(0.05)

            async def ping() -> None:
                while not stop_ping.is_set():
                    console.send({"type": "ping", "t0": now_ms()})
                    await asyncio.sleep(0.05)

            started = now_ms()
            tasks = [asyncio.create_task(sample()), asyncio.create_task(ping())]
            token = signer.sign(EVENT, "participant", site="foix")
            path = f"/ws/notes/{EVENT}/{WORKSHOP}?k={token}"
            silent: list[Silent] = []
            refused: dict[str, int] = {}
            for i in range(args.sockets):
                try:
                    silent.append(await open_silent(port, path))
                except (ConnectionError, TimeoutError, OSError) as exc:
                    refused[type(exc).__name__] = refused.get(type(exc).__name__, 0) + 1
                if i == args.sockets // 2:
                    screen = asyncio.create_task(
                        screen_join(port, signer.sign(EVENT, "screen", site="foix"))
                    )
            screen_ms = await asyncio.wait_for(screen, 120)
            await asyncio.sleep(args.hold)
            stop_ping.set()
            await asyncio.gather(*tasks)
            ended = now_ms()
            pongs = [t2 - t0 for t0, _, t2 in console.pongs if started <= t0 <= ended]
            # A socket that reads nothing notices no reset: read now, and count those gone.
            for s in silent:
                s.transport.resume_reading()
            await asyncio.sleep(2)
            reset = sum(1 for s in silent if s.lost)
            for s in silent:
                s.transport.abort()
            return {
                "doc_bytes": doc_bytes,
                "sockets": len(silent),
                "sockets_refused": refused,
                "rss_before_mb": round(before, 1),
                "rss_peak_mb": round(peak, 1),
                "rss_growth_mb": round(peak - before, 1),
                "worst_console_ping_ms": round(max(pongs), 1) if pongs else None,
                "console_pings": len(pongs),
                "screen_join_ms": round(screen_ms, 1),
                "reset_within_s": [reset, round((ended - started) / 1000, 1)],
            }
        finally:
            stop(proc)


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", choices=("notes", "store"))
    ap.add_argument("--sockets", type=int, default=600)
    ap.add_argument("--doc-bytes", type=int, default=MAX_DOC - (64 << 10))
    ap.add_argument("--hold", type=float, default=15.0, help="seconds after the last socket")
    ap.add_argument("--hang", type=float, default=6.0, help="seconds Redis stays stopped")
    args = ap.parse_args()
    out: dict[str, Any] = {"cpus": os.cpu_count()}
    if args.only in (None, "notes"):
        out["notes"] = await notes_run(args)
    if args.only in (None, "store"):
        out["store"] = await abuse_store.run(hang_s=args.hang)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
