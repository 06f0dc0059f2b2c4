"""Sample the `generated` and `generated_calibration` groups from a model (held-out seeds)."""

import numpy as np

from ganaudit import data, runtime, store
from ganaudit.models import registry
from ganaudit.models.base import sample


def sample_group(G, n: int, seed: int, batch: int = 500) -> dict:
    s = sample(G, n, seed, batch_size=batch)
    lab = s.labels.numpy() if s.labels is not None else np.full(n, -1)
    return {"images": data.to_uint8(s.images), "labels": lab, "source_labels": np.full(n, -1), "latents": s.z.numpy()}


def main(generator_path: str, out_path: str, params: dict) -> None:
    G = registry.load_generator(generator_path)
    seed = params["seed"]
    tree = {"groups": {
        "generated": sample_group(G, params["n"], runtime.seed_for(seed, "generated")),
        "generated_calibration": sample_group(G, params["n_calibration"], runtime.seed_for(seed, "generated_calibration")),
    }}
    group_attrs = {"groups/generated": {"kind": "generated", "description": "samples of the model (held-out seed)"},
                   "groups/generated_calibration": {"kind": "generated",
                                                    "description": "samples used only to estimate the entropy and epsilon"}}
    store.write(out_path, tree, store.provenance(params, seed), group_attrs)
    log.info("sampled %d + %d images", params["n"], params["n_calibration"])


if "snakemake" in globals():
    log = runtime.setup(snakemake.log[0], snakemake.threads)
    main(snakemake.input.generator, snakemake.output[0], runtime.as_dict(snakemake.params))
