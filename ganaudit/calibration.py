"""The calibration table: every uncertainty the audit states, nominal against achieved on data it was not fitted to.

Each check has a known answer or held-out data, so a row can fail:

* **support α** (`support_rows`): the birthday test's false-collision rate, α by construction, measured at τ on
  held-out real images (`ganaudit.audits.support.heldout_rate`); holds when α lies in the measured rate's interval.
  And the calibration repeated on random re-splits of the same real images (`ganaudit.audits.support.split_check`):
  the share of splits whose held-out interval (widened by τ's calibration noise, as the verdict's check is) holds
  α, against the interval's confidence.
* **K̂ interval coverage** (`interval_coverage`): pools drawn from ``K`` equally likely images (``K`` = the run's
  samples' K̂, the support where the verdict is read), put through the run's batches; the fraction of the intervals
  that hold ``K`` against their confidence.
* **memorisation under the null** (`memorisation_null`): the samples replaced by held-out real images (random
  halves of the run's test images, the other half the reference); the share of p-values below the verdict's level
  `ganaudit.findings.MEMORISATION_P` against that level, and a Kolmogorov–Smirnov test of their uniformity.
* **typicality false positives** (`typicality_rows`): the model's own samples found atypical, against
  ``1 − confidence`` of the ε bootstrap: over random re-splits of its calibration and held-out samples
  (`ganaudit.density.typicality.null_false_positives`; the subsets of one held-out group overlap too much to count
  as trials), or, without them, over the run's subsets.
* **AIS error bar** (`errorbar_coverage`): a group's error bar is the largest change of its ``k`` re-estimated
  images; leave one out, and the bar of the other ``k − 1`` must hold the left-out image's change — for exchangeable
  images with probability ``(k − 1)/k``.

Rows: ``check``, ``model``, ``what``, ``nominal``, ``achieved``, ``low``, ``high`` (the achieved value's 95 %
interval, Wilson or exact Poisson), ``n``, ``holds``: the nominal value lies in the interval (the support and
typicality rates), the interval does not lie above it (the memorisation false-alarm rate), or not below it (the
coverages).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

__all__ = ["COLUMNS", "calibration_table", "errorbar_coverage", "interval_coverage", "memorisation_null",
           "support_rows", "typicality_rows", "wilson"]

COLUMNS = ["check", "model", "what", "nominal", "achieved", "low", "high", "n", "holds"]


def wilson(hits: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson interval of a binomial proportion ``hits / n``."""
    from scipy.stats import norm

    if n <= 0:
        return float("nan"), float("nan")
    z = norm.ppf(0.5 + confidence / 2)
    p = hits / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return float(max(centre - half, 0.0)), float(min(centre + half, 1.0))


def _row(check: str, model: str, what: str, nominal: float, achieved: float, low: float, high: float, n: int,
         side: str = "both") -> dict:
    """``side``: ``"both"`` (the nominal value lies in the interval), ``"at_most"`` (a false-alarm rate: the interval
    does not lie above it), ``"at_least"`` (a coverage: the interval does not lie below it)."""
    holds = {"both": low <= nominal <= high, "at_most": low <= nominal, "at_least": high >= nominal}[side]
    return dict(check=check, model=model, what=what, nominal=float(nominal), achieved=float(achieved), low=float(low),
                high=float(high), n=int(n), holds=bool(holds))


