"""How far AIS can be trusted where the answer is known: bidirectional Monte Carlo on data simulated from
the model (Grosse et al. 2015), and the exact log-likelihood of a linear-Gaussian model.

* `simulate` draws ``(x, z)`` from the joint, so ``z`` is an exact posterior sample of ``x``.
* `ais_upper_bound` runs the schedule backwards from that sample: reverse AIS, a stochastic *upper* bound on
  ``log p(x)``; with the forward (lower) bound, `bdmc` sandwiches the true value. The gap bounds the AIS error
  *for data like the simulated* — images on the generator's manifold, not the real images an audit measures
  (those are off the manifold; their error is measured directly by the ais_check rule, `ganaudit.density.errorbars`).
* `validate_on_ppca` compares an estimate with the exact ``log p(x)`` of a `ganaudit.models.ppca.PPCA`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from torch import Tensor

from ganaudit.data.stats import log_mean_exp
from ganaudit.density.ais import AISConfig, AISResult, ais_log_likelihood, check_inputs
from ganaudit.density.estimators import estimator, image_seeds
from ganaudit.models.base import Generator, check_labels, device_of


def simulate(generator: Generator, n: int, sigma2: float, labels: Tensor | None = None,
             seed: int = 0) -> tuple[Tensor, Tensor]:
    """Draw ``(x [n, C, H, W], z [n, d])`` from the joint: ``z ~ N(0, I)``, ``x = G(z) + sqrt(sigma2)·ε``.

    ``z`` is then an exact sample of the posterior ``p(z | x)``, as reverse AIS requires.
    """
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    if not sigma2 > 0:
        raise ValueError(f"sigma2 must be > 0, got {sigma2}")
    labels = check_labels(generator, labels, n)
    g = torch.Generator(device="cpu").manual_seed(int(seed))
    z = torch.randn(n, generator.latent_dim, generator=g)
    device = device_of(generator, z.device)
    with torch.no_grad():
        mean = generator(z.to(device), None if labels is None else labels.to(device)).float().cpu()
    noise = torch.randn(mean.shape, generator=g)
    return mean + math.sqrt(sigma2) * noise, z


def ais_upper_bound(generator: Generator, x: Tensor, z_true: Tensor, sigma2: float, labels: Tensor | None = None,
                    config: AISConfig = AISConfig(), seed: int | np.ndarray = 0) -> AISResult:
    """Reverse AIS (BDMC, Grosse et al. 2015): a stochastic upper bound on ``log p(x)``.

    Valid only for simulated data where ``z_true [N, d]`` is an exact posterior sample (see `simulate`). All
    chains of an image start at ``z_true`` and run ``config``'s schedule from ``beta = 1`` down to ``0``: the
    prior start's, or the posterior start's in the stratum each chain draws (the estimator's ``reverse``,
    `ganaudit.density.estimators`; `ganaudit.density.posterior_ais.posterior_reverse_batch`).
    """
    x, labels = check_inputs(generator, x, sigma2, labels)
    n, c = x.shape[0], config.n_chains
    z_true = torch.as_tensor(z_true)
    if z_true.shape != (n, generator.latent_dim):
        raise ValueError(f"z_true must have shape ({n}, {generator.latent_dim}), got {tuple(z_true.shape)}")
    seeds = image_seeds(seed, n)
    reverse = estimator(config).reverse
    log_w, rate, div = np.empty((n, c)), np.empty((n, c)), np.empty((n, c), dtype=np.int64)
    for lo in range(0, n, config.batch_size):
        hi = min(n, lo + config.batch_size)
        lab = None if labels is None else labels[lo:hi]
        log_w[lo:hi], rate[lo:hi], div[lo:hi] = reverse(generator, x[lo:hi], z_true[lo:hi], lab, sigma2, config,
                                                        seeds[lo:hi])
    log_w = -log_w  # per-chain upper-bound estimates of log p(x)
    return AISResult(log_px=-log_mean_exp(-log_w, axis=-1), log_w=log_w, accept_rate=rate, n_divergent=div,
                     config=config, log_w_defensive=np.empty((n, 0)))


def bdmc(generator: Generator, n: int, sigma2: float, labels: Tensor | None = None, config: AISConfig = AISConfig(),
         seed: int = 0) -> dict[str, Any]:
    """Bidirectional Monte Carlo on ``n`` simulated images: forward (lower) and reverse (upper) AIS.

    Returns dict ``lower [n]``, ``upper [n]`` (float64 nats), ``gap`` (mean of ``upper − lower``, a bound on the
    AIS error for data like the simulated), ``x``, ``z``. Both directions use ``config``'s estimator (for the
    posterior start the reverse chains anneal in the strata of the same proposal, which depends on ``x`` only).
    """
    x, z = simulate(generator, n, sigma2, labels, seed)
    lo = ais_log_likelihood(generator, x, sigma2, labels, config, seed=seed + 1_000_003)
    up = ais_upper_bound(generator, x, z, sigma2, labels, config, seed=seed + 2_000_003)
    return {"lower": lo.log_px, "upper": up.log_px, "gap": float(np.mean(up.log_px - lo.log_px)), "x": x, "z": z}


def validate_on_ppca(ppca: Any, x: Tensor, sigma2: float, labels: Tensor | None = None,
                     config: AISConfig = AISConfig(), seed: int | np.ndarray = 0) -> dict[str, Any]:
    """Compare AIS with the exact log-likelihood of a `ganaudit.models.ppca.PPCA`.

    Returns dict ``mean_abs_error``, ``max_abs_error``, ``mean_error`` (signed, AIS − exact; negative
    for a lower bound), ``exact [N]``, ``estimate [N]``, ``result`` (the `AISResult`); errors in nats/image.
    """
    from ganaudit.models.ppca import exact_log_likelihood

    exact = exact_log_likelihood(ppca, x, sigma2, labels)
    res = ais_log_likelihood(ppca, x, sigma2, labels, config, seed)
    err = res.log_px - exact
    return {"mean_abs_error": float(np.mean(np.abs(err))), "max_abs_error": float(np.max(np.abs(err))),
            "mean_error": float(np.mean(err)), "exact": exact, "estimate": res.log_px, "result": res}


__all__ = ["ais_upper_bound", "bdmc", "simulate", "validate_on_ppca"]
