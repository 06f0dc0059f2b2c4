"""Run this figure rule's own script, ``scripts/figures/{params.figure_script}.py``.

The figure rules are made in a loop over a table (rules/figures.smk), and Snakemake reads a rule's
``script:`` path only when the job runs, after the loop has ended; so every figure rule names this file
and the script to run travels in its params. The figure script sees the same ``snakemake`` object.
"""

import runpy
from pathlib import Path

if "snakemake" in globals():
    runpy.run_path(str(Path(snakemake.scriptdir) / f"{snakemake.params.figure_script}.py"),
                   init_globals={"snakemake": snakemake})
