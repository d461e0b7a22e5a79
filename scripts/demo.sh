#!/usr/bin/env bash
# Set up and run Relais with the demo events: http://localhost:8000
# The administrator link (create, archive, delete events) is printed last, framed, after
# the installation's output and the demo events' links.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/relais serve --demo --admin-link "$@"
