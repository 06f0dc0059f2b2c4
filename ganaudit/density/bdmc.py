"""How far AIS can be trusted where the answer is known: bidirectional Monte Carlo on data simulated from
the model (Grosse et al. 2015), and the exact log-likelihood of a linear-Gaussian model.

* `simulate` draws ``(x, z)`` from the joint, so ``z`` is an exact posterior sample of ``x``.
* `ais_upper_bound` runs the schedule backwards from that sample: reverse AIS, a stochastic *upper* bound on
  ``log p(x)``; with the forward (lower) bound, `bdmc` sandwiches the true value, and says when it cannot: a
  reverse chain that never moves is one importance weight, and a run with too many (`DEGENERATE_FRACTION`) is
  degenerate. The gap bounds the AIS error
  *for data like the simulated* — images on the generator's manifold, not the real images an audit measures
  (those are off the manifold; their error is measured directly by the ais_check rule, `ganaudit.density.errorbars`).
* `validate_on_ppca` compares an estimate with the exact ``log p(x)`` of a `ganaudit.models.ppca.PPCA`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor

from ganaudit.data.stats import log_mean_exp
from ganaudit.density.ais import AISConfig, ais_log_likelihood, check_inputs, check_latents
from ganaudit.density.encoder import Encoder, add_encoder_start
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


#: A BDMC run is degenerate when at least this fraction of its reverse chains made no accepted move: such a chain's
#: weight is the one-sample importance weight at ``z_true`` (no annealing happened), so the "upper bound" measures
#: the proposal, not AIS, and its gap to the forward run is not printed.
DEGENERATE_FRACTION = 0.5


@dataclass(frozen=True)
class ReverseResult:
    """Reverse-AIS estimates for ``N`` simulated images with ``c`` chains each.

    Attributes:
        log_px: float64 ``[N]``, the upper-bound estimate ``−log mean_c exp(log W)`` in nats.
        log_w: float64 ``[N, c]``, the chains' ``log W`` (each an unbiased estimate of ``1 / p(x)`` in ``exp``).
        accept_rate: ``[N, c]`` fraction of accepted HMC moves (0: the chain never moved).
        n_divergent: ``[N, c]`` int, rejected non-finite trajectories.
        defensive: ``[N, c]`` 1.0 for a chain in the proposal's defensive stratum, 0.0 in a mode's, NaN for the
            prior start (no proposal).
        config: the settings used.
    """

    log_px: np.ndarray
    log_w: np.ndarray
    accept_rate: np.ndarray
    n_divergent: np.ndarray
    defensive: np.ndarray
    config: AISConfig

    @property
    def defensive_fraction(self) -> np.ndarray:
        """``[N]`` the fraction of each image's chains in the defensive stratum (NaN for the prior start)."""
        d = self.defensive
        return np.full(d.shape[0], np.nan) if np.isnan(d).all() else d.mean(axis=1)

    @property
    def degenerate_fraction(self) -> np.ndarray:
        """``[N]`` the fraction of each image's chains that made no accepted move (one-sample weights)."""
        return np.mean(~(np.nan_to_num(self.accept_rate, nan=0.0) > 0), axis=1)


def ais_upper_bound(generator: Generator, x: Tensor, z_true: Tensor, sigma2: float, labels: Tensor | None = None,
                    config: AISConfig = AISConfig(), seed: int | np.ndarray = 0,
                    latents: Tensor | np.ndarray | None = None) -> ReverseResult:
    """Reverse AIS (BDMC, Grosse et al. 2015): a stochastic upper bound on ``log p(x)``.

    Valid only for simulated data where ``z_true [N, d]`` is an exact posterior sample (see `simulate`). All
    chains of an image start at ``z_true`` and run ``config``'s schedule from ``beta = 1`` down to ``0``: the
    prior start's, or the posterior start's in the stratum each chain draws, the defensive one annealed too (the
    estimator's ``reverse``, `ganaudit.density.estimators`; `ganaudit.density.posterior_ais.posterior_reverse_batch`).
    ``latents [N, R, d]``: starts of the proposal's mode search, as `ganaudit.density.ais.ais_log_likelihood` takes
    them (the posterior start only).
    """
    x, labels = check_inputs(generator, x, sigma2, labels)
    n, c = x.shape[0], config.n_chains
    z_true = torch.as_tensor(z_true)
    if z_true.shape != (n, generator.latent_dim):
        raise ValueError(f"z_true must have shape ({n}, {generator.latent_dim}), got {tuple(z_true.shape)}")
    seeds = image_seeds(seed, n)
    est = estimator(config)
    check_latents(config, latents)
    log_w, rate, div, defensive = np.empty((n, c)), np.empty((n, c)), np.empty((n, c), dtype=np.int64), np.empty((n, c))
    for lo in range(0, n, config.batch_size):
        hi = min(n, lo + config.batch_size)
        lab = None if labels is None else labels[lo:hi]
        log_w[lo:hi], rate[lo:hi], div[lo:hi], defensive[lo:hi] = est.reverse(
            generator, x[lo:hi], z_true[lo:hi], lab, sigma2, config, seeds[lo:hi],
            None if latents is None else torch.as_tensor(latents)[lo:hi])
    return ReverseResult(log_px=-log_mean_exp(log_w, axis=-1), log_w=log_w, accept_rate=rate, n_divergent=div,
                         defensive=defensive, config=config)


