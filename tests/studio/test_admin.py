"""The administration's pages, on the real server (`web/admin.py`): archiving and deleting
an event, the administrator's link printed, renewed and revoked."""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from websockets.sync.client import connect

from live.cli import main
from tests.studio.test_studio import ARIEGE, admin, http, save, stored, studio_page
from tests.support.servers import ROOT, SECRET, LiveServer
from tests.support.studio_forms import form_fields

__all__ = ["http"]  # the fixture, shared with the studio's tests


# -- archive and delete ----------------------------------------------------------------------


def test_an_archived_event_leaves_the_home_page_and_cannot_be_edited(
    live_server: LiveServer, http: httpx.Client
) -> None:
    token = admin(live_server)
    fields = form_fields(studio_page(live_server, http, ARIEGE))
    r = http.post(f"/admin/e/{ARIEGE}/archive", params={"k": token}, data={"action": "archive"})
    assert r.status_code == 303
    page = http.get("/admin", params={"k": token}).text
    assert re.search(rf'data-event="{ARIEGE}" data-state="archived"', page)
    assert f"/e/{ARIEGE}" not in http.get("/").text
    assert http.get(f"/e/{ARIEGE}").status_code == 200  # its links and QR codes still work
    r = save(live_server, http, ARIEGE, {**fields, "title": "Changé"})
    assert r.status_code == 409 and "archivé" in r.text
    http.post(f"/admin/e/{ARIEGE}/archive", params={"k": token}, data={"action": "unarchive"})
    assert f"/e/{ARIEGE}" in http.get("/").text
    assert save(live_server, http, ARIEGE, {**fields, "title": "Changé"}).status_code == 303


def test_deleting_asks_first_then_removes_the_event_and_its_personal_data(
    live_server: LiveServer, http: httpx.Client
) -> None:
    person = {
        "name": "Camille Martin",
        "email": "camille@example.fr",
        "category": "professeur",
        "site": "foix",
        "wish1": "atelier-enseigner",
        "consent": "on",
    }
    assert http.post(f"/e/{ARIEGE}/register", data=person).status_code == 200
    assert len(stored(live_server, "registration", f"{ARIEGE}:")) == 1
    token = admin(live_server)
    ask = http.get(f"/admin/e/{ARIEGE}/delete", params={"k": token})
    assert ask.status_code == 200 and "1 personne" in ask.text
    assert http.get(f"/e/{ARIEGE}").status_code == 200  # asking deleted nothing
    organizer = live_server.link(ARIEGE, "organizer")
    r = http.post(f"/admin/e/{ARIEGE}/delete", params={"k": organizer})
    assert r.status_code == 401 and http.get(f"/e/{ARIEGE}").status_code == 200
    with connect(f"{live_server.ws_url}/ws/events/{ARIEGE}") as ws:
        ws.send(json.dumps({"type": "hello"}))
        ws.recv(timeout=5)
        r = http.post(f"/admin/e/{ARIEGE}/delete", params={"k": token})
        assert r.status_code == 303
        assert json.loads(ws.recv(timeout=5))["code"] == "unknown_event"  # told, then closed
    assert http.get(f"/e/{ARIEGE}").status_code == 404
    assert stored(live_server, "registration", f"{ARIEGE}:") == {}
    assert stored(live_server, "email", f"{ARIEGE}:") == {}
    assert stored(live_server, "epoch", ARIEGE) == {}
    assert ARIEGE not in http.get("/admin", params={"k": token}).text
    assert "Événement supprimé" in http.get(r.headers["location"]).text


# -- the administrator's link ----------------------------------------------------------------


def test_serve_prints_an_admin_link_at_its_first_start_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import uvicorn

    from live.links.signing import Signer

    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: None)
    monkeypatch.setenv("RELAIS_DATA", str(tmp_path / "data"))
    monkeypatch.delenv("RELAIS_SECRET", raising=False)
    monkeypatch.delenv("RELAIS_BASE_URL", raising=False)
    assert main(["serve", "--port", "8123"]) == 0
    first = capsys.readouterr().out
    links = re.findall(r"http://localhost:8123/admin\?k=(\S+)", first)
    assert len(links) == 1 and "Lien d'administration" in first
    secret = (tmp_path / "data" / "secret.key").read_text().strip()
    assert Signer(secret).verify_admin(links[0]).role == "admin"
    assert main(["serve", "--port", "8123"]) == 0
    assert "/admin?k=" not in capsys.readouterr().out  # once
    assert main(["admin-link"]) == 0  # and on demand
    out = capsys.readouterr().out.strip()
    assert Signer(secret).verify_admin(out.rsplit("k=", 1)[1]).role == "admin"
    issued = (tmp_path / "data" / "admin-links").read_text().splitlines()
    assert len(issued) == 2 and all("id=" in line for line in issued)


