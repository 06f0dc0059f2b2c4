# Shared setup: config validation, the values derived from the config (named once, here), the helpers
# every rule uses (code inputs, log/benchmark paths, figure outputs) and the list of final targets.
#
# Each job's params carry exactly the config values that shape its output (ganaudit.workflow.plan), so an
# edit reruns what it makes stale and nothing else; each rule's code inputs are the library files its
# script imports, so editing one reruns exactly the rules that use it.

import functools
import math
import os

from snakemake.utils import validate

from ganaudit.workflow.plan import (ais_groups, ais_n_images, ais_params, ais_setting, beyond_params, encoder_params,
                                    beyond_plan, check_config, findings_stamp, front_page, group_names, group_params,
                                    inlier_group, inlier_label, inversion_groups, inversion_params,
                                    latent_sweep_models, model_spec, normalise_config, paper_plan, real_feature_spaces,
                                    sample_models, scored_groups)
from ganaudit.workflow.imports import library_files
from ganaudit.audits.registry import AUDITS, audited_models, config_value, module_file
from ganaudit.findings import MEMORISATION_P


validate(config, schema="../schemas/config.schema.yaml", set_default=True)
normalise_config(config)  # one spelling for sources: {kind: ..., path: ...}
check_config(config)  # model specs, sources, group names: one-line errors naming the key, before any job


