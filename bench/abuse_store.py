"""Abuse of the store: Redis paused (SIGSTOP, not killed) while the régie presses "next".

The run starts a redis-server and a Relais server on it (each its own process, as in
production), connects a console, starts the day (step 0), then pauses Redis for
`hang_s` seconds while pressing "next" once a second, resumes it, and waits until every
press has its final answer. What a console must never be told, and what it must be told
in time:

- `answer_max_s`: the longest wait for a press's first answer (ack, error or pending),
  whatever Redis does (required: at most 1.5 s);
- `refused_but_applied`: presses answered with a refusal that are nevertheless in the
  log (required: 0);
- `final_step` and `acknowledged_presses`: the step every screen shows at the end, and
  the presses acknowledged (required: equal, the day having started at step 0);
- `unknown_outcomes`: presses first answered `pending` (not confirmed yet), and
  `unsettled`: those still without an ack or error at the end (required: 0).

`run(...)` returns the figures as a dict (bench/abuse.py merges them); run as a script it
prints them as one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis
from websockets.asyncio.client import ClientConnection, connect

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.server import free_port, start_redis, start_server, stop  # noqa: E402
from live.links.signing import Signer  # noqa: E402

SECRET = "bench-secret"
EVENT = "ariege-2020"


class Console:
    """A facilitator's socket that timestamps every answer and keeps the last state."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.sent: dict[str, float] = {}
        self.answers: dict[str, list[tuple[str, str, float]]] = {}  # id -> (type, code, at)
        self.state: dict[str, Any] = {}
        self.changed = asyncio.Event()
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for raw in self.ws:
            msg = json.loads(raw)
            at = time.monotonic()
            if "state" in msg:
                self.state = msg["state"]
            if msg.get("id") and msg["type"] in ("ack", "error", "pending"):
                self.answers.setdefault(msg["id"], []).append(
                    (msg["type"], msg.get("code", ""), at)
                )
            self.changed.set()

    async def press(self, cid: str, name: str = "step.next") -> None:
        self.sent[cid] = time.monotonic()
        frame = {"type": "command", "id": cid, "name": name, "args": {}}
        await self.ws.send(json.dumps(frame))

    def final(self, cid: str) -> str | None:
        """ "ack" or "error" once the press has its final answer, else None."""
        kinds = [kind for kind, _code, _at in self.answers.get(cid, [])]
        return next((k for k in reversed(kinds) if k in ("ack", "error")), None)

    async def until(self, done: Any, within: float) -> bool:
        deadline = time.monotonic() + within
        while not done():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self.changed.clear()
            try:
                await asyncio.wait_for(self.changed.wait(), left)
            except TimeoutError:
                return False
        return True


async def logged_ids(redis_url: str) -> set[str]:
    """The command ids (as the console sent them) the event's log holds."""
    client = aioredis.Redis.from_url(redis_url)
    try:
        rows = await client.xrange(f"relais:log:agenda:{EVENT}")
    finally:
        await client.aclose()
    return {json.loads(fields[b"e"])["cid"].rpartition(":")[2] for _id, fields in rows}


async def run(
    hang_s: float = 6.0, every_s: float = 1.0, settle_within: float = 60.0
) -> dict[str, Any]:
    """Pause Redis `hang_s` seconds while pressing "next" every `every_s`; the figures."""
    tmp = Path(tempfile.mkdtemp(prefix="relais-abuse-store-"))
    redis_proc = server = None
    try:
        redis_proc, redis_url = start_redis(tmp / "redis")
        port = free_port()
        env = {
            "RELAIS_DATA": str(tmp / "data"),
            "RELAIS_SECRET": SECRET,
            "RELAIS_DEMO": "1",
            "LIVE_BACKEND": "redis",
            "REDIS_URL": redis_url,
        }
        server = await asyncio.to_thread(start_server, port, env)
        token = Signer(SECRET).sign(EVENT, "facilitator")
        async with connect(f"ws://127.0.0.1:{port}/ws/events/{EVENT}?k={token}") as ws:
            console = Console(ws)
            await ws.send(json.dumps({"type": "hello"}))
            await console.press("start")  # the day starts: step 0
            if not await console.until(lambda: console.final("start") == "ack", 30):
                raise RuntimeError("the first command was not acknowledged")
            presses = [f"p{i}" for i in range(max(1, round(hang_s / every_s)))]
            hung_at = time.monotonic()
            os.kill(redis_proc.pid, signal.SIGSTOP)
            try:
                for i, cid in enumerate(presses):
                    await asyncio.sleep(max(0.0, hung_at + i * every_s - time.monotonic()))
                    await console.press(cid)
                await asyncio.sleep(max(0.0, hung_at + hang_s - time.monotonic()))
            finally:
                os.kill(redis_proc.pid, signal.SIGCONT)
            resumed_at = time.monotonic()
            await console.until(lambda: all(console.final(c) for c in presses), settle_within)
            settled_at = time.monotonic()
            # What every screen shows: a fresh hello's state, after all answers.
            console.state = {}
            await ws.send(json.dumps({"type": "hello"}))
            await console.until(lambda: bool(console.state), 10)
            await asyncio.sleep(0.5)  # a late event would show here (there must be none)
            in_log = await logged_ids(redis_url)
            console.reader.cancel()
        firsts = {c: console.answers[c][0] for c in presses if console.answers.get(c)}
        refused = {
            c for c in presses if any(k == "error" for k, _, _ in console.answers.get(c, []))
        }
        acked = [c for c in presses if console.final(c) == "ack"]
        return {
            "hang_s": hang_s,
            "presses": len(presses),
            "answer_max_s": round(
                max((a[2] - console.sent[c] for c, a in firsts.items()), default=float("inf")), 3
            ),
            "unanswered": len(presses) - len(firsts),
            "refused_but_applied": len(refused & in_log),
            "acknowledged_presses": len(acked),
            "final_step": console.state.get("step"),
            "unknown_outcomes": sum(1 for a in firsts.values() if a[0] == "pending"),
            "unsettled": sum(1 for c in presses if console.final(c) is None),
            "refused": len(refused),
            "settled_after_resume_s": round(settled_at - resumed_at, 3),
        }
    finally:
        stop(server)
        if redis_proc is not None and redis_proc.poll() is None:
            os.kill(redis_proc.pid, signal.SIGCONT)
        stop(redis_proc)
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hang", type=float, default=6.0, help="seconds Redis stays paused")
    parser.add_argument("--every", type=float, default=1.0, help="seconds between two presses")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args.hang, args.every))))


if __name__ == "__main__":
    main()
