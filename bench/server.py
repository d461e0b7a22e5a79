"""Start the real server for a benchmark: uvicorn in its own process, as in production."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


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
            "--host", "127.0.0.1", "--port", str(port), "--ws", "websockets-sansio",
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
