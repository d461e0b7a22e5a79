"""An installed wheel serves every page with its stylesheet and scripts: templates and
static files travel in the build, not only in a source checkout."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from live.links.signing import Signer
from tests.support.servers import ROOT, free_port

pytestmark = pytest.mark.slow


def run(*cmd: str | Path, cwd: Path) -> None:
    subprocess.run([str(c) for c in cmd], cwd=cwd, check=True, capture_output=True, timeout=600)


def test_a_wheel_installed_in_a_fresh_venv_serves_the_console_with_its_stylesheet(
    tmp_path: Path,
) -> None:
    dist, venv, elsewhere = tmp_path / "dist", tmp_path / "venv", tmp_path / "elsewhere"
    elsewhere.mkdir()
    source = tmp_path / "source"  # a copy: building writes build/ next to the sources
    for part in ("live", "templates", "static"):
        shutil.copytree(ROOT / part, source / part, ignore=shutil.ignore_patterns("__pycache__"))
    for part in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / part, source / part)
    run(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", dist, source, cwd=tmp_path)
    (wheel,) = dist.glob("relais-*.whl")
    run(sys.executable, "-m", "venv", venv, cwd=tmp_path)
    run(venv / "bin" / "python", "-m", "pip", "install", "-q", wheel, cwd=tmp_path)
    port = free_port()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "RELAIS_DATA": str(tmp_path / "data"),
        "RELAIS_SECRET": "wheel-test",
    }
    server = subprocess.Popen(
        [venv / "bin" / "relais", "serve", "--demo", "--port", str(port), "--log-level", "warning"],
        cwd=elsewhere,  # nowhere near the source tree
        env=env,
        stdout=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=1)
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, "did not start"
                time.sleep(0.2)
        token = Signer("wheel-test").sign("ariege-2020", "facilitator")
        page = urllib.request.urlopen(f"{base}/e/ariege-2020/console?k={token}").read().decode()
        assert "Console de régie" in page and "/static/css/relais.css" in page
        for asset in ("/static/css/relais.css", "/static/js/console.js", "/static/js/show.js"):
            with urllib.request.urlopen(base + asset) as r:
                assert r.status == 200 and r.read()
    finally:
        server.terminate()
        server.wait(10)