def bdmc(generator: Generator, n: int, sigma2: float, labels: Tensor | None = None, config: AISConfig = AISConfig(),
         seed: int = 0, encoder: Encoder | None = None) -> dict[str, Any]:
    """Bidirectional Monte Carlo on ``n`` simulated images: forward (lower) and reverse (upper) AIS.

    ``encoder``: the run's amortised start (`ganaudit.density.encoder`); its ``E(x)`` joins the forward estimator's
    mode search as it does the run's (`add_encoder_start`), in both directions, so the bounds check the estimator
    the run reports. A search that misses the basin holding an image's mass shows as that image's gap: the lower
    bound falls short by about the mass it missed, and the reverse chains, started at the true latent in that
    basin, anneal to a proposal that has no mass there.

    Returns dict ``lower [n]``, ``upper [n]`` (float64 nats); ``gap`` (mean of ``upper − lower``, a bound on the
    AIS error for data like the simulated; NaN when ``degenerate``); ``degenerate`` (bool: at least
    `DEGENERATE_FRACTION` of the reverse chains made no accepted move, so the upper bound is one importance weight
    and no gap is stated); per image ``defensive_fraction``, ``degenerate_fraction`` and ``upper_accept_rate``
    ``[n]``; ``gap_unchecked`` (the mean gap whether degenerate or not); ``x``, ``z``. Both directions use
    ``config``'s estimator (for the posterior start the reverse chains anneal in the strata of the same proposal,
    which depends on ``x`` only, the defensive stratum along its own bridge).
    """
    x, z = simulate(generator, n, sigma2, labels, seed)
    config, starts = add_encoder_start(config, None, encoder, x, generator.n_classes)
    latents = None if starts is None else torch.as_tensor(starts[:, 0])   # E(x): the same under every class
    lo = ais_log_likelihood(generator, x, sigma2, labels, config, seed=seed + 1_000_003, latents=latents)
    up = ais_upper_bound(generator, x, z, sigma2, labels, config, seed=seed + 2_000_003, latents=latents)
    degenerate_fraction = up.degenerate_fraction
    degenerate = bool(np.mean(degenerate_fraction) >= DEGENERATE_FRACTION)
    gap = float(np.mean(up.log_px - lo.log_px))
    return {"lower": lo.log_px, "upper": up.log_px, "gap": float("nan") if degenerate else gap, "gap_unchecked": gap,
            "degenerate": degenerate, "defensive_fraction": up.defensive_fraction,
            "degenerate_fraction": degenerate_fraction, "upper_accept_rate": np.nanmean(up.accept_rate, axis=1)
            if np.isfinite(up.accept_rate).any() else np.full(n, np.nan), "x": x, "z": z}


def summary(result: dict[str, Any]) -> dict[str, Any]:
    """The verdict columns of a `bdmc` result for a table row: ``bdmc_status`` ("bounds", or "degenerate: …" with
    the share of reverse chains that never moved), ``gap_mean_nats`` and ``gap_max_nats`` (NaN when degenerate),
    ``reverse_defensive_fraction`` (mean) and, per image as space-separated fractions,
    ``reverse_defensive_per_image`` (chains in the proposal's defensive stratum) and ``reverse_degenerate_per_image``
    (chains that made no accepted move); ``reverse_accept_rate`` (mean)."""
    def per_image(a: np.ndarray) -> str:
        return " ".join(f"{v:.2f}" for v in a)

    bad = bool(result["degenerate"])
    return {"bdmc_status": (f"degenerate: {100 * np.mean(result['degenerate_fraction']):.0f} % of reverse chains made "
                            "no move (one-sample weights), no gap stated") if bad else "bounds",
            "gap_mean_nats": float("nan") if bad else float(result["gap"]),
            "gap_max_nats": float("nan") if bad else float(np.max(result["upper"] - result["lower"])),
            "reverse_defensive_fraction": float(np.mean(result["defensive_fraction"])),
            "reverse_defensive_per_image": per_image(result["defensive_fraction"]),
            "reverse_degenerate_per_image": per_image(result["degenerate_fraction"]),
            "reverse_accept_rate": float(np.mean(result["upper_accept_rate"]))}


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


__all__ = ["DEGENERATE_FRACTION", "ReverseResult", "ais_upper_bound", "bdmc", "simulate", "summary", "validate_on_ppca"]
