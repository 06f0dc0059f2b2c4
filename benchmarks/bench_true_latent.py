"""Does the mode search find the posterior's main basin? The true-latent diagnostic on a model's own samples (issue 18).

Images simulated from the model (``z ~ N(0, I)``, ``x = G(z) + σ ε``, `ganaudit.density.bdmc.simulate`; class
``i mod n_classes`` for a class-conditional GAN), so the true latent is known. For each image
(`ganaudit.density.true_latent`):

* the inversion's restarts, as the pipeline makes them (the config's ``inversion`` section), the search's given starts;
* ``dU``: the energy ``−log p(x, z)`` at the best mode the config's search reaches minus the true latent's, refined by
  L-BFGS (``--refine-polish``) and Levenberg–Marquardt (positive: the search stopped above the true basin), and
  ``dloglik`` the same for ``log p(x | z)``;
* ``estimate``: the config's estimator (``ais.preset`` + ``ais.overrides``, with ``--overrides`` on top) as the
  pipeline runs it; ``true@F``: the same estimator with its search also started at the true latent, at ``F`` × the
  budget (`AISConfig.scaled`); ``error`` = estimate − true@(largest F), the reference.

Everything is cached per image in ``--cache`` (keyed by the model's weights, σ², the simulation seed and the exact
settings), so a rerun computes only what is new and a changed search reruns only its own estimates.

    .venv/bin/python benchmarks/bench_true_latent.py --model faces --n-images 8
    .venv/bin/python benchmarks/bench_true_latent.py --model faces --overrides '{"search": {"lm_steps": 8}}'
    .venv/bin/python benchmarks/bench_true_latent.py --model gan --results results --config config.yaml
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import yaml

from ganaudit.artifacts.tables import to_markdown
from ganaudit.data import evaluation
from ganaudit.density.ais import ais_log_likelihood, config_from_params
from ganaudit.density.bdmc import simulate
from ganaudit.density.encoder import EncoderConfig, add_encoder_start, load_encoder, save_encoder, train_encoder
from ganaudit.density.true_latent import search_gap, with_true_latent
from ganaudit.manifold.inversion import InversionConfig, invert
from ganaudit.models import registry
from ganaudit.models.adapters.kinds import load_generator
from ganaudit.workflow import runtime

CACHE_PATH = Path("benchmarks/out/true_latent_cache.json")
#: part of every search and estimate key: bump it when the search's code changes what the same settings compute
#: (2: the L-BFGS polish keeps 40 curvature pairs)
SEARCH_CODE = 2
#: SearchConfig fields added after the cache was filled, at their defaults: left out of the keys, so the entries
#: computed before they existed (the same computation) stay valid
LATER_DEFAULTS = ", hop_starts=0, hop_rounds=1, hop_scale=1.0"


def load_model(args) -> tuple[object, float, dict]:
    """The generator, σ² and the config: the faces config's GAN for ``--model faces``, else a finished run's."""
    cfg = yaml.safe_load(Path(args.config).read_text())
    if args.model == "faces":
        spec = dict(cfg["models"]["faces_dcgan"])
        return load_generator(spec, "cpu"), float(cfg["sigma"]["value"]), cfg
    G = registry.load_generator(args.results / "models" / args.model / "generator.pt", "cpu")
    sigma2 = json.loads((args.results / "sigma" / f"{args.model}.json").read_text())["sigma2_model_scale"]
    return G, float(sigma2), cfg


def fingerprint(G, sigma2: float) -> str:
    """A short hash of the generator's weights and σ²: cached numbers belong to one model."""
    h = hashlib.sha256(repr(float(sigma2)).encode())
    for k, v in sorted(G.state_dict().items()):
        h.update(k.encode() + v.detach().cpu().numpy().tobytes())
    return h.hexdigest()[:12]


