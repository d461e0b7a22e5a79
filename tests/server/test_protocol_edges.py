"""The live socket's edges: a command before `hello`, and refusals that name the field.

A real server on a free port, real websocket clients."""

from __future__ import annotations

import json
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from tests.support.servers import LiveServer

EVENT = "ariege-2020"


def console(server: LiveServer, lang: str = "fr") -> ClientConnection:
    token = server.link(EVENT, "facilitator")
    return connect(f"{server.ws_url}/ws/events/{EVENT}?k={token}&lang={lang}").__enter__()


def frames_until(ws: ClientConnection, cid: str) -> list[dict[str, Any]]:
    """Every frame received up to the answer (ack or error) to command `cid`."""
    seen: list[dict[str, Any]] = []
    while not seen or not (seen[-1].get("id") == cid and seen[-1]["type"] in ("ack", "error")):
        seen.append(json.loads(ws.recv(timeout=10)))
    return seen


def test_a_command_sent_before_hello_is_followed_by_its_own_broadcast(
    live_server: LiveServer,
) -> None:
    ws = console(live_server)
    ws.send(json.dumps({"type": "command", "id": "a", "name": "step.next", "args": {}}))
    seen = frames_until(ws, "a")
    kinds = [m["type"] for m in seen]
    assert kinds == ["snapshot", "event", "ack"]  # subscribed first: it sees what it did
    assert seen[0]["seq"] == 0 and seen[1]["seq"] == 1 and seen[1]["name"] == "step.next"
    # ...and it keeps following: another console's command reaches it too.
    other = console(live_server)
    other.send(json.dumps({"type": "hello"}))
    other.send(json.dumps({"type": "command", "id": "b", "name": "timer.pause", "args": {}}))
    assert frames_until(other, "b")[-1]["type"] == "ack"
    pushed = json.loads(ws.recv(timeout=10))
    assert pushed["type"] == "event" and pushed["seq"] == 2 and pushed["name"] == "timer.pause"


def test_an_extension_of_zero_minutes_is_refused_naming_minutes(
    live_server: LiveServer,
) -> None:
    for lang, words in (("fr", "Commande mal formée (minutes)"), ("en", "(minutes)")):
        ws = console(live_server, lang)
        ws.send(json.dumps({"type": "hello"}))
        ws.send(
            json.dumps(
                {"type": "command", "id": "z", "name": "timer.adjust", "args": {"minutes": 0}}
            )
        )
        refused = frames_until(ws, "z")[-1]
        assert refused["type"] == "error" and refused["code"] == "invalid_args"
        assert words in refused["message"] and "args" not in refused["message"]
        ws.close()


def test_a_frame_over_the_transport_limit_is_explained_before_the_close(
    live_server: LiveServer,
) -> None:
    """Past 1 MiB the server does not read a frame (the limit bounds its memory): the
    page is told why, in its language, before the close (1009), and reconnects."""
    for lang, words in (("fr", "Message trop long"), ("en", "too long")):
        with connect(f"{live_server.ws_url}/ws/events/{EVENT}?lang={lang}", max_size=None) as ws:
            ws.send(json.dumps({"type": "hello", "pad": "x" * (2 << 20)}))
            error = json.loads(ws.recv(timeout=10))
            assert error["type"] == "error" and error["code"] == "too_large"
            assert words.lower() in error["message"].lower()
            with pytest.raises(ConnectionClosed) as closed:
                ws.recv(timeout=10)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009


def test_a_goto_naming_neither_index_nor_step_is_refused_naming_both(
    live_server: LiveServer,
) -> None:
    with console(live_server) as ws:
        ws.send(json.dumps({"type": "hello"}))
        ws.send(json.dumps({"type": "command", "id": "g", "name": "step.goto", "args": {}}))
        refused = frames_until(ws, "g")[-1]
        assert refused["type"] == "error" and refused["code"] == "invalid_args"
        assert "(index/step)" in refused["message"]
