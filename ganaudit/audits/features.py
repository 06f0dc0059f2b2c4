"""Features and distances the audits share: images → features whose squared Euclidean distance is the L2 (MSE on
the model scale) or the perceptual distance, the pool's pairwise distances, and its closest pairs."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from torch import Tensor

    from ganaudit.manifold.distances import Perceptual

__all__ = ["check_square", "closest_pairs", "distance_features", "pairwise_distances"]


def distance_features(x: Tensor, perceptual: Perceptual | None = None, batch_size: int = 256) -> np.ndarray:
    """Images ``[N, C, H, W]`` (model scale) → float64 features ``[N, F]`` with
    ``‖f(a) − f(b)‖² = mse(a, b)`` (``perceptual=None``; ``F = C·H·W``, features ``x / √(C·H·W)``)
    or ``= perceptual.distance(a, b)`` (the LPIPS embedding)."""
    if x.dim() != 4:
        raise ValueError(f"x must have shape [N, C, H, W], got {tuple(x.shape)}")
    if perceptual is None:
        f = x.detach().flatten(1).double() / math.sqrt(x[0].numel() if len(x) else 1)
    else:
        f = perceptual.embed(x, batch_size=batch_size).double()
    return f.cpu().numpy()


def pairwise_distances(features: np.ndarray, chunk: int = 1024) -> np.ndarray:
    """Squared Euclidean distances ``[N, N]`` (float64, zero diagonal, ≥ 0) between feature rows ``[N, F]``.

    Memory ``8 N²`` bytes (a pool of 4000 samples: 128 MB). With `distance_features` the entries are
    the L2 (MSE, model scale) or perceptual distances between the images.
    """
    f = np.asarray(features, dtype=np.float64)
    if f.ndim != 2:
        raise ValueError(f"features must have shape [N, F], got {f.shape}")
    if chunk < 1:
        raise ValueError(f"chunk must be ≥ 1, got {chunk}")
    sq = (f * f).sum(1)
    out = np.empty((len(f), len(f)))
    for i in range(0, len(f), chunk):
        out[i:i + chunk] = sq[i:i + chunk, None] + sq[None, :] - 2.0 * (f[i:i + chunk] @ f.T)
    np.maximum(out, 0.0, out=out)
    np.fill_diagonal(out, 0.0)
    return np.minimum(out, out.T)  # exactly symmetric


def check_square(distances: np.ndarray) -> np.ndarray:
    """``distances`` as a float64 square matrix without NaN (ValueError naming what is wrong, else)."""
    d = np.asarray(distances, dtype=np.float64)
    if d.ndim != 2 or d.shape[0] != d.shape[1]:
        raise ValueError(f"distances must be a square [N, N] matrix, got shape {d.shape}")
    if np.isnan(d).any():
        raise ValueError("distances contain NaN")
    return d


def closest_pairs(distances: np.ndarray, k: int = 16, tau: float | None = None, chunk: int = 512) -> pd.DataFrame:
    """The ``k`` closest pairs of a pool: columns ``i < j`` (pool indices), ``distance``, ``collision``
    (``distance < tau``; all False without ``tau``), sorted by distance (ties by ``i``, ``j``). For the
    figure in which a person judges whether collisions are duplicates."""
    d = check_square(distances)
    n, k = d.shape[0], int(k)
    if k < 1:
        raise ValueError(f"k must be ≥ 1, got {k}")
    cand_i, cand_j, cand_v = [], [], []
    for a in range(0, n, chunk):
        block = d[a:a + chunk]
        rows, cols = np.nonzero(np.arange(n)[None, :] > np.arange(a, a + len(block))[:, None])
        v = block[rows, cols]
        keep = np.argpartition(v, k - 1)[:k] if len(v) > k else np.arange(len(v))
        cand_i.append(rows[keep] + a), cand_j.append(cols[keep]), cand_v.append(v[keep])
    i, j, v = (np.concatenate(c) if c else np.empty(0) for c in (cand_i, cand_j, cand_v))
    top = np.lexsort((j, i, v))[:k]
    return pd.DataFrame({"i": i[top].astype(np.int64), "j": j[top].astype(np.int64), "distance": v[top],
                         "collision": v[top] < tau if tau is not None else np.zeros(len(top), bool)})
