"""Vendi score (Friedman & Dieng 2023): the effective number of distinct items of a set under a similarity."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["vendi_score"]


def vendi_score(features: ArrayLike, centre: ArrayLike | None = None) -> float:
    """``exp(−Σ λ log λ)``, λ the eigenvalues of ``K / n`` with ``K_ij`` the cosine similarity of rows ``i, j`` of
    ``features [n, F]`` (``K_ii = 1``, positive semi-definite). 1 for ``n`` copies of one item, ``n`` for ``n``
    mutually orthogonal items. The nonzero eigenvalues of ``K / n = X Xᵀ / n`` are those of ``Xᵀ X / n``
    (``X`` the unit-normalised rows), so the smaller matrix is used.

    ``centre`` ``[F]`` is subtracted from every row first (a fixed point, e.g. the training images' mean feature,
    the same for every set compared): features that are all positive (ReLU units) or share a background (pixels)
    are nearly parallel, and uncentred every set scores ≈ 1."""
    x = np.asarray(features, np.float64)
    if x.ndim != 2 or len(x) < 1:
        raise ValueError(f"features must be [n ≥ 1, F], got shape {x.shape}")
    if centre is not None:
        x = x - np.asarray(centre, np.float64)[None, :]
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    if (norms == 0).any():
        raise ValueError("features hold an all-zero row (its cosine similarity is undefined)")
    x = x / norms
    gram = (x @ x.T if len(x) <= x.shape[1] else x.T @ x) / len(x)
    lam = np.clip(np.linalg.eigvalsh(gram), 0, None)
    lam = lam[lam > 1e-12]
    return float(np.exp(-(lam * np.log(lam)).sum()))
