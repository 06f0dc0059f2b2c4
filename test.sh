#!/usr/bin/env bash
# Run the whole test suite (unit, workflow, SLURM), installing what is missing first.
# Extra arguments go to pytest, e.g. `bash test.sh -m "not slurm"` or `bash test.sh tests/density/test_ais.py`.
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/install.sh test
exec .venv/bin/python -m pytest "$@"
