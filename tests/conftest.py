"""Shared fixtures: a real server (uvicorn in a subprocess), redis-server, Debian's Chromium."""

from __future__ import annotations

import os
import secrets
import signal
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from live.backends.base import Backend
from live.backends.memory import MemoryBackend
from live.backends.redis import RedisBackend
from live.backends.sqlite import SQLiteBackend
from tests.support.servers import CHROMIUM, LiveServer, RedisServer, unavailable


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """One redis-server for the session, started by the first test that needs it."""
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["memory", "sqlite", pytest.param("redis", marks=pytest.mark.redis)])
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    """Each backend in turn (the log, the notes and the people stores run on all); Redis
    under a fresh key prefix on the session's redis-server."""
    b: Backend
    if request.param == "redis":
        server: RedisServer = request.getfixturevalue("redis_server")
        b = RedisBackend(server.url, prefix=f"test-{secrets.token_hex(6)}:")
    elif request.param == "sqlite":
        b = SQLiteBackend(tmp_path / "relais.sqlite3")  # named as the server names it
    else:
        b = MemoryBackend()
    await b.open()
    yield b
    await b.close()
    if isinstance(b, RedisBackend):
        server.clear(b.prefix)


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A redis-server of this test's own, to stop, pause or flush without disturbing others."""
    server = RedisServer(tmp_path / "redis")
    server.start()
    try:
        yield server
    finally:
        if server.proc and server.proc.poll() is None:
            os.kill(server.proc.pid, signal.SIGCONT)  # in case the test paused it
        server.stop()


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[LiveServer]:
    server = LiveServer(tmp_path / "data")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        unavailable("Debian's chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import expect, sync_playwright

    # Conditions are waited for, never timed: generously, since a busy 2-core CI runner
    # renders a page several times slower than a quiet one (5 s, the default, flaked).
    expect.set_options(timeout=15_000)
    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        try:
            yield b
        finally:
            b.close()
