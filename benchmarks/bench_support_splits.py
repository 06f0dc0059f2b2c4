"""How often does the birthday test's calibrated τ hold α on held-out real images? Over many random splits.

On a finished run (``--results``) and its config's ``beyond.support`` settings: all the run's training images are
embedded once (L2 and the run's perceptual distance), and for ``--splits`` random splits into ``n_calibration``
images and the rest, τ is calibrated on one side and its false-collision rate at the largest batch size measured on
the other (`ganaudit.audits.support.split_check`), for each ``--tail-pairs`` (0: the order statistic; K: the
power-law tail fit to the K closest pairs, `ganaudit.audits.support.tail_threshold`), and for the **oracle** τ, set
from all pairs of all the training images (no calibration noise: what the held-out pool's own noise allows). Prints,
per distance and rule: the held-out rate's median and 10/90 % quantiles, the share of splits with the rate within
``[α/2, 2α]``, and the share whose 95 % interval holds α: the held-out count's Poisson interval, and that interval
widened by τ's calibration noise (`ganaudit.audits.support.with_calibration_noise`, what the run's verdict uses).

    .venv/bin/python benchmarks/bench_support_splits.py --results results --splits 1500 --tail-pairs 0 30 60
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import yaml

from ganaudit.artifacts.tables import to_markdown
from ganaudit.audits import support
from ganaudit.audits.features import distance_features
from ganaudit.data import images
from ganaudit.manifold.distances import perceptual_from_config


def oracle(features: np.ndarray, n_cal: int, alpha: float, s: int, splits: int, seed: int) -> np.ndarray:
    """Held-out rates at the τ of all the pool's pairs (where ``f*`` of them lie below), for random held-out sides."""
    n = len(features)
    f_star = -math.expm1(math.log1p(-alpha) / (s * (s - 1) / 2))
    k = int(f_star * n * (n - 1) / 2)
    i, j, v = support.pair_tail(features, k=8 * k + 64)
    tau = v[k]
    rng = np.random.default_rng(seed)
    n_held = n - n_cal
    out = []
    for _ in range(splits):
        held = np.ones(n, dtype=bool)
        held[rng.permutation(n)[:n_cal]] = False
        m = int(np.sum(held[i] & held[j] & (v < tau)))
        out.append(float(support.batch_rate(m / (n_held * (n_held - 1) / 2), s)))
    return np.array(out)


def summary(rates: np.ndarray, alpha: float) -> dict:
    return {"rate median": np.median(rates), "rate 10 %": np.quantile(rates, 0.1), "rate 90 %": np.quantile(rates, 0.9),
            "within [α/2, 2α]": float(np.mean((rates >= alpha / 2) & (rates <= 2 * alpha)))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--results", default="results")
    ap.add_argument("--config", default="config.yaml")
    ap.add_argument("--splits", type=int, default=1500)
    ap.add_argument("--tail-pairs", type=int, nargs="+", default=[0, 30, 60])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="benchmarks/out/support_splits.json")
    args = ap.parse_args()
    torch.set_num_threads(2)
    cfg = yaml.safe_load(open(args.config))
    p = cfg["beyond"]["support"]
    s, alpha, n_cal = max(p["sizes"]), float(p["alpha"]), int(p["n_calibration"])
    train = images.read_group(Path(args.results) / "data" / cfg["dataset"]["name"] / "train.h5", "train", None)
    x = images.to_model_scale(train.images)
    perceptual = perceptual_from_config(cfg["perceptual"], "cpu")
    rows = []
    for name, feat in (("L2", lambda: distance_features(x)), (perceptual.name, lambda: perceptual.embed(x).numpy())):
        f = feat()
        for tail in args.tail_pairs:
            sp = support.split_check(f, n_cal, alpha, s, tail, args.splits, 0.95, args.seed)
            ok = sp[sp.complete]
            rows.append({"distance": name, "τ rule": f"tail fit, {tail} pairs" if tail else "order statistic",
                         **summary(ok.rate.to_numpy(), alpha), "Poisson interval holds α": float(ok.covers_poisson.mean()),
                         "widened interval holds α": float(ok.covers.mean()),
                         "calibration sd": float(sp.calibration_sd.iloc[0]), "splits": len(ok)})
            print(rows[-1], flush=True)
        rows.append({"distance": name, "τ rule": "oracle (all pairs of all images)",
                     **summary(oracle(f, n_cal, alpha, s, args.splits, args.seed), alpha),
                     "splits": args.splits})
        print(rows[-1], flush=True)
        del f
    print(f"{len(x)} training images, {n_cal} calibration / {len(x) - n_cal} held out, alpha = {alpha}, s = {s}")
    print(to_markdown(pd.DataFrame(rows), floatfmt=".3g"))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(rows, indent=1, default=str))


if __name__ == "__main__":
    main()
