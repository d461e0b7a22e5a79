"""Shared notes against the real server: uvicorn, SQLite, and Yjs clients over websockets."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
import websockets

from live.model import DEFAULT_NOTES_TEMPLATE
from live.notes import ysync
from live.notes.limits import MAX_FRAME
from tests.support.servers import LiveServer
from tests.support.yclient import YClient

EVENT = "ariege-2020"
WORKSHOP = "atelier-acces"


def notes_url(server: LiveServer, token: str, workshop: str = WORKSHOP) -> str:
    return f"{server.ws_url}/ws/notes/{EVENT}/{workshop}?k={token}"


def editor(server: LiveServer, workshop: str = WORKSHOP) -> YClient:
    return YClient(notes_url(server, server.link(EVENT, "rapporteur", workshop=workshop), workshop))


def viewer(server: LiveServer, role: str = "screen", workshop: str = WORKSHOP) -> YClient:
    return YClient(notes_url(server, server.link(EVENT, role, site="foix"), workshop))


async def test_a_new_workshop_starts_from_the_structured_template(
    live_server: LiveServer,
) -> None:
    async with viewer(live_server) as screen:
        assert str(screen) == DEFAULT_NOTES_TEMPLATE
        for heading in ("Constats", "Propositions", "Freins", "Leviers", "Questions au plénier"):
            assert f"## {heading}" in str(screen)


async def test_what_the_rapporteur_types_appears_on_a_screen(live_server: LiveServer) -> None:
    async with editor(live_server) as rapporteur, viewer(live_server) as screen:
        rapporteur.type(len("## Constats\n\n"), "Zones blanches en montagne.")
        await screen.until_text(str(rapporteur))
        assert "Zones blanches en montagne." in str(screen)


async def test_three_editors_typing_at_once_converge(live_server: LiveServer) -> None:
    editors = [editor(live_server) for _ in range(3)]
    for e in editors:
        await e.connect()
    for round_ in range(20):
        for i, e in enumerate(editors):
            e.type(len(str(e)) // (i + 2), f"[{i}.{round_}]")
        await asyncio.sleep(0.005)
    typed = sum(len(f"[{i}.{r}]") for i in range(3) for r in range(20))
    async with viewer(live_server) as screen:
        final = len(DEFAULT_NOTES_TEMPLATE) + typed
        for client in [*editors, screen]:
            await client.until(lambda c=client: len(str(c)) == final)
        assert str(editors[0]) == str(editors[1]) == str(editors[2]) == str(screen)
        assert all(f"[{i}.19]" in str(screen) for i in range(3))
    for e in editors:
        await e.close()


async def test_a_late_joiner_catches_up(live_server: LiveServer) -> None:
    async with editor(live_server) as rapporteur:
        for word in ("Un ", "deux ", "trois."):
            rapporteur.append(word)
            await asyncio.sleep(0.01)
        async with viewer(live_server, "participant") as late:
            await late.until_text(str(rapporteur))
        assert str(rapporteur).endswith("Un deux trois.")


async def test_a_read_only_client_cannot_change_the_text(live_server: LiveServer) -> None:
    async with editor(live_server) as rapporteur, viewer(live_server) as screen:
        before = str(rapporteur)
        screen.append("graffiti")
        await screen.until(lambda: any(e.startswith("read_only:") for e in screen.errors))
        assert await screen.until_closed() == (4403, "read_only")  # its copy would diverge
        rapporteur.append(" ok")
        await rapporteur.until_text(before + " ok")
        async with viewer(live_server, "participant") as fresh:
            assert str(fresh) == before + " ok"
        assert "graffiti" not in str(rapporteur)


@pytest.mark.parametrize("role", ["facilitator", "organizer", "participant", "screen"])
async def test_only_rapporteur_links_edit(live_server: LiveServer, role: str) -> None:
    async with viewer(live_server, role) as reader:
        reader.append("x")
        await reader.until(lambda: any(e.startswith("read_only:") for e in reader.errors))
    async with viewer(live_server) as screen:
        assert str(screen) == DEFAULT_NOTES_TEMPLATE


async def test_a_rapporteur_reads_but_does_not_edit_another_workshop(
    live_server: LiveServer,
) -> None:
    token = live_server.link(EVENT, "rapporteur", workshop="atelier-enseigner")
    async with YClient(notes_url(live_server, token, WORKSHOP)) as other:
        other.append("intrusion")
        await other.until(lambda: any(e.startswith("read_only:") for e in other.errors))
    async with viewer(live_server) as screen:
        assert "intrusion" not in str(screen)


async def test_frames_that_change_nothing_get_an_error_and_the_connection_stays(
    live_server: LiveServer,
) -> None:
    async with editor(live_server) as client, viewer(live_server) as v:
        for frame in (b"", b"\x07", ysync.awareness(b"\x05"), ysync.awareness(b"\x01\x01")):
            await client.send_raw(frame)
        await client.until(lambda: len(client.errors) == 4)
        assert {e.split(":")[0] for e in client.errors} == {"malformed", "unknown_type"}
        client.append(" toujours là")
        await v.until(lambda: str(v).endswith(" toujours là"))
        assert not client.closed.is_set()


@pytest.mark.parametrize(
    "frame",
    [b"\x00\x09\x00", b"\x00\x02\x05ab", ysync.update(b"\xff" * 8), ysync.sync_step1(b"\x05")],
    ids=["unknown sync step", "truncated update", "invalid update", "invalid state vector"],
)
async def test_a_malformed_sync_message_closes_its_connection_and_the_room_keeps_working(
    live_server: LiveServer, frame: bytes
) -> None:
    async with editor(live_server) as bad, editor(live_server) as good, viewer(live_server) as v:
        await bad.send_raw(frame)
        code, reason = await bad.until_closed()
        assert code in (4400,) and reason in ("malformed", "unknown_type")
        assert bad.errors and bad.errors[0].startswith(f"{reason}:")
        good.append(" toujours là")
        await v.until_text(str(good))


async def test_a_text_frame_gets_an_error(live_server: LiveServer) -> None:
    async with editor(live_server) as client:
        await client.send_raw('{"type": "hello"}')
        await client.until(lambda: any(e.startswith("not_binary:") for e in client.errors))


async def test_a_change_over_the_frame_limit_closes_the_editor_instead_of_diverging(
    live_server: LiveServer,
) -> None:
    """The refused update would be missing for good, and every later one of that editor
    would wait for it: the editor is told (error frame, close 4413), not left typing into
    a copy nobody receives."""
    async with editor(live_server) as big, editor(live_server) as good, viewer(live_server) as v:
        before = str(v)
        big.append("x" * (MAX_FRAME + 1000))  # below the websocket's limit, above the room's
        assert await big.until_closed() == (4413, "too_large")
        assert big.errors[0].startswith("too_large:")
        big.append(" later typing")  # what the page would have sent next: nowhere to go
        good.append(" suite")
        await v.until_text(before + " suite")


async def test_a_frame_over_the_websocket_limit_is_cut_by_the_server(
    live_server: LiveServer,
) -> None:
    async with editor(live_server) as big, editor(live_server) as good, viewer(live_server) as v:
        with contextlib.suppress(websockets.ConnectionClosed):  # closed while it sends
            await big.send_raw(b"\x00" * (2 << 20))  # beyond --ws-max-size: closed (1009)
        await asyncio.wait_for(big.closed.wait(), 5)
        assert big.close_code == 1009
        good.append(" suite")
        await v.until_text(str(good))


async def test_an_invalid_link_is_refused_with_a_final_close_code(
    live_server: LiveServer,
) -> None:
    async with websockets.connect(
        f"{live_server.ws_url}/ws/notes/{EVENT}/{WORKSHOP}?k=forged"
    ) as ws:
        msg = ysync.parse(await ws.recv())
        assert isinstance(msg, ysync.Auth) and msg.reason.startswith("link_invalid:")
        with pytest.raises(websockets.ConnectionClosed):
            await ws.recv()
        assert ws.close_code == 4401  # as the live socket and HTTP (401): see live/errors.py


async def test_an_unknown_workshop_is_refused(live_server: LiveServer) -> None:
    token = live_server.link(EVENT, "screen")
    async with websockets.connect(f"{live_server.ws_url}/ws/notes/{EVENT}/nope?k={token}") as ws:
        msg = ysync.parse(await ws.recv())
        assert isinstance(msg, ysync.Auth) and msg.reason.startswith("not_found:")
        with pytest.raises(websockets.ConnectionClosed):
            await ws.recv()
        assert ws.close_code == 4404


async def test_awareness_shows_who_is_editing_and_when_they_leave(
    live_server: LiveServer,
) -> None:
    async with viewer(live_server) as screen:
        rapporteur = editor(live_server)
        await rapporteur.connect()
        user = {"user": {"name": "Aïcha", "color": "#c0392b"}, "cursor": None}
        await rapporteur.set_presence(rapporteur.doc.client_id, 1, user)
        await screen.until(lambda: screen.presence.get(rapporteur.doc.client_id) == user)
        await rapporteur.close()
        await screen.until(lambda: rapporteur.doc.client_id not in screen.presence)


async def test_a_viewers_presence_is_not_broadcast(live_server: LiveServer) -> None:
    async with editor(live_server) as rapporteur, viewer(live_server) as screen:
        await screen.set_presence(screen.doc.client_id, 1, {"user": {"name": "écran"}})
        await rapporteur.set_presence(rapporteur.doc.client_id, 1, {"user": {"name": "R"}})
        await screen.until(lambda: rapporteur.doc.client_id in screen.presence)
        await rapporteur.until(lambda: True)
        assert screen.doc.client_id not in rapporteur.presence


async def test_the_text_survives_a_restart(live_server: LiveServer) -> None:
    async with editor(live_server) as rapporteur, viewer(live_server) as screen:
        rapporteur.append("Proposition : un référent numérique par école.")
        await screen.until_text(str(rapporteur))
        expected = str(rapporteur)
    live_server.restart()
    async with viewer(live_server) as after:
        assert str(after) == expected


async def test_every_relayed_update_survives_a_crash(live_server: LiveServer) -> None:
    """What a screen has shown was written first: a hard kill right after loses none of it."""
    async with editor(live_server) as rapporteur, viewer(live_server) as screen:
        for i in range(30):
            rapporteur.append(f" {i}")
        await screen.until_text(str(rapporteur))
        shown = str(screen)
        live_server.restart(hard=True)
    async with viewer(live_server) as after:
        assert str(after) == shown


async def test_offline_edits_merge_when_the_connection_returns(live_server: LiveServer) -> None:
    async with editor(live_server) as online, viewer(live_server) as screen:
        offline = editor(live_server)
        await offline.connect()
        await offline.close()
        offline.append(" (écrit hors ligne)")
        online.type(0, "En ligne. ")
        await screen.until(lambda: str(screen).startswith("En ligne. "))
        await offline.connect()
        await screen.until(lambda: str(screen).endswith(" (écrit hors ligne)"))
        await offline.until_text(str(screen))
        await offline.close()
