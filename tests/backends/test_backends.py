"""One behavioural suite for every storage backend (memory, SQLite, Redis)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from live.backends.base import Backend, SeqConflict, create_backend

# `backend`: every backend in turn, Redis included (tests/conftest.py).


async def test_the_log_is_gapless_and_ordered(backend: Backend) -> None:
    for seq in (1, 2, 3):
        await backend.append("s", {"seq": seq, "t": seq * 10, "name": "x"})
    assert [e["seq"] for e in await backend.read("s")] == [1, 2, 3]
    assert [e["seq"] for e in await backend.read("s", since=1)] == [2, 3]
    assert await backend.read("other") == []


async def test_an_append_out_of_turn_is_refused_and_changes_nothing(backend: Backend) -> None:
    await backend.append("s", {"seq": 1})
    with pytest.raises(SeqConflict):
        await backend.append("s", {"seq": 1})
    with pytest.raises(SeqConflict):
        await backend.append("s", {"seq": 3})
    assert [e["seq"] for e in await backend.read("s")] == [1]


async def test_snapshots_keep_the_latest(backend: Backend) -> None:
    assert await backend.load_snapshot("s") is None
    await backend.save_snapshot("s", 5, {"a": 1})
    await backend.save_snapshot("s", 9, {"a": 2})
    assert await backend.load_snapshot("s") == (9, {"a": 2})


async def test_definitions_and_records(backend: Backend) -> None:
    await backend.put_definition("ev", "id: ev")
    assert await backend.definitions() == {"ev": "id: ev"}
    await backend.put_record("revoked", "ev:abc", {"at": 1})
    await backend.put_record("revoked", "other:x", {"at": 2})
    assert await backend.get_record("revoked", "ev:abc") == {"at": 1}
    assert list(await backend.list_records("revoked", "ev:")) == ["ev:abc"]
    assert await backend.delete_record("revoked", "ev:abc")
    assert not await backend.delete_record("revoked", "ev:abc")


async def test_notes_updates_are_kept_in_order_and_compacted(backend: Backend) -> None:
    await backend.notes_append("d", [b"1", b"2"])
    await backend.notes_append("d", [b"3"])
    assert await backend.notes_load("d") == [b"1", b"2", b"3"]
    await backend.notes_compact("d", b"12", 2)
    assert await backend.notes_load("d") == [b"12", b"3"]


async def test_sqlite_keeps_everything_across_a_reopen(tmp_path: Path) -> None:
    b = create_backend("sqlite", str(tmp_path))
    await b.open()
    await b.append("s", {"seq": 1, "name": "é"})
    await b.notes_append("d", [b"\x00\x01"])
    await b.close()
    b = create_backend("sqlite", str(tmp_path))
    await b.open()
    assert await b.read("s") == [{"seq": 1, "name": "é"}]
    assert await b.notes_load("d") == [b"\x00\x01"]
    await b.close()


async def test_updates_of_several_documents_are_written_together(backend: Backend) -> None:
    await backend.notes_append_many({"a": [b"1", b"2"], "b": [b"3"]})
    assert await backend.notes_load("a") == [b"1", b"2"]
    assert await backend.notes_load("b") == [b"3"]


async def test_a_record_is_created_only_if_absent_even_when_many_try_at_once(
    backend: Backend,
) -> None:
    tries = [backend.create_record("email", "ev:a@b.org", {"id": str(i)}) for i in range(8)]
    assert sorted(await asyncio.gather(*tries)) == [False] * 7 + [True]
    winner = await backend.get_record("email", "ev:a@b.org")
    assert not await backend.create_record("email", "ev:a@b.org", {"id": "late"})
    assert await backend.get_record("email", "ev:a@b.org") == winner
    await backend.delete_record("email", "ev:a@b.org")
    assert await backend.create_record("email", "ev:a@b.org", {"id": "again"})


async def test_forgetting_leaves_deleted_records_in_no_file(
    backend: Backend, tmp_path: Path
) -> None:
    await backend.put_record("registration", "ev:1", {"name": "Personne Effacée"})
    await backend.put_record("registration", "ev:2", {"name": "Reste"})
    await backend.delete_record("registration", "ev:1")
    await backend.forget()
    for path in tmp_path.glob("relais.sqlite3*"):
        assert "Personne Effacée".encode() not in path.read_bytes(), path.name
    assert await backend.get_record("registration", "ev:2") == {"name": "Reste"}


async def test_dropping_an_event_removes_all_of_it_and_nothing_of_another(
    backend: Backend,
) -> None:
    for event in ("ev", "eve"):  # "eve" starts with "ev": it must survive
        await backend.put_definition(event, f"id: {event}")
        await backend.append(f"agenda:{event}", {"seq": 1})
        await backend.save_snapshot(f"agenda:{event}", 1, {"seq": 1})
        await backend.notes_append(f"{event}/w1", [b"\x00u"])
        await backend.put_record("epoch", event, {"epoch": event})
        await backend.put_record("registration", f"{event}:1", {"name": "X"})
        await backend.put_record("name", f"{event}/w1", {"name": "Y"})
    version = await backend.definitions_version()
    await backend.drop_event("ev")
    assert await backend.definitions() == {"eve": "id: eve"}
    assert await backend.definitions_version() != version
    assert (
        await backend.read("agenda:ev") == [] and await backend.load_snapshot("agenda:ev") is None
    )
    assert await backend.notes_load("ev/w1") == []
    for kind in ("epoch", "registration", "name"):
        assert all(
            not k.startswith("ev") or k.startswith("eve") for k in await backend.list_records(kind)
        )
    assert len(await backend.read("agenda:eve")) == 1 and await backend.load_snapshot("agenda:eve")
    assert await backend.notes_load("eve/w1") == [b"\x00u"]
    assert await backend.get_record("registration", "eve:1") == {"name": "X"}
    await backend.append("agenda:ev", {"seq": 1})  # a new event of that id starts afresh


async def test_following_a_log_returns_what_is_there_or_nothing_after_the_wait(
    backend: Backend,
) -> None:
    await backend.append("s", {"seq": 1})
    await backend.append("s", {"seq": 2})
    assert [e["seq"] for e in await backend.follow("s", 0, 5000)] == [1, 2]  # at once
    started = asyncio.get_running_loop().time()
    assert await backend.follow("s", 2, 200) == []
    assert 0.15 < asyncio.get_running_loop().time() - started < 2


async def test_record_prefixes_are_exact_whatever_the_characters(backend: Backend) -> None:
    for key in ("ev:é", "ev:z", "ev:\U0001f600", "ev;", "ev", "e"):
        await backend.put_record("k", key, {"key": key})
    assert list(await backend.list_records("k", "ev:")) == ["ev:z", "ev:é", "ev:\U0001f600"]
    assert len(await backend.list_records("k")) == 6
