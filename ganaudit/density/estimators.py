"""The table of AIS estimators: ``AISConfig.start`` names an entry, and every caller goes through it.

Each `Estimator` has the same surface:

* ``forward(generator, x, labels, sigma2, config, seeds, latents) -> Batch``: one batch of images, the estimate's
  chains (and, for the posterior start, its defensive draws, modes and Laplace values);
* ``reverse(generator, x, z_true, labels, sigma2, config, seeds, latents) -> (log_w, accept_rate, n_divergent,
  defensive)``: reverse AIS from exact posterior samples ``z_true`` (BDMC's upper bound), the proposal's search
  started from ``latents`` as the forward one is, per-chain ``log W`` of ``1 / p(x)``;
  ``defensive`` ``[B, c]`` is 1.0 for a chain in the proposal's defensive stratum, 0.0 in a mode's, NaN without a
  proposal (the prior start);
* ``search_cost(config, latent_dim, n_given) -> {gradient, jvp, forward}``: the generator passes per image spent
  before the chains run (`ganaudit.density.ais.cost` adds the chains');
* ``n_defensive(config)``: defensive prior draws per image; ``uses_latents``: whether it starts from given latents
  (the inversion's restarts); ``has_laplace``: whether it reports the best mode's Laplace value.

A new estimator is one function pair and one entry of `ESTIMATORS`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ganaudit.density.annealing import betas_of, dtype_of, run_chains
from ganaudit.density.posterior_ais import pilot_evaluations, posterior_batch, posterior_reverse_batch
from ganaudit.density.target import make_loglik
from ganaudit.models.base import device_of


@dataclass
class Batch:
    """One forward batch of ``B`` images and ``c`` chains: ``log_w``, ``accept_rate``, ``n_divergent`` ``[B, c]``;
    ``defensive`` ``[B, P]`` log-weights of the defensive prior draws; ``mode`` ``[B, c]`` (−1: no mode);
    ``laplace`` ``[B]`` (NaN: none); ``evaluations`` ``[B]`` generator passes per image."""

    log_w: np.ndarray
    accept_rate: np.ndarray
    n_divergent: np.ndarray
    defensive: np.ndarray
    mode: np.ndarray
    laplace: np.ndarray
    evaluations: np.ndarray


def image_seeds(seed: int | np.ndarray | Any, n: int) -> np.ndarray:
    """Per-image seeds: ``seed + arange(n)`` for an int, else the ``[n]`` int array given."""
    if np.ndim(seed) == 0:
        return int(seed) + np.arange(n, dtype=np.int64)
    seeds = np.asarray(seed, dtype=np.int64)
    if seeds.shape != (n,):
        raise ValueError(f"seed must be an int or an array of shape ({n},), got shape {seeds.shape}")
    return seeds


def chain_evaluations(config) -> int:
    """Generator passes of the chains of one image (the pilot pass included)."""
    return config.n_chains * (config.gradient_evaluations + pilot_evaluations(config))


# ---------------------------------------------------------------------------------------------- prior start


def prior_chains(generator, x, labels, sigma2, config, seeds, z_start=None, reverse=False):
    """Prior-started AIS for one batch (or, with ``z_start`` and ``reverse``, reverse AIS from exact samples):
    ``(log_w, accept_rate, n_divergent)``, each ``[B, c]``."""
    c, d = config.n_chains, generator.latent_dim
    device, dtype = device_of(generator, x.device), dtype_of(generator)
    x_rep = x.to(device, dtype).repeat_interleave(c, 0)
    lab_rep = None if labels is None else labels.to(device).repeat_interleave(c, 0)
    betas = betas_of(config)
    if reverse:
        betas = betas[::-1].copy()
    u0 = None if z_start is None else z_start.to(device, dtype).repeat_interleave(c, 0)
    run = run_chains(make_loglik(generator, x_rep, lab_rep, sigma2), config, betas, seeds, d, device, dtype,
                     "reverse AIS" if reverse else "AIS", u0)
    dim = math.prod(generator.image_shape)
    log_w = run.log_w + float(betas[-1] - betas[0]) * (-0.5 * dim * math.log(2 * math.pi * sigma2))
    return log_w.cpu().numpy().reshape(-1, c), run.accept_rate.cpu().numpy().reshape(-1, c), \
        run.n_divergent.cpu().numpy().reshape(-1, c)


def _prior_forward(generator, x, labels, sigma2, config, seeds, latents) -> Batch:
    log_w, rate, div = prior_chains(generator, x, labels, sigma2, config, seeds)
    b = len(log_w)
    return Batch(log_w, rate, div, np.empty((b, 0)), np.full((b, config.n_chains), -1, dtype=np.int64),
                 np.full(b, np.nan), np.full(b, chain_evaluations(config), dtype=np.int64))


def _prior_reverse(generator, x, z_true, labels, sigma2, config, seeds, latents=None):
    log_w, rate, div = prior_chains(generator, x, labels, sigma2, config, seeds, z_start=z_true, reverse=True)
    return log_w, rate, div, np.full(log_w.shape, np.nan)


def _no_search(config, latent_dim: int, n_given: int = 0) -> dict[str, int]:
    return {"gradient": 0, "jvp": 0, "forward": 0}


# ---------------------------------------------------------------------------------------------- posterior start


def _posterior_forward(generator, x, labels, sigma2, config, seeds, latents) -> Batch:
    return Batch(*posterior_batch(generator, x, labels, sigma2, config, seeds, latents))




def _posterior_search_cost(config, latent_dim: int, n_given: int = 0) -> dict[str, int]:
    """The mode search's passes of an image off the manifold (the search's second stage runs)."""
    s = config.search
    smc_starts = s.smc_keep if s.smc_particles else 0
    n_starts = n_given - s.direct_starts + s.search_restarts + s.extra_restarts + smc_starts   # descended
    k = min(s.n_modes, n_starts + s.direct_starts)
    # L-BFGS and Levenberg–Marquardt rows (at most polish_steps + 1 and gn_steps each): the best descended optima
    # and the direct starts
    polished = min(max(s.n_modes, s.gn_candidates), n_starts) + s.direct_starts
    # the tempered search's temperatures adapt to the image: its passes are bounded by smc_max_temps
    hops = s.hop_rounds * s.hop_starts   # basin hopping: refined like the optima, one precision per round
    return {"gradient": n_starts * s.search_steps + s.smc_particles * (1 + s.smc_moves * s.smc_max_temps)
            + (polished + hops) * (s.polish_steps + 1 if s.polish_steps else 0),
            "forward": n_starts + 1 + polished * (2 * s.gn_steps) + hops * (1 + 2 * s.gn_steps) + config.prior_draws,
            "jvp": latent_dim * (polished * s.gn_steps + k + hops * s.gn_steps + (s.hop_rounds if s.hop_starts else 0))}


# ---------------------------------------------------------------------------------------------- the table


@dataclass(frozen=True)
class Estimator:
    name: str
    forward: Callable[..., Batch]
    reverse: Callable[..., tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]
    search_cost: Callable[..., dict[str, int]]
    n_defensive: Callable[[Any], int]
    uses_latents: bool
    has_laplace: bool


ESTIMATORS: dict[str, Estimator] = {
    "prior": Estimator("prior", _prior_forward, _prior_reverse, _no_search, lambda config: 0,
                       uses_latents=False, has_laplace=False),
    "posterior": Estimator("posterior", _posterior_forward, posterior_reverse_batch, _posterior_search_cost,
                           lambda config: config.prior_draws, uses_latents=True, has_laplace=True),
}
"""The estimators by ``AISConfig.start``: ``prior`` (the paper's, Wu et al.) and ``posterior`` (the default)."""


def estimator(config) -> Estimator:
    """The entry of `ESTIMATORS` that ``config.start`` names."""
    try:
        return ESTIMATORS[config.start]
    except KeyError:
        raise ValueError(f"AISConfig.start: unknown estimator {config.start!r} (known: {list(ESTIMATORS)})") from None


__all__ = ["Batch", "ESTIMATORS", "Estimator", "chain_evaluations", "estimator", "image_seeds", "prior_chains"]
