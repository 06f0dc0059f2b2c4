"""The amortised start of the posterior's mode search: an encoder trained on the model's own samples
(ganaudit.density.encoder), once per model and σ²."""

import json

from ganaudit.artifacts import store
from ganaudit.density.encoder import EncoderConfig, save_encoder, train_encoder
from ganaudit.models import registry
from ganaudit.workflow import runtime


def main(generator_path: str, sigma_path: str, out_path: str, params: dict) -> None:
    dev = runtime.device(params["device"])
    G = registry.load_generator(generator_path, dev)
    sigma2 = json.load(open(sigma_path))["sigma2_model_scale"]
    cfg = EncoderConfig(**params["encoder"])
    seed = runtime.seed_for(params["seed"], "encoder")
    log.info("encoder for %s: %s, sigma2 %.5g", generator_path, cfg, sigma2)
    enc, check = train_encoder(G, sigma2, cfg, seed, log)
    log.info("held-out latent mse %.2f (the prior mean's: %.2f)", check["holdout_mse"], check["prior_mse"])
    save_encoder(out_path, enc, {**store.provenance(params, seed), **check, "sigma2": sigma2})


if "snakemake" in globals():
    log = runtime.setup(snakemake.log[0], snakemake.threads)
    main(snakemake.input.generator, snakemake.input.sigma, snakemake.output[0], runtime.as_dict(snakemake.params))