class Cache:
    """Per-image results in a JSON file, written after every computation (an interrupted run keeps its work)."""

    def __init__(self, path: Path, model: str, chunk: int = 2, reverse: bool = False) -> None:
        self.path, self.model, self.chunk, self.reverse = path, model, chunk, reverse
        self.data = json.loads(path.read_text()) if path.exists() else {}

    def key(self, *parts) -> str:
        text = [repr(p).replace(LATER_DEFAULTS, "") for p in parts]
        return hashlib.sha256(json.dumps([self.model, *text]).encode()).hexdigest()[:20]

    def get_or_compute(self, keys: list[str], compute, cached_only: bool = False) -> list:
        """The cached value of every key; ``compute(todo_indices)`` returns the values of the missing ones (with
        ``cached_only``, missing ones are NaN)."""
        if cached_only:
            if self.path.exists():
                self.data = {**json.loads(self.path.read_text()), **self.data}
            return [self.data.get(k, {"log_px": float("nan"), "evaluations": float("nan")}) for k in keys]
        starts = range(0, len(keys), self.chunk)
        for lo in reversed(starts) if self.reverse else starts:   # a few images at a time, each chunk kept at once
            if self.path.exists():   # what other runs have kept meanwhile
                self.data = {**json.loads(self.path.read_text()), **self.data}
            part = [i for i in range(lo, min(lo + self.chunk, len(keys))) if keys[i] not in self.data]
            if not part:
                continue
            for i, v in zip(part, compute(np.asarray(part))):
                self.data[keys[i]] = v
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if self.path.exists():   # another run may have added entries meanwhile: keep them
                self.data = {**json.loads(self.path.read_text()), **self.data}
            tmp = self.path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps(self.data))
            tmp.replace(self.path)
        return [self.data[k] for k in keys]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="faces", help="'faces' (configs/faces.yaml's GAN) or a run's model name")
    ap.add_argument("--results", type=Path, default=Path("results"), help="the run's results dir (not for faces)")
    ap.add_argument("--config", default=None, help="the run's config (default: configs/faces.yaml / config.yaml)")
    ap.add_argument("--n-images", type=int, default=8)
    ap.add_argument("--seed", type=int, default=0, help="simulation seed (the AIS seeds are seed + 1000 + i)")
    ap.add_argument("--factors", type=float, nargs="+", default=[1.0, 4.0])
    ap.add_argument("--overrides", default="{}", help="JSON: AISConfig fields over the config's (search: a dict)")
    ap.add_argument("--reference-overrides", default=None,
                    help="JSON: the same for the true-latent-started references (default: --overrides); '{}' keeps "
                         "the config's estimator as the reference while --overrides tries a search")
    ap.add_argument("--encoder", default=None,
                    help="JSON: EncoderConfig fields over the config's ais.encoder (steps 0: no encoder start)")
    ap.add_argument("--refine-steps", type=int, default=10, help="Levenberg–Marquardt steps refining the true latent")
    ap.add_argument("--refine-polish", type=int, default=500,
                    help="L-BFGS iterations refining the true latent first (before the LM steps)")
    ap.add_argument("--cache", type=Path, default=CACHE_PATH)
    ap.add_argument("--out", type=Path, default=None, help="JSON of the per-image table (default: benchmarks/out/)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--search-only", action="store_true", help="only dU and dloglik (no estimates)")
    ap.add_argument("--reverse", action="store_true", help="last images first (a second run beside a first)")
    ap.add_argument("--cached-only", action="store_true",
                    help="estimates only from the cache (missing ones are left out: another run may be computing them)")
    args = ap.parse_args()
    args.config = args.config or ("configs/faces.yaml" if args.model == "faces" else "config.yaml")
    torch.set_num_threads(args.threads)
    G, sigma2, cfg = load_model(args)
    if hasattr(G, "eval"):
        G.eval()
    cache = Cache(args.cache, fingerprint(G, sigma2), reverse=args.reverse)
    n = args.n_images
    labels = None if not G.n_classes else torch.arange(n) % G.n_classes
    x, z = simulate(G, n, sigma2, labels, seed=args.seed)
    seeds = args.seed + 1000 + np.arange(n)
    def ais_config(overrides: str):
        over = json.loads(overrides)
        params = dict(cfg["ais"])
        base_over = dict(params.get("overrides") or {})
        if "search" in over:
            over["search"] = {**base_over.get("search", {}), **over["search"]}
        params["overrides"] = {**base_over, **over}
        return config_from_params(params, progress=False)

    ais = ais_config(args.overrides)
    ref_ais = ais_config(args.overrides if args.reference_overrides is None else args.reference_overrides)
    if args.reference_overrides is None:   # one fixed reference: basin hopping is part of the search under test
        ref_ais = dataclasses.replace(ref_ais, search=dataclasses.replace(ref_ais.search, hop_starts=0))
    inv_cfg = evaluation.config_from(InversionConfig, cfg["inversion"], progress=False)
    # an image is its seed, index and class, and the number simulated with it (their noise follows all n latents);
    # 8, the default, is left out: the keys from before it was part of them
    img = lambda i: (args.seed, int(i), labels is None or int(labels[i])) + (() if n == 8 else (n,))  # noqa: E731
    lab = lambda idx: None if labels is None else labels[idx]  # noqa: E731
    timing: dict[str, list[float]] = {}   # seconds and images computed, per step

    def timed(name, fn):
        def run(idx):
            t = time.perf_counter()
            out = fn(idx)
            spent, count = timing.get(name, [0.0, 0])
            timing[name] = [spent + time.perf_counter() - t, count + len(idx)]
            return out
        return run

    def inversion(idx):
        res = invert(G, x[idx], lab(idx), inv_cfg, seed=int(cfg.get("seed", 0)))
        return res.restart_z.tolist()

    lat = torch.as_tensor(cache.get_or_compute([cache.key("inv", img(i), inv_cfg) for i in range(n)],
                                               timed("inversion", inversion)))
    lat_inv = lat   # the references start from these and the true latent (never the encoder: one fixed reference)
    enc_cfg = EncoderConfig(**{**(cfg["ais"].get("encoder") or {}), **json.loads(args.encoder or "{}")})
    starts_key = "inversion"
    enc_seed = runtime.seed_for(int(cfg.get("seed", 0)), "encoder")   # as rule train_encoder seeds it
    if enc_cfg.steps:   # the pipeline's encoder (rule train_encoder), trained once per model and setting, kept on disk
        path = args.cache.parent / f"encoder_{cache.model}_{cache.key('encoder', enc_cfg, enc_seed)}.pt"
        if not path.exists():
            t = time.perf_counter()
            enc, check = train_encoder(G, sigma2, enc_cfg, seed=enc_seed)
            save_encoder(path, enc, check)
            print(f"encoder trained in {time.perf_counter() - t:.0f} s: {check}", flush=True)
        ais, lat4 = add_encoder_start(ais, lat[:, None].numpy(), load_encoder(path), x, None)   # refined directly
        lat = torch.as_tensor(lat4[:, 0])
        starts_key = ("inversion", "encoder", enc_cfg, enc_seed)   # the encoder as trained: setting and seed

    def gap(idx):
        g = search_gap(G, x[idx], z[idx], sigma2, ais.search, lab(idx), lat[idx], seeds[idx], args.refine_steps,
                       args.refine_polish)
        return [{"energy_search": float(a), "energy_true": float(b), "loglik_search": float(c),
                 "loglik_true": float(d), "passes": int(e)}
                for a, b, c, d, e in zip(g.energy_search, g.energy_true, g.loglik_search, g.loglik_true, g.passes)]

    refine = args.refine_steps if not args.refine_polish else (args.refine_steps, args.refine_polish)
    extra = [] if enc_cfg.steps == 0 else [starts_key]   # keys without the encoder stay those of before
    gaps = cache.get_or_compute([cache.key("gap", img(i), ais.search, refine, SEARCH_CODE, *extra) for i in range(n)],
                                timed("search", gap))

    def estimate(config, starts, name):
        def run(idx):
            r = ais_log_likelihood(G, x[idx], sigma2, lab(idx), config, seeds[idx], starts[idx])
            return [{"log_px": float(v), "evaluations": int(e)} for v, e in zip(r.log_px, r.evaluations)]
        return timed(name, run)

    nan = [{"log_px": float("nan"), "evaluations": float("nan")}] * n
    est_keys = [cache.key("est", img(i), ais, SEARCH_CODE, *extra) for i in range(n)]
    est = nan if args.search_only else cache.get_or_compute(est_keys, estimate(ais, lat, "estimate"), args.cached_only)
    both = with_true_latent(lat_inv, z)
    true = {f: nan if args.search_only else
            cache.get_or_compute([cache.key("true", img(i), ref_ais.scaled(f), SEARCH_CODE) for i in range(n)],
                                 estimate(ref_ais.scaled(f), both, f"true@{f:g}"), args.cached_only)
            for f in args.factors}
    ref = max(args.factors)
    rows = []
    for i in range(n):
        g = gaps[i]
        row = {"image": i, "dU": g["energy_search"] - g["energy_true"],
               "dloglik": g["loglik_search"] - g["loglik_true"], "estimate": est[i]["log_px"]}
        row.update({f"true@{f:g}": true[f][i]["log_px"] for f in args.factors})
        row["error"] = est[i]["log_px"] - true[ref][i]["log_px"]
        row["search_passes"] = g["passes"]
        row["passes"] = est[i]["evaluations"]
        row[f"passes_true@{ref:g}"] = true[ref][i]["evaluations"]
        rows.append(row)
    df = pd.DataFrame(rows)
    summary = df.drop(columns="image").agg(["mean"])
    summary.insert(0, "image", ["mean"])
    worst = df.loc[[df["dU"].idxmax() if df["error"].isna().all() else df["error"].idxmin()]].copy()
    worst["image"] = f"worst ({int(worst['image'].iloc[0])})"
    table = pd.concat([df.astype({"image": str}), summary, worst.astype({"image": str})], ignore_index=True)
    title = f"{args.model}, σ² = {sigma2:g}, {n} simulated images, search {ais.search}"
    print(f"\n### {title}\n\nnats; dU, dloglik: the search's best mode minus the refined true latent; error: estimate "
          f"− true@{ref:g}\n")
    print(to_markdown(table, ".5g"))
    if timing:
        print("\nseconds per image computed in this process (shared machine): "
              + ", ".join(f"{k} {v[0] / v[1]:.1f}" for k, v in timing.items()))
    out = args.out or Path("benchmarks/out") / f"true_latent_{args.model}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"title": title, "per_image": rows, "config": repr(ais), "reference": repr(ref_ais)},
                              indent=1))


if __name__ == "__main__":
    main()
