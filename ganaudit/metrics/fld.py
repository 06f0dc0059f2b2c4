"""Feature likelihood divergence (Jiralerspong et al. 2023): the held-out likelihood of a mixture of Gaussians
centred on the samples, and its train/test generalisation gap."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import logsumexp

from ganaudit.metrics.prdc import squared_distances

__all__ = ["FLDResult", "fit_bandwidths", "mixture_log_likelihood", "feature_likelihood_divergence"]


@dataclass(frozen=True)
class FLDResult:
    """`feature_likelihood_divergence` output: ``fld`` (test negative log-likelihood per dimension, nats; lower is
    better), ``fld_train`` (the same on the training points the bandwidths were fitted to), ``gap``
    (``fld − fld_train``: > 0 when the samples fit the training points better than held-out ones, as a
    memorising model's do), ``n_iter`` EM steps."""

    fld: float
    fld_train: float
    gap: float
    n_iter: int


def mixture_log_likelihood(x: np.ndarray, centres: np.ndarray, variances: np.ndarray) -> np.ndarray:
    """``log p(x_i)`` ``[n]`` under ``p = 1/m Σ_j N(centre_j, variance_j I)`` (nats)."""
    d = x.shape[1]
    sq = squared_distances(x, centres)
    logn = -0.5 * (sq / variances[None, :] + d * np.log(2 * np.pi * variances)[None, :])
    return logsumexp(logn, axis=1) - np.log(len(centres))


def fit_bandwidths(train: np.ndarray, centres: np.ndarray, n_iter: int = 50, floor: float = 1e-3) -> np.ndarray:
    """Per-centre isotropic variances ``[m]`` maximising the training points' likelihood under the mixture of
    `mixture_log_likelihood` (centres and equal weights fixed): EM, ``σ_j² = Σ_i r_ij ‖x_i − c_j‖² / (F Σ_i r_ij)``.
    Started at the mean per-dimension variance of the training points; kept ≥ ``floor`` × that variance (a
    centre on a training point would otherwise collapse); a centre no point claims keeps its variance."""
    d = train.shape[1]
    v0 = float(train.var(0).sum() / d) or 1.0
    var = np.full(len(centres), v0)
    sq = squared_distances(train, centres)
    for _ in range(int(n_iter)):
        logn = -0.5 * (sq / var[None, :] + d * np.log(var)[None, :])
        r = np.exp(logn - logsumexp(logn, axis=1, keepdims=True))
        mass = r.sum(0)
        new = np.where(mass > 1e-12, (r * sq).sum(0) / (d * np.maximum(mass, 1e-300)), var)
        var = np.maximum(new, floor * v0)
    return var


def feature_likelihood_divergence(train: ArrayLike, test: ArrayLike, generated: ArrayLike, n_iter: int = 50,
                                  floor: float = 1e-3) -> FLDResult:
    """FLD of ``generated [m, F]``: a Gaussian of its own variance on each sample (`fit_bandwidths`, fitted to
    ``train [N, F]``), scored on ``test [n, F]`` as the negative log-likelihood per dimension. Features are
    divided by the training points' overall standard deviation first, so FLD does not depend on their units."""
    tr, te, ge = (np.asarray(a, np.float64) for a in (train, test, generated))
    if not (tr.ndim == te.ndim == ge.ndim == 2) or len({tr.shape[1], te.shape[1], ge.shape[1]}) != 1:
        raise ValueError(f"train, test, generated must be [*, F] with one F, got {tr.shape}, {te.shape}, {ge.shape}")
    scale = float(np.sqrt(tr.var(0).mean())) or 1.0
    tr, te, ge = tr / scale, te / scale, ge / scale
    var = fit_bandwidths(tr, ge, n_iter, floor)
    d = tr.shape[1]
    fld = float(-mixture_log_likelihood(te, ge, var).mean() / d)
    fld_train = float(-mixture_log_likelihood(tr, ge, var).mean() / d)
    return FLDResult(fld, fld_train, fld - fld_train, int(n_iter))
