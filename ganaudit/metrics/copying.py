"""Data-copying test C_T (Meehan, Chaudhuri & Dasgupta 2020): generated vs held-out nearest-training distances,
compared by a Mann–Whitney z per k-means cell of the training set."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

__all__ = ["CopyingResult", "mann_whitney_z", "data_copying", "nearest_distances"]


@dataclass(frozen=True)
class CopyingResult:
    """`data_copying` output: ``ct`` (the test-weighted mean of the kept cells' z; ≪ 0: the samples lie closer to
    the training set than held-out data do, i.e. copying; ≫ 0: underfitting), ``cells`` (one row per cell:
    ``cell``, ``n_test``, ``n_generated``, ``z``, ``kept``), ``n_cells``, ``min_generated`` (the τ rule: a cell is
    kept when at least this many samples fall in it, τ = min_generated / m), ``frac_test_kept`` (the test
    share of the kept cells)."""

    ct: float
    cells: pd.DataFrame
    n_cells: int
    min_generated: int
    frac_test_kept: float


def nearest_distances(query: np.ndarray, reference: np.ndarray, chunk: int = 2048) -> np.ndarray:
    """Euclidean distance ``[n]`` from each row of ``query`` to its nearest row of ``reference``."""
    out = np.empty(len(query))
    rn = (reference * reference).sum(1)
    for i in range(0, len(query), chunk):
        q = query[i:i + chunk]
        d = (q * q).sum(1)[:, None] + rn[None, :] - 2.0 * (q @ reference.T)
        out[i:i + chunk] = np.sqrt(np.maximum(d.min(1), 0.0))
    return out


def mann_whitney_z(generated: ArrayLike, test: ArrayLike) -> float:
    """``(U − mn/2) / √(mn(m + n + 1)/12)``, U the number of (generated, test) pairs with the generated value
    larger (ties ½): the normal approximation of the Mann–Whitney statistic, no tie correction (as Meehan et al.).
    Negative when generated values are smaller."""
    from scipy.stats import mannwhitneyu

    g, t = np.asarray(generated, np.float64), np.asarray(test, np.float64)
    m, n = len(g), len(t)
    u = float(mannwhitneyu(g, t, alternative="two-sided", method="asymptotic").statistic)
    return (u - m * n / 2) / np.sqrt(m * n * (m + n + 1) / 12)


def data_copying(train: ArrayLike, test: ArrayLike, generated: ArrayLike, n_cells: int = 10,
                 min_generated: int = 20, seed: int = 0) -> CopyingResult:
    """C_T of ``generated [m, F]`` against held-out ``test [n, F]``, training set ``train [N, F]``.

    The training set is cut into ``n_cells`` cells by k-means (k-means++ starts, seeded); test and generated
    points go to their nearest centre. In each cell the distances to the nearest training point (over the whole
    training set) of the generated points are set against the test points' by `mann_whitney_z`. Cells with fewer
    than ``min_generated`` generated points (τ = min_generated / m) or no test point are dropped; C_T is the mean
    of the kept cells' z weighted by the cells' test fractions.
    """
    from scipy.cluster.vq import kmeans2

    tr, te, ge = (np.asarray(a, np.float64) for a in (train, test, generated))
    if not (tr.ndim == te.ndim == ge.ndim == 2) or len({tr.shape[1], te.shape[1], ge.shape[1]}) != 1:
        raise ValueError(f"train, test, generated must be [*, F] with one F, got {tr.shape}, {te.shape}, {ge.shape}")
    if not 1 <= n_cells <= len(tr):
        raise ValueError(f"n_cells must lie in [1, {len(tr)}], got {n_cells}")
    centres, _ = kmeans2(tr, int(n_cells), minit="++", seed=np.random.default_rng(seed))

    def cell_of(x: np.ndarray) -> np.ndarray:
        d = (x * x).sum(1)[:, None] + (centres * centres).sum(1)[None, :] - 2.0 * (x @ centres.T)
        return d.argmin(1)

    d_te, d_ge = nearest_distances(te, tr), nearest_distances(ge, tr)
    c_te, c_ge = cell_of(te), cell_of(ge)
    rows = []
    for c in range(int(n_cells)):
        t, g = d_te[c_te == c], d_ge[c_ge == c]
        kept = len(g) >= min_generated and len(t) > 0
        rows.append({"cell": c, "n_test": len(t), "n_generated": len(g),
                     "z": mann_whitney_z(g, t) if len(g) and len(t) else float("nan"), "kept": kept})
    cells = pd.DataFrame(rows)
    k = cells[cells.kept]
    w = k.n_test.to_numpy() / len(te)
    ct = float((w * k.z.to_numpy()).sum() / w.sum()) if len(k) else float("nan")
    return CopyingResult(ct, cells, int(n_cells), int(min_generated), float(w.sum()))
