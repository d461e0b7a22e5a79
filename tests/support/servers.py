"""What tests share to run the real parts: a Relais server (uvicorn in a subprocess), a
redis-server of their own, free ports, and how a test that cannot run says so."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from live.links.signing import Signer

ROOT = Path(__file__).resolve().parents[2]
SECRET = "test-secret-not-for-production"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
IN_CI = bool(os.environ.get("CI"))


def unavailable(reason: str) -> None:
    """A test that cannot run fails in CI and is skipped (loudly) elsewhere."""
    if IN_CI:
        pytest.fail(f"cannot run in CI: {reason}")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def terminate(proc: subprocess.Popen[bytes] | None) -> None:
    """Stop a process cleanly (SIGTERM), killing it if it does not exit in 10 s."""
    if proc and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class LiveServer:
    """uvicorn serving the app on a free port, with its own data directory."""

    def __init__(
        self,
        data_dir: Path,
        backend: str = "sqlite",
        env: dict[str, str] | None = None,
        nofile: int | None = None,
        slow_callback: float | None = None,
        log_level: str = "warning",
    ) -> None:
        self.data_dir = data_dir
        self.backend = backend
        self.extra_env = env or {}  # settings of this server (RELAIS_...)
        self.nofile = nofile  # its open-file limit, soft and hard (as a small VPS has)
        # asyncio debug mode: each step holding the loop longer (s) is logged (loopcheck.py)
        self.slow_callback = slow_callback
        self.log_level = log_level  # below "warning": its output is kept for log()
        self.stderr_path = data_dir.parent / f"server-{id(self)}.stderr"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}"
        self.signer = Signer(SECRET)
        self.proc: subprocess.Popen[bytes] | None = None

    def link(self, event: str, role: Any, **claims: Any) -> str:
        return self.signer.sign(event, role, **claims)

    def start(self) -> None:
        env = {
            **os.environ,
            "RELAIS_DATA": str(self.data_dir),
            "RELAIS_SECRET": SECRET,
            "RELAIS_DEMO": "1",
            "LIVE_BACKEND": self.backend,
            "RELAIS_BASE_URL": self.url,
            # Tests register many people from one address; test_registration_abuse.py
            # checks the real default.
            "RELAIS_REGISTER_PER_MINUTE": "1000",
            **self.extra_env,
        }
        loop_options, stderr = self._loop_check(env)
        if stderr is None and self.log_level != "warning":
            self.stderr_path.parent.mkdir(parents=True, exist_ok=True)
            stderr = self.stderr_path.open("ab")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "live.app:create_app",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--ws",
                "live.web.wire:WebSocketProtocol",
                "--ws-max-size",
                str(1 << 20),
                "--ws-per-message-deflate",
                "false",
                "--log-level",
                self.log_level,
                *loop_options,
            ],
            cwd=ROOT,
            env=env,
            stdout=stderr,  # uvicorn's access log goes to stdout
            stderr=stderr,
            preexec_fn=self._limits if self.nofile else None,
        )
        if stderr is not None:
            stderr.close()  # the server has its own copy
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=1):
                    return
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError("server exited at start") from None
                time.sleep(0.1)
        raise RuntimeError("server did not start")

    def _loop_check(self, env: dict[str, str]) -> tuple[list[str], Any]:
        """uvicorn options and stderr file for `slow_callback` (none without it)."""
        if self.slow_callback is None:
            return [], None
        env["RELAIS_TEST_SLOW_CALLBACK"] = str(self.slow_callback)
        self.stderr_path.parent.mkdir(parents=True, exist_ok=True)
        return ["--loop", "tests.support.loopcheck:debug_loop"], self.stderr_path.open("ab")

    def log(self) -> str:
        """What the server wrote so far (with `slow_callback` or `log_level` set)."""
        if not self.stderr_path.exists():
            return ""
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")

    def _limits(self) -> None:
        import resource

        resource.setrlimit(resource.RLIMIT_NOFILE, (self.nofile, self.nofile))

    def stop(self) -> None:
        terminate(self.proc)

    def import_event(self, text: str, name: str = "event") -> None:
        """Store an event file with `relais import`, as an organizer would (before
        `start`, or while the server runs: it takes effect either way)."""
        definition = self.data_dir.parent / f"{name}.yaml"
        definition.parent.mkdir(parents=True, exist_ok=True)
        definition.write_text(text, encoding="utf-8")
        self.relais("import", str(definition))

    def relais(self, *args: str) -> subprocess.CompletedProcess[bytes]:
        """Run a `relais` command on this server's data, as an organizer would beside it;
        it must succeed."""
        relais = [sys.executable, "-m", "live.cli", "--data", str(self.data_dir)]
        env = {**os.environ, "LIVE_BACKEND": self.backend, **self.extra_env}
        done = subprocess.run([*relais, *args], cwd=ROOT, capture_output=True, env=env)
        assert done.returncode == 0, done.stderr
        return done

    def kill(self) -> None:
        """Stop abruptly, as a crash would."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def restart(self, hard: bool = False) -> None:
        self.kill() if hard else self.stop()
        self.start()


class RedisServer:
    """A real redis-server on a free port with its own directory, persisting as in
    production (append-only file, fsync every second, no RDB dumps)."""

    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        if not Path(REDIS_SERVER).exists():
            unavailable("redis-server is not installed (apt-get install redis-server)")
        self.dir.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [
                REDIS_SERVER,
                *("--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.dir)),
                *("--save", "", "--appendonly", "yes", "--appendfsync", "everysec"),
                *("--logfile", str(self.dir / "redis.log")),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.ping():  # not while it loads its file: it answers -LOADING then
                return
            if self.proc.poll() is not None:
                raise RuntimeError(f"redis-server exited at start, see {self.dir}/redis.log")
            time.sleep(0.05)
        raise RuntimeError("redis-server did not answer PING")

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                return s.recv(64).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        """SIGTERM: Redis writes its append-only file out and exits."""
        terminate(self.proc)

    def clear(self, prefix: str) -> None:
        """Delete the keys under `prefix` (what one test wrote)."""
        import redis

        with redis.Redis.from_url(self.url) as r:
            keys = list(r.scan_iter(match=f"{prefix}*", count=1000))
            if keys:
                r.delete(*keys)


@contextlib.contextmanager
def on_one_redis(directory: Path, redis: RedisServer, count: int) -> Iterator[list[LiveServer]]:
    """`count` server processes (uvicorn, `LIVE_BACKEND=redis`) on different ports sharing
    one redis-server, as a day served by several processes or machines; stopped after."""
    servers = [
        LiveServer(directory / f"data{i}", backend="redis", env={"REDIS_URL": redis.url})
        for i in range(count)
    ]
    for server in servers:
        server.start()
    try:
        yield servers
    finally:
        for server in servers:
            server.stop()
