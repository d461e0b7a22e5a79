"""The live websocket against the real server: uvicorn on a free port, real clients."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from tests.support.servers import LiveServer

EVENT = "ariege-2020"


async def open_ws(server: LiveServer, token: str | None = None) -> ClientConnection:
    query = f"?k={token}" if token else ""
    return await connect(f"{server.ws_url}/ws/events/{EVENT}{query}", max_size=None)


async def recv(ws: ClientConnection, kind: str | None = None, timeout: float = 5) -> dict[str, Any]:
    """The next message (of `kind`, skipping others)."""
    while True:
        msg: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        if kind is None or msg["type"] == kind:
            return msg


async def hello(ws: ClientConnection, since: int | None = None, epoch: str | None = None) -> dict:
    await ws.send(json.dumps({"type": "hello", "since": since, "epoch": epoch}))
    return await recv(ws)


async def command(ws: ClientConnection, name: str, cid: str, **args: Any) -> dict[str, Any]:
    await ws.send(json.dumps({"type": "command", "id": cid, "name": name, "args": args}))
    while True:
        msg = await recv(ws)
        if msg["type"] in ("ack", "error") and msg.get("id") == cid:
            return msg


def facilitator(server: LiveServer) -> str:
    return server.link(EVENT, "facilitator")


async def test_first_hello_gets_a_snapshot(live_server: LiveServer) -> None:
    ws = await open_ws(live_server)
    msg = await hello(ws)
    assert msg["type"] == "snapshot"
    assert msg["seq"] == 0 and msg["state"]["step"] is None
    assert isinstance(msg["server_time"], int) and msg["epoch"]
    await ws.close()


async def test_two_clients_see_the_same_events_in_the_same_order(
    live_server: LiveServer,
) -> None:
    a, b = await open_ws(live_server), await open_ws(live_server)
    await hello(a)
    await hello(b)
    console = await open_ws(live_server, facilitator(live_server))
    await hello(console)
    sent = [("step.next", {}), ("timer.pause", {}), ("timer.resume", {}), ("step.next", {})]
    for i, (name, args) in enumerate(sent):
        assert (await command(console, name, f"c{i}", **args))["type"] == "ack"
    seen_a = [(m["seq"], m["name"]) for m in [await recv(a, "event") for _ in sent]]
    seen_b = [(m["seq"], m["name"]) for m in [await recv(b, "event") for _ in sent]]
    assert (
        seen_a
        == seen_b
        == [(1, "step.next"), (2, "timer.pause"), (3, "timer.resume"), (4, "step.next")]
    )
    for ws in (a, b, console):
        await ws.close()


async def test_reconnecting_with_since_receives_exactly_what_was_missed(
    live_server: LiveServer,
) -> None:
    screen = await open_ws(live_server)
    first = await hello(screen)
    console = await open_ws(live_server, facilitator(live_server))
    await hello(console)
    await command(console, "step.next", "a")
    event = await recv(screen, "event")
    await screen.close()
    for i, name in enumerate(["timer.pause", "timer.resume", "timer.adjust"]):
        args = {"minutes": 2} if name == "timer.adjust" else {}
        assert (await command(console, name, f"b{i}", **args))["type"] == "ack"
    screen = await open_ws(live_server)
    msg = await hello(screen, since=event["seq"], epoch=first["epoch"])
    assert msg["type"] == "events"
    assert [e["seq"] for e in msg["events"]] == [2, 3, 4]
    assert [e["name"] for e in msg["events"]] == ["timer.pause", "timer.resume", "timer.adjust"]
    assert msg["state"]["seq"] == 4
    await screen.close()
    await console.close()


async def test_a_client_from_another_epoch_gets_a_snapshot(live_server: LiveServer) -> None:
    ws = await open_ws(live_server)
    msg = await hello(ws, since=0, epoch="not-this-log")
    assert msg["type"] == "snapshot"
    await ws.close()


async def test_a_viewer_command_is_refused_and_nothing_is_written(
    live_server: LiveServer,
) -> None:
    for token in (
        None,
        live_server.link(EVENT, "screen", site="foix"),
        live_server.link(EVENT, "participant", site="foix"),
    ):
        ws = await open_ws(live_server, token)
        await hello(ws)
        reply = await command(ws, "step.next", "x")
        assert reply["type"] == "error" and reply["code"] == "forbidden"
        await ws.close()
    state = json.loads(urllib.request.urlopen(f"{live_server.url}/api/events/{EVENT}/state").read())
    assert state["state"]["seq"] == 0 and state["state"]["step"] is None


async def test_bad_frames_get_an_error_and_the_connection_stays_usable(
    live_server: LiveServer,
) -> None:
    ws = await open_ws(live_server, facilitator(live_server))
    await hello(ws)
    await ws.send("{not json")
    assert (await recv(ws, "error"))["code"] == "bad_json"
    await ws.send(json.dumps({"type": "command", "id": "u", "name": "rocket.launch"}))
    err = await recv(ws, "error")
    assert err["code"] == "unknown_command" and err["id"] == "u"
    await ws.send(
        json.dumps(
            {
                "type": "command",
                "id": "big",
                "name": "message.show",
                "args": {"text": "x" * 100_000},
            }
        )
    )
    assert (await recv(ws, "error"))["code"] == "too_large"
    await ws.send(
        json.dumps(
            {"type": "command", "id": "bad", "name": "timer.adjust", "args": {"minutes": "lots"}}
        )
    )
    err = await recv(ws, "error")
    assert err["code"] == "invalid_args" and err["id"] == "bad"
    await ws.send(json.dumps({"type": "teleport"}))
    assert (await recv(ws, "error"))["code"] == "invalid_message"
    await ws.send(json.dumps({"type": "command", "id": "p", "name": "timer.pause"}))
    assert (await recv(ws, "error"))["code"] == "not_started"
    # Still usable: a valid command goes through, and it is seq 1: nothing was written.
    reply = await command(ws, "step.next", "ok")
    assert reply == {"type": "ack", "id": "ok", "seq": 1}
    await ws.close()


async def test_a_retried_command_is_acknowledged_but_not_applied_twice(
    live_server: LiveServer,
) -> None:
    token = facilitator(live_server)
    ws = await open_ws(live_server, token)
    await hello(ws)
    assert (await command(ws, "step.next", "same"))["seq"] == 1
    await ws.close()
    ws = await open_ws(live_server, token)  # the same link reconnects and resends
    await hello(ws)
    assert (await command(ws, "step.next", "same"))["seq"] == 1
    state = json.loads(urllib.request.urlopen(f"{live_server.url}/api/events/{EVENT}/state").read())
    assert state["state"]["step"] == 0
    await ws.close()


async def test_a_command_id_reused_for_another_command_is_refused_even_after_a_restart(
    live_server: LiveServer,
) -> None:
    token = facilitator(live_server)
    ws = await open_ws(live_server, token)
    await hello(ws)
    assert (await command(ws, "step.next", "k"))["seq"] == 1
    reply = await command(ws, "timer.adjust", "k", minutes=5)
    assert reply["type"] == "error" and reply["code"] == "id_reused" and "k" in reply["message"]
    await ws.close()
    live_server.restart(hard=True)
    ws = await open_ws(live_server, token)
    await hello(ws)
    reply = await command(ws, "timer.adjust", "k", minutes=5)
    assert reply["type"] == "error" and reply["code"] == "id_reused"
    assert await command(ws, "step.next", "k") == {"type": "ack", "id": "k", "seq": 1}
    state = json.loads(urllib.request.urlopen(f"{live_server.url}/api/events/{EVENT}/state").read())
    assert state["state"]["seq"] == 1
    await ws.close()


async def test_ping_returns_the_server_time(live_server: LiveServer) -> None:
    ws = await open_ws(live_server)
    await ws.send(json.dumps({"type": "ping", "t0": 123.5}))
    pong = await recv(ws, "pong")
    assert pong["t0"] == 123.5 and pong["t1"] > 1_600_000_000_000
    await ws.close()


async def test_a_restart_restores_a_running_timer_deadline(live_server: LiveServer) -> None:
    ws = await open_ws(live_server, facilitator(live_server))
    await hello(ws)
    await command(ws, "step.next", "1")
    await command(ws, "timer.adjust", "2", minutes=3)
    before = (await hello(ws))["state"]
    await ws.close()
    live_server.restart(hard=True)
    ws = await open_ws(live_server)
    after = (await hello(ws))["state"]
    assert after["timer"]["status"] == "running"
    assert after["timer"]["deadline"] == before["timer"]["deadline"]
    assert after == before
    await ws.close()


async def test_unknown_event_is_refused(live_server: LiveServer) -> None:
    ws = await connect(f"{live_server.ws_url}/ws/events/nope")
    assert (await recv(ws, "error"))["code"] == "unknown_event"
    await ws.wait_closed()
    assert ws.close_code == 4404


def get_status(url: str) -> int:
    try:
        with urllib.request.urlopen(url) as r:
            return int(r.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def test_the_console_refuses_missing_forged_expired_and_viewer_links(
    live_server: LiveServer,
) -> None:
    base = f"{live_server.url}/e/{EVENT}/console"
    good = facilitator(live_server)
    assert get_status(f"{base}?k={good}") == 200
    assert get_status(base) == 401
    assert get_status(f"{base}?k={good[:-3]}abc") == 401
    expired = live_server.signer.sign(EVENT, "facilitator", days=-1)
    assert get_status(f"{base}?k={expired}") == 403
    other = live_server.signer.sign("poitiers-2020", "facilitator")
    assert get_status(f"{base}?k={other}") == 403
    screen = live_server.link(EVENT, "screen", site="foix")
    assert get_status(f"{base}?k={screen}") == 403
    assert get_status(f"{live_server.url}/e/{EVENT}/screen?k={screen}") == 200


async def test_a_forged_link_cannot_open_the_websocket(live_server: LiveServer) -> None:
    ws = await open_ws(live_server, facilitator(live_server)[:-2] + "xx")
    err = await recv(ws, "error")
    assert err["code"] == "link_invalid"
    await ws.wait_closed()
    assert ws.close_code == 4401


def test_pages_are_french_first_and_english_on_request(live_server: LiveServer) -> None:
    with urllib.request.urlopen(f"{live_server.url}/e/{EVENT}") as r:
        page = r.read().decode()
    assert '<html lang="fr">' in page and "Programme" in page
    with urllib.request.urlopen(f"{live_server.url}/e/{EVENT}?lang=en") as r:
        page = r.read().decode()
        cookie = r.headers["set-cookie"]
    assert '<html lang="en">' in page and "Agenda" in page and "lang=en" in cookie


def test_the_screen_shows_its_site_and_a_qr_code_to_the_participant_page(
    live_server: LiveServer,
) -> None:
    token = live_server.link("poitiers-2020", "screen", site="niort")
    with urllib.request.urlopen(f"{live_server.url}/e/poitiers-2020/screen?k={token}") as r:
        page = r.read().decode()
    assert "Lycée Paul Guérin, Niort" in page and "<svg" in page


async def test_a_refusal_is_said_in_the_language_of_the_page(live_server: LiveServer) -> None:
    token = facilitator(live_server)
    for lang, expected in (("fr", "première étape"), ("en", "first step")):
        ws = await connect(f"{live_server.ws_url}/ws/events/{EVENT}?k={token}&lang={lang}")
        await hello(ws)
        await command(ws, "step.goto", f"go-{lang}", index=0)
        reply = await command(ws, "step.previous", f"prev-{lang}")
        assert reply["code"] == "at_first_step" and expected in reply["message"]
        await ws.close()


async def test_the_event_ends_and_an_undo_takes_it_back(live_server: LiveServer) -> None:
    ws = await open_ws(live_server, facilitator(live_server))
    await hello(ws)
    await command(ws, "step.goto", "go", step="restitution")
    end = await command(ws, "event.end", "end")
    state = (await hello(ws))["state"]
    assert state["ended"] is not None and state["last"]["name"] == "event.end"
    assert "previous" not in state  # what undo keeps stays on the server
    assert (await command(ws, "step.next", "n"))["code"] == "ended"
    assert (await command(ws, "undo", "u", seq=end["seq"]))["type"] == "ack"
    state = (await hello(ws))["state"]
    assert state["ended"] is None and state["timer"]["status"] == "running"
    await ws.close()


def test_an_unknown_address_gets_a_page_in_french_not_a_bare_not_found(
    live_server: LiveServer,
) -> None:
    for path, status in (("/nulle-part", 404), (f"/e/{EVENT}/console/extra", 404)):
        try:
            urllib.request.urlopen(f"{live_server.url}{path}")
        except urllib.error.HTTPError as exc:
            assert exc.code == status
            page = exc.read().decode()
        assert '<html lang="fr">' in page and "Page introuvable" in page
        assert "Not Found" not in page


def test_a_refused_link_page_has_no_english_line(live_server: LiveServer) -> None:
    forged = facilitator(live_server)[:-3] + "abc"
    try:
        urllib.request.urlopen(f"{live_server.url}/e/{EVENT}/console?k={forged}")
    except urllib.error.HTTPError as exc:
        page = exc.read().decode()
    assert "modifié ou falsifié" in page and "not valid" not in page


async def test_screens_are_not_told_who_sent_a_command(live_server: LiveServer) -> None:
    screen = await open_ws(live_server, live_server.link(EVENT, "screen", site="foix"))
    epoch = (await hello(screen))["epoch"]
    console = await open_ws(live_server, facilitator(live_server))
    await hello(console)
    await command(console, "step.next", "secret-id")
    pushed = await recv(screen, "event")
    assert set(pushed) == {"type", "seq", "t", "name", "args", "state"}
    missed = await hello(screen, since=0, epoch=epoch)  # what a reconnecting screen gets
    assert missed["type"] == "events" and set(missed["events"][0]) == {"seq", "t", "name", "args"}
    for ws in (screen, console):
        await ws.close()
