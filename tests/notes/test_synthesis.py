"""The synthesis: every workshop's notes, ordered by theme then workshop, in md/html/pdf."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import urllib.error
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pycrdt import Doc, Text, TransactionEvent

from live.backends.memory import MemoryBackend
from live.backends.sqlite import SQLiteBackend
from live.event_file import parse_event
from live.model import DEFAULT_NOTES_TEMPLATE, Event
from live.notes import ysync
from live.notes.service import NotesService
from live.notes.synthesis import (
    FONTS,
    collect,
    export_synthesis,
    shift_headings,
    to_markdown,
    to_pdf,
)
from tests.support.servers import LiveServer, unavailable
from tests.support.yclient import YClient

EVENT_YAML = """
id: ev
title: "États généraux <du> numérique"
date: 2020-10-07
sites:
  - {id: poitiers, name: Poitiers, address: "1 rue de l'Église", hub: true}
  - {id: niort, name: Niort}
themes: [{id: t2, title: Gouvernance}, {id: t1, title: Accès}]
agenda: [{id: a, kind: workshops, title: Ateliers, start: "14:00", duration: 60}]
workshops:
  - {id: b-acces, theme: t1, site: niort, room: CDI, capacity: 10}
  - {id: a-acces, theme: t1, site: poitiers, capacity: 10}
  - {id: gouv, theme: t2, site: poitiers, title: "Gouverner ensemble", room: A1, capacity: 10}
"""


@pytest.fixture
def event() -> Event:
    return parse_event(EVENT_YAML)


@pytest.fixture
async def notes() -> AsyncIterator[NotesService]:
    service = NotesService(MemoryBackend())
    yield service
    await service.close()


async def write(service: NotesService, event: Event, workshop: str, text: str, name: str) -> None:
    """Type `text` at the end of the workshop's notes, as rapporteur `name`."""
    w = event.workshop(workshop)
    assert w is not None
    room = await service.room(event, w)
    peer = room.connect(writer=True)
    doc = Doc()
    doc.get("notes", type=Text)
    doc.apply_update(room.doc.get_update())
    frames: list[bytes] = []

    def collect_frame(e: TransactionEvent) -> None:
        frames.append(ysync.update(e.update))

    doc.observe(collect_frame)
    doc.get("notes", type=Text).insert(len(str(room.text).encode()), text)  # UTF-8 offsets
    presence = ysync.Presence(doc.client_id, 1, json.dumps({"user": {"name": name}}))
    frames.append(ysync.awareness(ysync.encode_awareness([presence])))
    for frame in frames:
        room.receive(peer, frame)
    await room.flush()
    await asyncio.sleep(0.01)  # the rapporteur's name is recorded in the background


async def test_workshops_come_by_theme_order_then_workshop_id(
    event: Event, notes: NotesService
) -> None:
    s = await collect(event, notes.backend, notes)
    assert [theme for theme, _ in s.themes] == ["Gouvernance", "Accès"]
    assert [[w.workshop.id for w in items] for _, items in s.themes] == [
        ["gouv"],
        ["a-acces", "b-acces"],
    ]


async def test_the_header_names_the_event_date_sites_and_attendance(
    event: Event, notes: NotesService
) -> None:
    await notes.backend.put_record("attendance", "ev", {"poitiers": 80, "niort": 35})
    md = to_markdown(await collect(event, notes.backend, notes))
    assert md.startswith("# États généraux \\<du\\> numérique\n")
    assert "**Date :** 7 octobre 2020" in md
    assert "- Poitiers, 1 rue de l'Église — 80 présents" in md
    assert "- Niort — 35 présents" in md
    assert "**Participants :** 115" in md


async def test_each_workshop_lists_its_rapporteurs_and_notes(
    event: Event, notes: NotesService
) -> None:
    await write(notes, event, "gouv", "- Un comité de pilotage", "Aïcha")
    await write(notes, event, "gouv", "\n- Des référents", "Bruno")
    md = to_markdown(await collect(event, notes.backend, notes))
    section = md.split("### Gouverner ensemble")[1].split("## Accès")[0]
    assert "*Poitiers — A1 · Rapporteurs : Aïcha, Bruno*" in section
    assert "- Un comité de pilotage\n- Des référents" in section
    assert "#### Constats" not in section  # empty template sections are left out


