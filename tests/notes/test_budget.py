"""One bound for every notes connection of a process (live/notes/budget.py): what many
sockets together may make the server hold, and who is answered first when it is full."""

from __future__ import annotations

import asyncio

import pytest
from pycrdt import Doc, Text

from live.backends.memory import MemoryBackend
from live.event_file import parse_event
from live.model import Event
from live.notes import ysync
from live.notes.budget import SendBudget
from live.notes.peer import Peer
from live.notes.room import Room
from tests.notes.test_room import EVENT_YAML, Editor, open_room, updates_in

JOIN = ysync.sync_step1(b"\x00")


@pytest.fixture
def event() -> Event:
    return parse_event(EVENT_YAML)


async def room_with_text(event: Event, budget: SendBudget, size: int) -> Room:
    room = await open_room(MemoryBackend(), event, "w1")
    room.budget = budget
    ed = Editor()
    ed.doc.apply_update(room.doc.get_update())
    ed.take()
    ed.text += "x" * size
    writer = room.connect(writer=True)
    for frame in ed.take():
        room.receive(writer, frame)
    await room.flush()
    room.disconnect(writer)
    return room


def answered(peer: Peer) -> bool:
    return any(f[:2] == bytes((ysync.SYNC, ysync.STEP2)) for f in peer.queued)


async def written(peer: Peer) -> None:
    """The peer's sender writes its batch, and comes back for more (as after a drain)."""
    frames = await peer.next_frames()
    assert frames is not None
    back = asyncio.create_task(peer.next_frames())
    await asyncio.sleep(0)
    back.cancel()


async def test_answers_past_the_process_share_wait_and_come_once_earlier_ones_are_written(
    event: Event,
) -> None:
    budget = SendBudget(limit=48_000)  # answers in flight: 36,000 bytes, three of 10 KB
    room = await room_with_text(event, budget, 10_000)
    peers = [room.connect(writer=False, key=f"10.0.0.{i}") for i in range(5)]
    for peer in peers:
        room.receive(peer, JOIN)
    assert [answered(p) for p in peers] == [True, True, True, False, False]
    assert all(p.answering for p in peers) and budget.used <= budget.limit
    fourth = asyncio.create_task(peers[3].next_frames())
    await asyncio.sleep(0)
    assert not fourth.done()  # no room yet: it holds a state vector, not a document
    await written(peers[0])
    frames = await asyncio.wait_for(fourth, 5)
    assert frames is not None and updates_in([ysync.parse(f) for f in frames])
    room.disconnect(peers[4])
    for peer in peers[:4]:
        room.disconnect(peer)
    assert budget.used == 0 and budget.answering == 0 and budget.waiting == 0


async def test_an_answer_given_its_turn_late_holds_what_was_typed_meanwhile(event: Event) -> None:
    budget = SendBudget(limit=4_000)
    room = await room_with_text(event, budget, 2_500)
    first, late = room.connect(writer=False, key="a"), room.connect(writer=False, key="b")
    room.receive(first, JOIN)
    room.receive(late, JOIN)
    assert answered(first) and not answered(late)
    rapporteur = room.connect(writer=True)
    ed = Editor()
    ed.doc.apply_update(room.doc.get_update())
    ed.take()
    ed.text += "ajouté pendant l'attente"
    for frame in ed.take():
        room.receive(rapporteur, frame)
    await room.flush()
    turn = asyncio.create_task(late.next_frames())
    await written(first)
    frames = await asyncio.wait_for(turn, 5)
    assert frames is not None
    follower = Doc()
    for update in updates_in([ysync.parse(f) for f in frames]):
        follower.apply_update(update)
    assert str(follower.get("notes", type=Text)) == str(room.text)
    await room.close()


async def test_the_crew_is_answered_before_the_public(event: Event) -> None:
    budget = SendBudget(limit=4_000)
    room = await room_with_text(event, budget, 2_500)
    holder = room.connect(writer=False, key="phone")
    room.receive(holder, JOIN)
    phone = room.connect(writer=False, key="phone-2")
    screen = room.connect(writer=False, key="site", crew=True)
    room.receive(phone, JOIN)
    room.receive(screen, JOIN)
    waiting = {
        "phone": asyncio.create_task(phone.next_frames()),
        "screen": asyncio.create_task(screen.next_frames()),
    }
    await written(holder)
    done, _ = await asyncio.wait(waiting.values(), timeout=5, return_when=asyncio.FIRST_COMPLETED)
    assert done == {waiting["screen"]}
    for task in waiting.values():
        task.cancel()
    await room.close()


async def test_one_address_cannot_hold_the_answers_while_other_addresses_wait(
    event: Event,
) -> None:
    budget = SendBudget(limit=40_000, key_share=0.25)  # one address: 7,500 bytes of 30,000
    room = await room_with_text(event, budget, 5_000)
    flood = [room.connect(writer=False, key="one-device") for _ in range(6)]
    for peer in flood:
        room.receive(peer, JOIN)
    assert [answered(p) for p in flood] == [True] * 5 + [False]  # alone, it may use it all
    turns = [asyncio.create_task(p.next_frames()) for p in flood[5:]]
    neighbour = room.connect(writer=False, key="another-phone")
    room.receive(neighbour, JOIN)
    assert not answered(neighbour)  # every answer in flight is taken...
    turns.append(asyncio.create_task(neighbour.next_frames()))
    await asyncio.sleep(0)
    await written(flood[0])  # ...and the first freed goes to the other address
    done, _ = await asyncio.wait(turns, timeout=5, return_when=asyncio.FIRST_COMPLETED)
    assert done == {turns[-1]}
    for task in turns:
        task.cancel()
    await room.close()


async def test_an_update_that_would_pass_the_process_limit_closes_only_that_peer(
    event: Event,
) -> None:
    budget = SendBudget(limit=10_000)
    room = await room_with_text(event, budget, 10)
    quiet, stuck = room.connect(writer=False), room.connect(writer=False)
    room.receive(quiet, JOIN)
    room.receive(stuck, JOIN)
    await written(quiet)
    budget.charge(budget.limit - budget.used - 1)  # as if other rooms held the rest
    room.receive(stuck, ysync.query_awareness())
    assert stuck.closed and not quiet.closed
    await room.close()


async def test_every_byte_held_is_given_back_when_the_connections_end(event: Event) -> None:
    budget = SendBudget(limit=100_000)
    room = await room_with_text(event, budget, 20_000)
    peers = [room.connect(writer=False, key=str(i % 3)) for i in range(12)]
    for peer in peers:
        room.receive(peer, JOIN)
        room.receive(peer, ysync.query_awareness())
    assert budget.used > 0 and any(p.answering and not answered(p) for p in peers)
    await written(peers[0])
    for peer in peers:
        room.disconnect(peer)
    assert (budget.used, budget.answering, budget.waiting) == (0, 0, 0)
    assert not budget.by_key
