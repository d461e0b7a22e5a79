#!/usr/bin/env bash
# Set up and run Relais with the demo events: http://localhost:8000
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/relais serve --demo "$@"
