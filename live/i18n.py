"""Interface messages: gettext catalogs, French first, English available.

The catalogs are `live/locale/<lang>/LC_MESSAGES/relais.po`, one per language, edited as
any gettext catalog (Poedit, Weblate, `pybabel`). A message is named by a stable key
("reg.title", "error.at_last_step", "org.n_placed") rather than by its French text: the same
key names it in templates (`_("reg.title")`), in page scripts (`S["reg.title"]`), in refusal
codes sent over the websockets (`error.{code}`) and in tests, and a change of wording in
either language changes no code. Plurals are gettext plurals (`ngettext`, "1 personne",
"2 personnes"), never "(s)". A missing message falls back to French, then to its key.

The `.po` files are compiled in memory at first use (Babel), so there is no build step
and no compiled file to keep in step with its source.
"""

from __future__ import annotations

import functools
import io
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from live.assets import asset_dir

LANGS = ("fr", "en")
DOMAIN = "relais"
LOCALE = Path(__file__).resolve().parent / "locale"


@functools.cache
def _po(lang: str, domain: str = DOMAIN) -> Catalog:
    """The `.po` file of `lang`, read once."""
    with (LOCALE / lang / "LC_MESSAGES" / f"{domain}.po").open("rb") as f:
        return read_po(f, locale=lang, domain=domain)


@functools.cache
def library(domain: str, lang: str) -> Translations:
    """A library's own gettext domain in `lang` ("argparse": the command line's usage and
    errors), its message ids the library's English; English is the ids themselves."""
    if lang not in LANGS or not (LOCALE / lang / "LC_MESSAGES" / f"{domain}.po").exists():
        return Translations()  # gettext's identity: the library's own words
    compiled = io.BytesIO()
    write_mo(compiled, _po(lang, domain))
    compiled.seek(0)
    return Translations(compiled, domain=domain)


@functools.cache
def catalog(lang: str) -> Translations:
    """The compiled catalog of `lang` (French behind it for anything it lacks)."""
    compiled = io.BytesIO()
    write_mo(compiled, _po(lang))
    compiled.seek(0)
    translations = Translations(compiled, domain=DOMAIN)
    if lang != "fr":
        translations.add_fallback(catalog("fr"))
    return translations


def translator(lang: str) -> Callable[[str], str]:
    """`_(key)`: the message in `lang`, else in French, else the key itself."""
    return catalog(lang if lang in LANGS else "fr").gettext


def plural(lang: str) -> Callable[[str, int], str]:
    """`ngettext(key, n)`: the form of the message for `n` ("1 personne", "2 personnes"),
    with `{n}` filled in."""
    translations = catalog(lang if lang in LANGS else "fr")

    def ngettext(key: str, n: int, **params: Any) -> str:
        return translations.ngettext(key, key, n).format(n=n, **params)

    return ngettext


@functools.cache
def plural_keys() -> frozenset[str]:
    """The messages that have a form per number (gettext plurals)."""
    return frozenset(m.id[0] for m in _po("fr") if m.pluralizable)


@functools.cache
def messages(lang: str) -> dict[str, str]:
    """Every singular message of `lang`, by key (French for what it lacks)."""
    po = _po(lang)
    own = {m.id: m.string for m in po if isinstance(m.id, str) and isinstance(m.string, str)}
    own = {k: v for k, v in own.items() if k and v}
    return own if lang == "fr" else {**messages("fr"), **own}


def refusal(lang: str, code: str, fallback: str, params: dict[str, Any] | None = None) -> str:
    """The sentence a person reads for a refusal `code`, in their language.

    Codes are stable across the wire; the English `fallback` is only used for a code that
    has no sentence yet (a test keeps that from happening)."""
    table = messages(lang if lang in LANGS else "fr")
    template = table.get(f"error.{code}") or table.get(code)
    if template is None:
        return fallback
    try:
        return template.format(**(params or {}))
    except (KeyError, IndexError, ValueError):
        return template


# -- what each page script needs ---------------------------------------------------------

JS = asset_dir("static") / "js"
_USES = re.compile(r"""\bS\[\s*["']([a-z_.0-9]+)["']\s*\]|\bS\.([a-z_0-9]+)\b""")
_FAMILIES = re.compile(r"""\bS\[\s*`([a-z_.0-9]+)\$\{""")  # S[`kind.${step.kind}`]: every kind.*
_IMPORTS = re.compile(r"""from\s+["']\./([\w-]+)\.js["']""")


@functools.cache
def script_keys(script: str, js: Path = JS) -> frozenset[str]:
    """The message keys a page script (and the modules it imports) reads from `S`."""
    path = js / f"{script}.js"
    if not path.exists():
        return frozenset()
    text = path.read_text(encoding="utf-8")
    keys = {a or b for a, b in _USES.findall(text)}
    keys |= {f"{prefix}*" for prefix in _FAMILIES.findall(text)}
    for module in _IMPORTS.findall(text):
        if module != script:
            keys |= script_keys(module, js)
    return frozenset(keys)


@functools.cache
def script_strings(lang: str, scripts: tuple[str, ...], js: Path = JS) -> dict[str, str]:
    """Only the messages these page scripts use: a page does not carry the whole catalog.
    Computed once per language and set of scripts (they only change with the code)."""
    table = messages(lang if lang in LANGS else "fr")
    keys: set[str] = set().union(*(script_keys(s, js) for s in scripts)) if scripts else set()
    families = tuple(k[:-1] for k in keys if k.endswith("*"))
    keys = {k for k in keys if not k.endswith("*")} | {k for k in table if k.startswith(families)}
    return {k: table.get(k, k) for k in sorted(keys)}
