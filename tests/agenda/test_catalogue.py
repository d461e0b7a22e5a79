"""The event catalogue and each event's live hub: write before broadcast, bounded outboxes,
catch-up, restart; creating, replacing, archiving and deleting an event; the one rule a new
definition of a running event must meet (`fits`)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
import yaml

from live.agenda.catalogue import Catalogue, NotStored, fits, stage
from live.agenda.outbox import RESYNC, Client
from live.agenda.state import Rejected, State
from live.backends.memory import MemoryBackend
from live.errors import RelaisError
from live.event_file import DefinitionError, parse_event
from live.links.signing import Claims

DEMO = Path(__file__).resolve().parents[2] / "live" / "demo"
ARIEGE = (DEMO / "ariege-2020.yaml").read_text(encoding="utf-8")
REGIE = Claims(event="ariege-2020", role="facilitator", id="regie")
SCREEN = Claims(event="ariege-2020", role="screen", site="foix")


async def hub_with_demo(backend: MemoryBackend | None = None) -> Catalogue:
    hub = Catalogue(backend or MemoryBackend(), snapshot_every=3)
    await hub.put((DEMO / "ariege-2020.yaml").read_text())
    return hub


async def test_a_command_is_written_before_anyone_sees_it() -> None:
    backend = MemoryBackend()
    hub = await hub_with_demo(backend)
    live = hub.events["ariege-2020"]
    screen = Client(SCREEN, maxsize=8)
    live.clients.add(screen)
    seq = await live.command("step.next", {}, REGIE, "a")
    assert [e["seq"] for e in await backend.read(live.stream)] == [seq] == [1]
    frame = json.loads(screen.frames.popleft())
    assert frame["type"] == "event" and frame["seq"] == 1 and frame["state"]["step"] == 0


async def test_a_refused_command_writes_and_broadcasts_nothing() -> None:
    backend = MemoryBackend()
    hub = await hub_with_demo(backend)
    live = hub.events["ariege-2020"]
    screen = Client(SCREEN, maxsize=8)
    live.clients.add(screen)
    with pytest.raises(Rejected):
        await live.command("timer.pause", {}, REGIE, "a")
    assert await backend.read(live.stream) == [] and not screen.frames


async def test_a_slow_client_is_resynced_and_never_delays_the_others() -> None:
    hub = await hub_with_demo()
    live = hub.events["ariege-2020"]
    slow, fast = Client(SCREEN, maxsize=2), Client(SCREEN, maxsize=64)
    live.clients |= {slow, fast}
    await live.command("step.next", {}, REGIE, "1")
    for i in range(5):
        await live.command("timer.adjust", {"minutes": 1}, REGIE, f"x{i}")
    assert len(fast.frames) == 6  # every event, in order
    assert slow.behind and list(slow.frames) == [RESYNC]
    snapshot = json.loads(live.snapshot())
    assert snapshot["type"] == "snapshot" and snapshot["seq"] == 6


async def test_an_outbox_is_bounded_in_bytes_as_well_as_in_frames() -> None:
    hub = await hub_with_demo()
    live = hub.events["ariege-2020"]
    snapshot = live.snapshot()
    client = Client(SCREEN, maxsize=1000, max_bytes=len(snapshot) * 3)
    for _ in range(3):
        client.push_reply(snapshot)  # a client asking hello after hello, never reading
    assert not client.closed and client.size == 3 * len(snapshot)
    client.push_reply(snapshot)
    assert client.closed and client.close_reason == "behind" and client.size == 0
    assert await client.next_frame() is None


async def test_events_past_the_byte_bound_resync_the_client_instead() -> None:
    hub = await hub_with_demo()
    live = hub.events["ariege-2020"]
    client = Client(SCREEN, maxsize=1000, max_bytes=2000)
    live.clients.add(client)
    for i in range(20):
        await live.command("timer.adjust" if i else "step.next", {"minutes": 1} if i else {},
                           REGIE, str(i))  # fmt: skip
    assert client.behind and list(client.frames) == [RESYNC] and not client.closed


async def test_a_failed_snapshot_does_not_fail_the_command_it_follows() -> None:
    class SnapshotsFail(MemoryBackend):
        async def save_snapshot(self, stream: str, seq: int, state: dict) -> None:
            raise OSError("disk full")

    backend = SnapshotsFail()
    hub = await hub_with_demo(backend)
    live = hub.events["ariege-2020"]
    for i in range(3):  # the third is due for a snapshot (snapshot_every=3)
        seq = await live.command("timer.adjust" if i else "step.next",
                                 {"minutes": 1} if i else {}, REGIE, str(i))  # fmt: skip
    assert seq == 3 and live.state.seq == 3
    assert [e["seq"] for e in await backend.read(live.stream)] == [1, 2, 3]


async def test_catch_up_sends_exactly_the_missed_entries_or_a_snapshot() -> None:
    hub = await hub_with_demo()
    live = hub.events["ariege-2020"]
    for i, name in enumerate(["step.next", "timer.pause", "timer.resume"]):
        await live.command(name, {}, REGIE, str(i))
    missed = json.loads(live.catch_up(1, live.epoch))
    assert missed["type"] == "events" and [e["seq"] for e in missed["events"]] == [2, 3]
    assert json.loads(live.catch_up(3, live.epoch))["events"] == []
    assert json.loads(live.catch_up(None, None))["type"] == "snapshot"
    assert json.loads(live.catch_up(1, "other"))["type"] == "snapshot"
    assert json.loads(live.catch_up(99, live.epoch))["type"] == "snapshot"


async def test_a_new_hub_on_the_same_store_restores_the_state_from_snapshot_and_log() -> None:
    backend = MemoryBackend()
    hub = await hub_with_demo(backend)
    live = hub.events["ariege-2020"]
    for i, name in enumerate(["step.next", "timer.pause", "timer.resume", "step.next"]):
        await live.command(name, {}, REGIE, str(i))
    assert await backend.load_snapshot(live.stream) is not None  # every 3 entries here
    again = Catalogue(backend)
    await again.load_all()
    restored = again.events["ariege-2020"]
    assert restored.state == live.state and restored.epoch == live.epoch
    # and a retried command id is still known after the restart
    assert await restored.command("step.next", {}, REGIE, "3") == 4


async def test_a_command_id_reused_for_another_command_is_refused() -> None:
    backend = MemoryBackend()
    hub = await hub_with_demo(backend)
    live = hub.events["ariege-2020"]
    assert await live.command("step.next", {}, REGIE, "k") == 1
    with pytest.raises(RelaisError) as exc:
        await live.command("timer.adjust", {"minutes": 2}, REGIE, "k")
    assert exc.value.code == "id_reused"
    assert await live.command("step.next", {}, REGIE, "k") == 1  # the same retry: acked
    assert [e["seq"] for e in await backend.read(live.stream)] == [1]


async def test_a_command_id_reused_with_other_args_is_refused_after_a_restart() -> None:
    backend = MemoryBackend()
    hub = await hub_with_demo(backend)
    live = hub.events["ariege-2020"]
    await live.command("step.next", {}, REGIE, "a")
    assert await live.command("timer.adjust", {"minutes": 2}, REGIE, "k") == 2
    again = Catalogue(backend)
    await again.load_all()
    restored = again.events["ariege-2020"]
    with pytest.raises(RelaisError) as exc:
        await restored.command("timer.adjust", {"minutes": 3}, REGIE, "k")
    assert exc.value.code == "id_reused"
    assert await restored.command("timer.adjust", {"minutes": 2}, REGIE, "k") == 2
    assert restored.state.seq == 2


# -- the catalogue: what may be done to an event ----------------------------------------------


def ariege(steps: int | None = None, title: str | None = None, event_id: str | None = None) -> str:
    """The Ariège demo, its agenda cut to its first `steps`, or another title or id."""
    data = yaml.safe_load(ARIEGE)
    if steps is not None:
        data["agenda"] = data["agenda"][:steps]
    if title is not None:
        data["title"] = title
    if event_id is not None:
        data["id"] = event_id
    return yaml.safe_dump(data, allow_unicode=True)


async def at_the_break(hub: Catalogue) -> None:
    """Run the Ariège day to its third step, the break (`pause`)."""
    live = hub.events["ariege-2020"]
    for i in range(3):
        await live.command("step.next", {}, REGIE, f"n{i}")
    assert live.state.step == 2


def test_a_definition_fits_a_run_holding_its_step_or_whose_run_of_show_was_edited_live() -> None:
    event = parse_event(ariege(steps=2))
    assert fits(State(), event)  # not started
    assert fits(State(step=1), event)
    assert not fits(State(step=2), event)  # would point at nothing
    edited = [s.model_dump(mode="json") for s in parse_event(ARIEGE).agenda]
    assert fits(State(step=2, agenda=edited), event)  # the run follows its own steps


async def test_a_shorter_definition_is_refused_by_both_paths_unless_edited_live() -> None:
    """The studio (`replace`) and an import in another process (`refresh`) follow one
    rule: a definition without the step being run is refused, unless the run-of-show was
    edited live, when the run points into its own steps and not the definition's."""
    backend = MemoryBackend()
    hub = await hub_with_demo(backend)
    await at_the_break(hub)
    live = hub.events["ariege-2020"]
    with pytest.raises(NotStored) as refused:
        await hub.replace("ariege-2020", ariege(steps=2))
    assert refused.value.code == "step_running" and refused.value.params["step"] == 3
    await backend.put_definition("ariege-2020", ariege(steps=2))  # `relais import`
    assert await hub.refresh() == []
    assert len(live.definition.agenda) == 4
    await live.command("agenda.edit", {"step": "pause", "title": "Pause café"}, REGIE, "e")
    assert live.state.agenda is not None
    await hub.replace("ariege-2020", ariege(steps=2, title="Changé"))
    assert len(live.definition.agenda) == 2 and live.definition.title == "Changé"
    assert [s.title for s in live.event.agenda][2] == "Pause café"  # the run as edited
    await backend.put_definition("ariege-2020", ariege(steps=1, title="Encore"))
    assert await hub.refresh() == ["ariege-2020"]
    assert live.definition.title == "Encore" and live.state.step == 2


