"""Notes rooms without a socket, at their bounds: outboxes in bytes, sync step 1 answered
once at a time, refused changes ending the connection, documents at their size cap, and
the names credited (bounded, erasable)."""

from __future__ import annotations

import asyncio

import pytest

from live.backends.base import Backend
from live.event_file import parse_event
from live.model import DEFAULT_NOTES_TEMPLATE, Event
from live.notes import ysync
from live.notes.credits import MAX_CLIENTS, MAX_NAME, MAX_NAMES, RAPPORTEURS, Credits, clean_name
from live.notes.peer import SYNC_BURST, Peer
from live.notes.room import Room, doc_name
from live.notes.service import NotesService
from tests.notes.test_room import EVENT_YAML, drain, editor_of, named, open_room, typed


@pytest.fixture
def event() -> Event:
    return parse_event(EVENT_YAML)


def final(peer: Peer) -> tuple[list[ysync.Message], str]:
    """What a refused peer's sender writes before closing, and the close reason."""
    messages = [ysync.parse(f) for f in peer.queued]
    return messages, peer.close_reason


# -- outboxes -----------------------------------------------------------------------------


async def test_a_peer_is_bounded_in_bytes_as_well_as_frames() -> None:
    peer = Peer(writer=False, maxsize=512, maxbytes=10_000)
    for _ in range(9):
        peer.send(b"\x01" + b"x" * 999)
    assert not peer.closed and peer.queued_bytes == 9000
    peer.send(b"\x01" + b"x" * 1999)
    assert peer.closed and peer.close_reason == "behind"
    assert await peer.next_frames() is None


async def test_what_the_sender_is_writing_still_counts_until_it_asks_for_more() -> None:
    peer = Peer(writer=False, maxbytes=10_000)
    peer.send(b"\x01" + b"x" * 5999)
    assert await peer.next_frames() is not None  # being written
    peer.send(b"\x01" + b"x" * 5999)
    assert peer.closed  # 12,000 bytes held for a client that has not read the first


async def test_a_viewer_repeating_sync_step_1_has_one_answer_on_its_way_at_most(
    backend: Backend, event: Event
) -> None:
    room = await open_room(backend, event, "w1")
    viewer = room.connect(writer=False)
    for _ in range(SYNC_BURST - 1):
        room.receive(viewer, ysync.sync_step1(b"\x00"))
    answers = [f for f in viewer.queued if f[:2] == bytes((ysync.SYNC, ysync.STEP2))]
    assert len(answers) == 1
    assert viewer.queued_bytes == sum(map(len, viewer.queued)) <= viewer.maxbytes
    assert await viewer.next_frames() is not None  # the answer is being written
    room.receive(viewer, ysync.sync_step1(b"\x00"))
    assert not viewer.queued
    await room.close()


async def test_a_new_sync_step_1_is_answered_once_the_last_answer_is_written(
    backend: Backend, event: Event
) -> None:
    room = await open_room(backend, event, "w1")
    viewer = room.connect(writer=False)
    room.receive(viewer, ysync.sync_step1(b"\x00"))
    await viewer.next_frames()
    asked = asyncio.create_task(viewer.next_frames())  # the sender is back: all written
    await asyncio.sleep(0)
    room.receive(viewer, ysync.sync_step1(b"\x00"))
    frames = await asked
    assert frames is not None and isinstance(ysync.parse(frames[0]), ysync.SyncStep2)
    await room.close()


async def test_sync_step_1_past_the_allowance_closes_the_connection(
    backend: Backend, event: Event
) -> None:
    room = await open_room(backend, event, "w1")
    viewer = room.connect(writer=False)
    for _ in range(SYNC_BURST):
        room.receive(viewer, ysync.sync_step1(b"\x00"))
    assert not viewer.closed
    room.receive(viewer, ysync.sync_step1(b"\x00"))
    (reply,), reason = final(viewer)
    assert reason == "too_many_syncs" and viewer.closed
    assert isinstance(reply, ysync.Auth) and reply.reason.startswith("too_many_syncs:")
    await room.close()


# -- refused changes end the connection ---------------------------------------------------------


async def test_a_refused_change_ends_the_connection_after_saying_why(
    backend: Backend, event: Event
) -> None:
    room = await open_room(backend, event, "w1")
    screen = room.connect(writer=False)
    ed = editor_of(room)
    ed.text += "graffiti"
    ed.text += " encore"
    for frame in ed.take():  # the second depends on the first: it would wait forever
        room.receive(screen, frame)
    (reply,), reason = final(screen)
    assert isinstance(reply, ysync.Auth) and reply.reason.startswith("read_only:")
    assert reason == "read_only"
    assert await screen.next_frames() == [ysync.error("read_only", reply.reason[11:])]
    assert await screen.next_frames() is None  # then the close, with that reason
    await room.close()


async def test_nothing_from_a_closed_peer_reaches_the_document(
    backend: Backend, event: Event
) -> None:
    room = await open_room(backend, event, "w1")
    writer = room.connect(writer=True)
    writer.refuse("link_revoked", "this link has been revoked")
    typed(room, writer, editor_of(room), "après la révocation")
    await room.flush()
    assert str(room.text) == DEFAULT_NOTES_TEMPLATE
    await room.close()


# -- the size cap is on the content, not on the history -------------------------------------------


