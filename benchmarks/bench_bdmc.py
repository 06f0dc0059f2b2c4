"""BDMC on images simulated from a GAN, with a config's estimator (issue 17, item 3): does the reverse run bound?

For ``--images`` images simulated from the GAN (`ganaudit.density.bdmc.simulate`, seed ``--seed``), with the AIS
setting of ``--config`` (its ``ais`` section: preset + overrides) and its σ²:

* **forward**: the estimator's lower bound (`ais_log_likelihood`), the same call `bdmc` makes;
* **reverse 1×** and **reverse 4×**: the reverse upper bound (`ais_upper_bound`) at the config's temperatures and at
  ``--factor`` × them, from the same exact samples with the same seeds;
* per image: the fraction of reverse chains whose ``log W`` is the same to 1e-9 at 1× and 4× (a chain that takes
  the one-sample weight, or never moves, gives the same number at any schedule: **degenerate**), and, where the
  library reports them, the fraction in the proposal's defensive stratum and of chains that never moved;
* generator passes: the forward's per image (``evaluations``), the reverse's ``1 + (T − 1)·n_leapfrog`` per chain
  plus its pilot.

Run it once with this tree's code and once with the code before the change (``PYTHONPATH`` pointing at an export of
that commit's ``ganaudit/``) to compare; ``--label`` names the row::

    git archive 81971c2 ganaudit | tar -x -C /tmp/bdmc_before
    PYTHONPATH=/tmp/bdmc_before .venv/bin/python benchmarks/bench_bdmc.py --config configs/faces.yaml --label before
    .venv/bin/python benchmarks/bench_bdmc.py --config configs/faces.yaml --label after

``--encoder`` takes a saved encoder (rule ``train_encoder``'s ``results/encoders/{model}.pt``): its ``E(x)`` joins the
forward estimator's mode search as the pipeline's ``ais`` rule adds it (`ganaudit.density.encoder.add_encoder_start`);
the reverse chains' proposal gets it too (as `ganaudit.density.bdmc.bdmc` gives it to both directions), so a basin
the search misses shows as that image's gap. ``--generator``/``--sigma`` take a finished run's generator and σ² JSON
instead of the config's model (e.g. the smoke run's ``results/models/gan.pt`` and ``results/models/gan_sigma.json``).
Results go to ``--out`` (JSON, appended by label). Seconds are wall-clock on whatever machine runs it (a shared one:
compare passes, not seconds).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path

import numpy as np
import torch
import yaml

from ganaudit.density import ais, bdmc


def load(config: dict, generator_path: str | None):
    """The config's first model (or a saved generator) on the CPU."""
    from ganaudit.models import registry

    if generator_path:
        return registry.load_generator(generator_path, torch.device("cpu"))
    from ganaudit.models.adapters.kinds import load_generator

    return load_generator(next(iter(config["models"].values())), "cpu")


def passes(cfg: ais.AISConfig) -> int:
    """Generator passes of one reverse chain (its pilot included)."""
    pilot = 1 + (cfg.pilot_steps - 1) * cfg.n_leapfrog if cfg.step_tuning == "pilot" else 0
    return 1 + (cfg.n_steps - 1) * cfg.n_leapfrog + pilot


def run(config_path: str, generator_path: str | None, sigma_path: str | None, n: int, seed: int, factor: int,
        label: str, encoder_path: str | None = None) -> dict:
    config = yaml.safe_load(Path(config_path).read_text())
    torch.set_num_threads(int(config.get("threads", 1)))
    G = load(config, generator_path)
    sigma2 = (json.loads(Path(sigma_path).read_text())["sigma2_model_scale"] if sigma_path
              else float(config["sigma"]["value"]))
    cfg = ais.config_from_params({**config["ais"]}, progress=False)
    labels = (torch.arange(n) % G.n_classes) if G.n_classes else None
    x, z = bdmc.simulate(G, n, sigma2, labels, seed)
    t0 = time.time()
    fwd, starts = cfg, None
    if encoder_path:
        from ganaudit.density.encoder import add_encoder_start, load_encoder

        fwd, starts = add_encoder_start(cfg, None, load_encoder(encoder_path), x, G.n_classes)
    latents = None if starts is None else torch.as_tensor(starts[:, 0])
    lo = ais.ais_log_likelihood(G, x, sigma2, labels, fwd, seed=seed + 1_000_003, latents=latents)
    t1 = time.time()
    ups = {}
    for f in (1, factor):   # the reverse chains' proposal has the encoder's start too, as the forward one
        c = dataclasses.replace(fwd, n_steps=cfg.n_steps * f)
        s = time.time()
        extra = {} if latents is None else {"latents": latents}   # (the code before the change takes none)
        ups[f] = (bdmc.ais_upper_bound(G, x, z, sigma2, labels, c, seed=seed + 2_000_003, **extra),
                  time.time() - s, passes(c))
    up1, up4 = ups[1][0], ups[factor][0]
    same = np.isclose(up1.log_w, up4.log_w, rtol=0, atol=1e-9)
    out = {"label": label, "config": config_path, "encoder": encoder_path, "n_images": n, "sigma2": sigma2,
           "n_steps": cfg.n_steps, "n_chains": cfg.n_chains, "factor": factor,
           "lower": lo.log_px.tolist(), "upper_1x": up1.log_px.tolist(), f"upper_{factor}x": up4.log_px.tolist(),
           "lower_mean": float(lo.log_px.mean()), "upper_1x_mean": float(up1.log_px.mean()),
           f"upper_{factor}x_mean": float(up4.log_px.mean()),
           "gap_1x": float(np.mean(up1.log_px - lo.log_px)), f"gap_{factor}x": float(np.mean(up4.log_px - lo.log_px)),
           "same_at_both_schedules_per_image": same.mean(1).tolist(),
           "forward_passes_per_image": (lo.evaluations.tolist() if lo.evaluations is not None else None),
           "reverse_passes_per_chain": {f"{f}x": ups[f][2] for f in ups},
           "seconds": {"forward": t1 - t0, **{f"reverse_{f}x": ups[f][1] for f in ups}}}
    for f, (r, _, _) in ups.items():   # the library's own per-image reports, where it has them (after the change)
        if hasattr(r, "defensive_fraction"):
            out[f"defensive_per_image_{f}x"] = r.defensive_fraction.tolist()
            out[f"never_moved_per_image_{f}x"] = r.degenerate_fraction.tolist()
            out[f"accept_rate_{f}x"] = float(np.nanmean(r.accept_rate))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--config", default="configs/faces.yaml")
    ap.add_argument("--generator", default=None)
    ap.add_argument("--sigma", default=None)
    ap.add_argument("--images", type=int, default=4)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--factor", type=int, default=4)
    ap.add_argument("--label", default="after")
    ap.add_argument("--out", default="benchmarks/out/bdmc.json")
    ap.add_argument("--encoder", default=None, help="a saved encoder: E(x) joins the search, in both directions")
    a = ap.parse_args()
    res = run(a.config, a.generator, a.sigma, a.images, a.seed, a.factor, a.label, a.encoder)
    path = Path(a.out)
    path.parent.mkdir(parents=True, exist_ok=True)
    old = json.loads(path.read_text()) if path.exists() else {}
    old[f"{a.label} {a.config}{' ' + a.generator if a.generator else ''}"] = res
    path.write_text(json.dumps(old, indent=1))
    print(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