async def test_a_replacement_is_refused_for_an_archived_unknown_or_other_event() -> None:
    hub = await hub_with_demo()
    for event_id, text, code in (
        ("nowhere-2020", ariege(event_id="nowhere-2020"), "unknown_event"),
        ("ariege-2020", ariege(event_id="other-2020"), "other_event"),
    ):
        with pytest.raises(NotStored) as refused:
            await hub.replace(event_id, text)
        assert refused.value.code == code
    with pytest.raises(DefinitionError):
        await hub.replace("ariege-2020", "id: ariege-2020\n")
    assert await hub.set_archived("ariege-2020", True)
    assert await hub.archived() == {"ariege-2020"}
    with pytest.raises(NotStored) as refused:
        await hub.replace("ariege-2020", ariege(title="Changé"))
    assert refused.value.code == "archived"
    assert await hub.set_archived("ariege-2020", False) and await hub.archived() == set()
    await hub.replace("ariege-2020", ariege(title="Changé"))
    assert hub.events["ariege-2020"].definition.title == "Changé"
    assert not await hub.set_archived("nowhere-2020", True)


async def test_a_new_event_cannot_take_an_id_served_or_stored() -> None:
    backend = MemoryBackend()
    hub = await hub_with_demo(backend)
    await backend.put_definition("broken-2020", "id: broken-2020\n")  # refused when read
    await hub.refresh()
    assert await hub.taken_ids() == {"ariege-2020", "broken-2020"}
    for event_id in ("ariege-2020", "broken-2020"):
        with pytest.raises(NotStored) as refused:
            await hub.create(ariege(event_id=event_id))
        assert refused.value.code == "id_taken" and refused.value.params["event"] == event_id
    event = await hub.create(ariege(event_id="foix-2026"))
    assert hub.get("foix-2026") is not None and event.id == "foix-2026"
    assert (await backend.definitions())["foix-2026"] == ariege(event_id="foix-2026")


