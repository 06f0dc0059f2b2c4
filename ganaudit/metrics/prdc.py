"""Precision, recall (Kynkäänniemi et al. 2019), density and coverage (Naeem et al. 2020) on k-NN manifolds."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["PRDC", "prdc", "squared_distances", "kth_neighbour_radius"]


@dataclass(frozen=True)
class PRDC:
    """`prdc` output: the four numbers (precision, recall, coverage in [0, 1]; density ≥ 0, 1 for fresh data on
    average) and the ``k`` of the k-NN balls."""

    precision: float
    recall: float
    density: float
    coverage: float
    k: int


def squared_distances(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Squared Euclidean distances ``[n, m]`` (float64, ≥ 0) between rows of ``x [n, F]`` and ``y [m, F]``."""
    d = (x * x).sum(1)[:, None] + (y * y).sum(1)[None, :] - 2.0 * (x @ y.T)
    return np.maximum(d, 0.0)


def kth_neighbour_radius(x: np.ndarray, k: int, chunk: int = 2048) -> np.ndarray:
    """Squared distance ``[n]`` from each row of ``x`` to its ``k``-th nearest other row (the radius of its k-NN
    ball; the point itself is not its own neighbour), in blocks of ``chunk`` rows."""
    if not 1 <= k < len(x):
        raise ValueError(f"k must lie in [1, {len(x) - 1}] for {len(x)} points, got {k}")
    out = np.empty(len(x))
    for i in range(0, len(x), chunk):
        d = squared_distances(x[i:i + chunk], x)
        d[np.arange(len(d)), np.arange(i, i + len(d))] = np.inf
        out[i:i + chunk] = np.partition(d, k - 1, axis=1)[:, k - 1]
    return out


def prdc(real: ArrayLike, fake: ArrayLike, k: int = 5) -> PRDC:
    """Precision, recall, density and coverage of ``fake [m, F]`` against ``real [n, F]``.

    Each point's k-NN ball has the radius of its ``k``-th nearest neighbour in its own set. Precision: the share
    of fake points inside some real ball; recall: the share of real points inside some fake ball; density:
    ``1/(k m) Σ_j #{real balls holding fake j}``; coverage: the share of real balls holding at least one fake
    point. A point on a ball's boundary counts as inside (``≤``).
    """
    r, f = np.asarray(real, np.float64), np.asarray(fake, np.float64)
    if r.ndim != 2 or f.ndim != 2 or r.shape[1] != f.shape[1]:
        raise ValueError(f"real [n, F] and fake [m, F] must share F, got {r.shape} and {f.shape}")
    rr, fr = kth_neighbour_radius(r, k), kth_neighbour_radius(f, k)
    d = squared_distances(r, f)                       # [n real, m fake]
    inside_real = d <= rr[:, None]                    # fake j in real ball i
    precision = float(inside_real.any(0).mean())
    recall = float((d <= fr[None, :]).any(1).mean())
    density = float(inside_real.sum() / (k * f.shape[0]))
    coverage = float((d.min(1) <= rr).mean())
    return PRDC(precision, recall, density, coverage, int(k))
