"""Links on open notes sockets, against the real server: a link revoked or expired while
its socket is open stops editing at once; the organizer erases the credited names."""

from __future__ import annotations

import asyncio
import urllib.error
import urllib.parse
import urllib.request

import pytest

from tests.support.servers import LiveServer
from tests.support.yclient import YClient

EVENT = "ariege-2020"
WORKSHOP = "atelier-acces"


def notes_url(server: LiveServer, token: str) -> str:
    return f"{server.ws_url}/ws/notes/{EVENT}/{WORKSHOP}?k={token}"


def viewer(server: LiveServer) -> YClient:
    return YClient(notes_url(server, server.link(EVENT, "screen", site="foix")))


def post(server: LiveServer, where: str, token: str, **form: str) -> int:
    """POST a form as the organizer's desk does; the HTTP status (redirects not followed)."""
    query = urllib.parse.urlencode({"k": token})
    request = urllib.request.Request(
        f"{server.url}{where}?{query}", data=urllib.parse.urlencode(form).encode()
    )

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: object, **kwargs: object) -> None:
            return None

    try:
        with urllib.request.build_opener(NoRedirect).open(request, timeout=10) as r:
            return int(r.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def synthesis(server: LiveServer) -> str:
    token = server.link(EVENT, "organizer")
    url = f"{server.url}/e/{EVENT}/synthesis?format=md&k={token}"
    with urllib.request.urlopen(url, timeout=10) as r:
        return str(r.read().decode())


async def test_revoking_a_rapporteur_link_closes_its_open_socket_at_once(
    live_server: LiveServer,
) -> None:
    token = live_server.link(EVENT, "rapporteur", workshop=WORKSHOP)
    async with YClient(notes_url(live_server, token)) as rapporteur, viewer(live_server) as v:
        rapporteur.append(" avant")
        await v.until_text(str(rapporteur))
        organizer = live_server.link(EVENT, "organizer")
        status = await asyncio.to_thread(
            post, live_server, f"/e/{EVENT}/organize/revoke", organizer, link=token
        )
        assert status == 303
        assert await rapporteur.until_closed() == (4403, "link_revoked")  # sent nothing
        assert rapporteur.errors[-1].startswith("link_revoked:")
        before = str(v)
        rapporteur.append(" après")
    async with viewer(live_server) as fresh:
        assert str(fresh) == before
        assert "après" not in str(fresh)


async def test_an_expired_rapporteur_link_cannot_edit_after_its_expiry(
    live_server: LiveServer,
) -> None:
    token = live_server.signer.sign(EVENT, "rapporteur", workshop=WORKSHOP, days=3 / 86400)
    async with YClient(notes_url(live_server, token)) as rapporteur, viewer(live_server) as v:
        rapporteur.append(" avant")
        await v.until_text(str(rapporteur))
        assert await rapporteur.until_closed(timeout=10) == (4403, "link_expired")
        assert rapporteur.errors[-1].startswith("link_expired:")
        rapporteur.append(" après")
    async with viewer(live_server) as fresh:
        assert str(fresh).endswith(" avant")


async def test_the_organizer_erases_the_credited_names_and_open_pages_do_not_restore_them(
    live_server: LiveServer,
) -> None:
    rapporteur = YClient(
        notes_url(live_server, live_server.link(EVENT, "rapporteur", workshop=WORKSHOP))
    )
    await rapporteur.connect()
    me = rapporteur.doc.client_id
    await rapporteur.set_presence(me, 1, {"user": {"name": "Aïcha Benali"}})
    rapporteur.append(" - une idée")
    async with viewer(live_server) as v:
        await v.until_text(str(rapporteur))
    assert "Aïcha Benali" in synthesis(live_server)
    organizer = live_server.link(EVENT, "organizer")
    where = f"/e/{EVENT}/notes/names/erase"
    assert await asyncio.to_thread(post, live_server, where, organizer, workshop=WORKSHOP) == 303
    assert "Aïcha Benali" not in synthesis(live_server)
    await rapporteur.set_presence(me, 2, {"user": {"name": "Aïcha Benali"}})  # still open
    rapporteur.append(" - encore")
    async with viewer(live_server) as v:
        await v.until_text(str(rapporteur))
    await rapporteur.close()
    live_server.restart()
    assert "Aïcha Benali" not in synthesis(live_server)


@pytest.mark.parametrize("role", ["facilitator", "rapporteur"])
def test_only_the_organizer_erases_names(live_server: LiveServer, role: str) -> None:
    token = live_server.link(EVENT, role, workshop=WORKSHOP)
    assert post(live_server, f"/e/{EVENT}/notes/names/erase", token) == 403


def test_erasing_the_names_of_an_unknown_workshop_is_refused(live_server: LiveServer) -> None:
    token = live_server.link(EVENT, "organizer")
    assert post(live_server, f"/e/{EVENT}/notes/names/erase", token, workshop="nope") == 404
