# ganaudit — audit whether a GAN has learned its training distribution.
# Reproduces "Intriguing Properties of Modern GANs" end to end; see README.md.

import os

from snakemake.utils import min_version

min_version("8.0")


# The embedded default; a --configfile given on the command line replaces it (not merged into it).
if not workflow.overwrite_configfiles:

    configfile: "config.yaml"


include: "rules/common.smk"
include: "rules/data.smk"
include: "rules/models.smk"
include: "rules/inversion.smk"
include: "rules/density.smk"
include: "rules/typicality.smk"
include: "rules/figures.smk"
include: "rules/report.smk"


# Jobs of about a second (gathering shards, small tables, the findings page) run where Snakemake runs,
# not as cluster jobs: on SLURM a submission costs more than the work.
localrules:
    all,
    gather_inversion,
    gather_ais,
    inversion_validation,
    manifold_inference,
    density_inference,
    table2,
    findings,


# The report's front page: the findings rule fills report/workflow.rst with this run's numbers.
report: "results/report/workflow.rst" if os.path.exists("results/report/workflow.rst") else "report/workflow.rst"


rule all:
    input:
        all_targets(),
    default_target: True
