"""`relais import` says where the event was stored: the data directory, or on Redis the
store's URL, never with its user or password."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import redis

from live.backends.base import create_backend
from tests.support.servers import ROOT, RedisServer

DEMO = Path(__file__).resolve().parent.parent / "live" / "demo"


def test_an_import_on_redis_names_the_redis_store_without_its_password(
    tmp_path: Path, own_redis: RedisServer
) -> None:
    with redis.Redis.from_url(own_redis.url) as r:
        r.config_set("requirepass", "s3cret-word")
    url = f"redis://default:s3cret-word@127.0.0.1:{own_redis.port}/0"
    data = tmp_path / "data"
    env = {**os.environ, "LIVE_BACKEND": "redis", "REDIS_URL": url, "LANG": "C.UTF-8"}
    done = relais_import(data, env)
    assert done.returncode == 0, done.stderr
    assert f"redis://127.0.0.1:{own_redis.port}/0" in done.stdout
    assert "s3cret" not in done.stdout + done.stderr
    assert str(data) not in done.stdout  # not the data directory, where nothing went
    assert "ariege-2020" in asyncio.run(definitions(url))  # and it is indeed there


def relais_import(data: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`relais import` of the Ariège day, as an organizer types it."""
    command = [sys.executable, "-m", "live.cli", "--data", str(data), "import"]
    return subprocess.run(
        [*command, str(DEMO / "ariege-2020.yaml")],
        cwd=ROOT,
        capture_output=True,
        env=env,
        text=True,
    )


async def definitions(url: str) -> dict[str, str]:
    backend = create_backend("redis", redis_url=url)
    await backend.open()
    try:
        return await backend.definitions()
    finally:
        await backend.close()


def test_an_import_on_the_data_directory_names_it(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = {**os.environ, "LIVE_BACKEND": "sqlite", "LANG": "C.UTF-8"}
    done = relais_import(data, env)
    assert done.returncode == 0, done.stderr
    assert str(data.resolve()) in done.stdout