def support_rows(support: pd.DataFrame) -> list[dict]:
    """One row per model and distance of the support table: α against the rate measured on held-out real images."""
    rows = []
    ref = support[support.pool == "held-out real images"]
    for r in ref.itertuples():
        rows.append(_row("support: false-collision rate", r.model,
                         f"{r.distance}, batches of {int(r.s_max)}, {int(r.n_heldout)} held-out real images",
                         r.alpha, r.false_collision_rate, r.false_collision_low, r.false_collision_high,
                         int(r.n_heldout)))
        n = int(getattr(r, "n_splits", 0) or 0)
        if n:
            lo, hi = wilson(int(round(r.split_covers * n)), n)
            rows.append(_row("support: α within the held-out rate's interval, resampled splits", r.model,
                             f"{r.distance}, {n} random re-splits of the calibration and held-out images; held-out "
                             f"rate median {r.split_rate_median:.3f} (10-90 %: {r.split_rate_p10:.3f}-"
                             f"{r.split_rate_p90:.3f}), within [α/2, 2α] on {r.split_within:.0%}; the interval "
                             f"widened by τ's calibration noise (sd {r.calibration_sd:.2f} in log rate; the Poisson "
                             f"interval alone holds α on {r.split_covers_poisson:.0%})",
                             float(r.confidence), r.split_covers, lo, hi, n, side="at_least"))
    return rows


def interval_coverage(k: float, n_pool: int, sizes: Sequence[int], n_batches: int, confidence: float,
                      n_bootstrap: int, reps: int, seed: int = 0) -> tuple[int, int]:
    """How many of ``reps`` support intervals (`ganaudit.audits.support.fit_support`) hold ``K``, for pools of
    ``n_pool`` draws from ``K`` equally likely images put through ``n_batches`` nested batches of ``sizes``.
    Returns ``(covered, reps)``."""
    from ganaudit.audits.support import batch_min_distances, collision_curve, fit_support

    k_int = max(2, int(round(k)))
    s_max = max(sizes)
    covered = 0
    for r in range(reps):
        rng = np.random.default_rng([seed, r])
        labels = rng.integers(k_int, size=n_pool)
        d = (labels[:, None] != labels[None, :]).astype(np.float64)   # 0 between copies of one image, else 1
        cur = collision_curve(batch_min_distances(d, s_max, n_batches, seed + r), sizes, 0.5, confidence)
        est = fit_support(cur, n_pool, confidence, n_bootstrap, seed + r)
        covered += bool(est.k_low <= k_int <= est.k_high)
    return covered, reps


