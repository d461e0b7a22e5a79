"""Notes rooms without a socket: write-ahead order, compaction, reloads, roles."""

from __future__ import annotations

import asyncio
import json

import pytest
from pycrdt import Doc, Text, TransactionEvent

from live.backends.base import Backend
from live.backends.memory import MemoryBackend
from live.event_file import parse_event
from live.links.signing import Claims
from live.model import DEFAULT_NOTES_TEMPLATE, Event
from live.notes import ysync
from live.notes.room import Peer, Room, doc_name, may_edit, template_for
from live.notes.service import NotesService
from live.notes.stored import stored_text
from live.notes.writer import Writer

EVENT_YAML = """
id: ev
title: Essai
date: 2020-09-30
sites: [{id: s, name: Site}]
themes: [{id: t, title: Thème}]
agenda: [{id: a, kind: workshops, title: Ateliers, start: "14:00", duration: 60}]
workshops:
  - {id: w1, theme: t, site: s, capacity: 10}
  - {id: w2, theme: t, site: s, capacity: 10, notes_template: "# Idées\\n"}
"""


@pytest.fixture
def event() -> Event:
    return parse_event(EVENT_YAML)


class Editor:
    """A local Yjs document whose edits become frames for a room."""

    def __init__(self) -> None:
        self.doc = Doc()
        self.text = self.doc.get("notes", type=Text)
        self.frames: list[bytes] = []
        self.doc.observe(self._collect)

    def _collect(self, event: TransactionEvent) -> None:
        self.frames.append(ysync.update(event.update))

    def take(self) -> list[bytes]:
        frames, self.frames = self.frames, []
        return frames


def drain(peer: Peer) -> list[ysync.Message]:
    frames, peer.queued = peer.queued, []
    return [ysync.parse(frame) for frame in frames]


def updates_in(messages: list[ysync.Message]) -> list[bytes]:
    return [m.update for m in messages if isinstance(m, ysync.Update | ysync.SyncStep2)]


async def open_room(
    backend: Backend,
    event: Event,
    workshop: str,
    compact_every: int = 500,
    writer: Writer | None = None,
) -> Room:
    room = Room(doc_name(event.id, workshop), backend, compact_every, writer)
    w = event.workshop(workshop)
    assert w is not None
    await room.load(template_for(event, w))
    return room


def test_the_workshop_template_wins_over_the_event_default(event: Event) -> None:
    w1, w2 = event.workshop("w1"), event.workshop("w2")
    assert w1 is not None and w2 is not None
    assert template_for(event, w1) == DEFAULT_NOTES_TEMPLATE
    assert template_for(event, w2) == "# Idées\n"


def test_only_the_rapporteur_of_that_workshop_edits() -> None:
    assert may_edit(Claims("ev", "rapporteur", workshop="w1"), "w1")
    assert not may_edit(Claims("ev", "rapporteur", workshop="w2"), "w1")
    for role in ("organizer", "facilitator", "screen", "participant", "public"):
        assert not may_edit(Claims("ev", role, workshop="w1"), "w1")  # type: ignore[arg-type]


async def test_an_update_is_stored_before_any_viewer_receives_it(
    backend: Backend, event: Event
) -> None:
    room = await open_room(backend, event, "w1")
    viewer = room.connect(writer=False)
    room.receive(viewer, ysync.sync_step1(b"\x00"))
    follower = Doc()
    text = follower.get("notes", type=Text)
    for update in updates_in(drain(viewer)):
        follower.apply_update(update)
    writer = room.connect(writer=True)
    ed = Editor()
    ed.doc.apply_update(room.doc.get_update())
    ed.take()
    ed.text += "abc"
    for frame in ed.take():
        room.receive(writer, frame)
    assert not viewer.queued  # nothing relayed before the write
    await room.flush()
    assert len(await backend.notes_load(room.name)) == 2
    for update in updates_in(drain(viewer)):
        follower.apply_update(update)
    assert str(text) == DEFAULT_NOTES_TEMPLATE + "abc"
    await room.close()


