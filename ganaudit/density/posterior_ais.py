"""Posterior-started AIS (the ``start="posterior"`` estimator of `ganaudit.density.ais`): the strata of one batch and the
forward (lower-bound) and reverse (BDMC upper-bound) runs through them.

The proposal ``q = π_0 N(0, I) + Σ_k π_k N(μ_k, Σ_k)`` comes from `ganaudit.density.posterior.find_modes`. Each chain
belongs to one mode ``k`` for its whole run (its mode is part of its state) and moves in the coordinates ``u`` that
the mode's Gaussian whitens, ``z = μ_k + s L_k⁻ᵀ u``; along the geometric bridge ``q^{1−β} p(x, z)^β`` the stratum of
mode ``k`` targets ``N_k(z) · (p(x, z)/q(z))^β``, whose normaliser at β = 1 is ``Z_k / π_k`` with
``Z_k = ∫ p(x, z) r_k(z) dz`` and ``r_k`` the mode's responsibility. The strata's estimates, weighted by ``π_k``,
add up to ``p(x) = Σ_k Z_k``; the defensive prior component is a stratum of plain importance sampling forward, and
an annealed stratum (``z = u``, base ``N(0, I)``, the same bridge) in reverse, so no reverse chain is a one-sample
weight.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor

from ganaudit.density.annealing import Streams, betas_of, dtype_of, run_chains
from ganaudit.density.posterior import allocate, find_modes, restrict
from ganaudit.density.target import energy, make_loglik
from ganaudit.models.base import device_of

DEFENSIVE_SEED_OFFSET = 1 << 40  # the defensive draws' streams: far from any image's own seed
REVERSE_SEED_OFFSET = 1 << 43  # reverse AIS's streams
PICK_SEED_OFFSET = 1 << 44  # reverse AIS's stratum picks: one stream per image


def pilot_evaluations(config) -> int:
    """Generator passes of one chain's pilot pass (0 without one)."""
    return 1 + (config.pilot_steps - 1) * config.n_leapfrog if config.step_tuning == "pilot" else 0


class Strata:
    """The proposal of one batch (`ganaudit.density.posterior`) and, for a given mode of each chain, the chains' coordinates:
    ``z = μ_k + s L_k⁻ᵀ u`` and the tempered part ``g(u) = log p(x, z) − log q(z)`` (without the likelihood's
    normaliser ``norm``) with its gradient in ``u``."""

    def __init__(self, generator, x, labels, sigma2, config, seeds, latents):
        self.n, self.c, self.d = x.shape[0], config.n_chains, generator.latent_dim
        self.device, self.dtype = device_of(generator, x.device), dtype_of(generator)
        self.x = x.to(self.device, self.dtype)
        self.labels = None if labels is None else labels.to(self.device)
        self.generator, self.sigma2 = generator, sigma2
        modes = find_modes(generator, self.x, self.labels, sigma2, config.search, latents, seeds)
        self.alloc = allocate(modes.log_weight, self.c)                        # [n, c] mode of each chain
        self.modes = restrict(modes, self.alloc)
        self.norm = -0.5 * math.prod(generator.image_shape) * math.log(2 * math.pi * sigma2)
        self.log_prior_norm = -0.5 * self.d * math.log(2 * math.pi)

    def log_joint(self, z: Tensor, reps: int) -> Tensor:
        """``log p(x, z)`` without ``norm`` for ``z [n * reps, d]`` (forward passes only), float64."""
        lab = None if self.labels is None else self.labels.repeat_interleave(reps, 0)
        return -energy(self.generator, z, self.x.repeat_interleave(reps, 0), lab, self.sigma2) + self.log_prior_norm

    def chains(self, mode: np.ndarray):
        """``(g, to_z, to_u)`` for chains whose modes are ``mode [n, c]`` (indices into the proposal's modes; ``−1``:
        the defensive prior component, whose chains move in ``z = u`` itself)."""
        n, c, d, s = self.n, self.c, self.d, self.modes.scale
        img = torch.arange(n, device=self.device).repeat_interleave(c)
        flat = np.asarray(mode).reshape(-1)
        prior = flat < 0
        which = torch.as_tensor(np.where(prior, 0, flat), device=self.device)
        mu, chol = self.modes.mu[img, which], self.modes.chol[img, which]       # [M, d], [M, d, d]
        if prior.any():   # the defensive rows: μ = 0, L = I, s = 1 (the forward run has none: unchanged bitwise)
            rows = torch.as_tensor(prior, device=self.device)
            mu = torch.where(rows[:, None], torch.zeros_like(mu), mu)
            chol = torch.where(rows[:, None, None], torch.eye(d, dtype=chol.dtype, device=self.device), chol)
            s = torch.where(rows, 1.0, float(s)).to(mu.dtype)[:, None]
        loglik = make_loglik(self.generator, self.x.repeat_interleave(c, 0),
                             None if self.labels is None else self.labels.repeat_interleave(c, 0), self.sigma2)

        def to_z(u: Tensor) -> Tensor:
            return mu + s * torch.linalg.solve_triangular(chol.transpose(1, 2), u[..., None], upper=True)[..., 0]

        def to_u(z: Tensor) -> Tensor:
            return torch.einsum("mji,mj->mi", chol, z - mu) / s

        def g(u: Tensor) -> tuple[Tensor, Tensor]:
            z = to_z(u)
            ll, grad_ll = loglik(z)
            logq, grad_q = self.modes.log_density(z.view(n, c, d))
            val = ll - 0.5 * z.double().pow(2).sum(1) + self.log_prior_norm - logq.reshape(-1)
            grad_z = grad_ll - z - grad_q.reshape(-1, d)
            return val, s * torch.linalg.solve_triangular(chol, grad_z[..., None], upper=False)[..., 0]

        return g, to_z, to_u


