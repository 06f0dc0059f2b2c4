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

    With ``Σ_a = AᵀA``, ``Σ_b = BᵀB`` (``A = a / √(n−1)``), the nonzero eigenvalues of ``Σ_a Σ_b`` are those of
    ``Σ_a^½ Σ_b Σ_a^½`` (``[F, F]``) and the squared singular values of ``A Bᵀ`` (``[n, m]``); the smaller problem
    is solved, so a feature space wider than the sets (the perceptual embedding) costs no ``F × F`` matrix.
    """
    n, m, f = len(a), len(b), a.shape[1]
    A, B = a / np.sqrt(n - 1), b / np.sqrt(m - 1)
    if f <= min(n, m):
        w, v = np.linalg.eigh(A.T @ A)
        root = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
        ev = np.linalg.eigvalsh(root @ (B.T @ B) @ root)
        return float(np.sqrt(np.clip(ev, 0, None)).sum())
    return _trace_sqrt_from_cross(A @ B.T)


def _trace_sqrt_from_cross(g: np.ndarray) -> float:
    """Sum of the singular values of ``g`` (via the eigenvalues of the smaller of ``g gᵀ``, ``gᵀ g``)."""
    m = g @ g.T if g.shape[0] <= g.shape[1] else g.T @ g
    return float(np.sqrt(np.clip(np.linalg.eigvalsh(m), 0, None)).sum())


def _fd_from_grams(kaa: np.ndarray, kbb: np.ndarray, kab: np.ndarray) -> float:
    """`frechet_distance` from the raw inner products ``a aᵀ``, ``b bᵀ``, ``a bᵀ`` (means and centring applied
    here): what a bootstrap of wide features resamples instead of the features."""
    n, m = len(kaa), len(kbb)
    mean_sq = kaa.mean() + kbb.mean() - 2 * kab.mean()
    tr_a = (np.trace(kaa) - kaa.sum() / n) / (n - 1)
    tr_b = (np.trace(kbb) - kbb.sum() / m) / (m - 1)
    g = kab - kab.mean(1, keepdims=True) - kab.mean(0, keepdims=True) + kab.mean()
    return float(mean_sq + tr_a + tr_b - 2 * _trace_sqrt_from_cross(g / np.sqrt((n - 1) * (m - 1))))


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


def _frechet_distance_cholesky(a: np.ndarray, b: np.ndarray) -> float:
    """`frechet_distance` for the bootstrap's replicates, one symmetric eigenvalue problem instead of two:
    ``Σ_a + δI = L Lᵀ`` (δ = 10⁻¹² × the mean variance, so singular pixel covariances factor) and the eigenvalues
    of ``Lᵀ Σ_b L``, which are those of ``(Σ_a + δI) Σ_b``; falls back to `frechet_distance` if the factorisation
    fails."""
    ma, mb = a.mean(0), b.mean(0)
    ca, cb = a - ma, b - mb
    sa, sb = ca.T @ ca / (len(a) - 1), cb.T @ cb / (len(b) - 1)
    delta = 1e-12 * max(float(np.trace(sa)) / len(sa), 1e-300)
    try:
        low = np.linalg.cholesky(sa + delta * np.eye(len(sa)))
    except np.linalg.LinAlgError:
        return frechet_distance(a, b)
    ev = np.linalg.eigvalsh(low.T @ sb @ low)
    return float(((ma - mb) ** 2).sum() + np.trace(sa) + np.trace(sb) - 2 * np.sqrt(np.clip(ev, 0, None)).sum())


def fd_bootstrap(a: ArrayLike, b: ArrayLike, n_bootstrap: int = 50, confidence: float = 0.95,
                 seed: int = 0) -> tuple[float, float, float]:
    """`frechet_distance` of ``a`` and ``b`` with a bias-corrected percentile bootstrap interval: ``(fd, low, high)``.

    Each replicate resamples the rows of both sets with replacement (same sizes). A resample repeats rows, which
    shrinks its spread and raises its FD (FD is biased upwards at finite n): the replicates' mean lies above the
    estimate by a bias ``b``. The interval is the ``(1 ± confidence) / 2`` quantiles of the replicates shifted by
    ``−b`` (clipped at 0): the sampling error of the two finite sets around the estimate. (The plain percentile
    interval of two sets of one distribution often lies entirely above the estimate.)
    """
    if n_bootstrap < 1 or not 0 < confidence < 1:
        raise ValueError(f"n_bootstrap must be ≥ 1 and confidence in (0, 1), got {n_bootstrap}, {confidence}")
    fa, fb = _as_features(a, "a"), _as_features(b, "b")
    value = frechet_distance(fa, fb)
    rng = np.random.default_rng(seed)
    draws = [(rng.integers(0, len(fa), len(fa)), rng.integers(0, len(fb), len(fb))) for _ in range(int(n_bootstrap))]
    if fa.shape[1] > min(len(fa), len(fb)):         # wide features: resample inner products, computed once
        kaa, kbb, kab = fa @ fa.T, fb @ fb.T, fa @ fb.T
        reps = [_fd_from_grams(kaa[np.ix_(i, i)], kbb[np.ix_(j, j)], kab[np.ix_(i, j)]) for i, j in draws]
    else:
        reps = [_frechet_distance_cholesky(fa[i], fb[j]) for i, j in draws]
    bias = float(np.mean(reps)) - value
    lo, hi = np.quantile(reps, [(1 - confidence) / 2, (1 + confidence) / 2]) - bias
    return value, float(max(lo, 0.0)), float(max(hi, 0.0))
