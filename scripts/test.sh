#!/usr/bin/env bash
# The README's test command: set up, then lint, type-check and run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --tests
.venv/bin/ruff check src tests benchmarks
.venv/bin/mypy
HYPOTHESIS_PROFILE=${HYPOTHESIS_PROFILE:-ci} .venv/bin/python -m pytest -p no:cacheprovider "$@"