def posterior_batch(generator, x, labels, sigma2, config, seeds, latents):
    """Posterior-started AIS for one batch (module doc): mode search, strata, annealing, defensive draws."""
    st = Strata(generator, x, labels, sigma2, config, seeds, latents)
    n, c, d, device = st.n, st.c, st.d, st.device
    g, _, _ = st.chains(st.alloc)
    run = run_chains(g, config, betas_of(config), seeds, d, device, st.dtype, "posterior AIS")
    log_w = (run.log_w + st.norm).view(n, c)
    counts = torch.as_tensor(np.stack([np.bincount(a, minlength=st.modes.mu.shape[1]) for a in st.alloc]), device=device)
    alloc = torch.as_tensor(st.alloc, device=device)
    n_k = torch.gather(counts, 1, alloc).double()
    log_w = log_w + torch.gather(st.modes.log_weight, 1, alloc) - n_k.log() + math.log(c)
    # the defensive prior component: plain importance sampling (forward passes only)
    m0 = config.prior_draws
    z0 = Streams(seeds + DEFENSIVE_SEED_OFFSET, m0, d, device).normal().to(st.dtype)   # [n * m0, d]
    logq0, _ = st.modes.log_density(z0.view(n, m0, d))
    lw0 = (st.log_joint(z0, m0) + st.norm).view(n, m0) - logq0
    lw0 = lw0 + st.modes.log_prior_weight - math.log(m0) + math.log(c)
    best = st.modes.laplace.max(1).values + st.norm
    evals = st.modes.n_passes.cpu().numpy() + c * (config.gradient_evaluations + pilot_evaluations(config)) + m0
    return (log_w.cpu().numpy(), run.accept_rate.view(n, c).cpu().numpy(), run.n_divergent.view(n, c).cpu().numpy(),
            lw0.cpu().numpy(), st.alloc, best.cpu().numpy(), evals)


def posterior_reverse_batch(generator, x, z_true, labels, sigma2, config, seeds, latents=None):
    """Reverse posterior-started AIS (BDMC's upper bound) for one batch of simulated images with exact posterior
    samples ``z_true [n, d]`` (the proposal's search also started from ``latents [n, R, d]``, as the forward
    estimate's): each chain draws its component ``k`` from the proposal's responsibilities at
    ``z_true`` (with the defensive prior as ``k = 0``; one random stream per image), so ``(k, z_true)`` is an exact
    sample of the extended target, and anneals stratum ``k`` from β = 1 to 0. Every stratum anneals, the defensive
    one too (base ``N(0, I)``, target ``N(0, I) · (p(x, z)/q(z))^β``, whose normaliser at β = 1 is ``Z_0 / π_0``):
    where the proposal misses the posterior, the chains land in the defensive stratum and anneal along what is
    nearly the prior path instead of taking the one-sample weight ``q(z)/p(x, z)``. Then
    ``E[W] = Σ_k (Z_k / p(x)) · π_k / Z_k = 1 / p(x)``. The pilot tunes the step sizes on a forward run from the
    base (`ganaudit.density.annealing.run_chains`), never from ``z_true``.

    Returns per-chain ``log W`` float64 ``[n, c]``, ``accept_rate`` ``[n, c]``, ``n_divergent`` ``[n, c]`` and
    ``defensive`` float ``[n, c]`` (1.0 for a chain in the defensive stratum, else 0.0)."""
    st = Strata(generator, x, labels, sigma2, config, seeds, latents)
    n, c, d, device = st.n, st.c, st.d, st.device
    z = z_true.to(device, st.dtype)
    zc = z.repeat_interleave(c, 0)
    _, resp, _ = st.modes.mixture(zc.view(n, c, d))                           # [n, c, 1 + K]
    resp = resp.double().cpu()
    pick = np.stack([torch.multinomial(resp[i], 1, generator=torch.Generator(device="cpu").manual_seed(
        int(seeds[i]) + PICK_SEED_OFFSET)).view(c).numpy() for i in range(n)]) - 1   # −1: the defensive prior
    g, _, to_u = st.chains(pick)
    betas = betas_of(config)[::-1].copy()
    run = run_chains(g, config, betas, seeds + REVERSE_SEED_OFFSET, d, device, st.dtype, "reverse posterior AIS",
                     u0=to_u(zc))
    log_w = (run.log_w - st.norm).view(n, c)                                  # β from 1 to 0: the constant enters with −1
    return (log_w.cpu().numpy(), run.accept_rate.view(n, c).cpu().numpy(), run.n_divergent.view(n, c).cpu().numpy(),
            (pick < 0).astype(np.float64))
