"""Birthday-paradox support estimate (Arora & Zhang 2017; "Are GANs truly distribution learners?", §4).

If a distribution puts equal mass on ``K`` distinct images, a batch of ``s`` independent draws holds a
repeated image with probability ``P_K(s) = 1 − Π_{i<s} (1 − i/K)``, which reaches ½ near
``s ≈ 1.18 √K``. Arora & Zhang draw batches from a GAN, look for near-duplicate pairs, and read the
support size off the batch size at which duplicates become likely (``s²``). Here:

1. **Distances.** Images ``[N, C, H, W]`` on the model scale ``[-1, 1]`` become features whose squared
   Euclidean distance *is* the audited distance (`distance_features`): the L2 distance of the paper
   (`ganaudit.manifold.distances.mse`, mean squared difference per pixel-channel) or a perceptual distance
   (`Perceptual.embed`, exact for LPIPS-structured metrics). `pairwise_distances` gives the
   ``[N, N]`` matrix of a pool of ``N`` samples.
2. **Batches.** `batch_min_distances` draws ``n_batches`` random orders of the pool; batch ``b`` of
   size ``s`` is the first ``s`` images of order ``b`` (drawn without replacement from the pool, so a
   batch is an i.i.d. sample of the model; batches of different ``s`` are nested). It records the
   closest-pair distance in every batch, for every ``s``, once; every threshold is then a comparison.
3. **Threshold.** A *collision* is a pair closer than ``τ`` (strictly). `calibrate_threshold` sets
   ``τ`` on the training images: the ``α``-quantile of the closest-pair distance over random batches
   of ``s_max`` training images, so that at most a fraction ``α`` of real batches of the largest size
   collide. Training images are distinct draws of the data distribution, so every real collision is a
   false one: ``α`` is the test's false-collision rate at ``s_max`` (lower for smaller ``s``, the curve
   being monotone). Only the ordering of distances matters, so the same rule serves L2 and LPIPS.
4. **Curve and estimate.** `collision_curve` counts colliding batches per ``s``; `fit_support`
   fits ``P_K`` by maximum likelihood over ``K`` (binomial counts per ``s``) and gives an interval by a
   parametric bootstrap that replays the whole procedure (pool, nested batches) under ``K̂`` — the
   batches share one pool, so the binomial likelihood itself would give far too narrow an interval.
   With no collision at all, ``K̂ = ∞`` and the interval is one-sided (see `fit_support`).

Collisions under a threshold are only candidates: a person must look at the pairs (`closest_pairs`)
before calling them duplicates. The test only ever overstates diversity: pixel noise in the samples
keeps near-duplicates apart, so a noisy model can pass where a cleaner one fails (read it beside
sample quality). The training images' own curve (the reference) shows what the test
can resolve: with ``P(s_max) ≈ α`` by construction, its estimate ``≈ s_max² / (2 ln(1/(1−α)))`` is
the largest support the test can tell apart from "no duplicates", not the data's support.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy.optimize import minimize_scalar
from scipy.stats import norm

from ganaudit.audits.common import as_uint8, pair_images, write_frames
from ganaudit.audits.features import check_square, closest_pairs, distance_features, pairwise_distances
from ganaudit.audits.stage import StageInputs, StageOutput

if TYPE_CHECKING:
    from torch import Tensor

    from ganaudit.manifold.distances import Perceptual

__all__ = ["batch_min_distances", "Threshold", "calibrate_threshold",
           "collision_curve", "collision_probability", "SupportEstimate", "fit_support",
           "BirthdayResult", "birthday_paradox_test", "support_audit", "THRESHOLD_FIELDS", "stage"]

_K_GRID = np.geomspace(1.0, 1e13, 4001)  # support sizes searched (ratio 1.0075 between neighbours)


def batch_min_distances(distances: np.ndarray, s_max: int, n_batches: int, seed: int) -> np.ndarray:
    """Closest-pair distance of nested random batches: float64 ``[n_batches, s_max + 1]``.

    Entry ``[b, s]`` is the smallest distance between two of the first ``s`` images of a random order
    ``b`` of the pool (``inf`` for ``s < 2``); non-increasing in ``s``. Collisions at any ``τ`` are
    ``out[:, s] < τ``. ``distances``: ``[N, N]`` from `pairwise_distances` (units of the distance);
    ``s_max ≤ N``. Cost ``n_batches · s_max²``.
    """
    d = check_square(distances)
    n = d.shape[0]
    if not 2 <= s_max <= n:
        raise ValueError(f"s_max must lie in [2, N = {n}] (the pool size), got {s_max}")
    if n_batches < 1:
        raise ValueError(f"n_batches must be ≥ 1, got {n_batches}")
    rng = np.random.default_rng(seed)
    orders = np.stack([rng.permutation(n)[:s_max] for _ in range(n_batches)])
    earlier = np.tril(np.ones((s_max, s_max), dtype=bool), k=-1)  # [i, j]: j < i
    out = np.full((n_batches, s_max + 1), np.inf)
    step = max(1, int(4e6 // (s_max * s_max)))
    for b in range(0, n_batches, step):
        o = orders[b:b + step]
        sub = d[o[:, :, None], o[:, None, :]]                     # [c, s_max, s_max]
        row = np.where(earlier, sub, np.inf).min(2)                # distance to the nearest earlier image
        out[b:b + step, 1:] = np.minimum.accumulate(row, axis=1)
    return out


@dataclass(frozen=True)
class Threshold:
    """A collision threshold ``τ`` (a pair is a collision when its distance is < ``τ``) and how it was set.

    ``tau``: in units of the distance (MSE on the model scale, or LPIPS). ``alpha``: target false-collision
    rate; ``achieved``: the fraction of reference batches of size ``s`` that collide at ``tau`` (≤ alpha).
    """

    tau: float
    alpha: float
    s: int
    achieved: float
    n_batches: int
    n_reference: int

    def describe(self, distance: str = "L2") -> str:
        """One sentence for a caption."""
        return (f"collision: a pair closer than τ = {self.tau:.4g} ({distance}), the {self.alpha:g}-quantile of the "
                f"closest-pair distance in {self.n_batches} random batches of {self.s} training images "
                f"(pool {self.n_reference}); {100 * self.achieved:.1f}% of those batches collide at τ")


def calibrate_threshold(reference_batch_min: np.ndarray, alpha: float = 0.05, s: int | None = None,
                        n_reference: int = 0) -> Threshold:
    """``τ`` such that at most a fraction ``alpha`` of batches of ``s`` training images hold a collision.

    ``reference_batch_min``: `batch_min_distances` of a pool of ``n_reference`` training images;
    ``s``: the batch size it is calibrated at (default: the largest, ``s_max``). With the sorted
    closest-pair distances ``m_(1) ≤ … ≤ m_(B)`` and ``k = ⌊α B⌋``, ``τ = m_(k+1)``: exactly the batches
    with ``m < τ`` collide, at most ``k`` of them (fewer with ties). ``α`` is the false-collision rate of
    the test at ``s``; a smaller ``α`` gives fewer false collisions and a less sensitive test.
    """
    m = np.asarray(reference_batch_min, dtype=np.float64)
    if m.ndim != 2 or m.shape[1] < 3:
        raise ValueError(f"reference_batch_min must be [n_batches, s_max + 1] with s_max ≥ 2, got shape {m.shape}")
    if not 0 <= alpha < 1:
        raise ValueError(f"alpha must lie in [0, 1), got {alpha}")
    s = m.shape[1] - 1 if s is None else int(s)
    if not 2 <= s < m.shape[1]:
        raise ValueError(f"s must lie in [2, {m.shape[1] - 1}], got {s}")
    col = np.sort(m[:, s])
    tau = float(col[int(math.floor(alpha * len(col)))])
    return Threshold(tau, float(alpha), s, float(np.mean(m[:, s] < tau)), len(col), int(n_reference))


def _wilson(c: np.ndarray, n: int, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    z = norm.ppf(0.5 + confidence / 2)
    p = c / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return np.clip(centre - half, 0, 1), np.clip(centre + half, 0, 1)


def collision_curve(batch_min: np.ndarray, sizes: Sequence[int], tau: float, confidence: float = 0.95) -> pd.DataFrame:
    """Fraction of batches of each size ``s`` holding a pair closer than ``tau``.

    Returns one row per ``s``: ``s``, ``n_batches``, ``n_collisions``, ``p_collision`` and a Wilson
    interval ``p_low``/``p_high`` (Monte Carlo error over batches of this pool only).
    """
    m = np.asarray(batch_min, dtype=np.float64)
    s = np.asarray(sorted({int(v) for v in sizes}), dtype=np.int64)
    if m.ndim != 2:
        raise ValueError(f"batch_min must be [n_batches, s_max + 1], got shape {m.shape}")
    if len(s) == 0 or s.min() < 2 or s.max() >= m.shape[1]:
        raise ValueError(f"sizes must lie in [2, {m.shape[1] - 1}] (the batch_min columns), got {list(s)}")
    c = (m[:, s] < tau).sum(0)
    lo, hi = _wilson(c, len(m), confidence)
    return pd.DataFrame({"s": s, "n_batches": len(m), "n_collisions": c, "p_collision": c / len(m),
                         "p_low": lo, "p_high": hi})


def _log_no_collision(k: np.ndarray, s_max: int) -> np.ndarray:
    """``log(1 − P_K(s)) = Σ_{i<s} log(1 − i/K)`` for each ``K`` (rows) and ``s = 0..s_max`` (columns)."""
    k = np.asarray(k, dtype=np.float64).reshape(-1, 1)
    i = np.arange(1, s_max, dtype=np.float64)[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(i < k, np.log1p(-np.minimum(i / k, 1.0)), -np.inf)
    cum = np.concatenate([np.zeros((len(k), 2)), np.cumsum(terms, axis=1)], axis=1)
    return cum


def collision_probability(k: float, sizes: Sequence[int] | np.ndarray) -> np.ndarray:
    """``P_K(s) = 1 − Π_{i<s}(1 − i/K)`` for ``K`` equally likely items (``K`` may be real; ``inf`` gives 0)."""
    s = np.asarray(sizes, dtype=np.int64)
    if math.isinf(k):
        return np.zeros(len(s))
    return -np.expm1(_log_no_collision(np.array([k]), int(s.max()) + 1)[0, s])


def _loglik(log_s: np.ndarray, sizes: np.ndarray, c: np.ndarray, n: int) -> np.ndarray:
    """Binomial log-likelihood per row of ``log_s`` (``[G, s_max + 1]``)."""
    ls = log_s[:, sizes]
    with np.errstate(divide="ignore", invalid="ignore"):
        lp = np.log(-np.expm1(ls))
        out = np.where(c > 0, c * lp, 0.0) + np.where(n - c > 0, (n - c) * ls, 0.0)
    return np.where(np.isnan(out), -np.inf, out).sum(1)


def _mle(sizes: np.ndarray, c: np.ndarray, n: int, grid_log_s: np.ndarray, refine: bool) -> float:
    if c.sum() == 0:
        return math.inf
    ll = _loglik(grid_log_s, sizes, c, n)
    i = int(np.argmax(ll))
    if not refine or i in (0, len(_K_GRID) - 1):
        return float(_K_GRID[i])
    s_max = int(sizes.max()) + 1
    res = minimize_scalar(lambda t: -_loglik(_log_no_collision(np.array([math.exp(t)]), s_max), sizes, c, n)[0],
                          bounds=(math.log(_K_GRID[i - 1]), math.log(_K_GRID[i + 1])), method="bounded",
                          options={"xatol": 1e-6})
    return float(math.exp(res.x))


@dataclass(frozen=True)
class SupportEstimate:
    """Estimated support size ``K`` (number of equally likely distinct images) of one pool.

    ``k_hat``: MLE (``inf`` with no collision); ``k_low``/``k_high``: ``confidence`` interval
    (``k_high = inf`` when the data cannot bound it above). ``s_half``: the batch size at which the
    observed collision probability reaches ½ (linear interpolation on the grid; NaN if it never does),
    and ``s_half_squared`` its square, Arora & Zhang's estimate (it overstates ``K`` by ≈ 2 ln 2 = 1.39).
    ``s_half_model``: the smallest ``s`` with ``P_K̂(s) ≥ ½``. ``n_collisions``: colliding batches, all sizes.
    """

    k_hat: float
    k_low: float
    k_high: float
    confidence: float
    s_half: float
    s_half_squared: float
    s_half_model: float
    n_collisions: int
    interval: str

    def as_row(self) -> dict[str, float | int | str]:
        return dict(self.__dict__)


def _first_collisions(labels: np.ndarray, orders: np.ndarray) -> np.ndarray:
    """Batch size at which each order first repeats a label (``s_max + 1`` if it never does)."""
    b = labels[orders]
    o = np.argsort(b, axis=1, kind="stable")
    sb = np.take_along_axis(b, o, axis=1)
    later = np.where(sb[:, 1:] == sb[:, :-1], o[:, 1:], orders.shape[1])
    return later.min(1) + 1


def _s_half(sizes: np.ndarray, p: np.ndarray) -> float:
    above = np.flatnonzero(p >= 0.5)
    if len(above) == 0:
        return math.nan
    j = int(above[0])
    if j == 0 or p[j] == p[j - 1]:
        return float(sizes[j])
    return float(sizes[j - 1] + (0.5 - p[j - 1]) * (sizes[j] - sizes[j - 1]) / (p[j] - p[j - 1]))


def _s_half_model(k: float) -> float:
    """Smallest ``s`` with ``P_K(s) ≥ ½`` (≈ 1.18 √K)."""
    i = np.arange(1, int(1.5 * math.sqrt(2 * math.log(2) * k)) + 10, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        cum = np.cumsum(np.where(i < k, np.log1p(-np.minimum(i / k, 1.0)), -np.inf))
    return float(np.flatnonzero(cum <= -math.log(2))[0] + 2)  # cum[m] is log(1 − P_K(m + 2))


def fit_support(curve: pd.DataFrame, n_pool: int, confidence: float = 0.95, n_bootstrap: int = 200,
                seed: int = 0) -> SupportEstimate:
    """Fit ``P_K(s)`` to a `collision_curve` of a pool of ``n_pool`` samples.

    ``K̂`` maximises ``Σ_s c_s log P_K(s) + (n − c_s) log(1 − P_K(s))`` over real ``K ≥ 1``. Interval:
    a percentile interval of a parametric bootstrap — ``n_bootstrap`` times, draw a pool of ``n_pool``
    labels uniformly from ``round(K̂)`` items, replay nested random batches (same sizes and number),
    count repeats and refit; collisions in the replays are exact label repeats. With no collision
    observed, ``k_hat = k_high = inf`` and ``k_low = U / ln(1/(1 − confidence))``, ``U`` the number of
    distinct pool pairs the batches examined: under ``K`` items, ``U`` pairs hold no repeat with
    probability ≈ ``exp(−U/K)`` (Poisson approximation, good when ``K ≫ n_pool``).
    """
    need = {"s", "n_batches", "n_collisions"}
    if not need <= set(curve.columns):
        raise ValueError(f"curve must have columns {sorted(need)} (from collision_curve), got {list(curve.columns)}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence}")
    sizes = curve["s"].to_numpy(np.int64)
    c = curve["n_collisions"].to_numpy(np.int64)
    n = int(curve["n_batches"].iloc[0])
    s_max = int(sizes.max())
    if n_pool < s_max:
        raise ValueError(f"n_pool ({n_pool}) must be ≥ the largest batch size ({s_max})")
    grid = _log_no_collision(_K_GRID, s_max + 1)
    k_hat = _mle(sizes, c, n, grid, refine=True)
    s_half = _s_half(sizes, c / n)
    rng = np.random.default_rng(seed)
    orders = np.stack([rng.permutation(n_pool)[:s_max] for _ in range(n)])
    if math.isinf(k_hat):
        seen = np.zeros((n_pool, n_pool), dtype=bool)
        for o in orders:
            seen[o[:, None], o[None, :]] = True
        u = (int(seen.sum()) - n_pool) // 2
        k_low, k_high, how = u / -math.log1p(-confidence), math.inf, "one-sided (no collision; Poisson)"
        s_model = math.inf
    else:
        k_int = max(1, round(k_hat))
        boot = np.empty(n_bootstrap)
        for r in range(n_bootstrap):
            t = _first_collisions(rng.integers(k_int, size=n_pool), orders)
            boot[r] = _mle(sizes, (t[:, None] <= sizes[None, :]).sum(0), n, grid, refine=False)
        a = (1 - confidence) / 2
        k_low, k_high = (float(v) for v in np.quantile(boot, [a, 1 - a], method="inverted_cdf"))
        how = f"parametric bootstrap percentile ({n_bootstrap} replays)"
        s_model = _s_half_model(k_hat)
    return SupportEstimate(k_hat, float(k_low), float(k_high), confidence, s_half, s_half ** 2, s_model,
                           int(c.sum()), how)


@dataclass(frozen=True)
class BirthdayResult:
    """`birthday_paradox_test` output. ``curves``: `collision_curve` rows with a ``group`` column
    (``"samples"``, ``"training"``) and ``p_model`` (the fitted ``P_K̂(s)``); ``estimates``:
    `SupportEstimate` per group; ``pairs``: `closest_pairs` of the sample pool."""

    threshold: Threshold
    curves: pd.DataFrame
    estimates: dict[str, SupportEstimate]
    pairs: pd.DataFrame

    def estimates_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{"group": g, **e.as_row()} for g, e in self.estimates.items()])


def birthday_paradox_test(sample_distances: np.ndarray, training_distances: np.ndarray, sizes: Sequence[int],
                          alpha: float = 0.05, n_batches: int = 500, confidence: float = 0.95,
                          n_bootstrap: int = 200, n_pairs: int = 16, seed: int = 0) -> BirthdayResult:
    """The whole test: ``τ`` from the training pool at the largest size, curves and estimates for both pools.

    ``sample_distances``/``training_distances``: `pairwise_distances` of the model's samples and of
    training images (one distance, same units); ``sizes``: batch sizes ``s`` (≥ 2, ≤ both pool sizes).
    A support ``K`` shows as ``P ≈ ½`` at ``s ≈ 1.18 √K``: sizes up to a few hundred, from pools of a
    few thousand, resolve ``K`` up to ~10⁵ (MNIST digits 0–2: 2000 images per pool, ``s`` ≤ 400).
    """
    sizes = sorted({int(v) for v in sizes})
    if not sizes:
        raise ValueError("sizes must name at least one batch size")
    s_max = sizes[-1]
    out_min, est, curves = {}, {}, []
    for g, (d, sd) in {"samples": (sample_distances, seed), "training": (training_distances, seed + 1)}.items():
        d = check_square(d)
        if d.shape[0] < s_max:
            raise ValueError(f"{g} pool has {d.shape[0]} images; the largest batch size is {s_max}")
        out_min[g] = (batch_min_distances(d, s_max, n_batches, sd), d.shape[0])
    thr = calibrate_threshold(out_min["training"][0], alpha, s_max, out_min["training"][1])
    for g, (m, n_pool) in out_min.items():
        cur = collision_curve(m, sizes, thr.tau, confidence)
        est[g] = fit_support(cur, n_pool, confidence, n_bootstrap, seed + 2)
        curves.append(cur.assign(group=g, p_model=collision_probability(est[g].k_hat, cur["s"].to_numpy())))
    return BirthdayResult(thr, pd.concat(curves, ignore_index=True), est, closest_pairs(sample_distances, n_pairs, thr.tau))


# ---------------------------------------------------------------------------------------------- pipeline stage

THRESHOLD_FIELDS = ("tau", "alpha", "s", "achieved", "n_batches", "n_reference")
"""The `Threshold` fields, in the order of a support artifact's ``{distance}/threshold``."""


