"""Error bars and Fig 9 of one image group under one model: its first images re-estimated at larger (and, for
the audited GANs, smaller) AIS budgets, next to the run's own estimates of the same images."""

import json

import numpy as np

from ganaudit.artifacts import readers, store
from ganaudit.data import evaluation, images
from ganaudit.density import ais, errorbars
from ganaudit.density.encoder import add_encoder_start, load_encoder
from ganaudit.models import registry
from ganaudit.workflow import runtime


def main(generator_path: str, images_path: str, sigma_path: str, inversion_path: str | None, encoder_path: str | None,
         ais_path: str, group: str, out_path: str, params: dict) -> None:
    dev = runtime.device(params["device"])
    G = registry.load_generator(generator_path, dev)
    sigma2 = json.load(open(sigma_path))["sigma2_model_scale"]
    run = store.read(ais_path, ["log_px_class", "labels"])
    n = min(params["n_images"], len(run["labels"]))
    part = images.read_group(images_path, group, n, image_shape=G.image_shape)
    seed = runtime.seed_for(params["seed"], "validation")
    cfg = ais.config_from_params(params["ais"])
    if params["independent"]:  # its own candidate pool, restarts and tempered search (not the run's latents)
        cfg, latents = ais.independent_check(cfg, seed, params["smc_scaled"]), None
    else:
        latents = readers.restart_latents(inversion_path, 0, n, G.n_classes, G.latent_dim)
    if encoder_path:  # the run's amortised start too: a larger budget never has fewer of the run's starts
        cfg, latents = add_encoder_start(cfg, latents, load_encoder(encoder_path, dev),
                                         images.to_model_scale(part.images), G.n_classes)
    out = ais.reestimate_group(G, part, group, sigma2, cfg, params["factors"], seed, dev, latents,
                               params["ais"]["exact_when_known"])
    run_marginal = evaluation.marginal_log_px(run["log_px_class"][:n], run["labels"][:n], group)
    out.update(run_log_px=run_marginal, run_log_px_class=run["log_px_class"][:n], labels=part.labels,
               images=part.images, change=errorbars.changes(out["log_px"], out["factors"], run_marginal,
                                                            params["check_factor"]))
    log.info("%s: change at %gx the budget %s nats", group, params["check_factor"], np.round(out["change"], 1))
    attrs = store.provenance(params, seed)
    attrs.update(sigma2=sigma2, group=group, check_factor=params["check_factor"], ais_config=repr(cfg),
                 independent=bool(params["independent"]))
    store.write(out_path, out, attrs)


if "snakemake" in globals():
    log = runtime.setup(snakemake.log[0], snakemake.threads)
    main(snakemake.input.generator, snakemake.input.images, snakemake.input.sigma, snakemake.input.get("inversion") or None,
         snakemake.input.get("encoder") or None, snakemake.input.ais, snakemake.wildcards.group, snakemake.output[0], runtime.as_dict(snakemake.params))
