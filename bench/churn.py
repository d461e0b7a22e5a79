"""Churn benchmark: does the server give memory back as connections come and go, and does a
PDF export leave the event loop free?

The server runs in its own process (uvicorn, as in production, SQLite backend). The load
runs here on bare asyncio Protocols (the clients of `bench/fanout.py` and `bench/notes.py`):

1. Waves: `--waves` times, `--sockets` websockets are opened (a share of them on a
   workshop's notes, the rest on the live agenda, which say hello and receive their
   snapshot), then closed (every other one with a close frame, the others by dropping the
   TCP connection, as a phone leaving the Wi-Fi does). After each wave and a short
   settling time, the server's RSS is read: flat RSS means a closed connection leaves
   nothing behind.
2. PDF under ping: rapporteurs type a few pages into several workshops' notes (through the
   notes websocket, with pycrdt), then, while `--pingers` live clients ping every ~50 ms,
   the organizer downloads the synthesis as PDF. The worst pong round-trip during the
   download says whether the render held the loop (each pong is answered by the loop
   that serves everything else). The same download again shows the cache.

The last line printed is one JSON object (rss_mb_first_wave, rss_mb_last_wave,
worst_pong_ms_during_pdf, ...).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from websockets.client import ClientProtocol  # noqa: E402
from websockets.extensions.permessage_deflate import (  # noqa: E402
    enable_client_permessage_deflate,
)
from websockets.frames import Frame, Opcode  # noqa: E402
from websockets.http11 import Response  # noqa: E402
from websockets.uri import parse_uri  # noqa: E402

from bench.fanout import BenchClient, connect, now_ms  # noqa: E402
from bench.notes import DocRun, Editor, open_conn  # noqa: E402
from bench.server import free_port, start_server  # noqa: E402
from live.links.signing import Signer  # noqa: E402
from live.notes import ysync  # noqa: E402

SECRET = "bench-secret"
EVENT = "ariege-2020"  # a demo event: five workshops
WORKSHOPS = (
    "atelier-acces",
    "atelier-enseigner",
    "atelier-ensemble",
    "atelier-responsable",
    "atelier-gouvernance",
)
HOST = "127.0.0.1"


def rss_mb(pid: int) -> float:
    """Resident memory of a process, in MB (psutil when installed, else /proc)."""
    try:
        import psutil  # type: ignore[import-not-found,unused-ignore]

        return float(psutil.Process(pid).memory_info().rss) / (1 << 20)
    except ImportError:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def start(port: int, data: str) -> subprocess.Popen[bytes]:
    """The server, with the per-address connection cap out of the way (one address here)."""
    env = {
        "RELAIS_DATA": data,
        "RELAIS_SECRET": SECRET,
        "RELAIS_DEMO": "1",
        "LIVE_BACKEND": "sqlite",
        "RELAIS_MAX_CONNECTIONS": "100000",
        "RELAIS_MAX_CONNECTIONS_PER_ADDRESS": "100000",
    }
    return start_server(port, env)


def raise_open_files() -> None:
    """As many sockets as the hard limit allows (a wave needs one per connection)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


# -- waves of connections --------------------------------------------------------------------


class Socket(asyncio.Protocol):
    """A websocket client as a browser is one: it offers permessage-deflate (so the server
    keeps a compressor and a decompressor per connection, as it does for every real page),
    and every byte goes through the `websockets` sans-I/O client protocol."""

    def __init__(self, uri: str) -> None:
        self.proto = ClientProtocol(
            parse_uri(uri), extensions=enable_client_permessage_deflate(None), max_size=None
        )
        loop = asyncio.get_running_loop()
        self.opened: asyncio.Future[None] = loop.create_future()
        self.lost: asyncio.Future[None] = loop.create_future()
        self.transport: asyncio.Transport | None = None
        self._wanted: tuple[Callable[[bytes], bool], asyncio.Future[bytes]] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.proto.send_request(self.proto.connect())
        self._flush()

    def _flush(self) -> None:
        assert self.transport is not None
        for data in self.proto.data_to_send():
            if data:
                self.transport.write(data)
            elif self.transport.can_write_eof():
                self.transport.write_eof()

    def data_received(self, data: bytes) -> None:
        self.proto.receive_data(data)
        for event in self.proto.events_received():
            if isinstance(event, Response):
                if event.status_code != 101:
                    self.opened.set_exception(ConnectionError(f"HTTP {event.status_code}"))
                elif not self.opened.done():
                    self.opened.set_result(None)
            elif isinstance(event, Frame) and event.opcode in (Opcode.TEXT, Opcode.BINARY):
                wanted = self._wanted
                if wanted is not None and wanted[0](bytes(event.data)):
                    self._wanted = None
                    if not wanted[1].done():
                        wanted[1].set_result(bytes(event.data))
        self._flush()  # pongs, and the reply to a close frame
        if self.proto.close_rcvd is not None and self.transport is not None:
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.opened.done():
            self.opened.set_exception(ConnectionError("closed during the handshake"))
        if not self.lost.done():
            self.lost.set_result(None)

    def send(self, data: str | bytes) -> None:
        if isinstance(data, str):
            self.proto.send_text(data.encode())
        else:
            self.proto.send_binary(data)
        self._flush()

    async def ask(self, data: str | bytes, answered: Callable[[bytes], bool]) -> bytes:
        """Send `data`; the first frame for which `answered` holds."""
        fut: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._wanted = (answered, fut)
        self.send(data)
        return await asyncio.wait_for(fut, 30)

    async def close(self, clean: bool) -> None:
        """With the closing handshake, as a page that is left does; or by dropping the TCP
        connection, as a phone that loses the network does."""
        assert self.transport is not None
        if clean and not self.transport.is_closing():
            self.proto.send_close(1001)
            self._flush()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self.lost), 5)
        self.transport.close()


