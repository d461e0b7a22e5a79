"""`relais import` beside a running server: the event is served without a restart.

The server follows its store's definitions (`Catalogue.follow_definitions`): each backend keeps a
version that moves whenever a definition is put, the server looks at it twice a second and
reads the definitions only when it moved.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml
from websockets.asyncio.client import connect

from live.agenda.catalogue import Catalogue
from live.backends.base import Backend
from live.backends.memory import MemoryBackend
from live.backends.sqlite import SQLiteBackend
from live.links.signing import Claims
from tests.support.servers import ROOT, LiveServer

DEMO = ROOT / "live" / "demo"
ARIEGE = (DEMO / "ariege-2020.yaml").read_text(encoding="utf-8")
TITLE_LINE = 'title: "États généraux du numérique pour l\'éducation — Ariège"'
REGIE = Claims(event="ariege-2020", role="facilitator", id="regie")


def variant(event_id: str = "ariege-2020", title: str | None = None) -> str:
    """The Ariège demo file under another id or title, its layout kept."""
    assert TITLE_LINE in ARIEGE
    text = ARIEGE.replace("id: ariege-2020", f"id: {event_id}", 1)
    return text.replace(TITLE_LINE, f'title: "{title}"', 1) if title else text


# -- the backends' change detector -----------------------------------------------------------


async def test_the_definitions_version_moves_with_every_put_and_only_then(
    backend: Backend,
) -> None:
    first = await backend.definitions_version()
    await backend.put_definition("ev", "id: ev")
    second = await backend.definitions_version()
    await backend.put_definition("ev", "id: ev\ntitle: changed")
    third = await backend.definitions_version()
    assert len({first, second, third}) == 3
    # What a running event writes all day leaves it alone: the server rereads nothing.
    await backend.append("agenda:ev", {"seq": 1})
    await backend.save_snapshot("agenda:ev", 1, {})
    await backend.put_record("epoch", "ev", {"epoch": "x"})
    await backend.notes_append("ev/w", [b"u"])
    assert await backend.definitions_version() == third


async def test_sqlite_sees_a_definition_put_by_another_process(tmp_path: Path) -> None:
    server, command = SQLiteBackend(tmp_path / "r.db"), SQLiteBackend(tmp_path / "r.db")
    await server.open()
    await command.open()  # as `relais import` opens the server's database
    try:
        before = await server.definitions_version()
        await command.put_definition("ev", "id: ev")
        assert await server.definitions_version() != before
    finally:
        await command.close()
        await server.close()


# -- the hub following its store --------------------------------------------------------------


class CountingReads(MemoryBackend):
    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    async def definitions(self) -> dict[str, str]:
        self.reads += 1
        return await super().definitions()


async def test_the_hub_reads_the_definitions_only_when_their_version_moved() -> None:
    backend = CountingReads()
    hub = Catalogue(backend)
    await hub.put(ARIEGE)
    await hub.refresh()  # its own put: read once, nothing to redo
    reads = backend.reads
    for _ in range(20):
        assert await hub.refresh() == []
    assert backend.reads == reads
    await backend.put_definition("other-2020", variant("other-2020"))  # another process
    assert await hub.refresh() == ["other-2020"]
    assert backend.reads == reads + 1 and hub.get("other-2020") is not None


async def test_an_invalid_stored_definition_is_logged_without_its_values_and_the_old_kept(
    caplog: pytest.LogCaptureFixture,
) -> None:
    backend = MemoryBackend()
    hub = Catalogue(backend)
    await hub.put(ARIEGE)
    broken = yaml.safe_load(ARIEGE)
    broken["agenda"][0]["speakers"] = [{"name": "Jeanne Martin", "site": "Jeanne Martin"}]
    await backend.put_definition("ariege-2020", yaml.safe_dump(broken, allow_unicode=True))
    with caplog.at_level(logging.ERROR, logger="relais.hub"):
        assert await hub.refresh() == []
        assert await hub.refresh() == []  # said once, not at every poll
    live = hub.get("ariege-2020")
    assert live is not None and live.event.agenda[0].speakers[0].name == "Monsieur le Recteur"
    [record] = caplog.records
    assert "ariege-2020" in record.getMessage() and "Jeanne" not in record.getMessage()


async def test_a_definition_without_the_step_being_run_leaves_the_event_as_it_is() -> None:
    backend = MemoryBackend()
    hub = Catalogue(backend)
    await hub.put(ARIEGE)
    live = hub.get("ariege-2020")
    assert live is not None
    for i in range(3):  # the third step: the break
        await live.command("step.next", {}, REGIE, str(i))
    shorter = yaml.safe_load(ARIEGE)
    shorter["agenda"] = shorter["agenda"][:2]
    await backend.put_definition("ariege-2020", yaml.safe_dump(shorter, allow_unicode=True))
    assert await hub.refresh() == []
    assert len(live.event.agenda) == 4 and live.state.step == 2


# -- the real server and the real command ------------------------------------------------------


async def relais_import(server: LiveServer, path: Path) -> None:
    """`relais import` as an operator runs it, on the running server's data."""
    proc = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "live.cli", "--data", str(server.data_dir)),
        *("--backend", server.backend, "import", str(path)),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, ""