def _canonical(value):
    """Sort mapping keys recursively: Snakemake compares params by their text, so the order of keys in a
    config file must not matter (reordering config.yaml reruns nothing)."""
    if isinstance(value, dict):
        return {k: _canonical(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_canonical(v) for v in value]
    return value


_sorted = _canonical(config)
config.clear()
config.update(_sorted)

# ------------------------------------------------------------------------------------ derived values

DATASET = config["dataset"]["name"]
# models given as stored samples (kind samples) have no generator: only the tests beyond the paper run for them
SAMPLE_MODELS = sample_models(config)
MODELS = [m for m in config["models"] if m not in SAMPLE_MODELS]  # models with a generator: the paper's stages
GAN_MODELS = [m for m in MODELS if config["models"][m].get("role", "gan") == "gan"]
AUDITED_MODELS = [m for m, s in config["models"].items() if s.get("role", "gan") == "gan"]  # the tests beyond the paper
AUDITED = (GAN_MODELS or AUDITED_MODELS or MODELS)[0]  # the GAN the findings page is about
MODEL_ROLES = {m: config["models"][m].get("role", "gan") for m in MODELS}
PAPER = paper_plan(config)  # None when the paper's model-based stages run, else why not
HAS_TRAIN = config["dataset"]["source"]["kind"] != "none"
N_CLASSES = len(config["dataset"].get("classes") or []) or None
GROUPS = group_names(config)  # every image group of the run
GENERATED = ("generated", "generated_calibration")  # sampled from each model, not from the data
DATA_GROUPS = [g for g in GROUPS if g not in GENERATED]
INVERTED = inversion_groups(config)
AIS_GROUPS = ais_groups(config)
# the reference group of density comparisons and Fig 9: the test images, or the GAN's own samples
REFERENCE_GROUP = "test" if HAS_TRAIN else "generated"
# the tests beyond the paper (rules/beyond.smk): None for those this run makes, else why it does not
BEYOND = beyond_plan(config)
BEYOND_RUN = [t for t, why in BEYOND.items() if why is None]
BEYOND_TABLES = {name: audit.table_names for name, audit in AUDITS.items()}
AUDIT_MODELS = {name: audited_models(audit, config["models"]) for name, audit in AUDITS.items()}  # GANs, or all
HAS_CLASSIFIER = HAS_TRAIN and config["classifier"]["enabled"]
# the spaces the run's real images are embedded in once (rules/features.smk), for the audits that read them
REAL_SPACES = real_feature_spaces(config)
# the latent-size sweep: models of one kind at several latent sizes, their training and generated inversions
SWEEP = latent_sweep_models(config)
SWEEP_MODELS = [m for ms in SWEEP.values() for m in ms]
SWEEP_GROUPS = [g for g in ("train", "generated") if g in INVERTED]
ENV = "../envs/ganaudit.yaml"
CUDA = config["device"] == "cuda"


wildcard_constraints:
    model="|".join(config["models"]),
    group="[A-Za-z0-9_]+",
    shard=r"\d+",
    dataset="[A-Za-z0-9_-]+",


# ------------------------------------------------------------------------------------ helpers


def n_shards(n_images, shard_size):
    return max(1, math.ceil(n_images / shard_size))


def scaled(base):
    """A resource that grows with the attempt number, so a retry after an out-of-memory kill asks for more."""
    return lambda wildcards, attempt: base * attempt


def torch_resources(mem_mb=3000, runtime=30):
    """Standard resource names (mapped to sbatch flags by the SLURM executor); memory and runtime grow
    with the attempt (profiles/slurm sets `retries`)."""
    res = dict(mem_mb=scaled(mem_mb), runtime=scaled(runtime))
    if CUDA:
        res["gpu"] = 1
    return res


LIGHT = dict(mem_mb=1000, runtime=5)  # table and figure jobs


def source(*parts):
    """A file of the workflow itself (the library, a script, a report template), relative to the working directory:
    right under `--directory` or `workdir:`, and the same text wherever a run is copied, so a copy is not stale."""
    return os.path.relpath(os.path.join(workflow.basedir, *parts))


@functools.cache
def code(script):
    """Code inputs for `scripts/{script}.py`: the library files the script imports, transitively
    (ganaudit.workflow.imports.library_files)."""
    base = workflow.basedir
    return [source(f) for f in library_files(os.path.join(base, "scripts", f"{script}.py"), base)]


def audit_code(audit):
    """Code inputs of an audit's stage beyond its script's: the module its registry entry names (the script imports
    it only when it runs) and what that module imports."""
    base = workflow.basedir
    stage_file = module_file(audit.stage)
    return [source(stage_file)] + [source(f) for f in library_files(os.path.join(base, stage_file), base)]


def logs(name):
    """The log file of a job: logs/{name}.log (name mirrors the output, e.g. invert/gan/test/shard_0)."""
    return f"logs/{name}.log"


def bench(name):
    """The benchmark file of a job: benchmarks/{name}.tsv."""
    return f"benchmarks/{name}.tsv"


def figure(name, caption, subcategory, label, model="all models"):
    """A figure's outputs: the PNG in the report (caption report/{caption}.rst) and a PDF beside it."""
    png = report(f"results/figures/{name}.png", caption=f"../report/{caption}.rst", category="Figures",
                 subcategory=subcategory, labels={"figure": label, "model": model})
    return dict(png=png, pdf=f"results/figures/{name}.pdf")


def table(name, caption):
    """A table's outputs: the CSV in the report (caption report/{caption}.rst) and Markdown beside it."""
    csv = report(f"results/tables/{name}.csv", caption=f"../report/{caption}.rst", category="Tables")
    return dict(csv=csv, md=f"results/tables/{name}.md")


def data_file(group):
    return f"results/data/{DATASET}/{group}.h5"


def group_file(model, group):
    """The file holding an image group: the data file, or the model's samples for the generated groups."""
    return f"results/samples/{model}/{group}.h5" if group in GENERATED else data_file(group)


def group_source(wildcards):
    return group_file(wildcards.model, wildcards.group)


def inversion_files(models, groups):
    return [f"results/inversion/{m}/{g}.h5" for m in models for g in groups]


def ais_files(models, groups):
    return [f"results/ais/{m}/{g}.h5" for m in models for g in groups]


def inversion_of(wildcards):
    """The group's inversion, when the run inverts it: its restarts start the posterior's mode search."""
    return f"results/inversion/{wildcards.model}/{wildcards.group}.h5" if wildcards.group in INVERTED else []


ENCODER = encoder_params(config)  # the amortised start's setting, None when the run trains no encoder


def encoder_of(wildcards):
    """The model's encoder, when the run trains one (ais.encoder.steps > 0): E(x) is one more start of the search."""
    return f"results/encoders/{wildcards.model}.pt" if ENCODER else []


def check_factors(model):
    """Budget factors of a model's error-bar re-estimates: the check factor, and Fig 9's ladder for the GANs."""
    v = config["ais_validation"]
    return sorted({v["check_factor"], *(v["convergence_factors"] if model in GAN_MODELS else [])})


def inversion_shards(wildcards):
    n = n_shards(config["inversion"]["n_images"], config["inversion"]["shard_size"])
    return [f"results/inversion/{wildcards.model}/{wildcards.group}/shard_{s}.h5" for s in range(n)]


def ais_shards(wildcards):
    n = n_shards(ais_n_images(config, wildcards.group), config["ais"]["shard_size"])
    return [f"results/ais/{wildcards.model}/{wildcards.group}/shard_{s}.h5" for s in range(n)]


# What the findings page shows; its digest stamps the page, so a page made for another configuration
# never heads this configuration's report (front_page, in the Snakefile).
FINDINGS_PARAMS = dict(
    audit={"gan": AUDITED},
    dataset=config["dataset"],
    ais=ais_setting(config),
    models=config["models"],
    density=config["density"],
    groups=AIS_GROUPS,
    beyond=BEYOND,
    **({"paper": PAPER} if PAPER else {}),
)


PAPER_TABLES = ("manifold_inference", "table1", "table2", "table3", "density_inference", "ais_validation",
                "inversion_validation")


def all_targets():
    targets = [] if PAPER else [f"results/tables/{t}.csv" for t in PAPER_TABLES]
    targets += [f"results/tables/{t}.csv" for test in BEYOND_RUN for t in BEYOND_TABLES[test]]
    if SWEEP and SWEEP_GROUPS:
        targets.append("results/tables/latent_sweep.csv")
    if "metrics" in BEYOND_RUN:
        targets += [f"results/metrics/{m}.json" for m in AUDIT_MODELS["metrics"]]
    targets += [f"results/figures/{fig}.png" for fig in FIGURES]
    targets.append("results/report/workflow.rst")
    targets.append("results/tables/calibration.csv")
    return targets