def test_revoking_the_other_admin_links_leaves_only_the_new_one(
    live_server: LiveServer, http: httpx.Client
) -> None:
    leaked, mine = admin(live_server), admin(live_server)
    old_style = live_server.signer._admin.dumps({"r": "admin", "x": 2**40, "i": "old"})
    r = http.post("/admin/renew", params={"k": mine}, data={"revoke": "others"})
    assert r.status_code == 303
    new = parse_qs(urlsplit(r.headers["location"]).query)["k"][0]
    page = http.get(r.headers["location"])
    shown = html.unescape(page.text)
    assert page.status_code == 200 and "Tous les autres liens d'administration" in shown
    for token in (leaked, mine, old_style):  # including the one that asked, and older kinds
        refused = http.get("/admin", params={"k": token})
        assert refused.status_code in (401, 403) and "révoqué" in html.unescape(refused.text)
        assert http.get(f"/e/{ARIEGE}/studio", params={"k": token}).status_code in (401, 403)
        form = {"model": "ariege", "id": "pirate-2026", "title": "Pirate", "date": "2026-09-30"}
        assert http.post("/studio/new", params={"k": token}, data=form).status_code in (401, 403)
    assert http.get("/e/pirate-2026").status_code == 404  # nothing was created
    assert http.get("/admin", params={"k": new}).status_code == 200
    assert http.get(f"/e/{ARIEGE}/studio", params={"k": new}).status_code == 200
    # Renewing alone keeps the other links working.
    r = http.post("/admin/renew", params={"k": new})
    assert http.get("/admin", params={"k": new}).status_code == 200


def test_the_command_line_revokes_every_earlier_admin_link_of_a_running_server(
    live_server: LiveServer, http: httpx.Client
) -> None:
    """For when no admin link is at hand: `relais admin-link --revoke-others`."""
    leaked = admin(live_server)
    relais = [sys.executable, "-m", "live.cli", "--data", str(live_server.data_dir)]
    env = {**os.environ, "RELAIS_SECRET": SECRET, "LIVE_BACKEND": live_server.backend}
    done = subprocess.run(
        [*relais, "admin-link", "--revoke-others"], cwd=ROOT, capture_output=True, env=env
    )
    assert done.returncode == 0, done.stderr
    new = done.stdout.decode().strip().rsplit("k=", 1)[1]
    assert "révoqués" in done.stderr.decode() or "revoked" in done.stderr.decode()
    assert http.get("/admin", params={"k": leaked}).status_code in (401, 403)
    assert http.get("/admin", params={"k": new}).status_code == 200


async def test_dropping_an_event_removes_all_it_stored_and_nothing_of_another(
    backend: Any,
) -> None:
    async def fill(event: str) -> None:
        await backend.put_definition(event, f"id: {event}")
        await backend.append(f"agenda:{event}", {"seq": 1, "name": "timer.start"})
        await backend.save_snapshot(f"agenda:{event}", 1, {"seq": 1})
        await backend.notes_append(f"{event}/atelier", [b"update"])
        await backend.put_record("epoch", event, {"epoch": "e"})
        await backend.put_record("registration", f"{event}:p1", {"name": "Camille"})
        await backend.put_record("rapporteurs", f"{event}/atelier", {"names": ["Camille"]})

    for event in ("ev", "ev-2", "eve"):  # ids that start like the one dropped
        await fill(event)
    version = await backend.definitions_version()
    await backend.drop_event("ev")
    assert await backend.definitions_version() != version  # a running server notices
    assert sorted(await backend.definitions()) == ["ev-2", "eve"]
    assert await backend.read("agenda:ev") == []
    assert await backend.load_snapshot("agenda:ev") is None
    assert await backend.notes_load("ev/atelier") == []
    for kind in ("epoch", "registration", "rapporteurs"):
        keys = sorted(await backend.list_records(kind))
        assert not [k for k in keys if k == "ev" or k.startswith(("ev:", "ev/"))], kind
        assert len(keys) == 2, kind
    assert len(await backend.read("agenda:ev-2")) == 1
    assert await backend.notes_load("eve/atelier") == [b"update"]