async def page_showing(url: str, text: str, deadline: float) -> None:
    """Poll the page until it answers 200 with `text`, failing at `deadline`."""
    while True:
        status, body = await asyncio.to_thread(get, url)
        if status == 200 and text in body:
            return
        assert time.monotonic() < deadline, f"{url} still answers {status} without {text!r}"
        await asyncio.sleep(0.05)


async def snapshot(server: LiveServer, event_id: str) -> dict:
    async with connect(f"{server.ws_url}/ws/events/{event_id}") as ws:
        await ws.send(json.dumps({"type": "hello", "since": None, "epoch": None}))
        msg: dict = json.loads(await asyncio.wait_for(ws.recv(), 2))
        return msg


async def test_an_event_imported_while_the_server_runs_is_served_within_two_seconds(
    live_server: LiveServer, tmp_path: Path
) -> None:
    url = f"{live_server.url}/e/cantal-2020"
    assert (await asyncio.to_thread(get, url))[0] == 404
    (tmp_path / "cantal.yaml").write_text(variant("cantal-2020", "Journée du Cantal"))
    await relais_import(live_server, tmp_path / "cantal.yaml")
    deadline = time.monotonic() + 2
    await page_showing(url, "Journée du Cantal", deadline)
    msg = await snapshot(live_server, "cantal-2020")
    assert msg["type"] == "snapshot" and msg["seq"] == 0 and msg["state"]["step"] is None
    assert time.monotonic() < deadline


async def test_a_changed_title_is_served_without_a_restart_and_the_run_goes_on(
    live_server: LiveServer, tmp_path: Path
) -> None:
    console = f"{live_server.ws_url}/ws/events/ariege-2020?k="
    async with connect(console + live_server.link("ariege-2020", "facilitator")) as ws:
        await ws.send(json.dumps({"type": "hello", "since": None, "epoch": None}))
        before = json.loads(await asyncio.wait_for(ws.recv(), 2))
        await ws.send(json.dumps({"type": "command", "id": "a", "name": "step.next", "args": {}}))
        while (reply := json.loads(await asyncio.wait_for(ws.recv(), 2)))["type"] != "ack":
            assert reply["type"] == "event"
    (tmp_path / "ariege.yaml").write_text(variant(title="Ariège, la journée continue"))
    await relais_import(live_server, tmp_path / "ariege.yaml")
    deadline = time.monotonic() + 2
    await page_showing(f"{live_server.url}/e/ariege-2020", "Ariège, la journée continue", deadline)
    after = await snapshot(live_server, "ariege-2020")
    assert after["epoch"] == before["epoch"]  # the same run, not a new one
    assert after["seq"] == 1 and after["state"]["step"] == 0
