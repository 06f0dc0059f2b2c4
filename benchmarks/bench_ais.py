"""Benchmark and validate `ganaudit.density.ais`.

Default mode (cost): on a small DCGAN-like generator (or ``--generator PATH``, a torch.save'd module
satisfying the Generator protocol) and one batch of ``images × chains`` latents, measure in one
process
  (a) the time of one AIS transition (HMC with ``n_leapfrog`` steps, MH test, weight bookkeeping),
  (b) the time of ``n_leapfrog`` plain forward+backward passes of the generator on the same batch,
their ratio (goal ≤ 1.10), images/s at the paper setting and peak memory; medians over repetitions.

``--validate`` (accuracy): on linear-Gaussian generators (D = 784, latent 16 and 64, σ² = 0.01 on the
model scale, W scaled so pixels spread ≈ 0.5 around their mean) and data simulated from them, compare
the ``paper`` and ``accurate`` presets (same 5000 gradient evaluations per chain) with the exact
log-likelihood.

    python benchmarks/bench_ais.py [--images 16 --chains 4 --reps 7 --out bench.json]
    python benchmarks/bench_ais.py --validate [--n-images 16 --out validate.json]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import resource
import statistics
import sys
import time

import numpy as np
import torch
from torch import nn

from ganaudit.density.ais import PRESETS, AISConfig
from ganaudit.density.bdmc import simulate, validate_on_ppca
from ganaudit.density.hmc import hmc_transition, init_state
from ganaudit.density.target import make_loglik
from ganaudit.models.ppca import random_linear_gaussian


class StandInDCGAN(nn.Module):
    """z=16 → Linear → 128×7×7 → ConvTranspose 64×14×14 → ConvTranspose 1×28×28, tanh."""

    def __init__(self, latent_dim: int = 16) -> None:
        super().__init__()
        self.latent_dim, self.image_shape, self.n_classes = latent_dim, (1, 28, 28), None
        self.fc = nn.Linear(latent_dim, 128 * 7 * 7)
        self.net = nn.Sequential(
            nn.BatchNorm2d(128), nn.ReLU(),
            nn.ConvTranspose2d(128, 64, 4, 2, 1), nn.BatchNorm2d(64), nn.ReLU(),
            nn.ConvTranspose2d(64, 1, 4, 2, 1), nn.Tanh(),
        )  # fmt: skip

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.net(self.fc(z).view(-1, 128, 7, 7))


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _median_time(fn, reps: int, device: torch.device) -> float:
    fn()  # warm-up
    times = []
    for _ in range(reps):
        _sync(device)
        t = time.perf_counter()
        fn()
        _sync(device)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def _prior_target(generator, x, labels, rows_labels, images, chains):
    return make_loglik(generator, x, rows_labels, 0.01)


def _posterior_target(generator, x, labels, rows_labels, images, chains):
    """The tempered part of posterior-started AIS: the mixture proposal, whitened coordinates, log p(x, z)."""
    from ganaudit.density.posterior_ais import Strata

    cfg = dataclasses.replace(PRESETS["posterior"], n_chains=chains, progress=False)
    strata = Strata(generator, x[::chains], labels, 0.01, cfg, np.arange(images), None)
    return strata.chains(strata.alloc)[0]


TARGETS = {"prior": _prior_target, "posterior": _posterior_target}
"""What one transition anneals, by estimator (``--start``)."""


def bench_cost(generator: nn.Module, images: int, chains: int, n_leapfrog: int, reps: int, device: torch.device,
               start: str = "prior") -> dict:
    """Time one AIS transition vs ``n_leapfrog`` plain forward+backward passes on ``images × chains`` rows.

    ``start="posterior"``: the transition of posterior-started AIS, whose tempered part also evaluates the mixture
    proposal and maps the chains' whitened coordinates to latents (triangular solves) at every leapfrog step."""
    generator = generator.to(device).eval()
    for p in generator.parameters():
        p.requires_grad_(False)
    m = images * chains
    g = torch.Generator().manual_seed(0)
    k = getattr(generator, "n_classes", None)
    labels = (torch.arange(images) % k).to(device) if k else None
    rows_labels = None if labels is None else labels.repeat_interleave(chains, 0)
    with torch.no_grad():
        x = generator(torch.randn(images, generator.latent_dim, generator=g).to(device), labels)
        x = (x + 0.1 * torch.randn(x.shape, generator=g).to(device)).repeat_interleave(chains, 0)
    f = TARGETS[start](generator, x, labels, rows_labels, images, chains)
    state = init_state(torch.randn(m, generator.latent_dim, generator=g).to(device), f, 0.05, 0.65)
    moms = torch.randn(m, generator.latent_dim, generator=g).to(device)
    logu = torch.rand(m, generator=g, dtype=torch.float64).log().to(device)
    log_w = torch.zeros(m, dtype=torch.float64, device=device)

    def transition() -> None:
        nonlocal state
        with torch.no_grad():
            log_w.add_(1e-4 * state.loglik)
        state, _, _ = hmc_transition(state, 0.5, f, moms, logu, n_leapfrog)

    z0 = state.z.clone()

    def plain() -> None:
        for _ in range(n_leapfrog):
            zq = z0.detach().requires_grad_(True)
            out = generator(zq, rows_labels)
            torch.autograd.grad(out, zq, grad_outputs=torch.ones_like(out))

    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    # interleave the two measurements so machine load affects both alike
    t_ais, t_plain = [], []
    for _ in range(reps):
        t_ais.append(_median_time(transition, 1, device))
        t_plain.append(_median_time(plain, 1, device))
    ta, tp = statistics.median(t_ais), statistics.median(t_plain)
    ratio_min = min(t_ais) / min(t_plain)  # least disturbed by other load on a shared machine
    paper = PRESETS["paper"]
    t_image = (ta * (paper.n_steps - 1) + tp / n_leapfrog) / images * (paper.n_chains / chains)
    out = {
        "start": start,
        "device": str(device),
        "threads": torch.get_num_threads(),
        "images": images,
        "chains": chains,
        "rows": m,
        "n_leapfrog": n_leapfrog,
        "transition_s": ta,
        "plain_fwd_bwd_s": tp,
        "ratio": ta / tp,
        "ratio_of_minima": ratio_min,
        "ratio_pairwise_median": statistics.median(a / p for a, p in zip(t_ais, t_plain)),
        "images_per_s_paper": 1.0 / t_image,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    if device.type == "cuda":
        out["peak_cuda_mb"] = torch.cuda.max_memory_allocated(device) / 2**20
    return out


def bench_validate(n_images: int, latents: list[int], configs: dict[str, AISConfig], seed: int = 0) -> list[dict]:
    """Mean/max abs and signed error (nats/image) of each config vs the exact PPCA log-likelihood."""
    rows = []
    for d in latents:
        model = random_linear_gaussian((1, 28, 28), d, seed=seed, scale=0.5)
        x, _ = simulate(model, n_images, 0.01, seed=seed + 1)
        for name, cfg in configs.items():
            cfg = dataclasses.replace(cfg, progress=False, batch_size=n_images)
            t = time.perf_counter()
            r = validate_on_ppca(model, x, 0.01, config=cfg, seed=seed + 2)
            rows.append({
                "latent_dim": d, "config": name, "n_steps": cfg.n_steps, "n_leapfrog": cfg.n_leapfrog,
                "schedule": cfg.schedule, "mean_abs_error": r["mean_abs_error"], "mean_error": r["mean_error"],
                "max_abs_error": r["max_abs_error"], "accept_rate": float(r["result"].accept_rate.mean()),
                "seconds": time.perf_counter() - t,
            })  # fmt: skip
            print(_fmt_row(rows[-1]), flush=True)
    return rows


def _fmt_row(r: dict) -> str:
    return (f"| {r['latent_dim']:>6} | {r['config']:<22} | {r['n_steps']:>5}x{r['n_leapfrog']:<2} | {r['schedule']:<9} | "
            f"{r['mean_abs_error']:>8.3f} | {r['mean_error']:>8.3f} | {r['max_abs_error']:>8.3f} | {r['accept_rate']:>5.2f} | {r['seconds']:>6.1f} |")  # fmt: skip


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--validate", action="store_true", help="accuracy of the presets on linear-Gaussian models")
    ap.add_argument("--generator", help="a ganaudit checkpoint (results/models/{model}/generator.pt) "
                    "(default: a DCGAN-like stand-in)")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--images", type=int, default=16, help="images per batch (cost mode)")
    ap.add_argument("--chains", type=int, default=4)
    ap.add_argument("--start", choices=["prior", "posterior"], default="prior", help="which AIS transition (cost mode)")
    ap.add_argument("--n-leapfrog", type=int, default=10)
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: leave as is)")
    ap.add_argument("--n-images", type=int, default=16, help="images per model (validate mode)")
    ap.add_argument("--latents", default="16,64")
    ap.add_argument("--out", help="write the results as JSON here")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    if args.validate:
        print("| latent | config                 | steps x L | schedule  | mean|err| | mean err |  max|err| |  acc |    s   |")
        print("|-------:|:-----------------------|----------:|:----------|---------:|---------:|---------:|-----:|-------:|")
        rows = bench_validate(args.n_images, [int(s) for s in args.latents.split(",")], dict(PRESETS))
        summary = {}
        for d in sorted({r["latent_dim"] for r in rows}):
            err = {r["config"]: r["mean_abs_error"] for r in rows if r["latent_dim"] == d}
            summary[d] = err["paper"] / err["accurate"]
            print(f"latent {d}: paper / accurate mean|err| = {summary[d]:.1f}x")
        result = {"mode": "validate", "rows": rows, "improvement": summary}
    else:
        if args.generator:
            from ganaudit.models.registry import load_generator

            gen = load_generator(args.generator, args.device)
        else:
            gen = StandInDCGAN()
        r = bench_cost(gen, args.images, args.chains, args.n_leapfrog, args.reps, torch.device(args.device), args.start)
        print("| quantity | value |\n|:--|--:|")
        for k, v in r.items():
            print(f"| {k} | {v:.4g} |" if isinstance(v, float) else f"| {k} | {v} |")
        result = {"mode": "cost", **r}
    if args.out:
        with open(args.out, "w") as fh:
            json.dump(result, fh, indent=2, default=float)
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
