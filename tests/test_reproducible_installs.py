"""Installs are reproducible: scripts/setup.sh (and so the demo, the tests and CI)
installs Python packages from locks with hashes, and the npm packages come from a lock with
integrity hashes; what code reaches into is pinned exactly, and the locks agree with it.
Upgrades are made on purpose (scripts/lock.sh, `npm install --save-exact` in js/)."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCKS = ("requirements.lock", "requirements-dev.lock")
REQUIREMENT = re.compile(r"^([A-Za-z0-9_.-]+)==(\S+)(?: ;[^\\]*)? \\$", re.M)


def locked(lock: str) -> dict[str, str]:
    """name -> version of every requirement of a lock."""
    text = (ROOT / lock).read_text()
    return {m[1].lower().replace("_", "-"): m[2] for m in REQUIREMENT.finditer(text)}


def requirements(lock: str) -> list[str]:
    """Each requirement of a lock with its hash lines, as one block."""
    text = (ROOT / lock).read_text()
    return [b for b in re.split(r"\n(?=[A-Za-z0-9])", text) if not b.startswith("#")]


def test_every_locked_python_package_has_one_version_and_its_hashes() -> None:
    for lock in LOCKS:
        blocks = requirements(lock)
        assert len(blocks) == len(locked(lock)) > 40, lock
        for block in blocks:
            assert REQUIREMENT.match(block), f"{lock}: not pinned: {block.splitlines()[0]}"
            assert "--hash=sha256:" in block, f"{lock}: no hash: {block.splitlines()[0]}"


def test_the_server_s_lock_is_the_test_lock_without_the_test_tools() -> None:
    server, dev = locked("requirements.lock"), locked("requirements-dev.lock")
    assert {name: dev.get(name) for name in server} == server  # same versions
    assert "pytest" in dev and "pytest" not in server
    assert "setuptools" in server  # the build backend: no unlocked one fetched


def test_what_code_reaches_into_is_pinned_exactly_and_locked_at_that_pin() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    exact = dict(
        m.groups()
        for d in project["dependencies"]
        if (m := re.fullmatch(r"([A-Za-z0-9_.-]+)==(\S+)", d))
    )
    assert {"uvicorn", "websockets", "aiortc", "aioice"} <= set(exact)
    for lock in LOCKS:
        for name, pinned in exact.items():
            assert locked(lock).get(name) == pinned, f"{lock}: {name} is not {pinned}"


def test_setup_installs_only_from_the_locks_checking_hashes() -> None:
    setup = (ROOT / "scripts" / "setup.sh").read_text()
    assert "--require-hashes" in setup and "requirements-dev.lock" in setup
    assert "--no-deps" in setup  # Relais itself adds nothing unlocked
    assert "bash scripts/setup.sh" in (ROOT / "scripts" / "demo.sh").read_text()
    assert "bash scripts/setup.sh dev" in (ROOT / "scripts" / "test.sh").read_text()


def test_npm_packages_are_exact_versions_locked_with_integrity_hashes() -> None:
    package = json.loads((ROOT / "js" / "package.json").read_text())
    lock = json.loads((ROOT / "js" / "package-lock.json").read_text())
    wanted = package["devDependencies"]
    assert all(re.fullmatch(r"\d+\.\d+\.\d+", v) for v in wanted.values()), wanted
    assert lock["packages"][""]["devDependencies"] == wanted  # `npm ci` refuses otherwise
    installed = {k: v for k, v in lock["packages"].items() if k}
    assert installed and all(v["integrity"].startswith("sha512-") for v in installed.values())
    for name, version in wanted.items():
        assert installed[f"node_modules/{name}"]["version"] == version
    assert "npm ci --prefix js" in (ROOT / "scripts" / "test.sh").read_text()