def support_audit(samples: Tensor, reference: Tensor, perceptual: Perceptual, params: Mapping[str, Any],
                  seed: int) -> tuple[dict[str, Any], dict[str, dict[str, Any]], pd.DataFrame]:
    """The pipeline's support stage: `birthday_paradox_test` under L2 and ``perceptual``.

    Args:
        samples: ``[N, C, H, W]`` model samples (model scale), the pool batches are drawn from.
        reference: ``[M, C, H, W]`` training images (model scale): τ is calibrated on them and their own curve
            is the reference (what the test resolves; ``K̂ ≈ s_max² / (2 ln(1/(1−α)))`` by construction).
        params: ``beyond.support`` (sizes, alpha, n_batches, confidence, n_bootstrap, n_pairs).

    Returns:
        ``(tree, group_attrs, table)`` for `ganaudit.artifacts.store.write`. Per distance key: ``curves`` (s,
        n_collisions, p_collision, p_low, p_high, p_model, group ∈ {samples, training}), ``estimates``, ``pairs``
        (i, j, distance, collision) and ``pair_images`` uint8 ``[k, 2, C, H, W]``; ``table``: one row per
        distance and pool with K̂, its interval, s at P = ½ (``s_half``), τ and how it was calibrated.
    """
    sizes = sorted({int(s) for s in params["sizes"]})
    for what, pool, key in (("model samples", samples, "n_samples"), ("training images", reference, "n_reference")):
        if len(pool) < sizes[-1]:
            raise ValueError(f"config: beyond.support.sizes: the largest batch size {sizes[-1]} exceeds the pool of "
                             f"{len(pool)} {what} (beyond.support.{key}, or the images available)")
    u8 = as_uint8(samples)
    frames: dict[str, pd.DataFrame] = {}
    tree: dict[str, Any] = {}
    rows = []
    names = {}
    for key, metric in (("l2", None), ("perceptual", perceptual)):
        name = names[key] = "L2" if metric is None else metric.name
        ds = pairwise_distances(distance_features(samples, metric))
        dr = pairwise_distances(distance_features(reference, metric))
        res = birthday_paradox_test(ds, dr, sizes, alpha=params["alpha"], n_batches=params["n_batches"],
                                    confidence=params["confidence"], n_bootstrap=params["n_bootstrap"],
                                    n_pairs=params["n_pairs"], seed=seed)
        del ds, dr
        thr = res.threshold
        frames[f"{key}/curves"] = res.curves
        frames[f"{key}/estimates"] = res.estimates_frame().assign(
            n_pool=[len(samples) if g == "samples" else len(reference) for g in res.estimates])
        frames[f"{key}/pairs"] = res.pairs
        tree.setdefault(key, {})["pair_images"] = pair_images(u8, res.pairs.i.to_numpy(), res.pairs.j.to_numpy())
        tree[key]["threshold"] = np.array([getattr(thr, f) for f in THRESHOLD_FIELDS], dtype=np.float64)
        for pool, est in res.estimates.items():
            rows.append({"distance": name, "pool": "samples" if pool == "samples" else "training images",
                         "n_pool": len(samples) if pool == "samples" else len(reference),
                         "k_hat": est.k_hat, "k_low": est.k_low, "k_high": est.k_high, "confidence": est.confidence,
                         "s_half": est.s_half, "s_half_squared": est.s_half_squared, "n_collisions": est.n_collisions,
                         "n_batches": thr.n_batches, "s_max": sizes[-1], "tau": thr.tau, "alpha": thr.alpha,
                         "false_collision_rate": thr.achieved,
                         "calibration": f"{thr.alpha:g}-quantile of the closest pair in {thr.n_batches} batches of "
                                        f"{thr.s} of {thr.n_reference} training images",
                         "interval": est.interval})
    table = pd.DataFrame(rows)
    frames["table"] = table
    ftree, gattrs = write_frames(frames)
    for key in tree:
        ftree[key].update(tree[key])
    gattrs.update({key: {"distance": name} for key, name in names.items()})
    return ftree, gattrs, table


def stage(inputs: StageInputs, params: Mapping[str, Any]) -> StageOutput:
    """The support audit of one model (registry entry ``support``): a pool of its samples against the first
    ``n_reference`` training images, under L2 and the run's perceptual distance (`support_audit`)."""
    from ganaudit.data.images import to_model_scale
    from ganaudit.manifold.distances import perceptual_from_config

    p = params["support"]
    train = inputs.group("train")
    pool = inputs.pool(p["n_samples"], inputs.seed, train.labels)
    reference = to_model_scale(train.images[:p["n_reference"]])
    perceptual = perceptual_from_config(params["perceptual"], inputs.device)
    tree, group_attrs, table = support_audit(pool.images.float(), reference, perceptual, p, inputs.seed)
    return StageOutput(tree, group_attrs, attrs=dict(perceptual_metric=perceptual.name,
                                                     perceptual_backend=perceptual.backend),
                       log=table.drop(columns=["calibration", "interval"]).to_string())
