#!/usr/bin/env bash
# Packages whose declared dependencies we must not pull (animal-mnist declares tensorflow; the
# pretrained face DCGAN declares wandb): their data files are all ganaudit reads from them.
set -euo pipefail
"$CONDA_PREFIX/bin/python" -m pip install --no-deps animal-mnist==0.4 gan-face-generate==1.1.1
