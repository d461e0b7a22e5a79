#!/usr/bin/env bash
# Set up what the tests need (venv, Chromium, npm packages), then lint, type-check, test.
# Python and npm packages come from their locks, hashes checked (requirements-dev.lock,
# js/package-lock.json): CI runs what was locked, and upgrades are commits of the locks.
# With CI=true, a test that cannot run fails instead of being skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null 2>&1 || ! command -v turnserver >/dev/null 2>&1 \
  || ! command -v redis-server >/dev/null 2>&1 \
  || [ ! -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core coturn redis-server >/dev/null
  else
    echo "warning: install Debian's chromium, fonts-dejavu-core, coturn and redis-server (apt-get, as root)" >&2
  fi
fi

bash scripts/setup.sh dev

if [ -f js/package.json ]; then
  npm ci --prefix js --no-audit --no-fund --loglevel=error
fi

.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
.venv/bin/python -m pytest -q "$@"