async def test_a_read_only_update_is_refused_and_nothing_is_written(
    backend: Backend, event: Event
) -> None:
    room = await open_room(backend, event, "w1")
    screen = room.connect(writer=False)
    ed = Editor()
    ed.text += "graffiti"
    for frame in ed.take():
        room.receive(screen, frame)
    await room.flush()
    (reply,) = drain(screen)
    assert isinstance(reply, ysync.Auth) and reply.reason.startswith("read_only:")
    assert str(room.text) == DEFAULT_NOTES_TEMPLATE
    assert len(await backend.notes_load(room.name)) == 1
    await room.close()


async def test_a_joiner_gets_everything_once_and_no_update_before_its_handshake(
    backend: Backend, event: Event
) -> None:
    room = await open_room(backend, event, "w1")
    writer = room.connect(writer=True)
    drain(writer)
    ed = Editor()
    ed.doc.apply_update(room.doc.get_update())
    ed.take()
    ed.text += " one"
    for frame in ed.take():
        room.receive(writer, frame)
    late = room.connect(writer=False)
    await room.flush()
    assert not late.queued  # not joined yet: nothing is pushed before its sync step 2
    room.receive(late, ysync.sync_step1(b"\x00"))
    ed.text += " two"
    for frame in ed.take():
        room.receive(writer, frame)
    await room.flush()
    follower = Doc()
    text = follower.get("notes", type=Text)
    for update in updates_in(drain(late)):
        follower.apply_update(update)
    assert str(text) == DEFAULT_NOTES_TEMPLATE + " one two"
    await room.close()


async def test_history_is_compacted_and_the_text_is_kept(backend: Backend, event: Event) -> None:
    room = await open_room(backend, event, "w1", compact_every=10)
    writer = room.connect(writer=True)
    ed = Editor()
    ed.doc.apply_update(room.doc.get_update())
    for i in range(95):
        ed.text += f"{i % 10}"
        for frame in ed.take():
            room.receive(writer, frame)
        await room.flush()
    stored = await backend.notes_load(room.name)
    assert len(stored) <= 10
    assert await stored_text(backend, room.name) == str(ed.text) == str(room.text)
    await room.close()
    assert len(await backend.notes_load(room.name)) == 1


async def test_compaction_keeps_an_update_whose_dependencies_have_not_arrived(
    backend: Backend, event: Event
) -> None:
    room = await open_room(backend, event, "w1")
    writer = room.connect(writer=True)
    ed = Editor()
    ed.doc.apply_update(room.doc.get_update())
    ed.take()
    ed.text += "A"
    first = ed.take()
    ed.text += "B"
    second = ed.take()
    for frame in second:  # B arrives alone: it depends on A, which is not there yet
        room.receive(writer, frame)
    await room.flush()
    await room.compact()
    await room.compact()
    reloaded = await open_room(backend, event, "w1")  # as after a crash
    for frame in first:
        reloaded.receive(reloaded.connect(writer=True), frame)
    await reloaded.flush()
    assert str(reloaded.text) == DEFAULT_NOTES_TEMPLATE + "AB"
    await room.close()
    await reloaded.close()


async def test_compaction_leaves_one_row_when_nothing_is_waiting(
    backend: Backend, event: Event
) -> None:
    room = await open_room(backend, event, "w1")
    writer = room.connect(writer=True)
    ed = Editor()
    ed.doc.apply_update(room.doc.get_update())
    for word in ("un ", "deux ", "trois"):
        ed.text += word
        for frame in ed.take():
            room.receive(writer, frame)
    del ed.text[0:3]
    for frame in ed.take():
        room.receive(writer, frame)
    await room.flush()
    await room.compact()
    (row,) = await backend.notes_load(room.name)
    assert row == room.doc.get_update()
    await room.close()


