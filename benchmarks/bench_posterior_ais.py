"""Accuracy of the AIS log-likelihood estimators on the images an audit measures (issue: trustworthy likelihoods).

On a finished run's GAN, σ², images and inversions (``--results``, e.g. the default run's ``results/``), for a few
images of every group (evenly spaced over the images the run estimates; own class for ``test``/``train``/
``generated``, class 0 otherwise):

* **reference** per image: the higher of two stochastic lower bounds that do not grade themselves, a
  prior-started run with ``--factor`` × the default estimator's generator passes (geometric schedule, one
  leapfrog, 4 chains, pilot-tuned step sizes) and the default estimator itself with ``--factor`` × its
  budget (`AISConfig.scaled`: that many times the annealing temperatures and the search's restarts, plus a
  tempered SMC search with ``--reference-smc`` × ``--factor`` particles). They are
  kept in ``--references`` and reused while they have at least ``--factor`` × the passes the current default
  spends on the image (a cheaper default is judged against the references of a costlier one);
* **default**: the preset ``--preset`` (the run's, ``ais.preset`` of config.yaml) as the pipeline calls it,
  with the inversion's restarts as starting latents;
* **prior @ equal cost**: the previous default (the ``accurate`` preset: prior-started, geometric, one leapfrog,
  per-chain step-size adaptation, 2 chains) with as many generator passes as the default spent on the group's
  images on average (the prior-started reference: ``--factor`` × the most it spent on one of them);
* **PPCA** (exact log-likelihood): a PPCA with the GAN's latent size fitted to the training images, on test
  images: mean |error| of the default estimator and of the prior-started one at equal cost.

Errors are estimate − reference in nats (negative: below the reference). References are cached in ``--cache``
(keyed by the model's weights and σ², image, class and setting), so reruns only compute what is new. Timings (images/s) are measured in this
process on this machine; run nothing else meanwhile.

    .venv/bin/python benchmarks/bench_posterior_ais.py --results results --out benchmarks/out/posterior_ais.json
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from ganaudit.artifacts import store
from ganaudit.artifacts.tables import to_markdown
from ganaudit.data import images
from ganaudit.data.roles import OWN_CLASS_GROUPS
from ganaudit.density.ais import PRESETS, AISConfig, ais_log_likelihood
from ganaudit.density.bdmc import validate_on_ppca
from ganaudit.density.estimators import estimator
from ganaudit.density.posterior import SearchConfig
from ganaudit.models import registry
from ganaudit.models.ppca import fit_ppca

CACHE_PATH = Path("benchmarks/out/posterior_ais_cache.json")
GROUPS = ["test", "other_classes", "constant_colour", "animals", "photos", "generated"]


def load_images(results: Path, model: str, group: str, n: int, n_run: int, dataset: str):
    """``n`` images evenly spaced over the first ``n_run`` of ``group``, their classes and inversion latents."""
    path = results / ("samples/" + model if group.startswith("generated") else "data/" + dataset) / f"{group}.h5"
    g = images.read_group(path, group, n_run)
    idx = np.unique(np.linspace(0, len(g) - 1, n).round().astype(int))
    labels = g.labels[idx] if group in OWN_CLASS_GROUPS else np.zeros(len(idx), dtype=np.int64)
    inv = results / "inversion" / model / f"{group}.h5"
    latents = None
    if inv.exists():
        d = store.read(inv, ["restart_z", "index"])
        where = {int(i): k for k, i in enumerate(d["index"])}
        if all(int(i) in where for i in idx):
            latents = np.stack([d["restart_z"][where[int(i)], max(int(c), 0)] for i, c in zip(idx, labels)])
    return images.to_model_scale(g.images[idx]), torch.as_tensor(labels), latents, idx


MODEL = ""  # fingerprint of the generator's weights and σ² (set in main): cached numbers belong to one model


def fingerprint(generator_file: Path, sigma2: float) -> str:
    """A short hash of the checkpoint's bytes and σ², so a retrained GAN never reuses another's numbers."""
    return hashlib.sha256(generator_file.read_bytes() + repr(float(sigma2)).encode()).hexdigest()[:12]


def key(group: str, index: int, label: int, cfg: AISConfig, seed: int) -> str:
    text = json.dumps([MODEL, group, int(index), int(label), repr(cfg), seed])
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def estimate(G, x, labels, sigma2, cfg, seed, latents, cache, group, idx) -> tuple[np.ndarray, np.ndarray, float]:
    """log p(x) per image (cached), generator passes per image, seconds (0 when all came from the cache)."""
    keys = [key(group, i, int(c), cfg, seed) for i, c in zip(idx, labels)]
    todo = [k for k in keys if k not in cache]
    dt = 0.0
    if todo:
        t = time.perf_counter()
        res = ais_log_likelihood(G, x, sigma2, labels if G.n_classes else None, cfg, seed=seed + np.arange(len(x)),
                                 latents=None if latents is None or not estimator(cfg).uses_latents else torch.as_tensor(latents))
        dt = time.perf_counter() - t
        for k, v, e in zip(keys, res.log_px, res.evaluations):
            cache[k] = {"log_px": float(v), "evaluations": int(e)}
        CACHE_PATH.parent.mkdir(parents=True, exist_ok=True)
        CACHE_PATH.write_text(json.dumps(cache))  # after every estimate: an interrupted run keeps what it did
    return (np.array([cache[k]["log_px"] for k in keys]), np.array([cache[k]["evaluations"] for k in keys]), dt)


def prior_config(evaluations: float, chains: int, adapt: bool) -> AISConfig:
    """Prior-started, geometric, one leapfrog, with ``evaluations`` generator passes per image in all."""
    per_chain = evaluations / chains
    tuning = "chain" if adapt else "pilot"
    steps = per_chain if adapt else per_chain / (1 + AISConfig().pilot_fraction)
    return AISConfig(n_steps=max(2, int(round(steps))), n_leapfrog=1, n_chains=chains, schedule="geometric",
                     geometric_start=1e-5, step_tuning=tuning, progress=False)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--results", type=Path, default=Path("results"))
    ap.add_argument("--model", default="gan")
    ap.add_argument("--dataset", default="mnist")
    ap.add_argument("--preset", default="posterior")
    ap.add_argument("--groups", nargs="+", default=GROUPS)
    ap.add_argument("--n-images", type=int, default=4)
    ap.add_argument("--n-run", type=int, default=20, help="images per group the run estimates (ais.n_images)")
    ap.add_argument("--factor", type=float, default=16.0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--ppca-images", type=int, default=8)
    ap.add_argument("--reference-smc", type=int, default=16,
                    help="the own reference also searches by tempered SMC with this many particles per unit of "
                         "--factor (SearchConfig.smc_scaled; 0: restarts only)")
    ap.add_argument("--candidates", nargs="*", default=[],
                    help="extra settings to compare, as NAME=EXPR with EXPR an AISConfig expression, e.g. "
                         "'short=dataclasses.replace(PRESETS[\"posterior\"], n_steps=100)'")
    ap.add_argument("--cache", type=Path, default=Path("benchmarks/out/posterior_ais_cache.json"))
    ap.add_argument("--references", type=Path, default=Path("benchmarks/out/posterior_ais_references.json"),
                    help="per-image references (kept across runs; recomputed when an image's lacks factor x the "
                         "default's passes)")
    ap.add_argument("--out", type=Path, default=Path("benchmarks/out/posterior_ais.json"))
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    global CACHE_PATH
    CACHE_PATH = args.cache
    cache = json.loads(args.cache.read_text()) if args.cache.exists() else {}
    refs = json.loads(args.references.read_text()) if args.references.exists() else {}
    global MODEL
    G = registry.load_generator(args.results / "models" / args.model / "generator.pt", "cpu")
    sigma2 = json.loads((args.results / "sigma" / f"{args.model}.json").read_text())["sigma2_model_scale"]
    MODEL = fingerprint(args.results / "models" / args.model / "generator.pt", sigma2)
    default = dataclasses.replace(PRESETS[args.preset], progress=False)
    rows, speed = [], []
    for group in args.groups:
        x, labels, latents, idx = load_images(args.results, args.model, group, args.n_images, args.n_run, args.dataset)
        est, evals, dt = estimate(G, x, labels, sigma2, default, args.seed, latents, cache, group, idx)
        if dt:
            speed.append({"estimator": "default", "group": group, "images_per_s": len(x) / dt,
                          "evaluations": float(evals.mean())})
        ids = [f"{MODEL}/{group}/{int(i)}/{int(c)}" for i, c in zip(idx, labels)]
        need = args.factor * evals
        own = dataclasses.replace(dataclasses.replace(default, search=dataclasses.replace(
            default.search, smc_scaled=args.reference_smc)).scaled(args.factor), progress=False)
        # a reference is recomputed when it has fewer than factor x the default's passes, or (own) another setting
        stale_own = [j for j, k in enumerate(ids) if k not in refs or refs[k]["own_evaluations"] < need[j]
                     or refs[k]["own_setting"] != repr(own)]
        stale_prior = [j for j, k in enumerate(ids) if k not in refs or refs[k]["prior_evaluations"] < need[j]]
        if stale_own or stale_prior:
            ro, eo, _ = estimate(G, x, labels, sigma2, own, args.seed + 10_000, latents, cache, group, idx)
            # one batch per group: the most passes the default spent on an image of the group, times the factor
            pcfg = prior_config(args.factor * evals.max(), 4, adapt=False)
            rp = np.full(len(x), np.nan)
            if stale_prior:
                rp, _, _ = estimate(G, x, labels, sigma2, pcfg, args.seed + 20_000, None, cache, group, idx)
            for j, k in enumerate(ids):
                old = refs.get(k, {})
                fresh = j in stale_prior
                refs[k] = {"prior": float(rp[j]) if fresh else old["prior"],
                           "prior_evaluations": float(args.factor * evals.max()) if fresh else old["prior_evaluations"],
                           "own": float(ro[j]), "own_evaluations": float(eo[j]), "own_setting": repr(own)}
            args.references.write_text(json.dumps(refs, indent=1))
        ref_prior = np.array([refs[k]["prior"] for k in ids])
        ref_own = np.array([refs[k]["own"] for k in ids])
        ecfg = prior_config(evals.mean(), 2, adapt=True)
        equal, _, dt_e = estimate(G, x, labels, sigma2, ecfg, args.seed + 30_000, None, cache, group, idx)
        if dt_e:
            speed.append({"estimator": "prior @ equal cost", "group": group, "images_per_s": len(x) / dt_e,
                          "evaluations": float(evals.mean())})
        ref = np.maximum(ref_prior, ref_own)
        extra = {}
        for spec in args.candidates:
            name, expr = spec.split("=", 1)
            cfg = dataclasses.replace(eval(expr, {"PRESETS": PRESETS, "AISConfig": AISConfig,  # noqa: S307 (a CLI expression)
                                                  "dataclasses": dataclasses, "SearchConfig": SearchConfig}), progress=False)
            v, e, dt_c = estimate(G, x, labels, sigma2, cfg, args.seed, latents, cache, group, idx)
            extra[name] = (v, e)
            if dt_c:
                speed.append({"estimator": name, "group": group, "images_per_s": len(x) / dt_c, "evaluations": float(e.mean())})
        for j in range(len(x)):
            rows.append({"group": group, "index": int(idx[j]), "class": int(labels[j]), "reference": ref[j],
                         "reference_prior": ref_prior[j], "reference_own": ref_own[j], "default": est[j],
                         "prior_equal_cost": equal[j], "evaluations": int(evals[j]),
                         **{f"{k}": v[j] for k, (v, _) in extra.items()},
                         **{f"{k}_evaluations": int(e[j]) for k, (_, e) in extra.items()}})
        print(f"{group}: done", flush=True)
    df = pd.DataFrame(rows)
    df["error_default"] = df["default"] - df["reference"]
    df["error_prior_equal_cost"] = df["prior_equal_cost"] - df["reference"]
    names = [c.split("=", 1)[0] for c in args.candidates]
    for name in names:
        df[f"error_{name}"] = df[name] - df["reference"]
    summary = (df.groupby("group", sort=False)
               .agg(images=("index", "size"), evaluations=("evaluations", "mean"),
                    mean_error_default=("error_default", "mean"), worst_error_default=("error_default", "min"),
                    mean_error_prior_equal_cost=("error_prior_equal_cost", "mean"),
                    worst_error_prior_equal_cost=("error_prior_equal_cost", "min"),
                    own_reference_above_prior=("reference_own", lambda s: int((s >= df.loc[s.index, "reference_prior"]).sum())),
                    **{f"mean_error_{n}": (f"error_{n}", "mean") for n in names},
                    **{f"worst_error_{n}": (f"error_{n}", "min") for n in names},
                    **{f"evaluations_{n}": (f"{n}_evaluations", "mean") for n in names})
               .reset_index())
    ppca_rows = []
    if args.ppca_images:
        train = images.read_group(args.results / "data" / args.dataset / "train.h5", "train", 5000)
        test = images.read_group(args.results / "data" / args.dataset / "test.h5", "test", args.ppca_images)
        k = G.n_classes
        ppca = fit_ppca(images.to_model_scale(train.images), torch.as_tensor(train.labels) if k else None, G.latent_dim, k)
        xt, lt = images.to_model_scale(test.images), torch.as_tensor(test.labels) if k else None
        r = validate_on_ppca(ppca, xt, sigma2, lt, default, args.seed)
        ev = float(np.mean(r["result"].evaluations))
        p = validate_on_ppca(ppca, xt, sigma2, lt, prior_config(ev, 2, adapt=True), args.seed)
        ppca_rows = [{"estimator": "default", "evaluations": ev, "mean_abs_error": r["mean_abs_error"],
                      "max_abs_error": r["max_abs_error"]},
                     {"estimator": "prior @ equal cost", "evaluations": ev, "mean_abs_error": p["mean_abs_error"],
                      "max_abs_error": p["max_abs_error"]}]
    print(f"\n### {args.model}: errors vs the reference (nats; reference = max of prior-started and own, "
          f"{args.factor:g}x the default's passes)\n")
    print(to_markdown(summary, ".3g"))
    if ppca_rows:
        print("\n### PPCA (exact log-likelihood), test images\n")
        print(to_markdown(pd.DataFrame(ppca_rows), ".3g"))
    if speed:
        print("\n### Speed (this process)\n")
        print(to_markdown(pd.DataFrame(speed).groupby("estimator").median(numeric_only=True).reset_index(), ".3g"))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"per_image": rows, "summary": summary.to_dict("records"), "ppca": ppca_rows,
                                    "speed": speed, "preset": repr(default), "sigma2": sigma2}, indent=1, default=float))


if __name__ == "__main__":
    main()
