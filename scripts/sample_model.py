"""Sample the `generated` and `generated_calibration` groups from a model (held-out seeds)."""

import numpy as np
import torch

from ganaudit import data, runtime, store
from ganaudit.models import registry


@torch.no_grad()
def sample_group(G, n: int, seed: int, batch: int = 500) -> dict:
    gen = torch.Generator().manual_seed(seed)
    z = torch.randn(n, G.latent_dim, generator=gen)
    labels = (torch.arange(n) % G.n_classes) if G.n_classes else None
    imgs = torch.cat([G(z[i:i + batch], None if labels is None else labels[i:i + batch]) for i in range(0, n, batch)])
    lab = labels.numpy() if labels is not None else np.full(n, -1)
    return {"images": data.to_uint8(imgs), "labels": lab, "source_labels": np.full(n, -1), "latents": z.numpy()}


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
