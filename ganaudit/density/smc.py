"""Tempered sequential Monte Carlo over a generator's latent posterior: where the mode search looks.

Gradient descent finds the basin nearest its start. On an image off the generator's manifold the basin with the
most posterior mass is often far from every start that looks close in pixel space, so descent from the nearest
pool latents misses it (benchmarks/bench_posterior_ais.py; measured on the default GAN: the best of 256 such
descents stayed 95–155 nats below what tempering found on two of seven hard images). Tempering finds basins by
their mass: particles drawn from the prior pass through the targets

    π_β(z) ∝ N(z; 0, I) · p(x | z)^β,        β from 0 to 1,

are reweighted by ``p(x | z)^Δβ`` and resampled at every step (particles in heavy basins multiply, the others
die out), and move by Metropolis-adjusted Langevin (MALA) steps between resamplings.

* The next β keeps the effective sample size of the step's weights at ``ess`` × the particles (bisection).
* MALA is preconditioned by the particles' per-coordinate spread, and its step scale follows the population's
  acceptance rate (towards 0.57, MALA's optimum).

Both adapt to the run. That is allowed here and only here: the particles decide where the mode search descends,
and the proposal of posterior-started AIS depends on ``x`` and the search's own random numbers, never on the AIS
draws, so the estimate of ``p(x)`` stays unbiased whatever the particles found.

Reproducibility: every draw of image ``i`` comes from ``torch.Generator(seed[i])``; each image tempers at its own
pace and stops when its β reaches 1 (or after ``max_temps`` temperatures, the last of which jumps to β = 1), so an
image's particles do not depend on which images share its batch.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from ganaudit.density.hmc import sanitize
from ganaudit.density.target import make_loglik
from ganaudit.models.base import Generator

MALA_ACCEPT = 0.57  # the acceptance rate MALA's step scale aims for (Roberts & Rosenthal 1998)


def next_beta(loglik: Tensor, beta: Tensor, ess: float, last: Tensor) -> Tensor:
    """``[A]`` float64: the next inverse temperature of each image, from ``loglik [A, P]`` (float64) at ``beta [A]``:
    the largest step whose weights ``Δβ · loglik`` keep an effective sample size of ``ess · P``, all the way to 1
    where that keeps it (or where ``last``)."""
    room = 1.0 - beta
    finite = torch.isfinite(loglik)
    ll = torch.where(finite, loglik, torch.full_like(loglik, -torch.inf))

    def ess_of(step: Tensor) -> Tensor:
        w = step[:, None] * ll
        w = torch.where(finite, w, torch.full_like(w, -torch.inf))
        return torch.exp(2 * torch.logsumexp(w, 1) - torch.logsumexp(2 * w, 1))

    target = ess * loglik.shape[1]
    lo, hi = torch.zeros_like(beta), room.clone()
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        ok = ess_of(mid) >= target
        lo, hi = torch.where(ok, mid, lo), torch.where(ok, hi, mid)
    step = torch.where((ess_of(room) >= target) | last, room, torch.maximum(lo, 1e-6 * room))
    return torch.minimum(beta + step, torch.ones_like(beta))


def _systematic(log_w: Tensor, gens: list[torch.Generator]) -> Tensor:
    """``[A, P]`` long: systematic resampling of each row of ``log_w [A, P]`` (one uniform per image)."""
    a, p = log_w.shape
    w = torch.softmax(log_w, 1).cpu()
    u = torch.cat([torch.rand(1, generator=g, dtype=torch.float64) for g in gens])        # [A]
    pos = (u[:, None] + torch.arange(p, dtype=torch.float64)) / p
    cdf = w.cumsum(1)
    cdf[:, -1] = 1.0
    return torch.searchsorted(cdf, pos).clamp_max(p - 1).to(log_w.device)


def temper(generator: Generator, x: Tensor, labels: Tensor | None, sigma2: float, particles: int, moves: int,
           seeds: np.ndarray, ess: float = 0.5, max_temps: int = 100, step: float = 0.5) -> tuple[Tensor, Tensor, np.ndarray]:
    """Tempered SMC (module doc) for each image of ``x [n, C, H, W]`` (model scale, ``labels [n]`` or None):
    the particles at β = 1 ``[n, particles, d]``, their energies ``U = |z|²/2 + |x − G(z)|²/(2σ²)`` float64
    ``[n, particles]``, and the generator passes (forward + backward, all particles) each image spent ``[n]``."""
    n, p, d = x.shape[0], int(particles), generator.latent_dim
    device, dtype = x.device, x.dtype
    gens = [torch.Generator(device="cpu").manual_seed(int(s)) for s in seeds]
    z = torch.cat([torch.randn(p, d, generator=g) for g in gens]).to(device, dtype)            # [n p, d]
    xr = x.repeat_interleave(p, 0)
    lr = None if labels is None else labels.repeat_interleave(p, 0)
    ll, grad, _ = sanitize(*make_loglik(generator, xr, lr, sigma2)(z))
    beta = torch.zeros(n, dtype=torch.float64, device=device)
    scale = torch.full((n,), float(step), dtype=torch.float64, device=device)
    temps = np.zeros(n, dtype=np.int64)
    passes = np.ones(n, dtype=np.int64)
    while True:
        active = np.nonzero((beta.cpu().numpy() < 1.0) & (temps < max_temps))[0]
        if not len(active):
            break
        a = len(active)
        act = torch.as_tensor(active, device=device)
        rows = (act[:, None] * p + torch.arange(p, device=device)).flatten()
        agens = [gens[i] for i in active]
        lla = ll[rows].view(a, p)
        new = next_beta(lla, beta[act], ess, torch.as_tensor(temps[active] + 1 >= max_temps, device=device))
        pick = _systematic((new - beta[act])[:, None] * lla, agens)                          # [a, p]
        src = (act[:, None] * p + pick).flatten()
        z[rows], ll[rows], grad[rows] = z[src], ll[src], grad[src]
        beta[act] = new
        temps[active] += 1
        loglik = make_loglik(generator, xr[rows], None if lr is None else lr[rows], sigma2)
        b = new.repeat_interleave(p)[:, None]                                                # [a p, 1] float64
        for _ in range(moves):
            za, lla_, ga = z[rows], ll[rows], grad[rows]
            sd = za.view(a, p, d).std(1, keepdim=True).clamp_min(1e-3).expand(a, p, d).reshape(-1, d)
            h = (scale[act].repeat_interleave(p)[:, None] * sd.double()).to(dtype)            # per-coordinate step
            noise = torch.cat([torch.randn(p, d, generator=g) for g in agens]).to(device, dtype)
            logu = torch.cat([torch.rand(p, generator=g, dtype=torch.float64) for g in agens]).log().to(device)
            drift = -za + b.to(dtype) * ga                                                   # ∇ log π_β
            zp = za + 0.5 * h.pow(2) * drift + h * noise
            llp, gp, _ = sanitize(*loglik(zp))
            drift_p = -zp + b.to(dtype) * gp
            log_pi = -0.5 * za.double().pow(2).sum(1) + b[:, 0] * lla_
            log_pi_p = -0.5 * zp.double().pow(2).sum(1) + b[:, 0] * llp
            fwd = ((zp - za - 0.5 * h.pow(2) * drift) / h).double().pow(2).sum(1)
            bwd = ((za - zp - 0.5 * h.pow(2) * drift_p) / h).double().pow(2).sum(1)
            log_a = log_pi_p - log_pi - 0.5 * bwd + 0.5 * fwd
            acc = logu < torch.nan_to_num(log_a, nan=-torch.inf)
            z[rows] = torch.where(acc[:, None], zp, za)
            ll[rows] = torch.where(acc, llp, lla_)
            grad[rows] = torch.where(acc[:, None], gp, ga)
            rate = acc.double().view(a, p).mean(1)
            scale[act] = scale[act] * torch.exp(0.5 * (rate - MALA_ACCEPT))
            passes[active] += 1
    energy = 0.5 * z.double().pow(2).sum(1) - ll
    return z.view(n, p, d), energy.view(n, p), passes * p


def best_distinct(z: Tensor, energy: Tensor, k: int, tol: float = 1e-3) -> Tensor:
    """``[n, k, d]``: each image's ``k`` lowest-energy particles that differ (by more than ``tol``), after
    resampling many are copies; an image with fewer distinct ones repeats its best."""
    n = z.shape[0]
    out = torch.empty(n, k, z.shape[2], dtype=z.dtype, device=z.device)
    for i in range(n):
        chosen: list[int] = []
        for j in energy[i].argsort().tolist():
            if all(float((z[i, j] - z[i, c]).norm()) > tol for c in chosen):
                chosen.append(j)
            if len(chosen) == k:
                break
        chosen += [chosen[0]] * (k - len(chosen))
        out[i] = z[i, chosen]
    return out
