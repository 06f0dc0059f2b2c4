"""Figure 9's data: AIS log-likelihood of a few test images as a function of the number of AIS steps."""

import json

import numpy as np
import torch

from ganaudit import ais, data, runtime, store
from ganaudit.models import registry


def main(generator_path: str, images_path: str, sigma_path: str, out_path: str, params: dict) -> None:
    dev = runtime.device(params["device"])
    G = registry.load_generator(generator_path, dev)
    sigma2 = json.load(open(sigma_path))["sigma2_model_scale"]
    g = data.read_group(images_path, params["group"], params["n_images"])
    x = data.to_model_scale(g.images)
    labels = torch.as_tensor(g.labels) if G.n_classes else None
    seed = runtime.seed_for(params["seed"], "validation")
    steps = sorted(params["steps"])
    ll = np.empty((len(steps), len(x)))
    for i, n in enumerate(steps):
        cfg = ais.config_from_params(params["ais"], n_steps=n)
        ll[i] = ais.ais_log_likelihood(G, x, sigma2, labels, cfg, seed).log_px
        log.info("n_steps %d: log p(x) %s", n, np.round(ll[i], 1))
    store.write(out_path, {"n_steps": np.asarray(steps), "log_px": ll, "images": g.images, "labels": g.labels},
                store.provenance(params, seed) | {"sigma2": sigma2})


if "snakemake" in globals():
    log = runtime.setup(snakemake.log[0], snakemake.threads)
    main(snakemake.input.generator, snakemake.input.images, snakemake.input.sigma, snakemake.output[0],
         runtime.as_dict(snakemake.params))
