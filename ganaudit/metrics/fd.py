"""Fréchet distance between Gaussians fitted to two feature sets, with a bootstrap interval."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["frechet_distance", "gaussian_frechet_distance", "fd_bootstrap"]


def _as_features(x: ArrayLike, name: str) -> np.ndarray:
    a = np.asarray(x, dtype=np.float64)
    if a.ndim != 2 or len(a) < 2:
        raise ValueError(f"{name} must be features [N ≥ 2, F], got shape {a.shape}")
    return a


def _trace_sqrt_product(a: np.ndarray, b: np.ndarray) -> float:
    """``tr((Σ_a Σ_b)^½)`` of the sample covariances of centred rows ``a [n, F]``, ``b [m, F]``.

    With ``Σ_a = AᵀA``, ``Σ_b = BᵀB`` (``A = a / √(n−1)``), the nonzero eigenvalues of ``Σ_a Σ_b`` are the squared
    singular values of ``A Bᵀ`` (``[n, m]``) and also the eigenvalues of ``Σ_a^½ Σ_b Σ_a^½`` (``[F, F]``); the
    smaller of the two problems is solved, so a feature space wider than the sets (pixels, the perceptual
    embedding) costs no ``F × F`` matrix.
    """
    n, m, f = len(a), len(b), a.shape[1]
    A, B = a / np.sqrt(n - 1), b / np.sqrt(m - 1)
    if f <= min(n, m):
        w, v = np.linalg.eigh(A.T @ A)
        root = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
        ev = np.linalg.eigvalsh(root @ (B.T @ B) @ root)
        return float(np.sqrt(np.clip(ev, 0, None)).sum())
    return float(np.linalg.svd(A @ B.T, compute_uv=False).sum())


def gaussian_frechet_distance(mu_a: ArrayLike, cov_a: ArrayLike, mu_b: ArrayLike, cov_b: ArrayLike) -> float:
    """``‖μ_a − μ_b‖² + tr(Σ_a + Σ_b − 2 (Σ_a Σ_b)^½)``: the squared 2-Wasserstein distance of two Gaussians
    (Fréchet 1957; Dowson & Landau 1982), from their means and covariances."""
    ma, mb = np.asarray(mu_a, np.float64), np.asarray(mu_b, np.float64)
    ca, cb = np.asarray(cov_a, np.float64), np.asarray(cov_b, np.float64)
    w, v = np.linalg.eigh(ca)
    root = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    ev = np.linalg.eigvalsh(root @ cb @ root)
    return float(((ma - mb) ** 2).sum() + np.trace(ca) + np.trace(cb) - 2 * np.sqrt(np.clip(ev, 0, None)).sum())


def frechet_distance(a: ArrayLike, b: ArrayLike) -> float:
    """Fréchet distance between Gaussians fitted to feature sets ``a [n, F]`` and ``b [m, F]`` (sample means,
    unbiased covariances): the formula of FID, here in whatever feature space ``a`` and ``b`` come from."""
    fa, fb = _as_features(a, "a"), _as_features(b, "b")
    if fa.shape[1] != fb.shape[1]:
        raise ValueError(f"a and b must share F, got {fa.shape} and {fb.shape}")
    ma, mb = fa.mean(0), fb.mean(0)
    ca, cb = fa - ma, fb - mb
    tr_a = float((ca * ca).sum() / (len(fa) - 1))
    tr_b = float((cb * cb).sum() / (len(fb) - 1))
    return float(((ma - mb) ** 2).sum() + tr_a + tr_b - 2 * _trace_sqrt_product(ca, cb))


def fd_bootstrap(a: ArrayLike, b: ArrayLike, n_bootstrap: int = 50, confidence: float = 0.95,
                 seed: int = 0) -> tuple[float, float, float]:
    """`frechet_distance` of ``a`` and ``b`` with a percentile bootstrap interval: ``(fd, low, high)``.

    Each replicate resamples the rows of both sets with replacement (same sizes); the interval is the
    ``(1 ± confidence) / 2`` quantiles of the replicates. It measures the sampling error of the two finite sets
    (FD is biased upwards at finite n, so the interval of two sets of one distribution need not contain 0).
    """
    if n_bootstrap < 1 or not 0 < confidence < 1:
        raise ValueError(f"n_bootstrap must be ≥ 1 and confidence in (0, 1), got {n_bootstrap}, {confidence}")
    fa, fb = _as_features(a, "a"), _as_features(b, "b")
    value = frechet_distance(fa, fb)
    rng = np.random.default_rng(seed)
    reps = [frechet_distance(fa[rng.integers(0, len(fa), len(fa))], fb[rng.integers(0, len(fb), len(fb))])
            for _ in range(int(n_bootstrap))]
    lo, hi = np.quantile(reps, [(1 - confidence) / 2, (1 + confidence) / 2])
    return value, float(lo), float(hi)
