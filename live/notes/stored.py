"""What is read of a workshop's notes without loading its room: its text and the names it
credits, straight from the store (the synthesis of a document nobody has open, the CLI
export)."""

from __future__ import annotations

import logging

from pycrdt import Doc, Text

from live.backends.base import Backend
from live.notes.credits import RAPPORTEURS
from live.notes.room import TEXT

log = logging.getLogger("relais.notes")


async def stored_text(backend: Backend, name: str) -> str:
    """A document's text read straight from the backend (the CLI export uses this)."""
    doc: Doc[Text] = Doc()
    text = doc.get(TEXT, type=Text)
    for row in await backend.notes_load(name):
        try:
            doc.apply_update(row)
        except Exception:
            log.warning("notes %s: a stored update does not apply; skipped", name)
    return str(text)


async def stored_rapporteurs(backend: Backend, name: str) -> list[str]:
    record = await backend.get_record(RAPPORTEURS, name)
    return list(record.get("names", [])) if record else []
