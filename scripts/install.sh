#!/usr/bin/env bash
# Create/refresh the project-local virtual environment .venv (idempotent).
#   bash scripts/install.sh          # the pipeline's packages
#   bash scripts/install.sh test     # + test extras (pytest, the SLURM executor plugin)
# Skips all work when .venv already matches pyproject.toml and this script (a stamp file records that).
set -euo pipefail
cd "$(dirname "$0")/.."
extra="${1:-workflow}"
py="${PYTHON:-python3}"
stamp=".venv/.ganaudit-install-$extra"
want="$(cat pyproject.toml scripts/install.sh | sha256sum | cut -d' ' -f1)"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  exit 0
fi
echo "[install] setting up .venv ($extra) ..." >&2
[[ -x .venv/bin/python ]] || "$py" -m venv .venv
pip=(.venv/bin/python -m pip --disable-pip-version-check -q)
"${pip[@]}" install --upgrade pip
# torch first, exactly pinned (a CUDA build that runs on CPU; torchvision/lpips need this pair)
"${pip[@]}" install torch==2.14.1 torchvision==0.29.1
"${pip[@]}" install -e ".[$extra]"
# data/model packages whose declared dependencies (tensorflow, wandb) we do not want
"${pip[@]}" install --no-deps animal-mnist==0.4 gan-face-generate==1.1.1
.venv/bin/python -c "import torch, torchvision, lpips, h5py, snakemake, ganaudit" >/dev/null
echo "$want" > "$stamp"
echo "[install] done" >&2
