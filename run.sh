#!/usr/bin/env bash
# Run the pipeline on the embedded default config (config.yaml), installing what is missing first.
# Extra arguments go to snakemake, e.g. `bash run.sh --configfile configs/smoke.yaml` or `bash run.sh -n`.
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/install.sh workflow
exec .venv/bin/snakemake --cores all --profile profiles/default "$@"
