"""Sample one model-sample group (`generated` or `generated_calibration`) from a model (held-out seed)."""

import numpy as np

from ganaudit.artifacts import store
from ganaudit.data import images
from ganaudit.models import registry
from ganaudit.models.base import sample
from ganaudit.workflow import runtime

DESCRIPTIONS = {"generated": "samples of the model (held-out seed)",
                "generated_calibration": "samples used only to estimate the entropy and epsilon"}


def sample_group(G, n: int, seed: int, batch: int = 500) -> dict:
    s = sample(G, n, seed, batch_size=batch)
    lab = s.labels.numpy() if s.labels is not None else np.full(n, -1)
    return {"images": images.to_uint8(s.images), "labels": lab, "source_labels": np.full(n, -1), "latents": s.z.numpy()}


def main(generator_path: str, group: str, out_path: str, params: dict) -> None:
    G = registry.load_generator(generator_path)
    seed = runtime.seed_for(params["seed"], group)
    tree = {"groups": {group: sample_group(G, params["n"], seed)}}
    store.write(out_path, tree, store.provenance(params, seed),
                {f"groups/{group}": {"kind": "generated", "description": DESCRIPTIONS[group]}})
    log.info("sampled %d images for %s", params["n"], group)


if "snakemake" in globals():
    log = runtime.setup(snakemake.log[0], snakemake.threads)
    main(snakemake.input.generator, snakemake.wildcards.group, snakemake.output[0], runtime.as_dict(snakemake.params))
