"""Start the real server for a benchmark: uvicorn in its own process, as in production."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# Every simulated client of a benchmark comes from 127.0.0.1: lift the per-address cap
# that a real server keeps (live/web/connections.py), or the load generator is turned away.
ONE_ADDRESS = {"RELAIS_MAX_CONNECTIONS_PER_ADDRESS": "1000000"}


def start_server(port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """uvicorn with the websockets sans-I/O implementation; returns once /healthz answers."""
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "uvicorn", "live.app:create_app", "--factory",
            "--host", "127.0.0.1", "--port", str(port), "--ws", "live.web.wire:WebSocketProtocol",
            "--ws-max-size", str(1 << 20), "--ws-per-message-deflate", "false",
            "--log-level", "warning", "--backlog", "4096", "--no-access-log",
        ],
        cwd=ROOT,
        env={**os.environ, **ONE_ADDRESS, **env},
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                return proc
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("server did not start")


def stop(proc: subprocess.Popen[bytes] | None) -> None:
    """SIGTERM (a server drains, Redis writes its file out), a kill after 10 s."""
    if proc is not None and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def redis_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def start_redis(directory: Path) -> tuple[subprocess.Popen[bytes], str]:
    """A redis-server of the run's own (free port, its own directory), persisting as in
    production: append-only file, fsync every second, no RDB dumps. Returns its URL once
    it answers PING."""
    if not Path(REDIS_SERVER).exists():
        raise RuntimeError("redis-server is not installed (apt-get install redis-server)")
    directory.mkdir(parents=True, exist_ok=True)
    port = free_port()
    proc = subprocess.Popen(
        [
            REDIS_SERVER,
            *("--port", str(port), "--bind", "127.0.0.1", "--dir", str(directory)),
            *("--save", "", "--appendonly", "yes", "--appendfsync", "everysec"),
            *("--logfile", str(directory / "redis.log")),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if redis_ping(port):  # not while it loads its file: it answers -LOADING then
            return proc, f"redis://127.0.0.1:{port}/0"
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    stop(proc)
    raise RuntimeError(f"redis-server did not start, see {directory}/redis.log")
