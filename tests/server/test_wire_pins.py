"""The uvicorn and websockets internals `live/web/wire.py` relies on are still there.

wire.py subclasses uvicorn's sans-I/O websockets protocol (a private class) and builds
websockets' frames itself, so both are pinned exactly in pyproject.toml (as aiortc is for
the plenary). When an upgrade moves any name wire.py uses, this file fails first, saying
what moved, instead of broadcasts silently going through the slow path or sockets never
being aborted. An upgrade is made on purpose: change the pin, run this file and
tests/server/test_wire.py, then relock (scripts/lock.sh).
"""

from __future__ import annotations

import asyncio
import inspect
import re
import tomllib
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from uvicorn.server import ServerState
from websockets.frames import Frame, Opcode
from websockets.protocol import State
from websockets.server import ServerProtocol

from live.web import wire

ROOT = Path(__file__).resolve().parents[2]
FIX = "update live/web/wire.py (and its pins in pyproject.toml, then scripts/lock.sh)"


def pins() -> dict[str, str]:
    """The exact pins of pyproject.toml's dependencies: name -> version."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    found = (re.fullmatch(r"([A-Za-z0-9_.-]+)==([^\s;]+)", d) for d in project["dependencies"])
    return {m[1].lower(): m[2] for m in found if m}


@pytest.mark.parametrize("package", ["uvicorn", "websockets"])
def test_uvicorn_and_websockets_are_pinned_exactly_and_installed_at_their_pins(
    package: str,
) -> None:
    pinned = pins().get(package)
    assert pinned, f"{package} is not pinned exactly (==) in pyproject.toml: wire.py reaches in"
    assert version(package) == pinned, (
        f"{package} {version(package)} is installed, wire.py was checked against {pinned}: "
        f"run this file and tests/server/test_wire.py, then {FIX}"
    )


async def a_protocol() -> wire.WebSocketsSansIOProtocol:
    """uvicorn's protocol (the class wire extends) as uvicorn makes one for a connection,
    before its transport."""

    async def app(scope: Any, receive: Any, send: Any) -> None:  # never called
        raise AssertionError

    config = uvicorn.Config(app, ws=wire.PROTOCOL, ws_per_message_deflate=False)
    config.load()
    loop = asyncio.get_running_loop()
    return wire.WebSocketsSansIOProtocol(config, ServerState(), {}, _loop=loop)


async def test_uvicorn_s_protocol_has_the_state_wire_reads() -> None:
    protocol = await a_protocol()
    expected: dict[str, type | tuple[type, ...]] = {
        "close_sent": bool,
        "disconnected": bool,
        "handshake_complete": bool,
        "writable": asyncio.Event,  # cleared by pause_writing, set by resume_writing
        "queue": asyncio.Queue,  # what the app receives (websocket.disconnect on abort)
        "conn": ServerProtocol,  # websockets' sans-I/O connection: state, extensions
        "loop": asyncio.AbstractEventLoop,
        "close_timer": (type(None), asyncio.TimerHandle),
        "config": uvicorn.Config,  # its ws_max_size, which a too-large frame is told
    }
    for name, kind in expected.items():
        assert isinstance(getattr(protocol, name, None), kind), (
            f"uvicorn's WebSocketsSansIOProtocol.{name} is gone or no longer a {kind}: {FIX}"
        )
    assert hasattr(protocol, "transport"), f"WebSocketsSansIOProtocol.transport is gone: {FIX}"
    assert protocol.writable.is_set() and protocol.conn.extensions == []
    protocol.pause_writing()
    assert not protocol.writable.is_set(), f"pause_writing no longer clears writable: {FIX}"
    protocol.resume_writing()
    assert protocol.writable.is_set(), f"resume_writing no longer sets writable: {FIX}"


def test_the_methods_wire_overrides_are_uvicorn_s_with_the_same_signatures() -> None:
    base = wire.WebSocketsSansIOProtocol
    for name in (
        "pause_writing",
        "handle_ping",
        "keepalive_timeout",
        "handle_parser_exception",
        "send",
        "handle_connect",
        "connection_lost",
    ):
        theirs = getattr(base, name, None)
        assert theirs is not None, f"WebSocketsSansIOProtocol.{name} is gone: {FIX}"
        ours = getattr(wire.WebSocketProtocol, name)
        assert list(inspect.signature(ours).parameters) == list(
            inspect.signature(theirs).parameters
        ), f"WebSocketsSansIOProtocol.{name} takes other arguments now: {FIX}"
        assert inspect.iscoroutinefunction(ours) == inspect.iscoroutinefunction(theirs), name


def test_an_accepted_upgrade_gets_a_scope_with_extensions() -> None:
    """wire puts its direct writer in `scope["extensions"]` after handle_connect."""
    source = inspect.getsource(wire.WebSocketsSansIOProtocol.handle_connect)
    assert "self.scope" in source and '"extensions"' in source, (
        f"handle_connect no longer builds self.scope with its extensions: {FIX}"
    )


def test_websockets_builds_the_frames_wire_writes() -> None:
    assert Frame(Opcode.TEXT, b"hi").serialize(mask=False) == b"\x81\x02hi"
    assert Frame(Opcode.BINARY, b"\x00").serialize(mask=False) == b"\x82\x01\x00"
    assert State.OPEN.name == "OPEN"
