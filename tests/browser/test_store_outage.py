"""The console tells the truth while the store hangs: "waiting for confirmation", then the
real outcome. Debian's Chromium on a real server on a real, paused redis-server."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.support.servers import LiveServer, RedisServer

pytestmark = [pytest.mark.browser, pytest.mark.redis]
EVENT = "ariege-2020"


@pytest.fixture
def server(tmp_path: Path, own_redis: RedisServer) -> Iterator[LiveServer]:
    live = LiveServer(tmp_path / "data", backend="redis", env={"REDIS_URL": own_redis.url})
    live.start()
    try:
        yield live
    finally:
        live.stop()


def test_the_console_says_a_press_awaits_confirmation_then_shows_the_outcome(
    server: LiveServer, own_redis: RedisServer, browser: Any
) -> None:
    assert own_redis.proc is not None
    console = browser.new_page()
    console.goto(f"{server.url}/e/{EVENT}/console?k={server.link(EVENT, 'facilitator')}")
    expect(console.locator("body[data-seq]")).to_have_count(1)
    expect(console.locator("#conn")).to_have_text("Connecté")
    line = console.locator("#error")
    os.kill(own_redis.proc.pid, signal.SIGSTOP)
    try:
        console.keyboard.press("ArrowRight")  # the day has not started: nothing to confirm
        expect(line).to_contain_text("En attente de confirmation", timeout=15000)
        expect(console.locator("body")).to_have_attribute("data-seq", "0")
    finally:
        os.kill(own_redis.proc.pid, signal.SIGCONT)
    expect(console.locator("body")).to_have_attribute("data-seq", "1", timeout=15000)
    expect(line).to_have_text("")  # confirmed: the waiting line goes, the step shows it