async def test_a_peer_that_falls_behind_is_closed_not_waited_for(
    backend: Backend, event: Event
) -> None:
    room = await open_room(backend, event, "w1")
    slow = room.connect(writer=False)
    room.receive(slow, ysync.sync_step1(b"\x00"))
    for _ in range(slow.maxsize + 1):
        room.receive(slow, ysync.query_awareness())
    assert slow.closed
    assert await slow.next_frames() is None
    await room.close()


async def test_a_reloaded_room_starts_from_what_was_stored_not_the_template(
    backend: Backend, event: Event
) -> None:
    service = NotesService(backend, idle=0.01)
    w = event.workshop("w2")
    assert w is not None
    room = await service.room(event, w)
    assert str(room.text) == "# Idées\n"
    peer = room.connect(writer=True)
    ed = Editor()
    ed.doc.apply_update(room.doc.get_update())
    ed.text += "- une idée"
    for frame in ed.take():
        room.receive(peer, frame)
    service.release(room, peer)
    await asyncio.sleep(0.1)
    assert doc_name(event.id, "w2") not in service.rooms
    again = await service.room(event, w)
    assert again is not room
    assert str(again.text) == "# Idées\n- une idée"
    assert await service.text(event.id, "w2") == "# Idées\n- une idée"
    await service.close()


def named(client: int, name: str, clock: int = 1, **user: object) -> bytes:
    state = json.dumps({"user": {"name": name, **user}})
    return ysync.awareness(ysync.encode_awareness([ysync.Presence(client, clock, state)]))


def editor_of(room: Room) -> Editor:
    """A rapporteur's editor, synced with the room; its awareness id is its doc's client id."""
    ed = Editor()
    ed.doc.apply_update(room.doc.get_update())
    return ed


def typed(room: Room, peer: Peer, ed: Editor, text: str) -> None:
    ed.doc.apply_update(room.doc.get_update())
    ed.text += text
    for frame in ed.take():
        room.receive(peer, frame)


async def test_the_synthesis_credits_the_rapporteurs_who_edited(
    backend: Backend, event: Event
) -> None:
    service = NotesService(backend)
    w = event.workshop("w1")
    assert w is not None
    room = await service.room(event, w)
    for name in ("Aïcha", "Bruno"):
        peer, ed = room.connect(writer=True), editor_of(room)
        room.receive(peer, named(ed.doc.client_id, name))
        typed(room, peer, ed, f"- {name} écrit\n")
        await room.flush()
    await asyncio.sleep(0.05)
    assert await service.rapporteurs(event.id, "w1") == ["Aïcha", "Bruno"]
    await service.close()
    assert await NotesService(backend).rapporteurs(event.id, "w1") == ["Aïcha", "Bruno"]


async def test_opening_the_editor_without_writing_is_not_credited(
    backend: Backend, event: Event
) -> None:
    room = await open_room(backend, event, "w1")
    writer, author = room.connect(writer=True), editor_of(room)
    room.receive(writer, named(author.doc.client_id, "Aïcha"))
    typed(room, writer, author, "- une idée\n")
    await room.flush()
    reader, ed = room.connect(writer=True), editor_of(room)
    room.receive(reader, named(ed.doc.client_id, "Claire"))  # typed her name, wrote nothing
    room.receive(reader, ysync.sync_step2(room.doc.get_update()))  # sends back what it got
    # Aïcha's page relays Claire's presence, as y-websocket clients do: still not Claire's text.
    room.receive(writer, named(ed.doc.client_id, "Claire", 2))
    assert room.credits.names() == ["Aïcha"]


async def test_the_placeholder_name_is_never_credited(backend: Backend, event: Event) -> None:
    room = await open_room(backend, event, "w1")
    for anonymous in ({"anonymous": True}, {}):
        peer, ed = room.connect(writer=True), editor_of(room)
        room.receive(peer, named(ed.doc.client_id, "Rapporteur", **anonymous))
        typed(room, peer, ed, "- une note\n")
        await room.flush()
    assert room.credits.names() == []


