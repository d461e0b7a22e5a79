"""Plenary relay benchmark: one publisher, N receivers; frame rate, server CPU, first frame.

The server runs in its own process (uvicorn, as in production, memory backend, the demo
events). This process is the load: one aiortc publisher sending a synthetic 640x480 VP8
picture at 30 fps (and Opus silence) over WHIP, and N aiortc receivers over WHEP that
reassemble the frames they get without decoding them (so that the load generator stays
light; `--decode` decodes them as a player would). Everything is on loopback: both
processes offer 127.0.0.1 as their only ICE host address (RELAIS_ICE_HOST_ADDRESSES).

Measured over `--seconds` once every receiver has its first frame:
- each receiver's frame rate (`min_fps`: the slowest);
- the server's CPU, in percent of one core, from /proc/PID/stat (utime + stime);
- `first_frame_ms`: from a receiver's WHEP POST to its first complete frame;
and the same run again with RELAIS_PLENARY_TRANSCODE=1 (aiortc's stock path: decode the
publisher once, encode once per receiver) for `transcode_server_cpu_pct`.

The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.server import free_port, start_server  # noqa: E402
from live.links.signing import Signer  # noqa: E402
from tests.support.plenary_peers import Publisher, Viewer, loopback_only  # noqa: E402

SECRET = "bench-secret"
EVENT = "poitiers-2020"
SITES = ("poitiers", "niort", "angouleme", "saint-jean")
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (fields 14 and 15 of /proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


async def run_once(args: argparse.Namespace, transcode: bool) -> dict[str, Any]:
    signer = Signer(SECRET)
    port = free_port()
    with tempfile.TemporaryDirectory() as data:
        env = {
            "RELAIS_DATA": data,
            "RELAIS_SECRET": SECRET,
            "RELAIS_DEMO": "1",
            "LIVE_BACKEND": "memory",
            "RELAIS_ICE_HOST_ADDRESSES": "127.0.0.1",
            "RELAIS_PLENARY_MAX_RECEIVERS": str(args.subscribers + 10),
            "RELAIS_PLENARY_TRANSCODE": "1" if transcode else "",
            "RELAIS_BASE_URL": f"http://127.0.0.1:{port}",
        }
        server = await asyncio.to_thread(start_server, port, env)
        base = f"http://127.0.0.1:{port}/e/{EVENT}"
        try:
            async with httpx.AsyncClient(timeout=30) as http:
                return await measure(args, http, base, server.pid, signer)
        finally:
            server.terminate()
            await asyncio.to_thread(server.wait, 10)


async def measure(
    args: argparse.Namespace, http: httpx.AsyncClient, base: str, pid: int, signer: Signer
) -> dict[str, Any]:
    sdp = {"Content-Type": "application/sdp"}
    locations: list[tuple[str, str]] = []

    def poster(kind: str, token: str) -> Any:
        async def post(offer: str) -> str:
            headers = {**sdp, "Authorization": f"Bearer {token}"}
            response = await http.post(f"{base}/{kind}", content=offer, headers=headers)
            if response.status_code != 201:
                raise RuntimeError(f"{kind}: {response.status_code} {response.text}")
            locations.append((response.headers["location"], token))
            return response.text

        return post

    publisher = Publisher(width=640, height=480)
    await publisher.connect(poster("whip", signer.sign(EVENT, "speaker")))
    viewers = [Viewer(decode=args.decode) for _ in range(args.subscribers)]
    joined = time.monotonic()
    await asyncio.gather(
        *(
            v.connect(poster("whep", signer.sign(EVENT, "screen", site=SITES[i % len(SITES)])))
            for i, v in enumerate(viewers)
        )
    )
    deadline = time.monotonic() + 15
    while any(v.first_frame_at is None for v in viewers) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    first_ms = [
        (v.first_frame_at - v.started_at) * 1000 if v.first_frame_at else None for v in viewers
    ]
    print(f"all joined in {time.monotonic() - joined:.1f} s", file=sys.stderr)
    await asyncio.sleep(args.settle)
    counts = [v.count for v in viewers]
    cpu0, t0 = cpu_seconds(pid), time.monotonic()
    await asyncio.sleep(args.seconds)
    cpu1, t1 = cpu_seconds(pid), time.monotonic()
    fps = [(v.count - c) / (t1 - t0) for v, c in zip(viewers, counts, strict=True)]
    sent = publisher.video.sent
    for location, token in locations:
        await http.delete(location, headers={"Authorization": f"Bearer {token}"})
    for v in viewers:
        await v.close()
    await publisher.close()
    got = [m for m in first_ms if m is not None]
    return {
        "min_fps": round(min(fps), 1),
        "median_fps": round(statistics.median(fps), 1),
        "server_cpu_pct": round(100 * (cpu1 - cpu0) / (t1 - t0), 1),
        "first_frame_ms_max": round(max(got), 0) if len(got) == len(viewers) else None,
        "first_frame_ms_median": round(statistics.median(got), 0) if got else None,
        "publisher_frames": sent,
        "keyframe_requests": len(publisher.keyframe_requests),
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    loopback_only()
    relay = await run_once(args, transcode=False)
    print(f"passthrough: {json.dumps(relay)}", file=sys.stderr)
    result: dict[str, Any] = {"subscribers": args.subscribers, "seconds": args.seconds, **relay}
    if not args.no_transcode:
        stock = await run_once(args, transcode=True)
        print(f"transcode: {json.dumps(stock)}", file=sys.stderr)
        result["transcode_server_cpu_pct"] = stock["server_cpu_pct"]
        result["transcode_min_fps"] = stock["min_fps"]
    result["cores"] = os.cpu_count()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=20.0, help="measured window")
    parser.add_argument("--settle", type=float, default=2.0, help="seconds before measuring")
    parser.add_argument("--decode", action="store_true", help="receivers decode the frames")
    parser.add_argument("--no-transcode", action="store_true", help="skip the stock-path run")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args))))


if __name__ == "__main__":
    main()