async def test_untouched_notes_say_so(event: Event, notes: NotesService) -> None:
    md = to_markdown(await collect(event, notes.backend, notes))
    assert md.count("*Pas de notes.*") == 3
    assert "Niort — CDI" in md  # a workshop without a title is named by where it met


def test_workshop_headings_nest_under_the_synthesis_and_empty_ones_go() -> None:
    text = DEFAULT_NOTES_TEMPLATE.replace("## Freins\n\n", "## Freins\n\n- Le coût\n")
    assert shift_headings(text) == "#### Freins\n\n- Le coût"
    assert shift_headings("# Titre\n## Sous-titre\ntexte") == "### Titre\n#### Sous-titre\ntexte"
    assert shift_headings("```\n# pas un titre\n```") == "```\n# pas un titre\n```"


async def test_html_is_sanitized_and_keeps_accents(event: Event, notes: NotesService) -> None:
    await write(
        notes, event, "gouv", "<script>alert(1)</script> ![x](http://ailleurs/x.png) é", "Zoé"
    )
    html = (await export_synthesis(event, notes.backend, "html", notes)).decode()
    assert html.startswith("<!doctype html>") and '<html lang="fr">' in html
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<img" not in html
    assert "États généraux &lt;du&gt; numérique" in html


async def test_pdf_embeds_a_unicode_font_so_accents_survive(
    event: Event, notes: NotesService
) -> None:
    if not (FONTS / "DejaVuSans.ttf").exists():
        unavailable("fonts-dejavu-core is not installed")
    await write(notes, event, "gouv", "Œuvrer à l'équité — « numérique »", "Zoé")
    pdf = await export_synthesis(event, notes.backend, "pdf", notes)
    assert pdf.startswith(b"%PDF-")
    assert b"DejaVu" in pdf
    if shutil.which("pdftotext"):
        text = subprocess.run(
            ["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True
        ).stdout.decode()
        assert "Œuvrer à l'équité — « numérique »" in text
        assert text.index("Gouvernance") < text.index("Accès")


async def test_pdf_falls_back_to_a_core_font_without_dejavu(
    event: Event, notes: NotesService, tmp_path: Path
) -> None:
    await write(notes, event, "gouv", "Œuvrer à l'équité — oui", "Zoé")
    pdf = to_pdf(await collect(event, notes.backend, notes), fonts=tmp_path)
    assert pdf.startswith(b"%PDF-") and b"DejaVu" not in pdf


# -- through the server -------------------------------------------------------------------------


def get(server: LiveServer, path: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(f"{server.url}{path}", timeout=10) as r:
            return r.status, r.headers["Content-Type"], r.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers["Content-Type"], err.read()


async def test_the_synthesis_route_serves_markdown_html_and_pdf(live_server: LiveServer) -> None:
    token = live_server.link("ariege-2020", "rapporteur", workshop="atelier-acces")
    url = f"{live_server.ws_url}/ws/notes/ariege-2020/atelier-acces?k={token}"
    async with YClient(url) as rapporteur:
        rapporteur.type(len("## Constats\n\n"), "- Fibre en retard dans les vallées")
        await asyncio.sleep(0.2)
        k = live_server.link("ariege-2020", "organizer")
        status, kind, body = await asyncio.to_thread(
            get, live_server, f"/e/ariege-2020/synthesis?format=md&k={k}"
        )
    assert status == 200 and kind.startswith("text/markdown")
    assert "- Fibre en retard dans les vallées" in body.decode()
    status, kind, body = get(live_server, f"/e/ariege-2020/synthesis?format=html&k={k}")
    assert status == 200 and kind.startswith("text/html") and b"Fibre en retard" in body
    status, kind, body = get(live_server, f"/e/ariege-2020/synthesis?format=pdf&k={k}")
    assert status == 200 and kind == "application/pdf" and body.startswith(b"%PDF-")


def test_the_synthesis_needs_an_organizer_or_facilitator_link(live_server: LiveServer) -> None:
    assert get(live_server, "/e/ariege-2020/synthesis")[0] == 401
    screen = live_server.link("ariege-2020", "screen")
    assert get(live_server, f"/e/ariege-2020/synthesis?k={screen}")[0] == 403
    k = live_server.link("ariege-2020", "facilitator")
    assert get(live_server, f"/e/ariege-2020/synthesis?format=doc&k={k}")[0] == 400


async def test_export_reads_the_stored_notes_without_a_server(live_server: LiveServer) -> None:
    """What `relais export EVENT` does: open the data directory and read the history."""
    token = live_server.link("poitiers-2020", "rapporteur", workshop="enseigner-niort")
    url = f"{live_server.ws_url}/ws/notes/poitiers-2020/enseigner-niort?k={token}"
    async with YClient(url) as rapporteur:
        rapporteur.type(0, "Des tablettes pour le CDI\n")
        await asyncio.sleep(0.2)
    live_server.stop()
    backend = SQLiteBackend(live_server.data_dir / "relais.sqlite3")
    await backend.open()
    try:
        definitions = await backend.definitions()
        event = parse_event(definitions["poitiers-2020"])
        md = (await export_synthesis(event, backend, "md")).decode()
    finally:
        await backend.close()
    assert "Des tablettes pour le CDI" in md


# -- experience reports ------------------------------------------------------------------------

WITH_REPORTS = EVENT_YAML.replace(
    'agenda: [{id: a, kind: workshops, title: Ateliers, start: "14:00", duration: 60}]',
    """agenda:
  - {id: a, kind: workshops, title: Ateliers, start: "14:00", duration: 60}
  - id: remarquables
    kind: round_table
    title: Retours remarquables
    start: "15:00"
    duration: 20
    reports:
      - {title: "Un ENT pour *tous*", presenters: [Mme Klein, M. Roth], site: niort}
      - {title: Moodle en seconde, presenter: Lycée Poincaré}""",
).replace(
    'title: "Gouverner ensemble", room: A1, capacity: 10}',
    """title: "Gouverner ensemble", room: A1, capacity: 10,
     reports: [{title: Un comité numérique, presenter: Mme Durand, site: poitiers},
               {title: Des tablettes au CDI, presenters: [Équipe du collège], site: niort}]}""",
)


async def test_each_workshop_lists_the_reports_it_heard(notes: NotesService) -> None:
    event = parse_event(WITH_REPORTS)
    md = to_markdown(await collect(event, notes.backend, notes))
    section = md.split("### Gouverner ensemble")[1].split("## Accès")[0]
    assert (
        "**Retours d'expériences présentés :**\n\n"
        "- *Un comité numérique* — Mme Durand\n"  # its own site goes without saying
        "- *Des tablettes au CDI* — Équipe du collège (Niort)\n"
    ) in section
    assert md.count("Retours d'expériences présentés") == 1  # the others heard none


async def test_the_steps_reports_have_their_own_section(notes: NotesService) -> None:
    event = parse_event(WITH_REPORTS)
    md = to_markdown(await collect(event, notes.backend, notes))
    assert md.endswith(
        "## Retours d'expériences\n\n### Retours remarquables\n\n"
        "- *Un ENT pour \\*tous\\** — Mme Klein, M. Roth (Niort)\n"
        "- *Moodle en seconde* — Lycée Poincaré\n"
    )
    assert "## Retours d'expériences" not in to_markdown(
        await collect(parse_event(EVENT_YAML), notes.backend, notes)
    )


async def test_reports_are_headed_in_the_exports_language(notes: NotesService) -> None:
    event = parse_event(WITH_REPORTS)
    md = (await export_synthesis(event, notes.backend, "md", notes, lang="en")).decode()
    assert "**Experience reports presented:**" in md and "## Experience reports\n" in md
    html = (await export_synthesis(event, notes.backend, "html", notes)).decode()
    assert "<h2>Retours d'expériences</h2>" in html
    assert "<li><em>Un comité numérique</em> — Mme Durand</li>" in html
    pdf = await export_synthesis(event, notes.backend, "pdf", notes)
    if shutil.which("pdftotext"):
        text = subprocess.run(
            ["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True
        ).stdout.decode()
        assert "Des tablettes au CDI — Équipe du collège (Niort)" in text
