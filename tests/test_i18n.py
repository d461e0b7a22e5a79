"""Every interface string exists in French and in English, and every key used exists."""

from __future__ import annotations

import re
from pathlib import Path

from live.i18n import STRINGS

ROOT = Path(__file__).resolve().parent.parent


def test_french_and_english_have_the_same_keys() -> None:
    assert set(STRINGS["fr"]) - set(STRINGS["en"]) == set()
    assert set(STRINGS["en"]) - set(STRINGS["fr"]) == set()


def test_every_key_a_template_asks_for_exists() -> None:
    used: set[str] = set()
    for template in (ROOT / "templates").glob("*.html"):
        used |= set(re.findall(r"""\bt\(\s*["']([a-z_.0-9]+)["']\s*\)""", template.read_text()))
    dynamic = {k for k in used if k.endswith(".")}
    assert sorted(used - dynamic - set(STRINGS["fr"])) == []


def test_every_refusal_a_person_can_get_has_a_sentence_in_both_languages() -> None:
    from live.agenda import protocol as messages
    from live.agenda.commands import COMMANDS

    source = (ROOT / "live" / "agenda" / "commands.py").read_text()
    codes = set(re.findall(r"""Rejected\(\s*["']([a-z_]+)["']""", source))
    codes |= {
        getattr(messages, name)
        for name in dir(messages)
        if name.isupper() and isinstance(getattr(messages, name), str)
    }
    codes.add("unknown_event")
    assert "at_last_step" in codes and "bad_json" in codes  # the scan found them
    for lang in ("fr", "en"):
        assert sorted(c for c in codes if f"error.{c}" not in STRINGS[lang]) == []
        assert sorted(n for n in COMMANDS if f"cmd.{n}" not in STRINGS[lang]) == []


def test_every_string_a_page_script_asks_for_exists() -> None:
    used: set[str] = set()
    for script in (ROOT / "static" / "js").glob("*.js"):
        if script.name.startswith("notes-"):
            continue  # the notes pages carry their own table (web/notes_pages.py)
        text = script.read_text()
        used |= set(re.findall(r"""\bS\[\s*["']([a-z_.0-9]+)["']\s*\]""", text))
        used |= set(re.findall(r"""\bS\.([a-z_0-9]+)\b""", text))
    assert sorted(used - set(STRINGS["fr"])) == []
