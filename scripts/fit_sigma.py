"""σ² of the Gaussian observation model: the MLE from the training reconstructions (paper B.3), or the
configured value when there are no training images."""

import json

import numpy as np

from ganaudit.artifacts import store
from ganaudit.data import evaluation, stats
from ganaudit.workflow import runtime


def main(train_path: str | None, out_path: str, params: dict) -> None:
    if params["value"] is not None:
        s2, source, n = float(params["value"]), "config (sigma.value)", 0
    else:
        d = store.read(train_path, ["mse"])
        own = np.nanmin(d["mse"], axis=1)
        s2, source, n = evaluation.sigma2_mle(own), "MLE: mean per-pixel MSE of the training reconstructions", len(own)
    out = {"sigma2_model_scale": s2, "sigma2_unit_scale": stats.to_unit_scale_variance(s2),
           "psnr_db": float(stats.psnr(stats.to_unit_scale_variance(s2))), "source": source, "n_images": n}
    log.info("%s", out)
    with open(out_path, "w") as f:
        json.dump(out, f, indent=2)


if "snakemake" in globals():
    log = runtime.setup(snakemake.log[0])
    main(snakemake.input.get("train") or None, snakemake.output[0], runtime.as_dict(snakemake.params))
