"""Memory under connection churn (issue 9): pages that come and go leave nothing behind.

A public event sees waves of connections: a room of phones scans the QR code, follows the
plenary, and leaves; screens reload. Each wave here opens 1,500 real websockets against
the real server (a fifth of them on workshop notes, the others on the live agenda, each
fully joined, offering permessage-deflate as browsers do), keeps them a few seconds, and
closes them, half with a closing handshake and half by dropping the connection. The
issue's bound: after four waves the server's memory is within 20 % of what it was after
the first (it grew from 124 to 426 MB before).
"""

from __future__ import annotations

import asyncio
import resource
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.churn import rss_mb, wave
from tests.support.servers import LiveServer

UNCAPPED = {"RELAIS_MAX_CONNECTIONS": "100000", "RELAIS_MAX_CONNECTIONS_PER_ADDRESS": "100000"}


@pytest.fixture
def open_files() -> Iterator[None]:
    """Room for a wave of client sockets in this process (the server raises its own)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 4000:
        pytest.skip(f"the open-file limit ({hard}) is too low for a wave of 1,500 sockets")
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


@pytest.mark.slow
def test_four_waves_of_1500_connections_end_within_20_percent_of_the_first(
    tmp_path: Path, open_files: None
) -> None:
    server = LiveServer(tmp_path / "data", env=UNCAPPED)
    server.start()
    try:
        assert server.proc is not None
        rss = []
        for _ in range(4):
            asyncio.run(wave(server.port, server.signer, 1500, 0.2, batch=100, hold=5.0))
            time.sleep(3.0)  # the server notices the last closes and collects
            rss.append(rss_mb(server.proc.pid))
    finally:
        server.stop()
    assert rss[-1] <= 1.2 * rss[0], f"server RSS after each wave (MB): {rss}"