async def open_socket(port: int, path: str) -> Socket:
    loop = asyncio.get_running_loop()
    uri = f"ws://{HOST}:{port}{path}"
    _, sock = await loop.create_connection(lambda: Socket(uri), HOST, port)
    await asyncio.wait_for(sock.opened, 30)
    return sock


async def open_live(port: int) -> Socket:
    """A live page: it says hello and receives its snapshot."""
    sock = await open_socket(port, f"/ws/events/{EVENT}")
    await sock.ask('{"type":"hello"}', lambda data: data.startswith(b'{"type":"snapshot"'))
    return sock


async def open_notes(port: int, token: str, workshop: str) -> Socket:
    """A screen following a workshop's notes: synced with its document."""
    sock = await open_socket(port, f"/ws/notes/{EVENT}/{workshop}?k={token}")
    step2 = bytes((ysync.SYNC, ysync.STEP2))
    await sock.ask(ysync.sync_step1(b"\x00"), lambda data: data[:2] == step2)
    return sock


async def wave(
    port: int, signer: Signer, sockets: int, notes_share: float, batch: int, hold: float
) -> float:
    """Open `sockets` connections (each fully joined), keep them `hold` seconds (long enough
    for the collector to take them for long-lived objects, as a screen is), then close them
    all, every other one cleanly; seconds taken."""
    started = time.perf_counter()
    screen = signer.sign(EVENT, "screen")
    n_notes = round(sockets * notes_share)
    kinds = [True] * n_notes + [False] * (sockets - n_notes)
    random.shuffle(kinds)
    conns: list[Socket] = []
    for i in range(0, sockets, batch):
        opening = [
            open_notes(port, screen, WORKSHOPS[(i + j) % len(WORKSHOPS)])
            if notes
            else open_live(port)
            for j, notes in enumerate(kinds[i : i + batch])
        ]
        conns += await asyncio.gather(*opening)
    await asyncio.sleep(hold)
    await asyncio.gather(*(c.close(clean=i % 2 == 0) for i, c in enumerate(conns)))
    return time.perf_counter() - started


async def churn(
    server: subprocess.Popen[bytes], port: int, signer: Signer, args: argparse.Namespace
) -> dict[str, Any]:
    rss: list[float] = []
    seconds: list[float] = []
    for n in range(args.waves):
        seconds.append(
            await wave(port, signer, args.sockets, args.notes_share, args.batch, args.hold)
        )
        await asyncio.sleep(args.settle)
        rss.append(round(rss_mb(server.pid), 1))
        print(f"# wave {n + 1}: {seconds[-1]:.1f} s, server RSS {rss[-1]} MB", file=sys.stderr)
    return {
        "waves": args.waves,
        "sockets_per_wave": args.sockets,
        "notes_share": args.notes_share,
        "rss_mb_per_wave": rss,
        "rss_mb_first_wave": rss[0],
        "rss_mb_last_wave": rss[-1],
        "rss_growth_pct": round(100 * (rss[-1] - rss[0]) / rss[0], 1),
        "wave_seconds": [round(s, 1) for s in seconds],
    }


# -- a PDF export while clients ping ---------------------------------------------------------

WORDS = [
    "numérique", "accès", "fibre", "collège", "tablette", "formation", "enseignants",
    "familles", "inclusion", "médiation", "territoire", "équipement", "données", "usages",
    "vallée", "commune", "réseau", "accompagnement", "citoyenneté", "éducation", "partage",
    "ressources", "confiance", "outils", "logiciels", "libres",
]  # fmt: skip


def notes_text(pages: int, seed: int) -> str:
    """About `pages` A4 pages of what rapporteurs type: sections, bullets, a bit of emphasis."""
    rng = random.Random(seed)
    out: list[str] = []
    sections = ("Constats", "Propositions", "Freins", "Leviers", "Questions au plénier")
    for p in range(pages):
        for section in sections:
            out += [f"## {section} ({p + 1})", ""]
            for _ in range(6):
                words = [rng.choice(WORDS) for _ in range(rng.randint(12, 30))]
                words[rng.randrange(len(words))] = f"**{rng.choice(WORDS)}**"
                out.append("- " + " ".join(words).capitalize() + ".")
            out.append("")
    return "\n".join(out)


