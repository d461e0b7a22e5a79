"""The live hub: write before broadcast, bounded outboxes, catch-up, restart."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from live.agenda.catalogue import Catalogue
from live.agenda.outbox import RESYNC, Client
from live.agenda.state import Rejected
from live.backends.memory import MemoryBackend
from live.errors import RelaisError
from live.links.signing import Claims

DEMO = Path(__file__).resolve().parents[2] / "live" / "demo"
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
