"""The studio says every problem in the page's language: French first, English on English
pages. Each problem the validator can find carries a code, and each code has its sentence
in both catalogs, quoting the values (ids, limits) and naming the other fields it refers
to; `relais import` keeps printing the English text at the file's lines."""

from __future__ import annotations

import ast
import html
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from live.event_checks import Problem
from live.event_file import PYDANTIC_CODES, YAML_CODES, parse_event
from live.i18n import LANGS, catalog, messages, plural_keys, translator
from live.studio import forms, validate
from tests.support.servers import LiveServer
from tests.support.studio_forms import form_fields, notes_at

ROOT = Path(__file__).resolve().parents[2]
ARIEGE = "ariege-2020"
PLACEHOLDER = re.compile(r"\{(\w*)\}")


# -- every code has its sentence -------------------------------------------------------------


def emitted_codes() -> set[str]:
    """Every code a problem can carry, read from the model and its checks: the codes given
    to `Problem` (4th argument) and `Invalid` (1st), the literals a `code` name is given,
    those `_code_of` returns for pydantic's errors, and pydantic's table."""
    codes = set(PYDANTIC_CODES.values()) | {code for _, code in YAML_CODES} | {"yaml_syntax"}
    for module in ("event_checks.py", "model.py", "event_file.py"):
        tree = ast.parse((ROOT / "live" / module).read_text())
        for node in ast.walk(tree):
            given: ast.expr | None = None
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                if node.func.id == "Problem":
                    assert len(node.args) >= 4, f"{module}:{node.lineno}: a Problem without code"
                    given = node.args[3]
                elif node.func.id == "Invalid":
                    given = node.args[0]
                elif node.func.id == "_Refused":  # a file refused while read: (mark, code…)
                    given = node.args[1]
                elif node.func.id == "_file_problem":  # (source, line, code…)
                    given = node.args[2]
            elif isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "code" for t in node.targets
            ):
                given = node.value
            elif isinstance(node, ast.Return) and isinstance(node.value, ast.Tuple):
                first = node.value.elts[0]  # `_code_of`: return "empty", {}
                given = first if isinstance(first, ast.Constant) else None
            if given is not None:
                codes |= {
                    n.value
                    for n in ast.walk(given)
                    if isinstance(n, ast.Constant) and isinstance(n.value, str)
                }
    return codes


def sentence(lang: str, code: str) -> str:
    key = f"studio.problem.{code}"
    if key in plural_keys():
        return str(catalog(lang).ngettext(key, key, 2))
    return messages(lang).get(key, "")


def test_every_code_the_validator_can_give_has_a_sentence_in_french_and_in_english() -> None:
    codes = emitted_codes()
    assert {"unknown_site", "duplicate_id", "overlap_allowed", "unknown_timezone"} <= codes
    assert {"missing", "too_long", "slug", "empty", "invalid"} <= codes  # the scan found them
    assert {"too_deep", "alias_repeats", "not_a_mapping", "yaml_tab", "no_room"} <= codes
    assert len(codes) > 40
    for code in sorted(codes):
        fr, en = sentence("fr", code), sentence("en", code)
        assert fr and en, code
        assert fr != en, code  # translated, not copied
        # The same values in both languages (a misspelt one would fall back to "invalid").
        assert set(PLACEHOLDER.findall(fr)) == set(PLACEHOLDER.findall(en)), code
        if "{items}" in fr:  # one part per place referred to
            item = f"{code}.item"
            assert set(PLACEHOLDER.findall(sentence("fr", item))) == set(
                PLACEHOLDER.findall(sentence("en", item))
            )
            assert "{ref}" in sentence("fr", item), code


def test_a_code_without_a_sentence_is_an_invalid_value_never_english() -> None:
    problem = Problem(("title",), "Input should be something new", (), "something_new")
    for lang, said in (("fr", "Valeur invalide."), ("en", "Invalid value.")):
        assert validate.reason(problem, lang, forms.labeller(translator(lang))) == said


# -- the model's own reasons, and pydantic's, in French -------------------------------------


MINIMAL: dict[str, Any] = {
    "id": "foix-2026",
    "title": "Demi-journée",
    "date": "2026-10-07",
    "sites": [{"id": "foix", "name": "Foix"}],
    "agenda": [
        {"id": "accueil", "kind": "welcome", "title": "Accueil", "start": "09:00", "duration": 30}
    ],
}