async def test_the_stage_of_an_event_is_draft_live_or_archived() -> None:
    hub = await hub_with_demo()
    live = hub.events["ariege-2020"]
    assert stage(live, set()) == "draft"
    assert stage(live, {"ariege-2020"}) == "archived"
    await live.command("step.next", {}, REGIE, "a")
    assert stage(live, set()) == "live"


async def test_deleting_an_event_closes_what_follows_it_before_its_data_goes() -> None:
    """The removal followers (notes rooms, plenary sessions) are awaited before the data is
    dropped: what a closing notes room writes does not outlive the event."""
    backend = MemoryBackend()
    hub = await hub_with_demo(backend)
    await hub.set_archived("ariege-2020", True)
    await backend.put_record("registration", "ariege-2020:p1", {"name": "Camille"})
    told: list[str] = []

    async def notes_closing(event_id: str) -> None:
        await asyncio.sleep(0)
        await backend.notes_append(f"{event_id}/atelier", [b"pending update"])
        told.append(event_id)

    hub.on_remove += [notes_closing, told.append]  # awaited or not
    screen = Client(SCREEN, maxsize=8)
    hub.events["ariege-2020"].clients.add(screen)
    assert await hub.delete("ariege-2020")
    assert told == ["ariege-2020", "ariege-2020"]
    assert screen.closed and screen.close_reason == "unknown_event"
    assert hub.get("ariege-2020") is None and await backend.definitions() == {}
    assert await backend.notes_load("ariege-2020/atelier") == []
    assert await backend.list_records("registration") == {}
    assert await hub.archived() == set()
    assert not await hub.delete("ariege-2020")  # no such event any more


async def test_a_refresh_during_a_deletion_does_not_serve_the_event_again() -> None:
    backend = MemoryBackend()
    hub = await hub_with_demo(backend)
    gate = asyncio.Event()

    async def slow_follower(event_id: str) -> None:
        await gate.wait()

    hub.on_remove.append(slow_follower)
    deleting = asyncio.create_task(hub.delete("ariege-2020"))
    await asyncio.sleep(0.01)  # stopped serving; its definition is still stored
    await backend.put_definition("other-2020", ariege(event_id="other-2020"))
    refreshing = asyncio.create_task(hub.refresh())
    await asyncio.sleep(0.01)
    gate.set()
    assert await deleting
    assert await refreshing == ["other-2020"]
    assert hub.get("ariege-2020") is None and sorted(hub.events) == ["other-2020"]