async def test_a_name_typed_letter_by_letter_is_credited_once_under_its_last_form(
    backend: Backend, event: Event
) -> None:
    room = await open_room(backend, event, "w1")
    peer, ed = room.connect(writer=True), editor_of(room)
    typed(room, peer, ed, "- avant de se nommer\n")
    for clock, name in enumerate(("J", "Je", "Jea", "Jean"), start=1):
        room.receive(peer, named(ed.doc.client_id, name, clock))
    assert room.credits.names() == ["Jean"]


async def test_text_of_a_workshop_nobody_opened_is_empty(backend: Backend, event: Event) -> None:
    assert await NotesService(backend).text(event.id, "w1") == ""


async def test_a_lagging_peer_gets_queued_updates_merged_into_one_frame(
    backend: Backend, event: Event
) -> None:
    room = await open_room(backend, event, "w1")
    viewer = room.connect(writer=False)
    room.receive(viewer, ysync.sync_step1(b"\x00"))
    writer = room.connect(writer=True)
    ed = Editor()
    ed.doc.apply_update(room.doc.get_update())
    ed.take()
    for word in ("un", " deux", " trois"):
        ed.text += word
        for frame in ed.take():
            room.receive(writer, frame)
        await room.flush()
    frames = await viewer.next_frames()
    assert frames is not None
    step2, merged = (ysync.parse(f) for f in frames)
    follower = Doc()
    text = follower.get("notes", type=Text)
    for msg in (step2, merged):
        assert isinstance(msg, ysync.SyncStep2 | ysync.Update)
        follower.apply_update(msg.update)
    assert str(text) == DEFAULT_NOTES_TEMPLATE + "un deux trois"
    await room.close()


class GroupCommitBackend(MemoryBackend):
    """A memory backend with the optional group commit, counting its commits."""

    def __init__(self) -> None:
        super().__init__()
        self.commits: list[list[str]] = []

    async def notes_append_many(self, batches: dict[str, list[bytes]]) -> None:
        self.commits.append(sorted(batches))
        for doc, updates in batches.items():
            await self.notes_append(doc, updates)


async def test_rooms_share_one_commit_when_the_backend_offers_group_commit(
    event: Event,
) -> None:
    backend = GroupCommitBackend()
    service = NotesService(backend)
    rooms = []
    for wid in ("w1", "w2"):
        w = event.workshop(wid)
        assert w is not None
        rooms.append(await service.room(event, w))
    for room in rooms:
        ed = Editor()
        ed.doc.apply_update(room.doc.get_update())
        ed.take()
        ed.text += "x"
        writer = room.connect(writer=True)
        for frame in ed.take():
            room.receive(writer, frame)
    await service.writer.flush()
    assert backend.commits == [["ev/w1", "ev/w2"]]
    assert [str(r.text)[-1] for r in rooms] == ["x", "x"]
    await service.close()


async def test_viewers_of_an_idle_room_get_a_keepalive_while_others_are_busy(
    event: Event,
) -> None:
    """y-websocket clients reconnect after 30 s of silence; a quiet room must still speak."""
    backend = MemoryBackend()
    writer = Writer(backend, keepalive=0.1)
    busy = await open_room(backend, event, "w1", writer=writer)
    quiet = await open_room(backend, event, "w2", writer=writer)
    screen = quiet.connect(writer=False)
    quiet.receive(screen, ysync.sync_step1(b"\x00"))
    drain(screen)
    editor = busy.connect(writer=True)
    ed = Editor()
    ed.doc.apply_update(busy.doc.get_update())
    ed.take()
    for _ in range(15):
        ed.text += "x"
        for frame in ed.take():
            busy.receive(editor, frame)
        await asyncio.sleep(0.02)
    assert ysync.Awareness(ysync.encode_awareness([])) in drain(screen)
    await busy.close()
    await quiet.close()
    await writer.close()
