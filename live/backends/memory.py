"""In-memory backend: tests and throwaway demos. Lost when the process stops."""

from __future__ import annotations

import copy
from typing import Any

from live.backends.base import EVENT_STREAMS, Backend, SeqConflict, already_there


class MemoryBackend(Backend):
    name = "memory"

    def __init__(self) -> None:
        self._logs: dict[str, list[dict[str, Any]]] = {}
        self._snapshots: dict[str, tuple[int, dict[str, Any]]] = {}
        self._definitions: dict[str, str] = {}
        self._definitions_version = 0
        self._notes: dict[str, list[bytes]] = {}
        self._records: dict[tuple[str, str], dict[str, Any]] = {}

    async def append(self, stream: str, entry: dict[str, Any]) -> None:
        log = self._logs.setdefault(stream, [])
        if entry["seq"] != len(log) + 1:
            if 0 < entry["seq"] <= len(log) and already_there(log[entry["seq"] - 1], entry):
                return
            raise SeqConflict(f"{stream}: expected seq {len(log) + 1}, got {entry['seq']}")
        log.append(copy.deepcopy(entry))

    async def read(self, stream: str, since: int = 0) -> list[dict[str, Any]]:
        return copy.deepcopy(self._logs.get(stream, [])[max(0, since) :])

    async def save_snapshot(self, stream: str, seq: int, state: dict[str, Any]) -> None:
        self._snapshots[stream] = (seq, copy.deepcopy(state))

    async def load_snapshot(self, stream: str) -> tuple[int, dict[str, Any]] | None:
        snap = self._snapshots.get(stream)
        return (snap[0], copy.deepcopy(snap[1])) if snap else None

    async def put_definition(self, event_id: str, text: str) -> None:
        self._definitions[event_id] = text
        self._definitions_version += 1

    async def definitions(self) -> dict[str, str]:
        return dict(self._definitions)

    async def definitions_version(self) -> int:
        return self._definitions_version

    async def notes_append(self, doc: str, updates: list[bytes]) -> None:
        self._notes.setdefault(doc, []).extend(updates)

    async def notes_load(self, doc: str) -> list[bytes]:
        return list(self._notes.get(doc, []))

    async def notes_compact(self, doc: str, merged: bytes, count: int) -> None:
        stored = self._notes.get(doc, [])
        self._notes[doc] = [merged, *stored[count:]]

    async def put_record(self, kind: str, key: str, value: dict[str, Any]) -> None:
        self._records[(kind, key)] = copy.deepcopy(value)

    async def get_record(self, kind: str, key: str) -> dict[str, Any] | None:
        value = self._records.get((kind, key))
        return copy.deepcopy(value) if value is not None else None

    async def list_records(self, kind: str, prefix: str = "") -> dict[str, dict[str, Any]]:
        return {
            k: copy.deepcopy(v)
            for (kd, k), v in sorted(self._records.items())
            if kd == kind and k.startswith(prefix)
        }

    async def create_record(self, kind: str, key: str, value: dict[str, Any]) -> bool:
        if (kind, key) in self._records:
            return False
        self._records[(kind, key)] = copy.deepcopy(value)
        return True

    async def delete_record(self, kind: str, key: str) -> bool:
        return self._records.pop((kind, key), None) is not None

    async def drop_event(self, event_id: str) -> None:
        if self._definitions.pop(event_id, None) is not None:
            self._definitions_version += 1
        for kind in EVENT_STREAMS:
            self._logs.pop(f"{kind}:{event_id}", None)
            self._snapshots.pop(f"{kind}:{event_id}", None)
        for doc in [d for d in self._notes if d.startswith(f"{event_id}/")]:
            del self._notes[doc]
        for kind, key in list(self._records):
            if key == event_id or key.startswith((f"{event_id}:", f"{event_id}/")):
                del self._records[(kind, key)]
