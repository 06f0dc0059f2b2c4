"""Cost and memory of the density stage against the latent size and the image size (issue 18, item 3).

For every latent size ``d`` (``--dims``) and image size (``--sizes``), a StyleGAN2-shaped generator
(`ganaudit.models.stylegan.StyleGANLike`, seeded random weights, ``--channel-base`` / ``--channel-max``: 32768 / 512
is StyleGAN2's width, 512 channels up to 64²) and one image it made (plus noise, σ² = ``--sigma2``), three phases
are measured, each in a fresh subprocess:

* **pass**: one plain forward + backward pass of one latent (the unit a user can time on their own GAN);
* **inversion**: `ganaudit.manifold.inversion.invert` of the image (``--inv-candidates`` pool latents,
  one restart, ``--inv-steps`` Adam steps);
* **curvature_chunk** (opt-in, ``--phases``): one chunk of the curvature's JVPs, as many directions as
  `ganaudit.density.curvature.plan_chunks` gives under ``--memory-mb``, beside the float32 Jacobian of all ``d``
  directions; the curvature repeats it ``d / chunk`` times, so this is its peak where a full run takes too long;
* **estimator**: posterior-started AIS (`ganaudit.density.ais`, the ``posterior`` preset) with tiny budgets: one
  search restart of ``--search-steps`` steps from a pool of ``--search-candidates``, one mode, ``--gn-steps``
  Gauss–Newton steps, ``--ais-steps`` temperatures, one chain, one defensive draw, and the curvature under
  ``--memory-mb`` (`ganaudit.density.posterior.SearchConfig` ``memory_mb``; 0 = no budget).

Per phase and image: generator passes (forward or forward+backward rows the generator was called with; for the
estimator its own count, `ganaudit.density.ais.AISResult` ``evaluations``, where a JVP direction is one pass),
``pass_live_mib`` (the live activations of one forward pass, `ganaudit.density.curvature.pass_bytes`, what the budget
planner reads),
seconds, and the peak memory: the peak resident set during the measured call (``VmHWM``, reset just before it) less
the resident set just before it (`MALLOC_ENV`: freed blocks go back to the system), in a fresh process where the
model was built, one forward+backward warm-up pass made and the phase run once on a tiny generator (its code and
libraries loaded). The passes of the phases scale linearly with their
steps (a full budget's cost is the pass's × its passes, see `ganaudit.density.ais.cost`); the peak memory does not
depend on the number of steps. Seconds depend on the machine and its load.

    .venv/bin/python benchmarks/bench_scale.py --out benchmarks/out/scale              # reduced width, 3×3 grid
    .venv/bin/python benchmarks/bench_scale.py --channel-base 32768 --channel-max 512 --dims 16 --out ...
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from torch import Tensor, nn

from ganaudit.artifacts.tables import write_table
from ganaudit.density.ais import PRESETS, ais_log_likelihood
from ganaudit.density.curvature import jacobian, pass_bytes, plan_chunks
from ganaudit.manifold.inversion import InversionConfig, invert
from ganaudit.models.stylegan import StyleGANLike

PHASES = ("pass", "inversion", "estimator")
#: opt-in: one chunk of the curvature's JVPs as `ganaudit.density.curvature.plan_chunks` sizes it under
#: ``--memory-mb``, beside the float32 Jacobian buffer of all ``d`` directions that the curvature holds (the
#: curvature repeats this chunk ``d / chunk`` times, so its peak is this one's; for sizes whose full run is too slow)
PROBES = ("curvature_chunk",)
#: glibc keeps freed blocks below its dynamic mmap threshold in the heap, so a process's resident set can stay above
#: what it uses; a fixed threshold returns every large block to the system when it is freed, so ``ru_maxrss``
#: follows the live memory
MALLOC_ENV = {"MALLOC_MMAP_THRESHOLD_": "65536", "MALLOC_TRIM_THRESHOLD_": "0"}


class Counting(nn.Module):
    """A generator wrapper that counts the latent rows of its calls (a vmapped chunk of directions is one call)."""

    def __init__(self, g: StyleGANLike) -> None:
        super().__init__()
        self.g = g
        self.latent_dim, self.image_shape, self.n_classes = g.latent_dim, g.image_shape, None
        self.rows = 0

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        self.rows += int(z.shape[0])
        return self.g(z)


def maxrss_mib() -> float:
    """This process's peak resident set since the last `reset_peak` (MiB): ``VmHWM``, else ``ru_maxrss``."""
    try:
        return _status_kib("VmHWM") / 1024
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _status_kib(key: str) -> int:
    text = Path("/proc/self/status").read_text()
    return int(text.split(f"{key}:", 1)[1].split()[0])


