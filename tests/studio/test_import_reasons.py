"""Issue 20, item 7: an event file's problems read in the reader's language. `relais import`
says them in the terminal's language, the studio's imports in the page's, the same lines
(`file:line: field: reason`) from the same sentences; the file's own faults (YAML syntax,
bounds) included: no English line under a French heading. The `relais` command's labels,
help and argparse's own errors follow the terminal's language too."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from live.cli import main
from live.event_file import DefinitionError, parse_event
from live.studio.validate import file_lines
from tests.support.servers import LiveServer

DEMO = Path(__file__).resolve().parents[2] / "live" / "demo"
ARIEGE = "ariege-2020"
TEXT = (DEMO / f"{ARIEGE}.yaml").read_text(encoding="utf-8")

# Broken files, each as an organizer might write one, by what is wrong with it.
BROKEN = {
    "a tab in the indentation": TEXT.replace("\ntitle:", "\n\ttitle:", 1),
    "a colon inside a value": TEXT.replace("title: ", "title: Atelier : numérique ", 1),
    "an unclosed quote": TEXT + 'extra: "sans fin\n',
    "a misaligned key": TEXT.replace("\nagenda:", "\n agenda:", 1),
    "an undefined alias": TEXT + "extra: *nulle_part\n",
    "two documents": TEXT + "---\nid: autre\n",
    "an unclosed list": TEXT + "extra: [a, b\n",
    "a reserved character": TEXT + "extra: @moi\n",
    "a date that does not exist": TEXT.replace("date: 2020-", "date: 2020-13-45 #", 1),
    "nested too deep": TEXT + "extra: " + "[" * 50 + "]" * 50 + "\n",
    "a list, not an event": "- a\n- b\n",
    "a duplicate theme id": TEXT.replace(
        "agenda:", "  - id: acces\n    title: Doublon\nagenda:", 1
    ),
    "a step too short": TEXT.replace("duration: 45", "duration: -5", 1),
}
# Words of PyYAML's, pydantic's and the file reader's English a French line must not show.
ENGLISH = re.compile(
    r"\b(?:invalid|while|found|expected|should|must|nested|cannot|mapping|line|alias(?:es)?"
    r" repeat|characters|values)\b"
)


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("RELAIS_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("RELAIS_SECRET", "s")
    return tmp_path


@pytest.fixture
def http(live_server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_server.url, timeout=30) as client:
        yield client


def relais_import(
    text: str,
    lang: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> list[str]:
    """What `relais import` prints on stderr for this file (named event.yaml) in a terminal
    of this language."""
    monkeypatch.setenv("LANG", {"fr": "fr_FR.UTF-8", "en": "en_GB.UTF-8"}[lang])
    monkeypatch.chdir(tmp_path)
    Path("event.yaml").write_text(text, encoding="utf-8")
    capsys.readouterr()
    assert main(["import", "event.yaml"]) == 2
    return capsys.readouterr().err.strip().splitlines()


def shown_lines(page: str) -> list[str]:
    found = re.search(r'<pre class="lines">(.*?)</pre>', page, re.S)
    assert found is not None, "no refused lines in the page"
    return html.unescape(found.group(1)).strip().splitlines()


@pytest.mark.parametrize("fault", list(BROKEN))
def test_every_problem_of_a_refused_file_is_said_in_french_with_its_line(fault: str) -> None:
    with pytest.raises(DefinitionError) as exc:
        parse_event(BROKEN[fault], "event.yaml")
    french, english = file_lines(exc.value.found, "fr"), file_lines(exc.value.found, "en")
    assert french and len(french) == len(english) == len(exc.value.problems)
    for fr, en, developer in zip(french, english, exc.value.problems, strict=True):
        where = developer.split(": ")[0]  # file:line, the same in every language
        assert fr.startswith(where + ": ") and en.startswith(where + ": ")
        assert ENGLISH.search(fr.removeprefix(where)) is None, fr
        assert fr != en
        assert "Valeur invalide" not in fr  # a sentence that says what to change


def test_relais_import_speaks_the_terminal_s_language_naming_other_places_by_their_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = BROKEN["a duplicate theme id"]
    line = 1 + TEXT[: TEXT.index("agenda:")].count("\n")
    first = 1 + TEXT[: TEXT.index("- id: acces")].count("\n")
    (fr,) = relais_import(bad, "fr", tmp_path, monkeypatch, capsys)
    said = f"L'identifiant « acces » est déjà utilisé (ligne {first})."
    assert fr == f"event.yaml:{line}: themes[5].id: {said}"
    (en,) = relais_import(bad, "en", tmp_path, monkeypatch, capsys)
    said = f"The identifier “acces” is already used (line {first})."
    assert en == f"event.yaml:{line}: themes[5].id: {said}"


def test_a_yaml_syntax_error_says_what_to_change_in_french(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (line,) = relais_import(BROKEN["a tab in the indentation"], "fr", tmp_path, monkeypatch, capsys)
    assert re.fullmatch(r"event\.yaml:\d+: Une tabulation dans l'indentation .*espaces\.", line)
    (line,) = relais_import(BROKEN["a colon inside a value"], "fr", tmp_path, monkeypatch, capsys)
    assert "mettez la valeur entre guillemets" in line


def test_an_import_warning_is_said_in_the_terminal_s_language(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    no_room = TEXT.replace("room: Amphi A, ", "", 1)
    assert no_room != TEXT
    monkeypatch.chdir(tmp_path)
    Path("event.yaml").write_text(no_room, encoding="utf-8")
    monkeypatch.setenv("LANG", "fr_FR.UTF-8")
    assert main(["import", "event.yaml"]) == 0
    (warning,) = capsys.readouterr().err.strip().splitlines()
    assert re.fullmatch(
        r"attention : event\.yaml:\d+: workshops\[\d\]\.room: Aucune salle.*", warning
    )
    monkeypatch.setenv("LANG", "en_GB.UTF-8")
    assert main(["import", "event.yaml"]) == 0
    (warning,) = capsys.readouterr().err.strip().splitlines()
    assert re.fullmatch(r"warning: event\.yaml:\d+: workshops\[\d\]\.room: No room.*", warning)


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_the_studio_s_imports_show_the_lines_relais_import_prints_in_the_page_s_language(
    live_server: LiveServer,
    http: httpx.Client,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    lang: str,
) -> None:
    bad = BROKEN["a step too short"] + "extra: 1\n"  # two problems, field and unknown key
    printed = relais_import(bad, lang, tmp_path, monkeypatch, capsys)
    assert len(printed) == 2
    files = {"file": ("event.yaml", bad.encode(), "application/yaml")}
    token = live_server.link(ARIEGE, "organizer")
    r = http.post(f"/e/{ARIEGE}/studio/import", params={"k": token, "lang": lang}, files=files)
    assert r.status_code == 422 and shown_lines(r.text) == printed
    heading = {"fr": "Le fichier est refusé", "en": "The file is refused"}[lang]
    assert f'<html lang="{lang}"' in r.text and heading in html.unescape(r.text)
    admin = live_server.signer.sign_admin()
    r = http.post("/studio/import", params={"k": admin, "lang": lang}, files=files)
    assert r.status_code == 422 and shown_lines(r.text) == printed


def test_the_links_are_labelled_in_the_terminal_s_language(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    labels = {}
    for lang, env in (("fr", "fr_FR.UTF-8"), ("en", "en_GB.UTF-8")):
        monkeypatch.setenv("LANG", env)
        assert main(["--base-url", "https://relais.example", "links", "poitiers-2020"]) == 0
        out = capsys.readouterr().out.splitlines()
        labels[lang] = [line[: line.index("https://")].rstrip() for line in out]
    assert labels["fr"][:4] == ["page publique", "console", "organisation", "écran poitiers"]
    assert labels["en"][:4] == ["public page", "console", "organizer", "screen poitiers"]
    assert "hôte niort" in labels["fr"] and "host niort" in labels["en"]
    assert "intervenant (Nathalie Morin)" in labels["fr"]
    assert "speaker (Nathalie Morin)" in labels["en"]


def test_the_help_and_argparse_s_own_errors_follow_the_terminal_s_language(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LANG", "fr_FR.UTF-8")
    with pytest.raises(SystemExit):
        main(["links", "--help"])
    out = capsys.readouterr().out
    assert out.startswith("utilisation : relais links") and "afficher cette aide et quitter" in out
    assert "ÉVÉNEMENT" in out and "validité en jours" in out
    with pytest.raises(SystemExit) as exit_:
        main(["export", "ariege-2020", "--format", "doc"])
    assert exit_.value.code == 2
    assert "relais export : erreur : argument --format : choix impossible : 'doc'" in (
        capsys.readouterr().err
    )
    with pytest.raises(SystemExit):
        main(["links"])
    assert "arguments obligatoires manquants : ÉVÉNEMENT" in capsys.readouterr().err

    monkeypatch.setenv("LANG", "en_GB.UTF-8")
    with pytest.raises(SystemExit):
        main(["links"])
    assert "relais links: error: the following arguments are required: EVENT" in (
        capsys.readouterr().err
    )


def test_reading_the_command_line_in_french_leaves_argparse_english_for_the_rest(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import argparse

    monkeypatch.setenv("LANG", "fr_FR.UTF-8")
    with pytest.raises(SystemExit):
        main(["--help"])
    capsys.readouterr()
    assert "usage: " in argparse.ArgumentParser(prog="other").format_usage()
