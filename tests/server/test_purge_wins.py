"""A purge of personal data wins over what a running server holds in memory.

Issue 19, item 7: `relais purge` removed the rapporteurs' names from the store, but the
running server's notes room still held them and wrote them back at the next new author.
A real server, real notes sockets, the real command in another process."""

from __future__ import annotations

import asyncio

import httpx

from tests.support.servers import LiveServer
from tests.support.yclient import YClient

EVENT = "ariege-2020"
WORKSHOP = "atelier-acces"


async def write_as(server: LiveServer, name: str, text: str) -> None:
    """A rapporteur who gives a name and types: the room credits that name."""
    url = (
        f"{server.ws_url}/ws/notes/{EVENT}/{WORKSHOP}"
        f"?k={server.link(EVENT, 'rapporteur', workshop=WORKSHOP)}"
    )
    async with YClient(url) as editor:
        await editor.set_presence(editor.doc.client_id, 1, {"user": {"name": name}})
        editor.append(text)
        await until_synthesis(server, lambda body: name in body)


def synthesis(server: LiveServer) -> str:
    k = server.link(EVENT, "organizer")
    r = httpx.get(f"{server.url}/e/{EVENT}/synthesis", params={"format": "md", "k": k})
    assert r.status_code == 200
    return r.text


async def until_synthesis(server: LiveServer, holds: object, timeout: float = 20) -> str:
    async with asyncio.timeout(timeout):
        while True:
            body = await asyncio.to_thread(synthesis, server)
            if holds(body):  # type: ignore[operator]
                return body
            await asyncio.sleep(0.1)


async def test_the_running_server_never_writes_purged_rapporteur_names_back(
    live_server: LiveServer,
) -> None:
    await write_as(live_server, "Jeanne Martin", "Constat : la fibre manque.\n")
    live_server.relais("purge", EVENT)  # while the room is loaded, names in memory
    body = await until_synthesis(live_server, lambda b: "Jeanne Martin" not in b)
    assert "la fibre manque" in body  # the notes text stays: it is the event's record
    await write_as(live_server, "Paul Durand", "Proposition : un tiers-lieu.\n")
    body = synthesis(live_server)
    assert "Paul Durand" in body and "Jeanne Martin" not in body
    live_server.restart()  # what was stored, without the memory of the room
    body = await until_synthesis(live_server, lambda b: "Paul Durand" in b)
    assert "Jeanne Martin" not in body
