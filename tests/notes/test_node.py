"""Interoperability: the npm packages yjs + y-websocket, run by Node, edit through the server
next to a Python (pycrdt) client, and everyone converges to the same text."""

from __future__ import annotations

import asyncio
import json
import shutil
from typing import Any

import pytest

from live.model import DEFAULT_NOTES_TEMPLATE
from tests.support.servers import ROOT, LiveServer, unavailable
from tests.support.yclient import YClient

pytestmark = pytest.mark.node

EVENT = "ariege-2020"
WORKSHOP = "atelier-gouvernance"
SCRIPT = ROOT / "tests" / "js" / "notes-client.mjs"


@pytest.fixture(autouse=True)
def node_ready() -> None:
    if shutil.which("node") is None:
        unavailable("node is not installed")
    for package in ("yjs", "y-websocket", "ws"):
        if not (ROOT / "js" / "node_modules" / package).is_dir():
            unavailable(f"npm package {package} missing: run `npm ci --prefix js`")


async def run_node(server: LiveServer, role: str, name: str, **opts: Any) -> dict[str, Any]:
    claims = {"workshop": WORKSHOP} if role == "rapporteur" else {"site": "foix"}
    config = {
        "url": f"{server.ws_url}/ws/notes/{EVENT}",
        "room": WORKSHOP,
        "token": server.link(EVENT, role, **claims),
        "name": name,
        **opts,
    }
    proc = await asyncio.create_subprocess_exec(
        "node", str(SCRIPT), json.dumps(config), stdout=asyncio.subprocess.PIPE
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 30)
    result: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
    assert proc.returncode == 0, result
    return result


def markers(name: str, count: int) -> list[str]:
    return [f"<{name}:{i}>" for i in range(count)]


def between_markers(text: str, position: int) -> int:
    """The first place at or after `position` that is not inside a `<name:i>` marker."""
    while text.rfind("<", 0, position) > text.rfind(">", 0, position):
        position += 1
    return position


def python_editor(server: LiveServer) -> YClient:
    token = server.link(EVENT, "rapporteur", workshop=WORKSHOP)
    return YClient(f"{server.ws_url}/ws/notes/{EVENT}/{WORKSHOP}?k={token}")


async def test_node_and_python_editors_converge_to_the_same_text(live_server: LiveServer) -> None:
    every = markers("js1", 25) + markers("js2", 25) + markers("py", 25)
    async with python_editor(live_server) as py:

        async def type_in_python() -> None:
            for i, marker in enumerate(markers("py", 25)):
                py.type(between_markers(str(py), (i * 37) % (len(str(py)) + 1)), marker)
                await asyncio.sleep(0.003)
            await py.until(lambda: all(m in str(py) for m in every), timeout=20)

        js1, js2, _ = await asyncio.gather(
            run_node(live_server, "rapporteur", "js1", edits=25, expect=every),
            run_node(live_server, "rapporteur", "js2", edits=25, expect=every),
            type_in_python(),
        )
        await py.until(lambda: str(py) == js1["text"], timeout=5)
    assert js1["text"] == js2["text"] == str(py)
    assert sorted(m for m in every if m in js1["text"]) == sorted(every)
    assert len(js1["text"]) == len(DEFAULT_NOTES_TEMPLATE) + sum(len(m) for m in every)


async def test_a_node_late_joiner_reads_what_python_wrote(live_server: LiveServer) -> None:
    async with python_editor(live_server) as py:
        py.append("Écrit en Python — accents compris.")
        await asyncio.sleep(0.1)
        screen = await run_node(live_server, "screen", "ecran", expect=["accents compris."])
    assert screen["text"] == str(py)


async def test_a_node_read_only_client_is_refused_and_changes_nothing(
    live_server: LiveServer,
) -> None:
    screen = await run_node(live_server, "screen", "ecran", edits=3, expectWarning=True)
    assert any("read_only" in w for w in screen["warnings"])
    async with python_editor(live_server) as py:
        assert str(py) == DEFAULT_NOTES_TEMPLATE


async def test_python_sees_the_node_editors_presence(live_server: LiveServer) -> None:
    async with python_editor(live_server) as py:
        node = asyncio.create_task(
            run_node(live_server, "rapporteur", "Noé", edits=1, expect=["<Noé:0>"], settleMs=800)
        )
        await py.until(
            lambda: any(s.get("user", {}).get("name") == "Noé" for s in py.presence.values()),
            timeout=10,
        )
        await node
