"""Every message exists in French and in English, and every message the code asks for exists."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.pofile import read_po

from live.i18n import LANGS, messages, plural, plural_keys, script_keys, script_strings

ROOT = Path(__file__).resolve().parent.parent


def catalog_ids(lang: str) -> set[str]:
    with (ROOT / "live" / "locale" / lang / "LC_MESSAGES" / "relais.po").open("rb") as f:
        po = read_po(f, domain="relais")
    ids = set()
    for m in po:
        if not m.id:
            continue
        forms = m.string if isinstance(m.string, tuple | list) else (m.string,)
        assert all(forms), f"{lang}: {m.id} has an empty translation"
        ids.add(m.id[0] if isinstance(m.id, tuple | list) else m.id)
    return ids


def test_french_and_english_catalogs_have_every_message() -> None:
    fr, en = catalog_ids("fr"), catalog_ids("en")
    assert fr - en == set() and en - fr == set()


def used_in_code() -> set[str]:
    """Every literal key given to `_()`, `t()`, `translator(...)()`, `plural(...)()`, `say()`,
    `Refused(...)` and the like, in templates and Python."""
    used: set[str] = set()
    key = r"""["']([a-z_]+\.[a-z_.0-9]+|[a-z_]+)["']"""
    call = re.compile(r"(?:\b_|\bt|\bsay|ngettext|\)\))\(\s*" + key)
    for template in (ROOT / "templates").glob("*.html"):
        used |= set(call.findall(template.read_text()))
    for module in (ROOT / "live").rglob("*.py"):
        text = module.read_text()
        used |= set(call.findall(text))
        used |= set(re.findall(r"""Refused\(\s*\d+,\s*["']([a-z_.]+)["']""", text))
    return used


def test_every_message_the_code_asks_for_exists() -> None:
    known = catalog_ids("fr")
    used = used_in_code()
    assert len(used) > 150, "the scan found the keys"
    dynamic = {k for k in used if k.endswith(".")}  # _("org.status." ~ status)
    assert sorted(used - dynamic - known) == []


def test_every_refusal_a_person_can_get_has_a_sentence_in_both_languages() -> None:
    from live import eventlog
    from live.agenda import protocol
    from live.agenda.commands import COMMANDS

    logs = ("agenda", "participation")  # the refusals of both event logs
    source = "".join(p.read_text() for d in logs for p in (ROOT / "live" / d).glob("*.py"))
    codes = set(re.findall(r"""Rejected\(\s*["']([a-z_.]+)["']""", source))
    codes |= {
        getattr(module, name)
        for module in (protocol, eventlog)
        for name in dir(module)
        if name.isupper() and re.fullmatch(r"[a-z_]+", str(getattr(module, name)))
    }  # their error codes, not what they import (EVERYONE = "*")
    web = "".join(p.read_text() for p in (ROOT / "live" / "web").glob("*.py"))
    codes |= set(re.findall(r"""(?:Relais|Link)Error\(\s*["']([a-z_]+)["']""", web))
    codes.add("unknown_event")
    assert "bad_format" in codes  # refusals of the HTTP handlers (`web.common.refused`)
    assert "at_last_step" in codes and "bad_json" in codes  # the scan found them
    for lang in LANGS:
        table = messages(lang)
        said = {c for c in codes if f"error.{c}" in table or c in table}  # as `refusal` reads
        assert sorted(codes - said) == []
        assert sorted(n for n in COMMANDS if f"cmd.{n}" not in table) == []


def test_every_string_a_page_script_asks_for_exists_and_only_those_are_sent() -> None:
    scripts = [p.stem for p in (ROOT / "static" / "js").glob("*.js")]
    known = catalog_ids("fr")
    for script in scripts:
        keys = {k for k in script_keys(script) if not k.endswith("*")}
        assert sorted(keys - known) == [], script
    screen = script_strings("fr", ("screen",))
    assert "kind.plenary" in screen and "speaks_next" in screen
    assert len(screen) < 40 and "org.run" not in screen  # not the whole catalog


def test_plurals_say_one_and_several_without_parentheses() -> None:
    assert "org.n_placed" in plural_keys()
    fr, en = plural("fr"), plural("en")
    assert fr("org.n_placed", 1) == "1 personne placée"
    assert fr("org.n_placed", 3) == "3 personnes placées"
    assert en("org.n_placed", 1) == "1 person placed" and en("org.n_placed", 0) == "0 people placed"
    for lang in LANGS:
        assert not [k for k, v in messages(lang).items() if "(s)" in v], "no '(s)' plurals"
