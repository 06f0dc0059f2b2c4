"""Where the posterior-started estimator's error comes from: which basin the mode search finds (issue: trustworthy
likelihoods).

For the images where `bench_posterior_ais.py` found the default estimator more than ``--worst`` nats below its
reference (its ``--bench`` output), on the same GAN and images:

* **descent**: Adam (the search's own, 100 steps, no screening) from the inversion's restarts and the
  ``--starts`` pool latents nearest to the image in a pool of ``--pool``: the best optimum's ``−U`` (log p(x, z)
  at the mode, without the Laplace volume term) minus the reference, the rank (by starting energy) of the start
  that found it, and what successive halving would have kept (the best of the 4 / 16 / 64 starts with the lowest
  energy after 20 steps);
* **tempered SMC** (`ganaudit.density.smc`, ``--particles`` × ``--moves``) and descent from its 4 best distinct particles:
  the same ``−U`` minus the reference, and the passes it spent.

``−U − reference`` above ~+40 means a basin whose mass (after the volume term, typically −25 to −50 nats here)
the reference may not have: the references are stochastic lower bounds found by the same kinds of search.

    .venv/bin/python benchmarks/bench_mode_search.py --results results --bench benchmarks/out/posterior_ais.json
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from bench_posterior_ais import load_images  # noqa: E402  (a sibling script)

from ganaudit.artifacts.tables import to_markdown
from ganaudit.density.ais import PRESETS
from ganaudit.density.posterior import _descend, _nearest_starts, energy
from ganaudit.density.smc import best_distinct, temper
from ganaudit.models import registry

MARKS = (20,)


def adam_energies(G, z0, x, labels, sigma2, steps: int, lr: float, mark: int):
    """Adam with a cosine schedule (as the search's) from every row of ``z0``: the best energy per row after
    ``mark`` steps and at the end."""
    z, m, v = z0.clone(), torch.zeros_like(z0), torch.zeros_like(z0)
    best = torch.full((len(z),), math.inf, dtype=torch.float64)
    early = None
    for step in range(steps):
        zr = z.requires_grad_(True)
        with torch.enable_grad():
            r = (G(zr, labels) - x).flatten(1)
            u = 0.5 * zr.pow(2).sum(1) + r.pow(2).sum(1) / (2 * sigma2)
            (g,) = torch.autograd.grad(u.sum(), zr)
        best = torch.minimum(best, u.detach().double())
        if step == mark:
            early = best.clone()
        rate = lr * 0.5 * (1 + math.cos(math.pi * step / steps))
        m, v = 0.9 * m + 0.1 * g, 0.999 * v + 0.001 * g * g
        z = zr.detach() - rate * (m / (1 - 0.9 ** (step + 1))) / ((v / (1 - 0.999 ** (step + 1))).sqrt() + 1e-8)
    return early, best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--results", type=Path, default=Path("results"))
    ap.add_argument("--bench", type=Path, default=Path("benchmarks/out/posterior_ais.json"))
    ap.add_argument("--model", default="gan")
    ap.add_argument("--dataset", default="mnist")
    ap.add_argument("--n-images", type=int, default=4)
    ap.add_argument("--n-run", type=int, default=20)
    ap.add_argument("--worst", type=float, default=20.0)
    ap.add_argument("--pool", type=int, default=4096)
    ap.add_argument("--starts", type=int, default=252)
    ap.add_argument("--particles", type=int, default=64)
    ap.add_argument("--moves", type=int, default=8)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    bench = json.loads(args.bench.read_text())["per_image"]
    hard = [r for r in bench if r["default"] - r["reference"] < -args.worst]
    G = registry.load_generator(args.results / "models" / args.model / "generator.pt", "cpu")
    sigma2 = json.loads((args.results / "sigma" / f"{args.model}.json").read_text())["sigma2_model_scale"]
    norm = -0.5 * math.prod(G.image_shape) * math.log(2 * math.pi * sigma2)
    search = dataclasses.replace(PRESETS["posterior"].search, search_candidates=args.pool, screen_keep=0)
    rows = []
    for r in hard:
        x, labels, latents, idx = load_images(args.results, args.model, r["group"], args.n_images, args.n_run,
                                              args.dataset)
        j = int(np.nonzero(idx == r["index"])[0][0])
        x, lab = x[j:j + 1], labels[j:j + 1] if G.n_classes else None
        lat = torch.nan_to_num(torch.as_tensor(latents[j:j + 1], dtype=x.dtype))
        starts = torch.cat([lat, _nearest_starts(G, x, lab, search, args.starts)], 1)[0]
        s = len(starts)
        xs, ls = x.repeat(s, 1, 1, 1), None if lab is None else lab.repeat(s)
        early, final = adam_energies(G, starts, xs, ls, sigma2, search.search_steps, search.search_lr, MARKS[0])
        gain = (-final + norm - r["reference"]).numpy()
        u0 = energy(G, starts, xs, ls, sigma2).numpy()
        best = int(np.argmax(gain))
        order = np.argsort(early.numpy())
        parts, en, passes = temper(G, x, lab, sigma2, args.particles, args.moves, np.array([r["index"]]))
        zs, us, p2 = _descend(G, best_distinct(parts, en, 4), x, lab, sigma2, search)
        rows.append({"group": r["group"], "index": r["index"], "error_default": r["default"] - r["reference"],
                     "descent_best": gain[best], "rank_of_its_start": int((u0 < u0[best]).sum()),
                     **{f"kept_{k}_at_20": gain[order[:k]].max() for k in (4, 16, 64)},
                     "descent_passes": s * search.search_steps,
                     "smc_best": float(-us.min() + norm - r["reference"]), "smc_passes": int(passes[0] + p2)})
        print(f"{r['group']} {r['index']}: done", flush=True)
    print(f"\n### {args.model}: −U at the best mode found, minus the reference (nats)\n")
    print(to_markdown(pd.DataFrame(rows), ".4g"))


if __name__ == "__main__":
    main()
