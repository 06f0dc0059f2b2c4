"""Authenticity (Alaa et al. 2022): the share of samples farther from their nearest training point than that
point is from its own nearest training neighbour."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from ganaudit.metrics.prdc import kth_neighbour_radius, squared_distances

__all__ = ["authenticity"]


def authenticity(train: ArrayLike, generated: ArrayLike) -> float:
    """authpct, in percent: for each generated point ``g`` with nearest training point ``t``, ``g`` is authentic
    when ``‖g − t‖ > ‖t − t'‖`` (``t'`` the nearest other training point of ``t``). A copy of a training point is
    never authentic (0 %); fresh data from the training distribution are authentic about half the time or more."""
    tr, ge = np.asarray(train, np.float64), np.asarray(generated, np.float64)
    if tr.ndim != 2 or ge.ndim != 2 or tr.shape[1] != ge.shape[1] or len(tr) < 2:
        raise ValueError(f"train [N ≥ 2, F] and generated [m, F] must share F, got {tr.shape}, {ge.shape}")
    own = kth_neighbour_radius(tr, 1)
    d = squared_distances(ge, tr)
    j = d.argmin(1)
    return float(100.0 * (d[np.arange(len(ge)), j] > own[j]).mean())
