"""Small statistics used by the paper's analyses.

* `patch_coefficient_of_variation` — the average coefficient of variation (std / mean) of the
  non-overlapping 8×8 patches of an image (paper section 4.2, footnote 1, figure 8 right).
* `correlation` — Pearson and Spearman correlations with p-values (LL vs patch CV).
* `bits_per_dim` — the DESIGN.md contract for log-likelihoods in bits per dimension (Table 1).
* `psnr`, `to_unit_scale_variance` — σ² and PSNR on the ``[0, 1]`` scale, as the paper's Table 3
  reports them (`ganaudit.manifold.distances.psnr_db` is `psnr` for a model-scale MSE).
* `log_mean_exp` — a numerically stable ``log(mean(exp(a)))`` (AIS chains, class mixtures).

Everything is float64 numpy; no torch.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "patch_coefficient_of_variation",
    "correlation",
    "bits_per_dim",
    "psnr",
    "to_unit_scale_variance",
    "log_mean_exp",
]


def patch_coefficient_of_variation(images: np.ndarray, patch: int = 8) -> np.ndarray:
    """Average coefficient of variation of the non-overlapping ``patch × patch`` patches of each image.

    For every channel and every non-overlapping ``patch × patch`` patch (tiled from the top-left
    corner; rows/columns that do not fill a whole patch are dropped), the pixel values are put on
    the ``[0, 1]`` scale (``u8 / 255``) and the coefficient of variation ``std / mean`` is taken,
    with the population standard deviation (``ddof = 0``). The image's value is the mean of these
    CVs over all patches and channels. CV is scale-free, so the ``[0, 1]`` scale only matters for
    the zero-mean policy below.

    Zero-mean policy: with uint8 pixels a patch has mean 0 only when every pixel is 0 (a flat black
    patch), so its std is also 0; such a patch contributes a CV of **0** (it is perfectly flat),
    instead of the undefined 0/0.

    Args:
        images: uint8 array ``[N, C, H, W]`` (the stored image format).
        patch: patch side in pixels (the paper uses 8); at least one whole patch must fit.

    Returns:
        float64 ``[N]``: the average patch CV of each image (dimensionless, ≥ 0).
    """
    images = np.asarray(images)
    if images.dtype != np.uint8:
        raise ValueError(f"images must be uint8 [N, C, H, W] on 0..255, got dtype {images.dtype}")
    if images.ndim != 4:
        raise ValueError(f"images must have shape [N, C, H, W], got shape {images.shape}")
    if not isinstance(patch, (int, np.integer)) or patch < 1:
        raise ValueError(f"patch must be a positive integer, got {patch!r}")
    n, c, h, w = images.shape
    ph, pw = h // patch, w // patch
    if ph == 0 or pw == 0:
        raise ValueError(f"patch={patch} does not fit in images of size {h}×{w}")
    x = images[:, :, : ph * patch, : pw * patch].astype(np.float64) / 255.0
    x = x.reshape(n, c, ph, patch, pw, patch)
    mean = x.mean(axis=(3, 5))                       # [N, C, ph, pw]
    std = x.std(axis=(3, 5))                         # population std
    cv = np.divide(std, mean, out=np.zeros_like(std), where=mean > 0)   # mean == 0 ⇒ flat black ⇒ 0
    return cv.mean(axis=(1, 2, 3))


def correlation(x: ArrayLike, y: ArrayLike) -> dict[str, float]:
    """Pearson and Spearman correlation between two 1-D samples of equal length.

    Pairs where either value is non-finite (NaN/±inf) are dropped first; ``n`` is the number of
    pairs used. With fewer than 3 pairs, or a constant sample, the coefficients and p-values are NaN.

    Returns:
        ``dict(pearson_r, pearson_p, spearman_rho, spearman_p, n)`` (two-sided p-values).
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.ndim != 1 or y.ndim != 1 or x.shape != y.shape:
        raise ValueError(f"x and y must be 1-D of equal length, got shapes {x.shape} and {y.shape}")
    keep = np.isfinite(x) & np.isfinite(y)
    x, y = x[keep], y[keep]
    n = int(x.size)
    nan = float("nan")
    out = {"pearson_r": nan, "pearson_p": nan, "spearman_rho": nan, "spearman_p": nan, "n": n}
    if n < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return out
    from scipy import stats as _sps  # scipy.stats costs half a second to import: only the jobs that correlate pay it

    pr = _sps.pearsonr(x, y)
    sr = _sps.spearmanr(x, y)
    out.update(pearson_r=float(pr.statistic), pearson_p=float(pr.pvalue),
               spearman_rho=float(sr.statistic), spearman_p=float(sr.pvalue))
    return out


