"""Kernel distance (KID): the unbiased squared MMD with the cubic polynomial kernel, mean ± std over subsets."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["polynomial_kernel", "mmd2_unbiased", "kernel_distance"]


def polynomial_kernel(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``k(x, y) = (x·y / F + 1)³`` between rows of ``x [n, F]`` and ``y [m, F]`` (Bińkowski et al. 2018)."""
    return (x @ y.T / x.shape[1] + 1.0) ** 3


def mmd2_unbiased(x: ArrayLike, y: ArrayLike) -> float:
    """The unbiased estimate of MMD² between the distributions of rows of ``x [n, F]`` and ``y [m, F]`` under
    `polynomial_kernel`: ``mean_{i≠j} k(x_i, x_j) + mean_{i≠j} k(y_i, y_j) − 2 mean_{i,j} k(x_i, y_j)``;
    its expectation is 0 when both come from one distribution (it may then be negative)."""
    a, b = np.asarray(x, np.float64), np.asarray(y, np.float64)
    n, m = len(a), len(b)
    if n < 2 or m < 2 or a.shape[1] != b.shape[1]:
        raise ValueError(f"x, y must be [n ≥ 2, F], [m ≥ 2, F], got {a.shape}, {b.shape}")
    kxx, kyy, kxy = polynomial_kernel(a, a), polynomial_kernel(b, b), polynomial_kernel(a, b)
    return float((kxx.sum() - np.trace(kxx)) / (n * (n - 1)) + (kyy.sum() - np.trace(kyy)) / (m * (m - 1))
                 - 2 * kxy.mean())


def kernel_distance(a: ArrayLike, b: ArrayLike, subset_size: int = 1000, n_subsets: int = 100,
                    seed: int = 0) -> tuple[float, float, int]:
    """KID of feature sets ``a`` and ``b``: ``(mean, std, subset size)`` of `mmd2_unbiased` over ``n_subsets``
    pairs of random subsets (without replacement) of ``min(subset_size, len(a), len(b))`` rows each, the
    subset size capped at the smaller set as clean-fid does."""
    fa, fb = np.asarray(a, np.float64), np.asarray(b, np.float64)
    s = int(min(subset_size, len(fa), len(fb)))
    if s < 2 or n_subsets < 1:
        raise ValueError(f"kernel_distance needs subsets of ≥ 2 rows and n_subsets ≥ 1, got {s}, {n_subsets}")
    rng = np.random.default_rng(seed)
    # the kernel of every pair once; each subset's MMD² reads its block (the same numbers as computing it anew)
    kaa, kbb, kab = polynomial_kernel(fa, fa), polynomial_kernel(fb, fb), polynomial_kernel(fa, fb)
    vals = []
    for _ in range(int(n_subsets)):
        i, j = rng.choice(len(fa), s, replace=False), rng.choice(len(fb), s, replace=False)
        xx, yy = kaa[np.ix_(i, i)], kbb[np.ix_(j, j)]
        vals.append(float((xx.sum() - np.trace(xx) + yy.sum() - np.trace(yy)) / (s * (s - 1))
                          - 2 * kab[np.ix_(i, j)].mean()))
    return float(np.mean(vals)), float(np.std(vals)), s
