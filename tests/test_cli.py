"""The `relais` command: import an event file, print its links, export the synthesis."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from live.cli import main

DEMO = Path(__file__).resolve().parent.parent / "live" / "demo"


def test_the_command_speaks_english_in_an_english_terminal(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LANG", "en_GB.UTF-8")
    assert main(["import", str(DEMO / "poitiers-2020.yaml")]) == 0
    out = capsys.readouterr().out
    assert "imported poitiers-2020" in out and "9 steps" in out


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("RELAIS_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("RELAIS_SECRET", "s")
    return tmp_path


def test_import_loads_a_valid_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["import", str(DEMO / "poitiers-2020.yaml")]) == 0
    assert "poitiers-2020 importé" in capsys.readouterr().out  # the terminal's language


def test_import_reports_each_problem_with_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text((DEMO / "ariege-2020.yaml").read_text().replace("duration: 45", "duration: -5"))
    assert main(["import", str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:" in err and "agenda[0].duration" in err


def test_links_prints_every_role_and_place(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--base-url", "https://relais.example", "links", "poitiers-2020"]) == 0
    out = capsys.readouterr().out
    assert "https://relais.example/e/poitiers-2020/console?k=" in out
    for site in ("poitiers", "niort", "angouleme", "saint-jean"):
        assert f"écran {site}" in out and f"participants {site}" in out
    assert out.count("/notes?k=") == 5  # one rapporteur link per workshop


def test_links_of_an_unknown_event_fail(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["links", "nope"]) == 2
    assert "Événement inconnu" in capsys.readouterr().err


def test_export_writes_the_synthesis_in_each_format(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["import", str(DEMO / "ariege-2020.yaml")]) == 0
    for fmt, magic in (("md", b"# "), ("html", b"<!doctype html"), ("pdf", b"%PDF")):
        out = tmp_path / f"synthese.{fmt}"
        assert main(["export", "ariege-2020", "--format", fmt, "-o", str(out)]) == 0
        assert out.read_bytes().lstrip().lower().startswith(magic.lower())
    assert "Enseigner et apprendre avec le numérique" in (tmp_path / "synthese.md").read_text()


def test_export_of_an_unknown_event_fails(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["import", str(DEMO / "ariege-2020.yaml")]) == 0
    assert main(["export", "nope"]) == 2
    assert "Événement inconnu" in capsys.readouterr().err


def test_links_from_another_directory_create_nothing_and_say_how_to_point_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.delenv("RELAIS_DATA")
    monkeypatch.delenv("RELAIS_SECRET")
    assert main(["links", "poitiers-2020"]) == 2
    assert list(elsewhere.iterdir()) == []  # no data directory, no secret
    err = capsys.readouterr().err
    assert str(elsewhere / "data") in err
    assert "--data" in err and "RELAIS_DATA" in err


def test_links_use_the_secret_of_the_servers_data_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from live.config import Settings
    from live.links.signing import Signer

    monkeypatch.delenv("RELAIS_SECRET")
    server = Settings.from_env()  # the server's start creates the secret
    monkeypatch.chdir(tmp_path)
    assert main(["--data", str(server.data_dir), "links", "ariege-2020"]) == 0
    console = next(line for line in capsys.readouterr().out.splitlines() if "console" in line)
    token = console.split("k=")[1]
    assert Signer(server.secret).verify(token, "ariege-2020").role == "facilitator"


def test_export_from_another_directory_creates_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RELAIS_DATA")
    assert main(["export", "ariege-2020"]) == 2
    assert list(tmp_path.iterdir()) == []
    assert "RELAIS_DATA" in capsys.readouterr().err


def test_the_help_says_where_the_data_directory_is_found(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "--data, sinon $RELAIS_DATA, sinon ./data" in out


def test_links_columns_line_up_even_past_32_characters(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["links", "poitiers-2020"]) == 0
    lines = capsys.readouterr().out.splitlines()
    labels = [line[: line.index("http")].rstrip() for line in lines]
    assert "rapporteur responsable-saint-jean" in labels  # 33 characters: the reported case
    assert len({line.index("http") for line in lines}) == 1
    assert all(line[line.index("http") - 1] == " " for line in lines), "label and link apart"


def test_links_prints_a_speaker_link_per_speaker_and_a_host_link_per_site(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["--base-url", "https://relais.example", "links", "poitiers-2020"]) == 0
    lines = capsys.readouterr().out.splitlines()
    speakers = [line for line in lines if "/e/poitiers-2020/speak?k=" in line]
    assert [line.split("  ")[0] for line in speakers] == [
        "intervenant (Madame la Rectrice)",
        "intervenant (Nathalie Morin)",
        "intervenant (Madame la Rectrice de la région académique)",
    ]
    for site in ("poitiers", "niort", "angouleme", "saint-jean"):
        (host,) = [line for line in lines if line.startswith(f"hôte {site} ")]
        assert "https://relais.example/e/poitiers-2020/host?k=" in host


def test_links_take_a_base_url_after_the_command(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("RELAIS_BASE_URL", raising=False)
    assert main(["links", "ariege-2020", "--base-url", "https://relais.example/"]) == 0
    captured = capsys.readouterr()
    assert "https://relais.example/e/ariege-2020/console?k=" in captured.out
    assert "localhost" not in captured.out + captured.err


def test_links_without_an_address_warn_that_they_point_to_the_default(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("RELAIS_BASE_URL", raising=False)
    assert main(["links", "ariege-2020"]) == 0
    err = capsys.readouterr().err
    assert "http://localhost:8000" in err and "--base-url" in err and "RELAIS_BASE_URL" in err


def test_links_point_to_the_port_the_server_was_started_on(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.support.servers import free_port

    monkeypatch.delenv("RELAIS_BASE_URL", raising=False)
    port = free_port()
    data = data_dir / "data"
    server = subprocess.Popen(
        [sys.executable, "-m", "live.cli", "--data", str(data), "serve", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(300):  # a bound against hanging: the server says where it is at start
            if (data / "base_url").exists() or server.poll() is not None:
                break
            time.sleep(0.05)
        assert main(["--data", str(data), "links", "ariege-2020"]) == 0
    finally:
        server.terminate()
        server.wait()
    captured = capsys.readouterr()
    assert f"http://localhost:{port}/e/ariege-2020/console?k=" in captured.out
    assert "8000" not in captured.err


def test_import_prints_what_the_event_cannot_satisfy_after_loading_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LANG", "en_GB.UTF-8")
    text = (DEMO / "ariege-2020.yaml").read_text().replace("wishes: 3", "wishes: 6")
    (tmp_path / "day.yaml").write_text(text)
    assert main(["import", str(tmp_path / "day.yaml")]) == 0
    captured = capsys.readouterr()
    assert "imported ariege-2020" in captured.out
    assert captured.err.startswith(f"warning: {tmp_path / 'day.yaml'}:")
    assert "registration.wishes: 6 wishes" in captured.err


def test_links_printed_months_ahead_are_valid_on_the_event_s_day(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 20: links expired 60 days after they were printed, whatever the event's date."""
    import re
    from datetime import date, datetime, timedelta

    from live.links.signing import Signer

    day = date.today() + timedelta(days=200)
    ahead = tmp_path / "ahead.yaml"
    text = (DEMO / "ariege-2020.yaml").read_text(encoding="utf-8")
    ahead.write_text(re.sub(r"(?m)^date: .*$", f"date: {day.isoformat()}", text), "utf-8")
    assert main(["import", str(ahead)]) == 0
    assert main(["links", "ariege-2020"]) == 0
    out = capsys.readouterr().out
    tokens = re.findall(r"/e/ariege-2020/console\?k=(\S+)", out)
    assert tokens
    evening = datetime.combine(day, datetime.min.time()).timestamp() + 20 * 3600
    assert Signer("s").verify(tokens[0], "ariege-2020", now=evening).role == "facilitator"
    assert main(["links", "ariege-2020", "--days", "3"]) == 0  # exactly what was asked
    short = re.findall(r"/e/ariege-2020/console\?k=(\S+)", capsys.readouterr().out)[0]
    with pytest.raises(Exception, match="expired"):
        Signer("s").verify(short, "ariege-2020", now=evening)


def test_links_prints_the_links_of_the_sheet_each_opening_its_page(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The same list as the links sheet (`kept.slots`), plus the public page; each link of
    the role its address opens."""
    from live.event_file import parse_event
    from live.links.kept import slots
    from live.links.signing import Signer

    event = parse_event((DEMO / "poitiers-2020.yaml").read_text(encoding="utf-8"))
    assert main(["--base-url", "https://r.example", "links", event.id]) == 0
    links = [line.split()[-1] for line in capsys.readouterr().out.splitlines()]
    assert links[0] == f"https://r.example/e/{event.id}"
    pages = {"console": "facilitator", "organize": "organizer", "me": "participant"}
    pages |= {"notes": "rapporteur", "speak": "speaker", "screen": "screen", "host": "host"}
    roles = []
    for link in links[1:]:
        page, token = link.removeprefix(f"https://r.example/e/{event.id}/").split("?k=")
        roles.append(Signer("s").verify(token, event.id).role)
        assert roles[-1] == pages[page], link
    assert sorted(roles) == sorted(slot.role for slot in slots(event))
