#!/usr/bin/env bash
# Write the locks scripts/setup.sh installs from, and from nothing else: every package at
# one version with the hashes of its files. requirements-dev.lock: pyproject's dependencies,
# its `dev` extra (the tests, lint, types) and setuptools (the build backend);
# requirements.lock: the same without the `dev` extra (the demo, a server), at the same
# versions (it is resolved within the first).
#
# Upgrades are made on purpose, never by an install:
#   bash scripts/lock.sh                             # after editing pyproject.toml: adds
#                                                    # what is new, keeps every other pin
#   bash scripts/lock.sh --upgrade-package ortools   # one package (repeat for several)
#   bash scripts/lock.sh --upgrade                   # everything
# then `bash scripts/setup.sh dev`, the tests, and a commit of the locks. uvicorn,
# websockets, aiortc and aioice are pinned in pyproject.toml itself (code reaches into
# them): move those pins there first, with their canary tests.
# Needs uv (https://docs.astral.sh/uv/: `pipx install uv` or `pip install uv`).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v uv >/dev/null || { echo "scripts/lock.sh needs uv: pipx install uv" >&2; exit 2; }
# The lock holds every platform's wheels' hashes (--universal), markers included, for
# CPython 3.11 and later; PyPI only, whatever pip.conf says.
compile() {
  echo "setuptools>=77" | uv pip compile pyproject.toml - --universal --python-version 3.11 \
    --generate-hashes --index-url https://pypi.org/simple \
    --custom-compile-command "bash scripts/lock.sh" --quiet "$@"
}
compile --extra dev --output-file requirements-dev.lock "$@"
compile --constraint requirements-dev.lock --output-file requirements.lock
