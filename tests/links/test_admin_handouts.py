"""The organizer link the studio gives an administrator, on the real server: every link a
page mints is one the organizer sees on the links sheet and may revoke, and revoking the
admin links (from /admin or `relais admin-link --revoke-others`) revokes what they handed
out, on every page it opened: the desk, the studio, the registrations CSV, the links sheet,
and the console already open with it."""

from __future__ import annotations

import asyncio
import html
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from websockets.asyncio.client import connect

from tests.server.test_live_hardening import closed_with
from tests.support.servers import ROOT, SECRET, LiveServer

EVENT = "ariege-2020"
SLOT = "organizer:admin"  # its entry on the links sheet


@pytest.fixture
def http(live_server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_server.url, timeout=30) as client:
        yield client


def handed_out(http: httpx.Client, admin: str) -> str:
    """The organizer link the studio opened with `admin` gives (its desk link)."""
    page = http.get(f"/e/{EVENT}/studio", params={"k": admin})
    assert page.status_code == 200, page.text
    found = re.search(rf'href="/e/{EVENT}/organize\?k=([^"]+)"', page.text)
    assert found, "the studio links to the desk"
    return html.unescape(found.group(1))


def pages_of(token: str) -> dict[str, tuple[str, dict[str, str]]]:
    """Every page an organizer link opens, by name."""
    k = {"k": token}
    return {
        "desk": (f"/e/{EVENT}/organize", k),
        "studio": (f"/e/{EVENT}/studio", k),
        "registrations.csv": (f"/e/{EVENT}/organize/registrations.csv", k),
        "links sheet": (f"/e/{EVENT}/links", k),
    }


def statuses(http: httpx.Client, token: str) -> dict[str, int]:
    return {
        name: http.get(path, params=q).status_code for name, (path, q) in pages_of(token).items()
    }


def sheet_entry(http: httpx.Client, organizer: str) -> str:
    """The HTML of the admins' entry on the links sheet ("" when there is none)."""
    text = http.get(f"/e/{EVENT}/links", params={"k": organizer}).text
    start = text.find(f'data-slot="{SLOT}"')
    return "" if start < 0 else html.unescape(text[start : text.index("</article>", start)])


def revoke_from_admin_page(server: LiveServer, http: httpx.Client, admin: str) -> str:
    r = http.post("/admin/renew", params={"k": admin}, data={"revoke": "others"})
    assert r.status_code == 303
    return parse_qs(urlsplit(r.headers["location"]).query)["k"][0]


def revoke_from_command_line(server: LiveServer, http: httpx.Client, admin: str) -> str:
    relais = [sys.executable, "-m", "live.cli", "--data", str(server.data_dir)]
    env = {**os.environ, "RELAIS_SECRET": SECRET, "LIVE_BACKEND": server.backend}
    done = subprocess.run(
        [*relais, "admin-link", "--revoke-others"], cwd=ROOT, capture_output=True, env=env
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.decode().strip().rsplit("k=", 1)[1]


def test_the_organizer_link_an_admin_is_given_is_on_the_links_sheet_the_same_at_each_visit(
    live_server: LiveServer, http: httpx.Client
) -> None:
    organizer = live_server.link(EVENT, "organizer")
    assert sheet_entry(http, organizer) == ""  # no admin opened the studio yet
    admin = live_server.signer.sign_admin()
    given = handed_out(http, admin)
    assert handed_out(http, admin) == given  # no new link minted at every visit
    assert handed_out(http, live_server.signer.sign_admin()) == given  # nor per admin link
    entry = sheet_entry(http, organizer)
    assert given in entry and 'data-status="valid"' in entry
    assert "administrateurs" in entry  # says whom it was given to
    assert set(statuses(http, given).values()) == {200}


def test_the_organizer_revokes_the_link_an_admin_was_given_from_the_links_sheet(
    live_server: LiveServer, http: httpx.Client
) -> None:
    organizer = live_server.link(EVENT, "organizer")
    admin = live_server.signer.sign_admin()
    given = handed_out(http, admin)
    link_id = re.search(r'name="link" value="([^"]+)"', sheet_entry(http, organizer))
    assert link_id
    r = http.post(
        f"/e/{EVENT}/links/revoke", params={"k": organizer}, data={"slot": SLOT, "link": link_id[1]}
    )
    assert r.status_code == 303
    assert set(statuses(http, given).values()) <= {401, 403}
    assert 'data-status="revoked"' in sheet_entry(http, organizer)
    # The admin's next visit to the studio is given a new link, on the sheet as well.
    again = handed_out(http, admin)
    assert again != given and again in sheet_entry(http, organizer)
    assert set(statuses(http, again).values()) == {200}


@pytest.mark.parametrize("revoke", [revoke_from_admin_page, revoke_from_command_line])
async def test_revoking_the_admin_links_revokes_the_organizer_links_they_were_given(
    live_server: LiveServer, revoke: object
) -> None:
    with httpx.Client(base_url=live_server.url, timeout=30) as http:
        admin = live_server.signer.sign_admin()
        given = await asyncio.to_thread(handed_out, http, admin)
        assert set((await asyncio.to_thread(statuses, http, given)).values()) == {200}
        console = await connect(f"{live_server.ws_url}/ws/events/{EVENT}?k={given}")
        await console.send(json.dumps({"type": "hello", "since": None, "epoch": None}))
        assert json.loads(await asyncio.wait_for(console.recv(), 30))["type"] == "snapshot"

        new_admin = await asyncio.to_thread(revoke, live_server, http, admin)  # type: ignore[arg-type]

        refused = await asyncio.to_thread(statuses, http, given)
        assert all(code in (401, 403) for code in refused.values()), refused
        if revoke is revoke_from_admin_page:  # in the server's process: open pages close now
            code, _ = await closed_with(console, timeout=30)
            assert code == 4403
        else:  # from another process, on SQLite: its next command is refused
            await console.send(
                json.dumps({"type": "command", "id": "c1", "name": "step.next", "args": {}})
            )
            while (answer := json.loads(await asyncio.wait_for(console.recv(), 30))).get(
                "id"
            ) != "c1":
                pass
            assert answer["type"] == "error" and answer["code"] == "link_revoked"
        await console.close()
        # The new admin link is given a new organizer link, which works.
        fresh = await asyncio.to_thread(handed_out, http, new_admin)
        assert fresh != given
        assert set((await asyncio.to_thread(statuses, http, fresh)).values()) == {200}
