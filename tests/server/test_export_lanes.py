"""A printable site sheet is never kept waiting behind a synthesis being rendered.

Issue 19, item 12: a full synthesis PDF (megabytes of notes) takes fpdf2 tens of seconds
in the export worker, and the links sheets' PDFs waited behind it. They have a lane of
their own now. A real server; the order of completion is asserted, not a duration."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from live.app import create_app
from live.config import Settings
from live.links.signing import Signer
from live.notes.limits import MAX_FRAME
from live.workers import Workers
from tests.support.servers import LiveServer
from tests.support.yclient import YClient

EVENT = "ariege-2020"
WORKSHOP = "atelier-acces"


async def type_notes(server: LiveServer, size: int) -> None:
    token = server.link(EVENT, "rapporteur", workshop=WORKSHOP)
    line = "- Constat : la fibre n'arrive pas dans la vallée, les familles attendent.\n"
    async with YClient(f"{server.ws_url}/ws/notes/{EVENT}/{WORKSHOP}?k={token}") as editor:
        chunk = line * (MAX_FRAME // 2 // len(line.encode()))
        for _ in range(size // len(chunk.encode()) + 1):
            editor.append(chunk)
            await asyncio.sleep(0.2)
        await asyncio.sleep(1)


async def test_a_site_sheet_pdf_is_not_kept_waiting_behind_a_synthesis_pdf(
    live_server: LiveServer,
) -> None:
    await type_notes(live_server, 300_000)
    finished: list[str] = []
    async with httpx.AsyncClient(base_url=live_server.url, timeout=180) as client:

        async def synthesis() -> None:
            k = live_server.link(EVENT, "organizer")
            r = await client.get(f"/e/{EVENT}/synthesis", params={"format": "pdf", "k": k})
            assert r.status_code == 200 and r.content.startswith(b"%PDF")
            finished.append("synthesis")

        async def sheet() -> None:
            k = live_server.link(EVENT, "organizer")
            r = await client.get(f"/e/{EVENT}/links/foix", params={"format": "pdf", "k": k})
            assert r.status_code == 200 and r.content.startswith(b"%PDF")
            finished.append("sheet")

        rendering = asyncio.create_task(synthesis())
        await asyncio.sleep(0.5)  # the synthesis holds the export worker
        await asyncio.gather(sheet(), rendering)
    assert finished == ["sheet", "synthesis"]


async def test_a_pdf_whose_worker_fails_is_answered_try_again_not_an_error_500(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker that dies or runs out of time (a loaded machine) fails that one job: the
    organizer reads why and tries again, in their language."""
    secret = "test-secret-lanes"
    settings = Settings(data_dir=tmp_path, backend="memory", secret=secret, demo=True)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        app.state.sheet_workers.close()
        app.state.sheet_workers = Workers(size=1, timeout=0.001)  # no render fits in it
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://relais.test") as http:
            k = Signer(secret).sign(EVENT, "organizer")
            r = await http.get(f"/e/{EVENT}/links/foix", params={"format": "pdf", "k": k})
            assert r.status_code == 503 and r.headers["retry-after"] == "10"
            assert "Réessayez dans quelques secondes" in r.text
        app.state.sheet_workers.close()
