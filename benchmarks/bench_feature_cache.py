"""What the shared cache of the real images' features costs and saves (rule ``real_features``,
`ganaudit.audits.real_features`): seconds to build it, its size on disk, and per audit the seconds to read the rows it
needs against the seconds it spent embedding those real images itself (before the cache). Medians of ``--repeats``.

    .venv/bin/python benchmarks/bench_feature_cache.py [--run DIR] [--config FILE] [--repeats 3] [--tmp DIR] [--markdown]

``--run``: a finished run's working directory (its ``config.yaml``, ``results/data/<dataset>/{train,test}.h5`` and
``results/classifier/classifier.pt``; default: this checkout). The cache is written to ``--tmp`` (default: a
temporary folder, removed at the end). Only the real images are timed: the model's samples are embedded in the audit
job with or without the cache. The metrics audit runs once per model (``models``), so its rows count that many times.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import yaml


def _median(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", default=".", type=Path)
    ap.add_argument("--config", default=None, type=Path, help="the run's config (default: RUN/config.yaml)")
    ap.add_argument("--repeats", default=3, type=int)
    ap.add_argument("--tmp", default=None)
    ap.add_argument("--markdown", action="store_true")
    args = ap.parse_args()

    from snakemake.utils import validate

    from ganaudit.audits.features import distance_features
    from ganaudit.audits.memorisation import _embed_chunks
    from ganaudit.audits.real_features import RealFeatures, space_functions, write_real_features
    from ganaudit.audits.support import _features, real_pool_rows
    from ganaudit.data.images import read_group, to_model_scale
    from ganaudit.manifold.distances import perceptual_from_config
    from ganaudit.models.registry import load_generator
    from ganaudit.audits.registry import AUDITS
    from ganaudit.workflow.plan import normalise_config, real_feature_spaces
    from ganaudit.workflow.runtime import seed_for

    repo = Path(__file__).resolve().parents[1]
    cfg = yaml.safe_load((args.config or args.run / "config.yaml").read_text())
    validate(cfg, str(repo / "schemas" / "config.schema.yaml"), set_default=True)
    cfg = normalise_config(cfg)
    torch.set_num_threads(int(cfg.get("threads") or os.cpu_count() or 1))
    data = args.run / "results" / "data" / cfg["dataset"]["name"]
    groups = {s: read_group(data / f"{s}.h5", s).images for s in ("train", "test")}
    x = {s: to_model_scale(g) for s, g in groups.items()}
    spaces = real_feature_spaces(cfg)
    classifier = load_generator(args.run / "results" / "classifier" / "classifier.pt") if "classifier" in spaces else None
    perceptual = perceptual_from_config(cfg["perceptual"])
    functions = space_functions(spaces, classifier, perceptual, cfg["beyond"]["metrics"].get("weights"))
    tmp = Path(args.tmp or tempfile.mkdtemp(prefix="feature_cache_"))
    path = tmp / "real.h5"
    attrs = dict(perceptual_metric=perceptual.name, perceptual_backend=perceptual.backend)
    rows = []

    build = _median(lambda: write_real_features(path, groups, functions, attrs), args.repeats)
    size = path.stat().st_size
    cache = RealFeatures(path)
    rows.append({"step": f"build the cache ({len(groups['train'])} train + {len(groups['test'])} test images, "
                         f"{', '.join(spaces)})", "embed_s": build, "read_s": float("nan"), "size_mb": size / 2**20})

    b = cfg["beyond"]
    with torch.no_grad():
        if "perceptual" in spaces and b["support"].get("enabled", True):
            p = b["support"]
            cal, held, ref_group, ref, _ = real_pool_rows(len(x["train"]), len(x["test"]), p, seed_for(cfg["seed"], "support", AUDITS["support"].seed_offset))

            def embed_support() -> None:
                _features(x["train"][cal], perceptual), _features(x["train"][held], perceptual)
                distance_features(x[ref_group][ref], perceptual)

            def read_support() -> None:
                for split, r in (("train", cal), ("train", held), (ref_group, ref)):
                    cache.rows("perceptual", split, r)

            rows.append({"step": f"support: calibration {len(cal)} + held-out {len(held)} + reference {len(ref)}",
                         "embed_s": _median(embed_support, args.repeats), "read_s": _median(read_support, args.repeats)})
        if "perceptual" in spaces and b["memorisation"].get("enabled", True):
            p = b["memorisation"]
            train = x["train"][:p.get("max_train") or len(x["train"])]
            n_p = len(train) if p.get("max_train_perceptual") is None else min(int(p["max_train_perceptual"]), len(train))
            n_t = min(int(p["n_test"]), len(x["test"]))

            def embed_mem() -> None:
                perceptual.embed(x["test"][:n_t]).cpu().numpy()
                for _ in _embed_chunks(train[:n_p], perceptual):
                    pass

            def read_mem() -> None:
                cache.rows("perceptual", "test", np.arange(n_t))
                for _ in cache.chunks("perceptual", "train", n_p):
                    pass

            rows.append({"step": f"memorisation: test {n_t} + training {n_p} (perceptual)",
                         "embed_s": _median(embed_mem, args.repeats), "read_s": _median(read_mem, args.repeats)})
        if b["metrics"].get("enabled", True):
            p = b["metrics"]
            n_train, n_test, n_s = (int(p[k]) for k in ("n_train", "n_test", "n_samples"))
            sets = {"train": ("train", 0, min(n_train, len(x["train"]))), "test": ("test", 0, min(n_test, len(x["test"]))),
                    "fresh": ("test", n_test, max(0, min(n_test + n_s, len(x["test"])) - n_test))}
            models = len(cfg["models"])
            for space in [s for s in spaces if s in functions]:
                cap = int(p["n_perceptual"]) if space == "perceptual" and p.get("n_perceptual") else None
                spans = {k: (g, a, n if cap is None else min(n, cap)) for k, (g, a, n) in sets.items()}

                def embed_metrics(space: str = space, spans: dict = spans) -> None:
                    for g, a, n in spans.values():
                        functions[space](x[g][a:a + n])

                def read_metrics(space: str = space, spans: dict = spans) -> None:
                    for g, a, n in spans.values():
                        cache.rows(space, g, np.arange(a, a + n))

                what = " + ".join(f"{k} {n}" for k, (_, _, n) in spans.items())
                rows.append({"step": f"metrics, {space}: {what} ({models} models, one job each)",
                             "embed_s": _median(embed_metrics, args.repeats) * models,
                             "read_s": _median(read_metrics, args.repeats) * models})
    out = pd.DataFrame(rows)
    audits = out.iloc[1:]
    out.loc[len(out)] = {"step": "all audits (one run)", "embed_s": audits.embed_s.sum(), "read_s": audits.read_s.sum(),
                         "size_mb": float("nan")}
    print(f"run {args.run}: {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}; medians of {args.repeats}")
    print(out.to_markdown(index=False, floatfmt=".2f") if args.markdown else out.to_string(index=False))
    if not args.tmp:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
