# Shared setup: config validation, derived constants, input functions and the list of final targets.

import math
import os

from snakemake.utils import validate





validate(config, schema="../schemas/config.schema.yaml", set_default=True)

# Validate each model's spec (adapter kinds check their own keys) before any job is scheduled.
from ganaudit.workflow import (check_config, inlier_group, inlier_label, inversion_groups, ais_groups,
                               scored_groups)

check_config(config)


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

DATASET = config["dataset"]["name"]
MODELS = list(config["models"])
GAN_MODELS = [m for m, s in config["models"].items() if s.get("role", "gan") == "gan"]
HAS_TRAIN = config["dataset"]["source"]["kind"] != "none"
ENV = "../envs/ganaudit.yaml"
CUDA = config["device"] == "cuda"


wildcard_constraints:
    model="|".join(MODELS),
    group="[A-Za-z0-9_]+",
    shard=r"\d+",
    dataset="[A-Za-z0-9_-]+",


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


def lib(*modules):
    """Library modules a rule's script uses: listed as inputs so a code change reruns the stage; a
    package (``plots``, ``models/adapters``) stands for each of its ``.py`` files."""
    files = []
    for m in modules:
        pkg = f"ganaudit/{m}"
        files += sorted(f"{pkg}/{f}" for f in os.listdir(pkg) if f.endswith(".py")) if os.path.isdir(pkg) else [f"{pkg}.py"]
    return files


def group_source(wildcards):
    """The file holding an image group: the data file, or the model's samples for generated groups."""
    if wildcards.group.startswith("generated"):
        return f"results/samples/{wildcards.model}.h5"
    return f"results/data/{DATASET}.h5"


def all_targets():
    targets = [
        "results/tables/manifold_inference.csv",
        "results/tables/table1.csv",
        "results/tables/table2.csv",
        "results/tables/table3.csv",
        "results/tables/density_inference.csv",
        "results/tables/ais_validation.csv",
        "results/tables/inversion_validation.csv",
        "results/report/workflow.rst",
    ]
    targets += expand("results/figures/{fig}.png", fig=FIGURES)
    return targets


def inversion_shards(wildcards):
    n = n_shards(config["inversion"]["n_images"], config["inversion"]["shard_size"])
    return expand("results/inversion/{model}/{group}/shard_{shard}.h5", model=wildcards.model,
                  group=wildcards.group, shard=range(n))


def ais_n_images(group):
    return config["ais"]["n_images_by_group"].get(group, config["ais"]["n_images"])


def ais_shards(wildcards):
    n = n_shards(ais_n_images(wildcards.group), config["ais"]["shard_size"])
    return expand("results/ais/{model}/{group}/shard_{shard}.h5", model=wildcards.model,
                  group=wildcards.group, shard=range(n))