async def test_history_past_the_cap_is_compacted_and_the_change_accepted(
    backend: Backend, event: Event
) -> None:
    room = Room(doc_name(event.id, "w1"), backend, max_doc=16_000)
    await room.load(DEFAULT_NOTES_TEMPLATE)
    writer = room.connect(writer=True)
    ed = editor_of(room)
    for round_ in range(10):  # 10 x 5,000 bytes written, at most 5,000 kept
        typed(room, writer, ed, str(round_) * 5000)
        await room.flush()
        del ed.text[0 : len(str(ed.text))]
        for frame in ed.take():
            room.receive(writer, frame)
        await room.flush()
    assert not writer.closed
    stored = sum(map(len, await backend.notes_load(room.name)))
    assert stored < 16_000
    await room.close()


async def test_content_over_the_cap_is_refused_and_the_editor_closed(
    backend: Backend, event: Event
) -> None:
    room = Room(doc_name(event.id, "w1"), backend, max_doc=16_000)
    await room.load(DEFAULT_NOTES_TEMPLATE)
    writer = room.connect(writer=True)
    drain(writer)
    ed = editor_of(room)
    typed(room, writer, ed, "a" * 10_000)
    typed(room, writer, ed, "b" * 10_000)
    await room.flush()
    assert "b" not in str(room.text)
    (reply,), reason = final(writer)
    assert isinstance(reply, ysync.Auth) and reply.reason.startswith("doc_too_large:")
    assert reason == "doc_too_large"
    await room.close()


async def test_a_full_document_can_always_be_shortened_then_written_again(
    backend: Backend, event: Event
) -> None:
    room = Room(doc_name(event.id, "w1"), backend, max_doc=16_000)
    await room.load("")
    first, ed = room.connect(writer=True), editor_of(room)
    while not first.closed:
        typed(room, first, ed, "a" * 500)
        await room.flush()
    assert first.close_reason == "doc_too_large"
    full = str(room.text)
    second, ed = room.connect(writer=True), editor_of(room)  # the page, reloaded
    del ed.text[0:5000]  # brings nothing new: fits whatever the size
    for frame in ed.take():
        room.receive(second, frame)
    typed(room, second, ed, "b" * 4000)  # fits again once the deleted text is collected
    await room.flush()
    assert not second.closed and str(room.text) == full[5000:] + "b" * 4000
    await room.close()


# -- credited names -------------------------------------------------------------------------


async def test_a_name_longer_than_80_characters_is_credited_once(
    backend: Backend, event: Event
) -> None:
    room = await open_room(backend, event, "w1")
    peer, ed = room.connect(writer=True), editor_of(room)
    typed(room, peer, ed, "- une idée\n")
    long = "Marie-Christine " + "de la Fontaine-Villeneuve " * 8
    for clock in range(1, 50):
        room.receive(peer, named(ed.doc.client_id, long + "x" * clock, clock))
    await room.flush()
    await asyncio.sleep(0.05)
    assert room.credits.names() == [long[:MAX_NAME].rstrip()]
    service = NotesService(backend)
    assert await service.rapporteurs(event.id, "w1") == room.credits.names()
    await room.close()


def test_names_are_credited_on_one_printable_line() -> None:
    assert clean_name("  Jean\n\tDupont\u0000 ") == "Jean Dupont"
    assert clean_name("\ud800Aïcha") == "Aïcha"  # a lone surrogate from a JSON escape
    assert clean_name("RAPPORTEUR") is None
    assert clean_name(" \n ") is None


def test_credited_names_are_bounded_in_count() -> None:
    credits = Credits()
    for client in range(1, 10 * MAX_NAMES):
        credits.give(client, f"Personne {client}")
    assert len(credits.names()) == MAX_NAMES
    for client in range(1, 10 * MAX_CLIENTS):
        credits.give(100_000 + client, "Personne 1")
    assert len(credits.by_client) <= MAX_CLIENTS
    assert len(credits.names()) == MAX_NAMES
    assert credits.give(2, "Personne 2 bis")  # a credited person may still rename


async def test_erased_names_are_forgotten_and_an_open_editor_does_not_bring_them_back(
    backend: Backend, event: Event
) -> None:
    service = NotesService(backend)
    w = event.workshop("w1")
    assert w is not None
    room = await service.room(event, w)
    peer, ed = room.connect(writer=True), editor_of(room)
    room.receive(peer, named(ed.doc.client_id, "Aïcha"))
    typed(room, peer, ed, "- une idée\n")
    await room.flush()
    await asyncio.sleep(0.05)
    assert await backend.get_record(RAPPORTEURS, room.name) is not None
    await service.erase_names(event.id, None)
    assert room.credits.names() == []
    assert await backend.get_record(RAPPORTEURS, room.name) is None
    room.receive(peer, named(ed.doc.client_id, "Aïcha", 2))  # its page announces it again
    typed(room, peer, ed, "- une autre\n")
    await room.flush()
    await asyncio.sleep(0.05)
    assert room.credits.names() == []
    assert await backend.get_record(RAPPORTEURS, room.name) is None
    await service.close()
    assert await NotesService(backend).rapporteurs(event.id, "w1") == []


async def test_erasing_one_workshop_keeps_the_others_names(backend: Backend, event: Event) -> None:
    service = NotesService(backend)
    for wid in ("w1", "w2"):
        w = event.workshop(wid)
        assert w is not None
        room = await service.room(event, w)
        peer, ed = room.connect(writer=True), editor_of(room)
        room.receive(peer, named(ed.doc.client_id, f"Nom {wid}"))
        typed(room, peer, ed, "- x\n")
        await room.flush()
    await asyncio.sleep(0.05)
    await service.erase_names(event.id, "w1")
    assert await service.rapporteurs(event.id, "w1") == []
    assert await service.rapporteurs(event.id, "w2") == ["Nom w2"]
    await service.close()
