"""The data directory holds the signing secret, the database and people's personal data:
`relais serve` and `relais admin-link` leave it readable by its owner only (0700, files
0600), one that already existed with looser modes included."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.support.servers import ROOT, free_port, terminate


def loose_data_dir(tmp_path: Path) -> Path:
    """A data directory as one made by hand (or restored) leaves it: 0755, files 0644."""
    data = tmp_path / "data"
    (data / "backups").mkdir(parents=True)
    for name in ("secret.key", "notes.txt", "backups/old.sqlite3"):
        (data / name).write_text("x")
        (data / name).chmod(0o644)
    (data / "backups").chmod(0o755)
    data.chmod(0o755)
    return data


def modes(data: Path) -> dict[str, int]:
    """Each path under `data` (and `data` itself, as "."), with its permission bits."""
    paths = [data, *data.rglob("*")]
    return {str(p.relative_to(data)): stat.S_IMODE(p.stat().st_mode) for p in paths}


def assert_private(data: Path) -> None:
    found = modes(data)
    for name, mode in found.items():
        wanted = 0o700 if (data / name).is_dir() else 0o600
        assert mode == wanted, f"{name}: {oct(mode)}, wanted {oct(wanted)} ({found})"


def relais(data: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "live.cli", "--data", str(data), *args]


def test_serving_makes_an_existing_data_directory_private(tmp_path: Path) -> None:
    data = loose_data_dir(tmp_path)
    (data / "secret.key").unlink()  # the server makes its own (RELAIS_SECRET is not set)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "RELAIS_SECRET"}
    server = subprocess.Popen(
        relais(data, "serve", "--port", str(port), "--log-level", "warning"),
        cwd=ROOT,
        env={**env, "LIVE_BACKEND": "sqlite"},
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, "did not start"
                time.sleep(0.2)
        names = set(modes(data))
        assert {"secret.key", "base_url", "admin-links", "relais.sqlite3"} <= names
        assert_private(data)
    finally:
        terminate(server)


def test_an_admin_link_made_on_an_existing_data_directory_makes_it_private(
    tmp_path: Path,
) -> None:
    data = loose_data_dir(tmp_path)
    env = {**os.environ, "RELAIS_SECRET": "s", "LIVE_BACKEND": "sqlite"}
    done = subprocess.run(relais(data, "admin-link"), cwd=ROOT, capture_output=True, env=env)
    assert done.returncode == 0, done.stderr
    assert "admin-links" in modes(data)
    assert_private(data)
