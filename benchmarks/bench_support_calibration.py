"""Does the birthday test's false-collision rate α hold on real images the calibration never saw?

On a finished run (``--results``, e.g. the default run's ``results/``) and its config's ``beyond.support`` settings,
for each ``--seeds`` (the seed splits the training images into the calibration and held-out pools and draws the
GAN's pool): τ is calibrated (`ganaudit.audits.support.calibrate_threshold`) and the rate at τ measured on the
held-out training images (`ganaudit.audits.support.heldout_rate`) and on *all* the test images (a third pool), under
L2 and the run's perceptual distance; then the samples' and the held-out test images' K̂. Prints one row per seed and
distance; ``--out`` keeps them as JSON.

    .venv/bin/python benchmarks/bench_support_calibration.py --results results --seeds 0 1
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import pandas as pd
import torch
import yaml

from ganaudit.artifacts.tables import to_markdown
from ganaudit.audits import support
from ganaudit.audits.common import model_pool
from ganaudit.audits.features import distance_features, pairwise_distances
from ganaudit.data import images
from ganaudit.manifold.distances import perceptual_from_config
from ganaudit.models import registry


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--results", default="results")
    ap.add_argument("--config", default="config.yaml")
    ap.add_argument("--model", default="gan")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    ap.add_argument("--out", default="benchmarks/out/support_calibration.json")
    args = ap.parse_args()
    torch.set_num_threads(1)
    cfg = yaml.safe_load(open(args.config))
    p = cfg["beyond"]["support"]
    res = Path(args.results)
    name = cfg["dataset"]["name"]
    G = registry.load_generator(str(res / "models" / args.model / "generator.pt"), "cpu")
    train = images.read_group(res / "data" / name / "train.h5", "train", None, image_shape=G.image_shape)
    test = images.read_group(res / "data" / name / "test.h5", "test", None, image_shape=G.image_shape)
    X, T = images.to_model_scale(train.images), images.to_model_scale(test.images)
    perceptual = perceptual_from_config(cfg["perceptual"], "cpu")
    sizes = sorted(p["sizes"])
    rows = []
    for seed in args.seeds:
        cal, held, ref, _ = support.real_pools(X, T, p, seed)
        pool = model_pool(G, p["n_samples"], seed, train.labels).images.float()
        for metric in (None, perceptual):
            t0 = time.perf_counter()
            feat = (lambda x: distance_features(x)) if metric is None else (lambda x: metric.embed(x).numpy())  # noqa: E731
            thr = support.calibrate_threshold(feat(cal), p["alpha"], sizes[-1], int(p.get("tail_pairs", 0)))
            held_thr = support.heldout_rate(thr, feat(held), 2000, p["confidence"], seed)
            if p.get("split_check"):                       # τ's own calibration noise, as the run measures it
                sp = support.split_check(feat(torch.cat([cal, held])), len(cal), p["alpha"], sizes[-1],
                                         int(p.get("tail_pairs", 0)), p["split_check"], p["confidence"], seed + 5)
                held_thr = support.with_calibration_noise(held_thr, float(sp.calibration_sd.iloc[0]), p["confidence"])
            test_thr = support.heldout_rate(thr, feat(T), 2000, p["confidence"], seed)
            bt = support.birthday_paradox_test(pairwise_distances(distance_features(pool, metric)),
                                               pairwise_distances(distance_features(ref, metric)), held_thr, sizes,
                                               p["n_batches"], p["confidence"], p["n_bootstrap"], 4, seed)
            s, r = bt.estimates["samples"], bt.estimates["reference"]
            rows.append({"seed": seed, "distance": "L2" if metric is None else metric.name, "tau": thr.tau,
                         "calibration pairs below τ (expected)": f"{thr.n_below} ({thr.expected_below:.1f})",
                         "α": p["alpha"],
                         f"rate, {held_thr.n_heldout} held-out train [95 %]":
                             f"{held_thr.heldout_rate:.3f} [{held_thr.heldout_low:.3f}, {held_thr.heldout_high:.3f}]",
                         "rate, held-out batches": held_thr.heldout_batches,
                         "with τ's noise": f"[{held_thr.check_low:.3f}, {held_thr.check_high:.3f}]",
                         "α holds": held_thr.holds,
                         f"rate, all {len(T)} test [95 %]":
                             f"{test_thr.heldout_rate:.3f} [{test_thr.heldout_low:.3f}, {test_thr.heldout_high:.3f}]",
                         "samples K̂ [95 %]": f"{s.k_hat:.3g} [{s.k_low:.3g}, {s.k_high:.3g}]",
                         "test images K̂ [95 %]": f"{r.k_hat:.3g} [{r.k_low:.3g}, {r.k_high:.3g}]",
                         "verdict (samples below)": bool(s.k_high < r.k_low), "seconds": time.perf_counter() - t0})
            print(rows[-1], flush=True)
    df = pd.DataFrame(rows)
    print(to_markdown(df, floatfmt=".4g"))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(rows, indent=1, default=str))


if __name__ == "__main__":
    main()