def bits_per_dim(log_px: ArrayLike, n_dims: int, bin_width: float = 2.0 / 256.0) -> np.ndarray | float:
    """Log-likelihood in bits per dimension (DESIGN.md contract; higher is better, as in Table 1).

    ``ll_bpd = (log_px + D · log Δ) / (D · ln 2)``: the density ``log_px`` (nats, on the model scale
    ``[-1, 1]``) is turned into the log-probability of the 8-bit bin of width ``Δ`` around ``x``
    and divided by ``D ln 2``. A uniform density on ``[-1, 1]^D`` gives exactly −8.

    Args:
        log_px: log densities in nats, any shape.
        n_dims: D, the number of dimensions of one image (C·H·W).
        bin_width: Δ, the width of one 8-bit bin on the model scale (2/256 on ``[-1, 1]``).

    Returns:
        float64 array of ``log_px``'s shape (a Python float for a scalar input), bits per dimension.
    """
    if int(n_dims) != n_dims or n_dims < 1:
        raise ValueError(f"n_dims must be a positive integer, got {n_dims!r}")
    if not bin_width > 0:
        raise ValueError(f"bin_width must be > 0, got {bin_width!r}")
    lp = np.asarray(log_px, dtype=np.float64)
    d = float(n_dims)
    out = (lp + d * math.log(bin_width)) / (d * math.log(2.0))
    return float(out) if out.ndim == 0 else out


def psnr(mse01: ArrayLike) -> np.ndarray | float:
    """Peak signal-to-noise ratio in dB for a mean squared error on the ``[0, 1]`` scale (peak 1).

    ``PSNR = 10 · log10(1 / mse)``; ``mse = 0`` gives ``inf``. For the paper's Table 3 pass σ² on
    the ``[0, 1]`` scale (see `to_unit_scale_variance`): σ² = 0.018 → 17.4 dB.

    Returns:
        float64 array of ``mse01``'s shape (a Python float for a scalar input), in dB.
    """
    m = np.asarray(mse01, dtype=np.float64)
    if np.any(m < 0) or np.any(np.isnan(m)):
        raise ValueError("mse01 must be a non-negative mean squared error on the [0, 1] scale")
    with np.errstate(divide="ignore"):
        out = -10.0 * np.log10(m)
    return float(out) if out.ndim == 0 else out


def to_unit_scale_variance(sigma2_model: ArrayLike) -> np.ndarray | float:
    """A variance on the model scale ``[-1, 1]`` expressed on the ``[0, 1]`` scale: ``σ² / 4``.

    (``x01 = (x + 1) / 2``, so variances shrink by 2² = 4.)
    """
    s = np.asarray(sigma2_model, dtype=np.float64)
    if np.any(s < 0) or np.any(np.isnan(s)):
        raise ValueError("sigma2_model must be a non-negative variance on the [-1, 1] scale")
    out = s / 4.0
    return float(out) if out.ndim == 0 else out


def log_mean_exp(a: ArrayLike, axis: int | None = None, ignore_nan: bool = False) -> np.ndarray | float:
    """``log(mean(exp(a)))`` along ``axis`` (None: over all values) without overflow.

    Computed as ``log(mean(exp(a − m))) + m`` with ``m`` the maximum along ``axis``; where ``m`` is not
    finite (a slice of ``−inf``) it is taken as 0, so such a slice gives ``−inf``, never NaN. Used to
    combine AIS chains (``log_px = log_mean_exp(log_w, axis=1)``) and the classes of a mixture.

    Args:
        ignore_nan: leave NaN values out of the mean (``nanmax``/``nanmean``); an all-NaN slice gives NaN.
    """
    a = np.asarray(a, dtype=np.float64)
    if axis is None:
        a, axis = a.reshape(-1), 0
    if a.shape[axis] == 0:
        raise ValueError(f"a must be non-empty along axis {axis}, got shape {a.shape}")
    mx = (np.nanmax if ignore_nan else np.max)(a, axis=axis, keepdims=True)
    mx = np.where(np.isfinite(mx), mx, 0.0)
    with np.errstate(divide="ignore"):
        out = np.log((np.nanmean if ignore_nan else np.mean)(np.exp(a - mx), axis=axis)) + np.squeeze(mx, axis=axis)
    return float(out) if np.ndim(out) == 0 else out
