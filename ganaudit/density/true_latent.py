"""The mode search against the true latent: on images simulated from the model, what the search misses.

For ``x = G(z*) + σ ε`` with ``z* ~ N(0, I)`` (`ganaudit.density.bdmc.simulate`), ``z*`` lies in the basin of the
posterior that holds its mass (for ``D ≫ d`` the posterior concentrates around ``z*``). So:

* `search_gap`: the energy ``U = −log p(x, z)`` (and ``log p(x | z)``) at the best mode the posterior start's
  search reaches, against the true latent's, refined by Levenberg–Marquardt to the bottom of its basin. A gap of
  ``ΔU`` nats means the search missed (or did not descend into) the basin by about that much of ``log p(x)``.
* `true_latent_check`: the same, plus the estimator's ``log p(x)`` against the same estimator whose search is also
  started at the true latent, at each budget factor (`ganaudit.density.ais.AISConfig.scaled`); the largest factor
  is the reference the estimate should reach.

The true latent enters only this diagnostic, never an estimate a run reports: a proposal that depends on ``z*``
is still unbiased for ``p(x)`` (``z*`` is independent of the chains), but a real image has no ``z*``.
"""

from __future__ import annotations

import dataclasses

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from ganaudit.density.ais import AISConfig, ais_log_likelihood, check_inputs
from ganaudit.density.estimators import image_seeds
from ganaudit.density.posterior import SearchConfig, _gauss_newton, _lbfgs, find_modes
from ganaudit.models.base import Generator, device_of


@dataclass(frozen=True)
class SearchGap:
    """Per image ``[n]`` (float64, nats): ``energy_search`` and ``energy_true``, ``U`` at the search's best mode
    and at the refined true latent; ``loglik_search`` and ``loglik_true``, ``log p(x | z)`` there (with its
    normaliser); ``passes`` the search's generator passes (int)."""

    energy_search: np.ndarray
    energy_true: np.ndarray
    loglik_search: np.ndarray
    loglik_true: np.ndarray
    passes: np.ndarray

    @property
    def gap(self) -> np.ndarray:
        """``[n]`` ``U(search) − U(true)``: positive where the search stopped above the true latent's basin."""
        return self.energy_search - self.energy_true


@dataclass(frozen=True)
class TrueLatentCheck:
    """`SearchGap` plus ``log_px [n]`` (the estimator as configured), ``factors [F]`` and ``log_px_true [F, n]``
    (the estimator at each budget factor with its search also started at the true latent)."""

    search: SearchGap
    log_px: np.ndarray
    factors: np.ndarray
    log_px_true: np.ndarray

    @property
    def error(self) -> np.ndarray:
        """``[n]`` the estimate minus the reference (the true-latent start at the largest factor)."""
        return self.log_px - self.log_px_true[int(np.argmax(self.factors))]


def _loglik(energy: Tensor, z: Tensor, dim: int, sigma2: float) -> np.ndarray:
    """``log p(x | z)`` from ``U(z) = |z|²/2 + |x − G(z)|²/(2σ²)``, with the Gaussian normaliser."""
    return (-(energy - 0.5 * z.double().pow(2).sum(1)) - 0.5 * dim * math.log(2 * math.pi * sigma2)).cpu().numpy()


def search_gap(generator: Generator, x: Tensor, z_true: Tensor, sigma2: float, search: SearchConfig,
               labels: Tensor | None = None, latents: Tensor | None = None, seed: int | np.ndarray = 0,
               refine_steps: int = 10, refine_polish: int = 0) -> SearchGap:
    """The search's best mode against the true latent (module doc). ``x [n, C, H, W]`` on the model scale,
    ``z_true [n, d]``, ``latents [n, R, d]`` the starts the caller gives the search (e.g. the inversion's
    restarts), ``seed`` as in `ganaudit.density.ais.ais_log_likelihood`; ``refine_polish`` L-BFGS iterations then
    ``refine_steps`` Levenberg–Marquardt steps take the true latent to the bottom of its basin (a step is kept only
    where ``U`` decreases)."""
    x, labels = check_inputs(generator, x, sigma2, labels)
    n, dim = x.shape[0], math.prod(generator.image_shape)
    device = device_of(generator, x.device)
    x = x.to(device).float()
    labels = None if labels is None else labels.to(device)
    modes = find_modes(generator, x, labels, sigma2, search, latents, image_seeds(seed, n))
    u = torch.where(torch.isfinite(modes.laplace), modes.energy, torch.full_like(modes.energy, math.inf))
    best = u.argmin(1)
    rows = torch.arange(n, device=device)
    z_s, u_s = modes.mu[rows, best], u[rows, best]
    z_t = torch.as_tensor(z_true, dtype=x.dtype, device=device)
    if refine_polish:
        z_t, _, _ = _lbfgs(generator, z_t, x, labels, sigma2, refine_polish)
    z_t, u_t, _ = _gauss_newton(generator, z_t, x, labels, sigma2, refine_steps, dataclasses.replace(search, gn_tol=0.0))
    return SearchGap(energy_search=u_s.cpu().numpy(), energy_true=u_t.cpu().numpy(),
                     loglik_search=_loglik(u_s, z_s, dim, sigma2), loglik_true=_loglik(u_t, z_t, dim, sigma2),
                     passes=modes.n_passes.cpu().numpy())


def with_true_latent(latents: Tensor | None, z_true: Tensor) -> Tensor:
    """``[n, R + 1, d]``: the caller's starts (if any) and the true latent as one more start."""
    z = torch.as_tensor(z_true)[:, None, :]
    if latents is None:
        return z
    lat = torch.as_tensor(latents, dtype=z.dtype)
    return torch.cat([lat, z], dim=1)


def true_latent_check(generator: Generator, x: Tensor, z_true: Tensor, sigma2: float, config: AISConfig,
                      labels: Tensor | None = None, latents: Tensor | None = None, seed: int | np.ndarray = 0,
                      factors: tuple[float, ...] = (1.0, 4.0), refine_steps: int = 10) -> TrueLatentCheck:
    """`search_gap` and the estimates (module doc): ``config`` must be a posterior-started `AISConfig`; each
    factor ``f`` runs ``config.scaled(f)`` with the true latent among the search's starts."""
    if config.start != "posterior":
        raise ValueError(f"true_latent_check needs a posterior-started config (got start={config.start!r})")
    if not factors:
        raise ValueError("true_latent_check needs at least one budget factor")
    gap = search_gap(generator, x, z_true, sigma2, config.search, labels, latents, seed, refine_steps)
    est = ais_log_likelihood(generator, x, sigma2, labels, config, seed, latents).log_px
    both = with_true_latent(latents, z_true)
    true = np.stack([ais_log_likelihood(generator, x, sigma2, labels, config.scaled(f), seed, both).log_px
                     for f in factors])
    return TrueLatentCheck(search=gap, log_px=est, factors=np.asarray(factors, dtype=np.float64), log_px_true=true)


__all__ = ["SearchGap", "TrueLatentCheck", "search_gap", "true_latent_check", "with_true_latent"]