def reset_peak() -> float:
    """Reset the peak resident set to the current one (Linux: ``5`` into ``/proc/self/clear_refs``) and return the
    current resident set (MiB), the state the measured call starts from. Where that is not possible, the peak so
    far (so the growth reported is a lower bound: what rises above the warm-ups' peak)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return _status_kib("VmRSS") / 1024
    except OSError:
        return maxrss_mib()


def measure(d: int, size: int, phase: str, args: argparse.Namespace) -> dict[str, Any]:
    """One phase of one configuration, in this (fresh) process: passes, seconds, peak memory growth (MiB)."""
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    # as the pipeline loads a generator (`ganaudit.models.registry.load_generator`): eval mode, weights frozen
    g = Counting(StyleGANLike(d, size, channel_base=args.channel_base, channel_max=args.channel_max, seed=0)
                 .eval().requires_grad_(False))
    gen = torch.Generator().manual_seed(1)
    z_true = torch.randn(1, d, generator=gen)
    with torch.no_grad():
        x = g(z_true) + math.sqrt(args.sigma2) * torch.randn(1, *g.image_shape, generator=gen)
    zw = torch.randn(1, d, requires_grad=True)  # warm-up: one forward + backward pass
    g(zw).pow(2).sum().backward()
    tiny = Counting(StyleGANLike(4, 8, w_dim=8, mapping_layers=1, channel_base=16, channel_max=4, seed=0)
                    .eval().requires_grad_(False))
    with torch.no_grad():
        tiny_x = tiny(torch.zeros(1, 4))
    run(tiny, tiny_x, phase, args)  # the phase once on a tiny generator: its code and libraries loaded, little memory
    g.rows = 0
    before = reset_peak()
    t0 = time.perf_counter()
    passes = run(g, x, phase, args)
    seconds = time.perf_counter() - t0
    return {"d": d, "image": f"3×{size}×{size}", "phase": phase, "passes": passes, "seconds": round(seconds, 2),
            "peak_mib": round(maxrss_mib() - before, 1), "pass_live_mib": round(pass_bytes(g, z_true, None) / 2**20, 1)}


def run(g: Counting, x: Tensor, phase: str, args: argparse.Namespace) -> int:
    """Run one phase on the image ``x``; its generator passes."""
    d = g.latent_dim
    if phase == "pass":
        zz = torch.randn(1, d, requires_grad=True)
        g(zz).pow(2).sum().backward()
        return g.rows
    if phase == "inversion":
        invert(g, x, config=InversionConfig(n_candidates=args.inv_candidates, n_restarts=1, n_steps=args.inv_steps,
                                            batch_size=1, pool_batch_size=args.inv_candidates, progress=False))
        return g.rows
    if phase == "curvature_chunk":
        z = torch.randn(1, d)
        n_pixels = math.prod(g.image_shape)
        plan = plan_chunks(1, d, n_pixels, PRESETS["posterior"].search.jacobian_chunk, args.memory_mb,
                           pass_bytes(g, z, None))
        held = torch.zeros(1, n_pixels, d)  # the Jacobian the curvature fills, touched (resident)
        k = plan.chunk

        def first_k(u: Tensor, labels: Tensor | None = None) -> Tensor:  # G with only the chunk's directions free
            return g(torch.cat([u, z[:, k:].expand(u.shape[0], -1)], 1))

        held[:, :, :k] = jacobian(first_k, z[:, :k], None, k)  # one batched pass over the chunk's k directions
        g.rows = k
        return k
    post = PRESETS["posterior"]
    search = dataclasses.replace(post.search, search_restarts=1, extra_restarts=0, smc_particles=0,
                                 search_candidates=args.search_candidates, search_steps=args.search_steps,
                                 screen_steps=0, n_modes=1, gn_steps=args.gn_steps, memory_mb=args.memory_mb)
    cfg = dataclasses.replace(post, n_steps=args.ais_steps, n_chains=1, prior_draws=1, batch_size=1, search=search,
                              progress=False)
    res = ais_log_likelihood(g, x, args.sigma2, config=cfg, seed=0)
    assert res.evaluations is not None
    return int(res.evaluations[0])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dims", type=int, nargs="+", default=[16, 100, 512])
    ap.add_argument("--sizes", type=int, nargs="+", default=[28, 64, 256])
    ap.add_argument("--channel-base", type=int, default=4096)
    ap.add_argument("--channel-max", type=int, default=64)
    ap.add_argument("--sigma2", type=float, default=0.01)
    ap.add_argument("--memory-mb", type=float, default=1024.0)
    ap.add_argument("--inv-candidates", type=int, default=4)
    ap.add_argument("--inv-steps", type=int, default=4)
    ap.add_argument("--search-candidates", type=int, default=4)
    ap.add_argument("--search-steps", type=int, default=2)
    ap.add_argument("--gn-steps", type=int, default=0)
    ap.add_argument("--ais-steps", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--phases", nargs="+", default=list(PHASES), choices=PHASES + PROBES)
    ap.add_argument("--out", type=Path, default=Path("benchmarks/out/scale"), help="writes OUT.csv and OUT.md")
    ap.add_argument("--one", nargs=3, metavar=("D", "SIZE", "PHASE"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(measure(int(args.one[0]), int(args.one[1]), args.one[2], args)))
        return
    rows = []
    passthrough = list(sys.argv[1:])
    for size in args.sizes:
        for d in args.dims:
            for phase in args.phases:
                out = subprocess.run([sys.executable, __file__, *passthrough, "--one", str(d), str(size), phase],
                                     capture_output=True, text=True, env={**os.environ, **MALLOC_ENV})
                if out.returncode:
                    raise SystemExit(f"d={d} size={size} {phase}: failed\n{out.stderr[-3000:]}")
                row = json.loads(out.stdout.strip().splitlines()[-1])
                print(row, flush=True)
                rows.append(row)
    df = pd.DataFrame(rows)
    base = df[df.phase == "pass"].set_index(["d", "image"])
    if len(base):
        key = list(zip(df.d, df.image))
        df["passes_per_pass_s"] = [round(s / base.loc[k, "seconds"], 1) if k in base.index else float("nan")
                                   for s, k in zip(df.seconds, key)]
        df["peak_vs_pass"] = [round(m / max(base.loc[k, "peak_mib"], 1.0), 2) if k in base.index else float("nan")
                              for m, k in zip(df.peak_mib, key)]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    notes = [f"StyleGANLike channel_base={args.channel_base}, channel_max={args.channel_max}, 8 mapping layers, w 512; "
             f"σ²={args.sigma2}; estimator memory_mb={args.memory_mb}; inversion {args.inv_candidates} candidates × "
             f"{args.inv_steps} steps; estimator: search {args.search_candidates} candidates, {args.search_steps} steps, "
             f"1 mode, {args.gn_steps} Gauss–Newton steps, {args.ais_steps} AIS temperatures, 1 chain; "
             f"{args.threads} thread(s). passes_per_pass_s: the phase's seconds in units of the plain pass's seconds; "
             "peak_vs_pass: its peak memory in units of the pass's. Peak: peak resident set (VmHWM, reset before the "
             "call) less the resident set before it, in a fresh process (glibc's mmap threshold fixed at 64 KiB) after "
             "a warm-up pass and the phase on a tiny generator. Seconds measured on a shared machine.",
             "Command: " + " ".join(["benchmarks/bench_scale.py", *passthrough])]
    write_table(df, args.out.with_suffix(".csv"), args.out.with_suffix(".md"), title="bench_scale", notes=notes)
    print(args.out.with_suffix(".md").read_text())


if __name__ == "__main__":
    main()
