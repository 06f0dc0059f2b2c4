"""Checks of the AIS estimators where the answer is known, labelled for what they measure: (a) the exact
log-likelihood of a linear-Gaussian model (PPCA fitted to the same data with the GAN's latent size and σ²), for each
preset and the run's setting; (b) BDMC bounds (forward lower, reverse upper) on images simulated from each GAN, at
the run's setting. Neither is the error on the run's own images: that is measured per group (ais_check)."""

import json

import pandas as pd
import torch

from ganaudit.artifacts import tables
from ganaudit.data import images
from ganaudit.density import ais, bdmc
from ganaudit.density.encoder import load_encoder
from ganaudit.models import registry
from ganaudit.models.ppca import fit_ppca
from ganaudit.workflow import runtime


def main(train_path: str | None, test_path: str | None, generator_paths: list[str], sigma_paths: list[str],
         encoder_paths: list[str], out_csv: str, out_md: str, params: dict) -> None:
    v, seed = params["validation"], runtime.seed_for(params["seed"], "validation")
    dev = runtime.device(params["device"])
    rows = []
    run_cfg = ais.config_from_params(params["ais"])
    encoders = dict(zip(params["models"], encoder_paths))   # none where the run trains no encoder
    for model, gpath, spath in zip(params["models"], generator_paths, sigma_paths):
        G = registry.load_generator(gpath, dev)
        sigma2 = json.load(open(spath))["sigma2_model_scale"]
        if train_path:
            train = images.read_group(train_path, "train", v["ppca_train_images"])
            test = images.read_group(test_path, "test", v["n_images"])
            n_classes = G.n_classes
            ppca = fit_ppca(images.to_model_scale(train.images), torch.as_tensor(train.labels) if n_classes else None,
                            G.latent_dim, n_classes)
            x = images.to_model_scale(test.images)
            labels = torch.as_tensor(test.labels) if n_classes else None
            settings = [(p, ais.config_from_params({**params["ais"], "preset": p, "overrides": {}})) for p in v["presets"]]
            settings.append(("run", run_cfg))
            for preset, cfg in settings:
                r = bdmc.validate_on_ppca(ppca, x, sigma2, labels, cfg, seed)
                rows.append({"check": "exact LL of a linear-Gaussian model (PPCA), test images", "model": f"PPCA(latent {G.latent_dim}) for {model}",
                             "setting": preset, "schedule": cfg.schedule, "n_steps": cfg.n_steps, "n_leapfrog": cfg.n_leapfrog,
                             "n_chains": cfg.n_chains, "sigma2": sigma2, "n_images": len(x),
                             "mean_abs_error_nats": r["mean_abs_error"], "max_abs_error_nats": r["max_abs_error"],
                             "mean_signed_error_nats": r["mean_error"]})
                log.info("%s", rows[-1])
        labels = (torch.arange(v["bdmc_images"]) % G.n_classes) if G.n_classes else None
        enc = load_encoder(encoders[model], dev) if model in encoders else None   # E(x): the run's start too
        b = bdmc.bdmc(G, v["bdmc_images"], sigma2, labels, run_cfg, seed, enc)
        rows.append({"check": "BDMC, images simulated from the GAN", "model": model, "setting": "run",
                     "encoder_start": enc is not None,
                     "schedule": run_cfg.schedule, "n_steps": run_cfg.n_steps, "n_leapfrog": run_cfg.n_leapfrog, "n_chains": run_cfg.n_chains,
                     "sigma2": sigma2, "n_images": v["bdmc_images"], "lower_mean_nats": float(b["lower"].mean()),
                     "upper_mean_nats": float(b["upper"].mean()), **bdmc.summary(b)})
        log.info("%s", rows[-1])
    df = pd.DataFrame(rows)
    tables.write_table(df, out_csv, out_md, "AIS validation: the estimators where the answer is known", [
        "Exact-LL rows: AIS minus the exact log-likelihood of a linear-Gaussian (PPCA) model fitted to the same "
        "training data, with the GAN's latent size and σ², on test images (nats/image): a check of the estimator on "
        "a linear model. BDMC rows: the mean gap between the reverse-AIS upper bound and the forward-AIS lower bound "
        "on images simulated from the GAN, which lie on its manifold; the true log-likelihood lies between them (in "
        "expectation). The estimator is the run's, in both directions with its encoder start where the run trains "
        "one (encoder_start): a mode search that misses the basin holding an image's mass shows as that image's gap "
        "(gap_max_nats), since the reverse chains start at the true latent. Every reverse chain anneals, those in the "
        "proposal's defensive stratum too (its fraction per image: reverse_defensive_per_image); a reverse chain that made no accepted move is one importance weight, "
        "and when at least half are (reverse_degenerate_per_image) bdmc_status says the run is degenerate and no gap "
        "is stated. Neither measures the error on the run's real images, which lie off the manifold: the "
        "log-likelihood table gives that per group (error bars), and Fig 9 shows it."])


if "snakemake" in globals():
    log = runtime.setup(snakemake.log[0], snakemake.threads)
    main(snakemake.input.get("train") or None, snakemake.input.get("test") or None, list(snakemake.input.generators), list(snakemake.input.sigmas),
         list(snakemake.input.get("encoders") or []), snakemake.output.csv, snakemake.output.md, runtime.as_dict(snakemake.params))
