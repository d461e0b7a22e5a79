#!/usr/bin/env bash
# Create .venv and install Relais into it (with the test tools when given "dev").
#
# Every package comes from a lock (requirements.lock; requirements-dev.lock with "dev"),
# at its locked version and checked against its hashes (pip --require-hashes): two installs
# of one commit are the same install, and nothing upgrades by itself. Upgrades are made on
# purpose with scripts/lock.sh (its comment says how).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
lock=requirements.lock
extras=""
if [ "${1:-}" = "dev" ]; then
  lock=requirements-dev.lock
  extras="[dev]"
fi
# Wheels only: building an sdist would fetch its build tools unlocked (the lock has every
# platform's wheels; for one missing, relock with scripts/lock.sh on that platform).
.venv/bin/python -m pip install -q --require-hashes --only-binary :all: -r "$lock"
# Relais itself, from this checkout: its dependencies are all in the lock, and so is
# setuptools (the build backend), hence no build isolation fetching an unlocked one.
.venv/bin/python -m pip install -q --no-deps --no-build-isolation -e ".${extras}"