async def type_notes(port: int, signer: Signer, workshops: int, pages: int) -> int:
    """Rapporteurs type `pages` pages into `workshops` workshops' notes; characters typed."""
    typed = 0
    for i, workshop in enumerate(WORKSHOPS[:workshops]):
        token = signer.sign(EVENT, "rapporteur", workshop=workshop)
        path = f"/ws/notes/{EVENT}/{workshop}?k={token}"
        editor = await open_conn(Editor, HOST, port, path, DocRun(workshop))
        assert isinstance(editor, Editor)
        text = notes_text(pages, seed=i)
        for start in range(0, len(text), 2000):  # a few large pastes, each its own update
            chunk = text[start : start + 2000]
            editor.text.insert(len(str(editor.text).encode()), chunk)
            await asyncio.sleep(0.02)
        typed += len(text)
        await asyncio.sleep(0.5)  # written and relayed before the connection goes
        assert editor.transport is not None
        editor.transport.close()
    return typed


async def open_pinger(port: int) -> BenchClient:
    """A light live client (no compression) that records each pong's round-trip."""
    client = await connect(f"ws://{HOST}:{port}/ws/events/{EVENT}")
    snapshot = client.expect("snapshot")
    client.send({"type": "hello"})
    await asyncio.wait_for(snapshot, 30)
    return client


def download(url: str) -> tuple[int, bytes, float]:
    started = time.perf_counter()
    with urllib.request.urlopen(url, timeout=120) as r:
        return r.status, r.read(), (time.perf_counter() - started) * 1000


async def pinging(clients: list[BenchClient], every: float, stop: asyncio.Event) -> None:
    """Each client pings every `every` seconds, the clients spread evenly over that period."""
    step = every / len(clients)
    while not stop.is_set():
        for c in clients:
            c.send({"type": "ping", "t0": now_ms()})
            await asyncio.sleep(step)


def worst_pong(clients: list[BenchClient], since: float, until: float) -> float:
    """The longest round-trip of a ping sent in [since, until] (ms)."""
    trips = [t2 - t0 for c in clients for t0, _, t2 in c.pongs if since <= t0 <= until]
    return max(trips) if trips else float("nan")


async def pdf_under_ping(port: int, signer: Signer, args: argparse.Namespace) -> dict[str, Any]:
    typed = await type_notes(port, signer, args.workshops, args.pages)
    clients = [await open_pinger(port) for _ in range(args.pingers)]
    stop = asyncio.Event()
    pings = asyncio.create_task(pinging(clients, 0.05, stop))
    await asyncio.sleep(2.0)  # a baseline before the export
    k = signer.sign(EVENT, "organizer")
    url = f"http://{HOST}:{port}/e/{EVENT}/synthesis?format=pdf&k={k}"
    base_from = now_ms() - 1500
    base_to = now_ms()
    results = []
    for _ in range(2):  # the first renders; the second finds it rendered
        t0 = now_ms()
        status, body, ms = await asyncio.to_thread(download, url)
        await asyncio.sleep(0.3)  # the pongs of pings sent during the download come back
        assert status == 200 and body.startswith(b"%PDF-"), status
        results.append((worst_pong(clients, t0, now_ms() - 300), ms, len(body)))
    stop.set()
    await pings
    for c in clients:
        assert c.transport is not None
        c.transport.close()
    (first_pong, first_ms, size), (second_pong, second_ms, _) = results
    return {
        "pingers": args.pingers,
        "notes_chars_typed": typed,
        "pdf_bytes": size,
        "pdf_ms": round(first_ms, 1),
        "pdf_cached_ms": round(second_ms, 1),
        "worst_pong_ms_before_pdf": round(worst_pong(clients, base_from, base_to), 1),
        "worst_pong_ms_during_pdf": round(first_pong, 1),
        "worst_pong_ms_during_cached_pdf": round(second_pong, 1),
        "median_pong_ms": round(
            statistics.median(t2 - t0 for c in clients for t0, _, t2 in c.pongs), 2
        ),
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    port = free_port()
    signer = Signer(SECRET)
    with tempfile.TemporaryDirectory(prefix="relais-bench-") as tmp:
        server = start(port, tmp)
        try:
            await asyncio.sleep(1.0)
            result: dict[str, Any] = {"rss_mb_at_start": round(rss_mb(server.pid), 1)}
            if args.waves:
                result.update(await churn(server, port, signer, args))
            if args.pingers:
                result.update(await pdf_under_ping(port, signer, args))
            return result
        finally:
            server.terminate()
            server.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--waves", type=int, default=4)
    parser.add_argument("--sockets", type=int, default=1500, help="connections per wave")
    parser.add_argument("--notes-share", type=float, default=0.2, help="share on notes")
    parser.add_argument("--batch", type=int, default=100, help="concurrent connects")
    parser.add_argument("--hold", type=float, default=5.0, help="seconds each wave stays")
    parser.add_argument("--settle", type=float, default=3.0, help="seconds before reading RSS")
    parser.add_argument("--pingers", type=int, default=200)
    parser.add_argument("--workshops", type=int, default=5, help="workshops with notes")
    parser.add_argument("--pages", type=int, default=3, help="pages of notes per workshop")
    args = parser.parse_args()
    raise_open_files()
    print(json.dumps(asyncio.run(run(args))))


if __name__ == "__main__":
    main()
