"""How far each log-likelihood of a run is from converged, measured on the images it describes.

An AIS estimate is a stochastic lower bound; how loose it is depends on the image (off the generator's
manifold, posteriors are narrow and multimodal) and cannot be read off simulated or linear data. So every run
re-estimates a few images of every group at ``factor`` × its budget (`ganaudit.density.ais.AISConfig.scaled`: more
temperatures and more search restarts, independent random numbers) and records, per image, the *change*
``log p̂_factor(x) − log p̂_run(x)``: positive when the run's estimate was too low. Per group, the median and
the largest absolute change are the group's error bar (`summarise`); a difference between two groups is
established only when it exceeds both groups' error bars (`ganaudit.findings`). The same re-estimates at a
ladder of factors are the paper's Fig 9, for every group. The re-estimates themselves are made by
`ganaudit.density.ais.reestimate_group`; this module holds the arithmetic on them (no torch).

The re-estimates search on their own (`ganaudit.density.ais.independent_check`): their own pool of candidate
latents, their own restarts (not the inversion's latents the run started from) and a tempered SMC search, so a
posterior basin the run's search missed is not simply missed again.

The error bar is itself a lower bound on the error: a run ``factor`` times longer can still be short of the
truth. A group's mean over ``n`` images has a second error, the sampling error of the images: `bootstrap_se` (the
standard error of the mean, by bootstrap over the images) — on real images it is often the larger one. A difference
between two groups is established only when it exceeds both groups' error bars *and* ``SE_Z`` standard errors of the
difference of their means (`established`), and the findings page says which of the two decided.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def changes(check_log_px: np.ndarray, factors: np.ndarray, run_log_px: np.ndarray, factor: float) -> np.ndarray:
    """Per image ``[n]``: the estimate at ``factor`` minus the run's own estimate of the same image."""
    where = np.flatnonzero(np.isclose(factors, factor))
    if not len(where):
        raise ValueError(f"no re-estimate at factor {factor} (have {list(factors)})")
    return check_log_px[where[0]] - run_log_px


def summarise(change: pd.DataFrame) -> pd.DataFrame:
    """Per ``(model, group)`` of a frame with columns ``model``, ``group``, ``change``: the number of images
    re-estimated, the median change and the largest absolute change (nats) — the group's error bar."""
    g = change.groupby(["model", "group"], sort=False)["change"]
    return pd.DataFrame({"check_images": g.size(), "error_median_nats": g.median(),
                         "error_max_nats": g.agg(lambda s: float(np.max(np.abs(s))) if len(s) else np.nan)}).reset_index()


def exceeds(margin: float, *error_bars: float) -> bool:
    """True when a difference ``margin`` between groups is larger than every given error bar (a NaN bar, an
    unmeasured error, never lets a difference count as established)."""
    bars = np.asarray(error_bars, dtype=np.float64)
    return bool(np.isfinite(margin) and np.all(np.isfinite(bars)) and np.all(abs(margin) > bars))


SE_Z = 2.0
"""Standard errors of a difference of group means that a lead must exceed (two-sided ~95 % for a normal mean)."""


def bootstrap_se(values: np.ndarray, n_boot: int = 2000, seed: int = 0) -> float:
    """Standard error of the mean of ``values`` by bootstrap over them (NaN below two values)."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if len(v) < 2:
        return float("nan")
    rng = np.random.default_rng(seed)
    return float(v[rng.integers(len(v), size=(n_boot, len(v)))].mean(1).std(ddof=1))


def established(margin: float, bars: tuple[float, float], ses: tuple[float, float]) -> tuple[bool, str, float]:
    """Whether a lead ``margin`` (nats) of one group over another is established: larger than both groups'
    estimator error bars (`exceeds`) and than `SE_Z` standard errors of the difference of their means
    (``√(se₁² + se₂²)``). Returns ``(established, what decides, threshold)``: the larger of the two thresholds decides
    (``"error bar"`` or ``"sampling error"``); a NaN anywhere never establishes."""
    bar = float(np.max(bars)) if np.all(np.isfinite(bars)) else float("nan")
    se = SE_Z * float(np.hypot(*ses)) if np.all(np.isfinite(ses)) else float("nan")
    if not (np.isfinite(bar) and np.isfinite(se)):
        return False, "an unmeasured error", float("nan")
    decides, threshold = ("sampling error", se) if se >= bar else ("error bar", bar)
    return bool(exceeds(margin, *bars) and abs(margin) > se), decides, threshold


__all__ = ["SE_Z", "bootstrap_se", "changes", "established", "exceeds", "summarise"]
