"""From how far does local optimisation reach an image's true basin? Why the faces search misses an image (issue 18).

For one image simulated from the faces GAN (`ganaudit.density.bdmc.simulate`; ``--n-images`` and ``--seed`` pick the
simulation, ``--image`` the image), the true latent refined by L-BFGS is the reference ``z*`` and ``U* = U(z*)``. Two
families of starts, each refined by the search's own L-BFGS (``--steps`` iterations, `ganaudit.density.posterior`):

* ``z* + r u``, ``u`` a random unit direction (``--directions`` of them per radius): how wide the basin is, seen by the
  optimiser, in directions that favour no basin;
* ``z* + c (E(x) − z*)`` for ``c`` from 1 (the encoder's own start) down: how much nearer the encoder's prediction
  would have to be, along the error it actually makes, for its start to reach the basin.

A start "reaches" the basin when its refined energy is within ``--reach`` nats of ``U*``. Printed as Markdown; the
default is the held-out image the search misses (`benchmarks/bench_true_latent.py --n-images 4 --seed 7`, image 3).

    .venv/bin/python benchmarks/bench_basin_reach.py --encoder audits/faces/results/encoders/faces_dcgan.pt
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import yaml

from ganaudit.artifacts.tables import to_markdown
from ganaudit.density.bdmc import simulate
from ganaudit.density.encoder import encode, load_encoder
from ganaudit.density.posterior import _lbfgs
from ganaudit.models.adapters.kinds import load_generator


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--config", default="configs/faces.yaml")
    ap.add_argument("--encoder", required=True,
                    help="a saved encoder (rule train_encoder's results/encoders/{model}.pt)")
    ap.add_argument("--n-images", type=int, default=4)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--image", type=int, default=3)
    ap.add_argument("--steps", type=int, default=200, help="L-BFGS iterations from every start (the config's polish)")
    ap.add_argument("--refine", type=int, default=500, help="L-BFGS iterations refining the true latent")
    ap.add_argument("--radii", type=float, nargs="+", default=[3.0, 6.0, 9.0])
    ap.add_argument("--directions", type=int, default=8)
    ap.add_argument("--shrink", type=float, nargs="+", default=[1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4])
    ap.add_argument("--reach", type=float, default=5.0, help="nats of energy above U* that count as the basin")
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    cfg = yaml.safe_load(Path(a.config).read_text())
    G = load_generator(dict(cfg["models"]["faces_dcgan"]), "cpu")
    sigma2 = float(cfg["sigma"]["value"])
    x, z_true = simulate(G, a.n_images, sigma2, None, seed=a.seed)
    x, z_true = x[a.image:a.image + 1], z_true[a.image:a.image + 1]
    t0 = time.time()
    z_star, u_star, _ = _lbfgs(G, z_true, x, None, sigma2, a.refine)
    z_enc = encode(load_encoder(a.encoder), x)
    g = torch.Generator().manual_seed(a.seed)
    rows = []

    def refine(family: str, value: float, starts: torch.Tensor) -> None:
        z, u, _ = _lbfgs(G, starts, x.expand(len(starts), -1, -1, -1), None, sigma2, a.steps)
        du = (u - u_star).cpu().numpy()
        rows.append({"starts": family, "value": value, "n": len(starts),
                     "start distance to z*": float((starts - z_star).norm(dim=1).mean()),
                     "reached": int((du < a.reach).sum()), "dU median": float(np.median(du)), "dU min": float(du.min())})

    for r in a.radii:
        u = torch.randn(a.directions, z_star.shape[1], generator=g)
        refine("z* + r u (r)", r, z_star + r * u / u.norm(dim=1, keepdim=True))
    for c in a.shrink:
        refine("z* + c (E(x) - z*) (c)", c, z_star + c * (z_enc - z_star))
    df = pd.DataFrame(rows)
    print(f"### basin reach: faces, σ² = {sigma2:g}, image {a.image} of {a.n_images} simulated (seed {a.seed}); "
          f"|E(x) − z*| = {float((z_enc - z_star).norm()):.2f}, |z*| = {float(z_star.norm()):.2f}; "
          f"{a.steps} L-BFGS iterations per start; reached: U within {a.reach:g} nats of U*\n")
    print(to_markdown(df, floatfmt=".2f"))
    print(f"\nseconds: {time.time() - t0:.0f}")


if __name__ == "__main__":
    main()
