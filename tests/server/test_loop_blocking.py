"""Nothing holds the server's event loop (issue 9).

While one handler computes on the event loop, nothing else runs: no screen gets its step
change, no pong comes back, no keystroke is relayed. Two checks:

- One server for this module runs in asyncio's debug mode, which logs every callback or
  task step holding the loop more than 50 ms (`tests/support/loopcheck.py`). Each test drives the
  heavy paths of an organizer's day on it, at the size of a large event (2,000 people),
  then reads the server's log. Debug mode slows everything down, so what passes here has
  margin in production.
- The PDF of the synthesis is one of those paths (rendered in a worker: on the loop it
  held it 1.4 s). How long pongs take meanwhile is a figure, not a test: `bench/churn.py`
  measures it (worst pong during the PDF), since a timed assertion fails on a busy
  2-core CI runner for reasons that are not the server's (it did: 104 ms against 100).
"""

from __future__ import annotations

import asyncio
import io
import random
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bench.churn import (
    notes_text,
)
from tests.support.loopcheck import THRESHOLD_ENV, slow_steps
from tests.support.servers import ROOT, LiveServer, free_port
from tests.support.yclient import YClient

EVENT = "ariege-2020"
WORKSHOPS = (
    "atelier-acces",
    "atelier-enseigner",
    "atelier-ensemble",
    "atelier-responsable",
    "atelier-gouvernance",
)
PEOPLE = 2000
CATEGORIES = ("élève", "parent", "professeur", "agent", "association")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = LiveServer(tmp_path_factory.mktemp("loop") / "data", slow_callback=0.05)
    server.start()
    try:
        yield server
    finally:
        server.stop()


class Watch:
    """What the server logs from now on: the steps that held its loop too long."""

    def __init__(self, server: LiveServer) -> None:
        self.server = server
        self.start = len(server.log())

    def slow(self) -> list[tuple[float, str]]:
        return slow_steps(self.server.log()[self.start :])


def people_csv(n: int, seed: int = 1) -> bytes:
    """An organizer's list of `n` people, each with three wishes."""
    rng = random.Random(seed)
    lines = ["name;email;category;site;wish1;wish2;wish3"]
    for i in range(n):
        wishes = ";".join(rng.sample(WORKSHOPS, 3))
        lines.append(f"Personne {i};p{i}@example.fr;{rng.choice(CATEGORIES)};foix;{wishes}")
    return ("\n".join(lines) + "\n").encode("utf-8")


def test_a_registration_and_a_large_import_hold_the_loop_no_longer_than_50_ms(
    server: LiveServer,
) -> None:
    watch = Watch(server)
    k = {"k": server.link(EVENT, "organizer")}
    with httpx.Client(timeout=120) as client:
        form = {"name": "Camille Martin", "email": "camille@example.fr"}
        form |= {"category": "professeur", "site": "foix", "wish1": "atelier-acces"}
        r = client.post(f"{server.url}/e/{EVENT}/register", data=form | {"consent": "on"})
        assert r.status_code == 200
        files = {"file": ("liste.csv", io.BytesIO(people_csv(PEOPLE)), "text/csv")}
        r = client.post(f"{server.url}/e/{EVENT}/organize/import", params=k, files=files)
        assert r.status_code == 200 and f"{PEOPLE} inscriptions ajoutées" in r.text
    assert watch.slow() == []


def test_the_desk_of_a_large_event_holds_the_loop_no_longer_than_50_ms(
    server: LiveServer,
) -> None:
    watch = Watch(server)
    base = f"{server.url}/e/{EVENT}/organize"
    k = {"k": server.link(EVENT, "organizer")}
    with httpx.Client(timeout=120) as client:
        assert client.get(base, params=k).status_code == 200
        assert client.post(f"{base}/assign", params=k, data={"seed": "7"}).status_code == 303
        assert client.get(base, params=k).status_code == 200
        assert client.get(f"{base}/report", params=k).status_code == 200
        for name in ("report", "registrations"):
            assert client.get(f"{base}/{name}.csv", params=k).status_code == 200
        assert client.post(f"{base}/publish", params=k).status_code == 303
        assert client.get(f"{base}/confirmations.csv", params=k).status_code == 200
    assert watch.slow() == []


async def test_notes_and_the_synthesis_hold_the_loop_no_longer_than_50_ms(
    server: LiveServer,
) -> None:
    watch = Watch(server)
    for n, workshop in enumerate(WORKSHOPS):
        token = server.link(EVENT, "rapporteur", workshop=workshop)
        async with YClient(f"{server.ws_url}/ws/notes/{EVENT}/{workshop}?k={token}") as editor:
            for page in range(6):
                editor.append(notes_text(pages=1, seed=n * 10 + page))
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.3)
    k = server.link(EVENT, "facilitator")
    async with httpx.AsyncClient(timeout=120) as client:
        for fmt in ("md", "html", "pdf", "pdf"):
            params = {"format": fmt, "k": k}
            r = await client.get(f"{server.url}/e/{EVENT}/synthesis", params=params)
            assert r.status_code == 200
    assert watch.slow() == []


def test_the_check_catches_a_handler_that_holds_the_loop(tmp_path: Path) -> None:
    """The check itself: uvicorn's runner would switch debug mode off; the loop of
    `loopcheck` keeps it on, and a handler holding the loop (200 ms asleep, 120 ms of CPU)
    is reported by its CPU time."""
    port = free_port()
    stderr = (tmp_path / "stderr").open("wb")
    command = [sys.executable, "-m", "uvicorn", "tests.support.loopcheck:blocking_app"]
    command += ["--port", str(port), "--loop", "tests.support.loopcheck:debug_loop"]
    command += ["--log-level", "warning"]
    env = {THRESHOLD_ENV: "0.05", "PATH": ""}
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stderr=stderr)
    stderr.close()
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as r:
                    assert r.status == 200
                break
            except OSError:
                assert time.monotonic() < deadline and proc.poll() is None
                time.sleep(0.1)
    finally:
        proc.terminate()
        proc.wait(10)
    steps = slow_steps((tmp_path / "stderr").read_text())
    assert any(seconds >= 0.1 and "run_asgi" in what for seconds, what in steps), steps
