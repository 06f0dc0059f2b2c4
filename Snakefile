# ganaudit — audit whether a GAN has learned its training distribution.
# Reproduces "Intriguing Properties of Modern GANs" end to end; see README.md and docs/architecture.md.

import os

from snakemake.utils import min_version

min_version("8.0")


# The embedded default (found beside this Snakefile, also under --directory); a --configfile given on the
# command line replaces it (it is not merged into it).
if not workflow.overwrite_configfiles:

    configfile: os.path.join(workflow.basedir, "config.yaml")


# A config may keep its audit in its own folder (results/, logs/, benchmarks/ under it), so that two
# audits in one checkout never overwrite each other; `--directory DIR` does the same from the command line.
if config.get("workdir"):

    workdir: config["workdir"]


include: "rules/common.smk"
include: "rules/data.smk"
include: "rules/models.smk"
include: "rules/inversion.smk"
include: "rules/density.smk"
include: "rules/typicality.smk"
include: "rules/features.smk"
include: "rules/beyond.smk"
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
    support_table,
    memorisation_table,
    coverage_table,
    tgtr_table,
    latent_sweep,


# The front page: this configuration's findings page once the findings rule has made it, else a page
# saying the findings are not computed yet (never a page made for another configuration).
report: front_page(os.path.abspath("results/report/workflow.rst"), FINDINGS_PARAMS, os.path.join(workflow.basedir, "report/pending.rst"))


rule all:
    input:
        all_targets(),
    default_target: True