def memorisation_null(test_distances: np.ndarray, quantile: float, n_splits: int, seed: int = 0
                      ) -> tuple[np.ndarray, float]:
    """p-values of the memorisation test (`ganaudit.audits.memorisation.flagged_p_value`: samples below the
    ``quantile`` of the reference's nearest-training distances) when the "samples" are real held-out images:
    ``n_splits`` random halves of the test images' distances, the other half the reference. Returns the p-values and
    a Kolmogorov–Smirnov p of their uniformity (a discrete test's p-values are conservative, so the KS test rejects
    them; their share below a level must stay at or under it)."""
    from scipy.stats import kstest

    from ganaudit.audits.memorisation import flagged_p_value

    d = np.asarray(test_distances, dtype=np.float64)
    if len(d) < 20:
        raise ValueError(f"the null check needs ≥ 20 test distances, got {len(d)}")
    rng = np.random.default_rng(seed)
    p = np.empty(n_splits)
    for i in range(n_splits):
        perm = rng.permutation(len(d))
        ref, null = d[perm[:len(d) // 2]], d[perm[len(d) // 2:]]
        thr = np.quantile(ref, quantile)
        p[i] = flagged_p_value(int(np.sum(null < thr)), len(null), int(np.sum(ref < thr)), len(ref))
    return p, float(kstest(p, "uniform").pvalue)


def typicality_rows(table2: pd.DataFrame, confidence: float, trials: int) -> list[dict]:
    """The GAN's own held-out samples (group ``generated``, disjoint from the calibration samples) found atypical:
    the test's false-positive rate, against ``1 − confidence``."""
    rows = []
    gen = table2[table2.group == "generated"]
    for r in gen.itertuples():
        if not np.isfinite(r.fraction_typical):
            continue
        splits = int(getattr(r, "null_splits", 0) or 0) if np.isfinite(getattr(r, "null_splits", np.nan)) else 0
        if splits:       # independent-enough trials: random re-splits of the model's own samples
            misses = int(round(r.false_positive_rate * splits))
            lo, hi = wilson(misses, splits, 0.95)
            rows.append(_row("typicality: false-positive rate", r.model,
                             f"own samples, {splits} random calibration/held-out re-splits, N = {int(r.n)} (the run's "
                             f"held-out subsets: {1 - r.fraction_typical:.2f} atypical)",
                             1 - confidence, misses / splits, lo, hi, splits))
            continue
        misses = int(round((1 - r.fraction_typical) * trials))
        lo, hi = wilson(misses, trials, 0.95)
        rows.append(_row("typicality: false-positive rate", r.model, f"own held-out samples, N = {int(r.n)}",
                         1 - confidence, misses / trials, lo, hi, trials))
    return rows


def errorbar_coverage(checks: pd.DataFrame) -> list[dict]:
    """Leave-one-out coverage of the AIS error bar per model: over every group with ``k ≥ 2`` re-estimated images,
    the share of images whose |change| is at most the largest |change| of the group's other images, against the
    exchangeable rate ``(k − 1)/k`` (averaged over the groups)."""
    rows = []
    for model, sub in checks.groupby("model", sort=False):
        hits, n, nominal = 0, 0, []
        for _, g in sub.groupby("group", sort=False):
            c = np.abs(g.change.to_numpy(np.float64))
            c = c[np.isfinite(c)]
            if len(c) < 2:
                continue
            for i in range(len(c)):
                hits += bool(c[i] <= np.delete(c, i).max())
                n += 1
            nominal += [(len(c) - 1) / len(c)] * len(c)
        if n:
            lo, hi = wilson(hits, n)
            rows.append(_row("AIS error bar: held-out image within the others' bar", str(model),
                             f"leave one out over {n} re-estimated images, {sub.group.nunique()} groups",
                             float(np.mean(nominal)), hits / n, lo, hi, n, side="at_least"))
    return rows


def calibration_table(support: pd.DataFrame | None, memorisation: Mapping[str, Mapping[str, np.ndarray]],
                      table2: pd.DataFrame | None, checks: pd.DataFrame | None, params: Mapping) -> pd.DataFrame:
    """All rows (module doc). ``memorisation``: model → distance → the test images' nearest-training distances;
    ``params``: ``support`` (the run's ``beyond.support``), ``memorisation_p``, ``quantile``, ``typicality``
    (``confidence``, ``trials``), ``interval_reps``, ``interval_bootstrap``, ``null_splits``, ``seed``."""
    rows: list[dict] = []
    if support is not None and len(support):
        rows += support_rows(support)
        sp = params["support"]
        for r in support[support.pool == "samples"].drop_duplicates("model").itertuples():
            k = r.k_hat if np.isfinite(r.k_hat) else r.k_low
            covered, reps = interval_coverage(k, int(r.n_pool), sp["sizes"], sp["n_batches"], sp["confidence"],
                                              params["interval_bootstrap"], params["interval_reps"], params["seed"])
            lo, hi = wilson(covered, reps)
            rows.append(_row("support: K̂ interval coverage", r.model,
                             f"K = {k:.3g} equally likely images, pools of {int(r.n_pool)}", sp["confidence"],
                             covered / reps, lo, hi, reps, side="at_least"))
    for model, by_distance in memorisation.items():
        for name, d in by_distance.items():
            p, ks = memorisation_null(d, params["quantile"], params["null_splits"], params["seed"])
            level = params["memorisation_p"]
            hits = int(np.sum(p < level))
            lo, hi = wilson(hits, len(p))
            rows.append(_row("memorisation: p < level under the null", model,
                             f"{name}, held-out test halves of {len(d) // 2} (KS uniformity p = {ks:.2g})", level,
                             hits / len(p), lo, hi, len(p), side="at_most"))
    if table2 is not None and len(table2):
        rows += typicality_rows(table2, params["typicality"]["confidence"], params["typicality"]["trials"])
    if checks is not None and len(checks):
        rows += errorbar_coverage(checks)
    return pd.DataFrame(rows, columns=COLUMNS)
