"""One behavioural suite for every storage backend."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from live.backends.base import Backend, SeqConflict, create_backend


@pytest.fixture(params=["memory", "sqlite"])
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    b = create_backend(request.param, str(tmp_path))
    await b.open()
    yield b
    await b.close()


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