def changed(change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    data: dict[str, Any] = {
        **MINIMAL,
        "sites": [dict(MINIMAL["sites"][0])],
        "agenda": [dict(MINIMAL["agenda"][0])],
    }
    change(data)
    return data


REASONS: dict[str, tuple[Callable[[dict[str, Any]], None], tuple[Any, ...], str]] = {
    "an unknown time zone": (
        lambda d: d.update(timezone="Europe/Foix"),
        ("timezone",),
        "Fuseau horaire inconnu : « Europe/Foix » (par exemple Europe/Paris).",
    ),
    "a visio room without https": (
        lambda d: d["agenda"][0].update(visio_url="http://visio.example.org/salle"),
        ("agenda", 0, "visio_url"),
        "Une adresse en https:// est attendue (https://visio.example.org/salle).",
    ),
    "timers in the wrong order": (
        lambda d: d.update(timers={"warning": 30, "danger": 60}),
        ("timers",),
        "Le seuil « danger » des minuteurs ne doit pas dépasser leur seuil « warning ».",
    ),
    "an id with capitals and spaces": (
        lambda d: d["sites"][0].update(id="Lycée Foix"),
        ("sites", 0, "id"),
        "« Lycée Foix » n'est pas un identifiant valide : lettres minuscules sans accent, "
        "chiffres, - et _, sans espace (64 au plus).",
    ),
    "an unknown speaking order": (
        lambda d: d["agenda"][0].update(queue="sites"),
        ("agenda", 0, "queue"),
        "« sites » n'est pas une valeur possible : « workshops » ou « reports ».",
    ),
    "a field the model does not know": (
        lambda d: d["sites"][0].update(adress="1 rue"),
        ("sites", 0, "adress"),
        "Champ inconnu : « adress ».",
    ),
    "a time that is none": (
        lambda d: d["agenda"][0].update(start="25:00"),
        ("agenda", 0, "start"),
        "Une heure est attendue (HH:MM).",
    ),
    "no step at all": (
        lambda d: d.update(agenda=[]),
        ("agenda",),
        "La liste est vide : ajoutez-en au moins un.",
    ),
}


@pytest.mark.parametrize("fault", list(REASONS))
def test_the_model_s_reasons_are_french_sentences_quoting_the_values(fault: str) -> None:
    change, loc, expected = REASONS[fault]
    event, problems = validate.check(changed(change))
    assert event is None
    refer = forms.labeller(translator("fr"))
    assert [(p.loc, validate.reason(p, "fr", refer)) for p in problems] == [(loc, expected)]


def test_the_import_keeps_its_english_lines() -> None:
    text = "id: x\ntitle: T\ndate: 2026-10-07\ntimezone: Europe/Foix\n" + (
        "sites: [{id: foix, name: Foix}]\n"
        "agenda: [{id: a, kind: welcome, title: A, start: '09:00', duration: 5}]\n"
    )
    with pytest.raises(ValueError) as caught:
        parse_event(text, "event.yaml")
    assert str(caught.value) == "event.yaml:4: timezone: unknown timezone 'Europe/Foix'"


# -- on the studio's page ----------------------------------------------------------------------


@pytest.fixture
def http(live_server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_server.url, timeout=10) as client:
        yield client


def post(
    server: LiveServer, http: httpx.Client, fields: dict[str, str], lang: str
) -> httpx.Response:
    params = {"k": server.link(ARIEGE, "organizer"), "lang": lang}
    return http.post(f"/e/{ARIEGE}/studio", params=params, data={**fields, "op": "save"})


def studio_fields(server: LiveServer, http: httpx.Client) -> dict[str, str]:
    r = http.get(f"/e/{ARIEGE}/studio", params={"k": server.link(ARIEGE, "organizer")})
    return form_fields(r.text)


def summary(page: str) -> list[str]:
    block = re.search(r'id="studio-problems">(.*?)</div>', page, re.S)
    assert block, "no list of problems atop the form"
    items = re.findall(r"<li>(.*?)</li>", block.group(1), re.S)
    return [html.unescape(re.sub(r"<[^>]+>", "", i)).strip() for i in items]


FIELD_FAULTS = {  # the fields' own problems: the model stops at these
    "title": ("", {"fr": "« Titre » est obligatoire.", "en": "“Title” is required."}),
    "sites.0.name": (
        "x" * 121,
        {"fr": "Trop long : 120 caractères au plus.", "en": "Too long: 120 characters at most."},
    ),
    "agenda.1.duration": (
        "une heure",
        {"fr": "Un nombre entier est attendu.", "en": "A whole number is expected."},
    ),
}
CROSS_FAULTS = {  # then, those across fields
    "workshops.0.site": (
        "pamiers",
        {
            "fr": "Aucun site n'a l'identifiant « pamiers ».",
            "en": "No site has the identifier “pamiers”.",
        },
    ),
    "agenda.2.id": (
        "ateliers",
        {
            "fr": "L'identifiant « ateliers » est déjà utilisé (Étape 2 › Identifiant).",
            "en": "The identifier “ateliers” is already used (Step 2 › Identifier).",
        },
    ),
}


@pytest.mark.parametrize("lang", LANGS)
def test_the_studio_shows_each_reason_next_to_its_field_in_the_page_s_language(
    live_server: LiveServer, http: httpx.Client, lang: str
) -> None:
    fields = studio_fields(live_server, http)
    for faults in (FIELD_FAULTS, CROSS_FAULTS):
        posted = {**fields, **{name: value for name, (value, _) in faults.items()}}
        r = post(live_server, http, posted, lang)
        assert r.status_code == 422
        for name, (_, said) in faults.items():
            assert notes_at(r.text, name) == [said[lang]], name
        assert sorted(s.split(" — ", 1)[1] for s in summary(r.text)) == sorted(
            said[lang] for _, said in faults.values()
        )
        # Nothing marked as said in another language than the page's.
        assert not re.search(r"<(?:p|span|li)\b[^>]*\blang=", r.text)


def test_a_warning_is_said_in_french_too(live_server: LiveServer, http: httpx.Client) -> None:
    fields = studio_fields(live_server, http)
    r = post(live_server, http, {**fields, "sites.0.capacity": "20"}, "fr")
    assert r.status_code == 303  # a warning does not keep the event from being saved
    page = http.get(r.headers["location"]).text
    note = re.search(r'id="n-workshops\.0\.capacity" data-note>(.*?)</div>', page, re.S)
    assert note
    text = html.unescape(re.sub(r"<[^>]+>", "", note.group(1))).strip()
    assert text == (
        "Attention : 30 places, plus que n'en compte le site « foix » : 20 "
        "(Site 1 › Capacité (places))."
    )
