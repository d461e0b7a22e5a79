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
