#!/usr/bin/env bash
# The README's run command: set up, then run the dry-run simulator on a bundled scenario.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/mamcrawler simulate "${1:-scenarios/normal_week.yaml}"
