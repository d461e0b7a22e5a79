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
from live.notes.exports import fingerprint
from live.notes.service import NotesService
from live.notes.synthesis import (
    FONTS,
    collect,
    export_synthesis,
    shift_headings,
    to_html,
    to_markdown,
    to_pdf,
)
from live.participation.live import LiveParticipation
from tests.participation.room import ALICE, ARIEGE, BOB, CLARA, ENSEIGNER, RAPPORTEUR
from tests.participation.room import Room as ParticipationLog
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


# -- the workshops' proposals --------------------------------------------------------------------


def participated() -> ParticipationLog:
    """Atelier-acces: proposals on two of its theme's subjects and on none, one retained,
    one merged into another, one hidden, arguments of each stance (one hidden)."""
    room = ParticipationLog()
    wifi = room.propose(ALICE, "Du wifi", subject="inclusion")
    tablets = room.propose(BOB, "Des tablettes", body="Une par élève", subject="egalite")
    everywhere = room.propose(BOB, "Le wifi partout", subject="inclusion")
    room.propose(ALICE, "Un guichet *unique*", subject="")
    hidden = room.propose(BOB, "Hors sujet", body="Mon voisin, M. Untel…", subject="egalite")
    room.propose(ALICE, "Des bornes", subject="egalite")
    room.do(BOB, "support", proposal=wifi)
    room.do(ALICE, "support", proposal=everywhere)
    room.do(BOB, "support", proposal=everywhere)
    room.do(ALICE, "argue", proposal=wifi, stance="pour", text="Oui, et vite")
    room.do(BOB, "argue", proposal=everywhere, stance="contre", text="Trop cher")
    room.do(ALICE, "argue", proposal=everywhere, stance="nuance", text="Pas partout")
    room.do(BOB, "argue", proposal=everywhere, stance="pour", text="Caché, lui")
    argument = room.state.proposals[everywhere].arguments[-1].id
    room.do(RAPPORTEUR, "hide", argument=argument, reason="doublon")
    room.do(RAPPORTEUR, "merge", source=wifi, target=everywhere)
    room.do(RAPPORTEUR, "retain", proposal=tablets)
    room.do(RAPPORTEUR, "hide", proposal=hidden, reason="Nomme quelqu'un")
    room.propose(CLARA, "Former les enseignants", subject="formation")
    return room


async def test_proposals_come_by_subject_retained_first_then_by_supports() -> None:
    s = await collect(ARIEGE, MemoryBackend(), participation=participated().state)
    acces = next(w for _, items in s.themes for w in items if w.workshop.id == "atelier-acces")
    assert [(g.subject, [p.title for p in g.proposals]) for g in acces.proposals] == [
        ("Égalité d’accès", ["Des tablettes", "Des bornes"]),  # retained first, then supports
        ("Inclusion", ["Le wifi partout"]),  # the merged one is counted in it
        ("", ["Un guichet *unique*"]),  # "Sans sujet", last
    ]
    everywhere = acces.proposals[1].proposals[0]
    assert everywhere.supports == 2  # Bob supported both: once
    assert everywhere.counts == (1, 1, 1)  # the merged one's argument for; the hidden one not
    assert sorted(everywhere.arguments) == [
        ("contre", "Trop cher"),
        ("nuance", "Pas partout"),
        ("pour", "Oui, et vite"),
    ]
    enseigner = next(w for _, items in s.themes for w in items if w.workshop.id == ENSEIGNER)
    assert [g.subject for g in enseigner.proposals] == ["La formation des enseignants"]


async def test_the_synthesis_says_each_proposal_its_supports_and_arguments() -> None:
    s = await collect(ARIEGE, MemoryBackend(), participation=participated().state)
    md = to_markdown(s)
    section = md.split("#### Propositions")[1].split("\n## ")[0]
    assert section.index("##### Égalité d’accès") < section.index("##### Inclusion")
    assert section.index("##### Inclusion") < section.index("##### Sans sujet")
    assert (
        "**Des tablettes** — *retenue* · 0 soutien · 0 argument pour · 0 argument contre"
        " · 0 argument nuancé\n\nUne par élève"
    ) in section
    assert (
        "**Le wifi partout** · 2 soutiens · 1 argument pour · 1 argument contre"
        " · 1 argument nuancé\n\n"
    ) in section
    assert "- *Contre* — Trop cher" in section and "- *Nuancé* — Pas partout" in section
    assert "- *Pour* — Oui, et vite" in section
    assert "**Un guichet \\*unique\\***" in section  # what people typed is not Markdown
    assert "Hors sujet" not in md and "Untel" not in md and "Caché" not in md
    assert "**Du wifi**" not in md  # merged: counted in its target
    assert "person:" not in md and "device:" not in md and "rapporteur:" not in md
    en = to_markdown(s, "en")
    assert "#### Proposals" in en and "##### No subject" in en and "2 supporters" in en
    assert "<h4>Propositions</h4>" in to_html(s)


async def test_a_workshop_without_proposals_says_nothing_of_them(notes: NotesService) -> None:
    md = to_markdown(await collect(ARIEGE, notes.backend, notes, ParticipationLog().state))
    assert "Propositions" not in md
    assert "Propositions" not in to_markdown(await notes.synthesis(ARIEGE))


async def test_the_service_and_the_export_pass_the_participation_on(notes: NotesService) -> None:
    state = participated().state
    s = await notes.synthesis(ARIEGE, state)
    assert "**Le wifi partout**" in to_markdown(s)
    pdf = await export_synthesis(ARIEGE, notes.backend, "pdf", notes, participation=state)
    if shutil.which("pdftotext"):
        text = subprocess.run(
            ["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True
        ).stdout.decode()
        assert "Le wifi partout" in text and "Trop cher" in text


async def test_the_export_without_a_server_reads_the_stored_participation() -> None:
    """`relais export EVENT`: the participation log is read from the store."""
    backend = MemoryBackend()
    room = LiveParticipation(ARIEGE, backend)
    await room.load()
    await room.command("propose", {"title": "Des tablettes", "subject": "egalite"}, ALICE, "l", "1")
    md = (await export_synthesis(ARIEGE, backend, "md")).decode()
    assert "##### Égalité d’accès\n\n**Des tablettes** · 0 soutien" in md


async def test_a_rendered_synthesis_is_not_reused_once_the_proposals_change() -> None:
    """notes/exports.py keeps a rendered synthesis under its fingerprint."""
    room, backend = participated(), MemoryBackend()
    before = fingerprint(await collect(ARIEGE, backend, None, room.state), "md", "fr")
    room.do(BOB, "support", proposal="p6")
    after = fingerprint(await collect(ARIEGE, backend, None, room.state), "md", "fr")
    assert before != after
