"""Sample one model-sample group (`generated` or `generated_calibration`) from a model (held-out seed)."""

import numpy as np
import torch

from ganaudit import data, runtime, store
from ganaudit.models import registry

DESCRIPTIONS = {"generated": "samples of the model (held-out seed)",
                "generated_calibration": "samples used only to estimate the entropy and epsilon"}


@torch.no_grad()
def sample_group(G, n: int, seed: int, batch: int = 500) -> dict:
    gen = torch.Generator().manual_seed(seed)
    z = torch.randn(n, G.latent_dim, generator=gen)
    labels = (torch.arange(n) % G.n_classes) if G.n_classes else None
    imgs = torch.cat([G(z[i:i + batch], None if labels is None else labels[i:i + batch]) for i in range(0, n, batch)])
    lab = labels.numpy() if labels is not None else np.full(n, -1)
    return {"images": data.to_uint8(imgs), "labels": lab, "source_labels": np.full(n, -1), "latents": z.numpy()}


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
