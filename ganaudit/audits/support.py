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
3. **Threshold.** A *collision* is a pair closer than ``τ`` (strictly). Real images are distinct draws of the data
   distribution, so every real collision is a false one, and the false-collision rate is a property of the data:
   a batch of ``s`` i.i.d. real images collides with probability ``1 − (1 − F(τ))^{s(s−1)/2}``, ``F(τ)`` the chance
   that two real images lie closer than ``τ``. `calibrate_threshold` estimates ``F`` from *all* pairs of a
   calibration pool of real images (`pair_tail` finds the closest pairs exactly without the full matrix) and sets
   ``τ`` so that batches of ``s_max`` collide with probability ``α``; `heldout_rate` measures the rate at ``τ`` on a
   further pool of real images the calibration never saw, with an interval, and the run reports it beside ``α``.
   Only the ordering of distances matters, so the same rule serves L2 and LPIPS.
4. **Curve and estimate.** `collision_curve` counts colliding batches per ``s``; `fit_support`
   fits ``P_K`` by maximum likelihood over ``K`` (binomial counts per ``s``) and gives an interval by a
   parametric bootstrap that replays the whole procedure (pool, nested batches) under ``K̂`` — the
   batches share one pool, so the binomial likelihood itself would give far too narrow an interval.
   With no collision at all, ``K̂ = ∞`` and the interval is one-sided (see `fit_support`). The same batches of a
   pool of held-out real images (the test images; `real_pools`) give the reference estimate: what this test says
   of the data itself. The verdict compares the samples' interval with it.

Collisions under a threshold are only candidates: a person must look at the pairs (`closest_pairs`)
before calling them duplicates. The test only ever overstates diversity: pixel noise in the samples
keeps near-duplicates apart, so a noisy model can pass where a cleaner one fails (read it beside
sample quality). The held-out real images' curve (the reference) shows what the test can resolve: with
``P(s_max) ≈ α``, its estimate ``≈ s_max² / (2 ln(1/(1−α)))`` is the largest support the test can tell apart from
"no duplicates", not the data's support.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
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

__all__ = ["batch_min_distances", "pair_tail", "Threshold", "MIN_CALIBRATION_PAIRS", "tail_threshold",
           "calibrate_threshold", "pool_tail", "split_thresholds", "split_check", "with_calibration_noise",
           "batch_rate", "heldout_rate", "collision_curve", "collision_probability", "SupportEstimate", "fit_support",
           "BirthdayResult", "POOLS", "birthday_paradox_test", "support_audit", "real_pools", "real_pool_rows",
           "THRESHOLD_FIELDS", "stage"]

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


def pair_tail(features: np.ndarray, k: int | None = None, below: float | None = None, chunk: int = 1024,
              screen_rank: int = 256, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The closest pairs of a pool, exactly, without its ``N × N`` matrix: ``(i, j, distance)`` with ``i < j``,
    sorted by distance — the ``k`` closest pairs, or every pair closer than ``below`` (strictly).

    ``features`` ``[N, F]`` from `ganaudit.audits.features.distance_features` (squared Euclidean distance = the
    audited distance). Wide features (``F > 4 · screen_rank``, e.g. a perceptual embedding) are screened first:
    the distance after projecting on the pool's top ``screen_rank`` principal directions is a lower bound of the
    distance, so only pairs whose projected distance is within the bound are measured in full (float64); the
    result is the same as from the full matrix. Cost ``N² · min(F, screen_rank) / 2`` plus the candidates.
    """
    f = np.asarray(features)
    if f.ndim != 2:
        raise ValueError(f"features must have shape [N, F], got {f.shape}")
    if (k is None) == (below is None):
        raise ValueError("pair_tail needs exactly one of k (the k closest pairs) and below (every pair closer)")
    n = len(f)
    n_pairs = n * (n - 1) // 2
    if k is not None and not 1 <= k <= n_pairs:
        raise ValueError(f"k must lie in [1, {n_pairs}] (the pool's pairs), got {k}")
    wide = f.shape[1] > 4 * screen_rank
    g = _project(f, screen_rank, seed) if wide else f.astype(np.float64)

    def scan(limit: float | None, keep: int | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Pairs of ``g`` with distance ≤ ``limit`` (or the ``keep`` smallest), as lower bounds for wide features."""
        sq = (g * g).sum(1)
        out_i, out_j, out_v = [], [], []
        for a in range(0, n, chunk):
            block = np.maximum(sq[a:a + chunk, None] + sq[None, a:] - 2.0 * (g[a:a + chunk] @ g[a:].T), 0.0)
            width = n - a
            block[np.arange(width)[None, :] <= np.arange(len(block))[:, None]] = np.inf  # pairs i < j only
            flat = block.ravel()
            if keep is not None:
                sel = np.argpartition(flat, keep - 1)[:keep] if len(flat) > keep else np.arange(len(flat))
                sel = sel[np.isfinite(flat[sel])]
            else:
                sel = np.flatnonzero(flat <= limit)
            out_i.append(sel // width + a), out_j.append(sel % width + a), out_v.append(flat[sel])
        i, j, v = (np.concatenate(c) for c in (out_i, out_j, out_v))
        if keep is not None and len(v) > keep:
            sel = np.argpartition(v, keep - 1)[:keep]
            i, j, v = i[sel], j[sel], v[sel]
        return i, j, v

    def exact(i: np.ndarray, j: np.ndarray) -> np.ndarray:
        out = np.empty(len(i))
        for a in range(0, len(i), 4096):
            d = f[i[a:a + 4096]].astype(np.float64) - f[j[a:a + 4096]].astype(np.float64)
            out[a:a + 4096] = (d * d).sum(1)
        return out

    slack = lambda t: t * (1 + 1e-6) + 1e-12  # noqa: E731  (rounding of the projected distances)
    if k is not None:
        i, j, v = scan(None, min(n_pairs, 4 * k + 64) if wide else k)
        if wide:
            bound = np.sort(exact(i, j))[k - 1]            # the k-th closest is at most this
            i, j, _ = scan(slack(bound), None)
        v = exact(i, j) if wide else _exact_direct(f, i, j, v)
        top = np.lexsort((j, i, v))[:k]
    else:
        i, j, v = scan(slack(below) if wide else below, None)
        v = exact(i, j) if wide else _exact_direct(f, i, j, v)
        top = np.lexsort((j, i, v))
        top = top[v[top] < below]
    return i[top].astype(np.int64), j[top].astype(np.int64), v[top]


def _exact_direct(f: np.ndarray, i: np.ndarray, j: np.ndarray, v: np.ndarray) -> np.ndarray:
    """The candidates' distances by direct differences (float64), for the ordering near ties."""
    if not len(i):
        return v
    d = f[i].astype(np.float64) - f[j].astype(np.float64)
    return (d * d).sum(1)


def _project(f: np.ndarray, rank: int, seed: int) -> np.ndarray:
    """Coordinates of ``f`` on an orthonormal basis of (nearly) its top ``rank`` principal directions (a randomised
    range finder with two power iterations), float64: their squared distances are lower bounds of ``f``'s, since an
    orthogonal projection never lengthens a difference; the closer the basis to the principal one, the tighter."""
    import torch

    x = torch.as_tensor(np.asarray(f, dtype=np.float32))
    xc = x - x.mean(0, keepdim=True)
    omega = torch.randn(x.shape[1], rank, generator=torch.Generator().manual_seed(seed))
    y = xc @ omega
    for _ in range(2):
        y = xc @ (xc.T @ torch.linalg.qr(y)[0])
    q = torch.linalg.qr(xc.T @ torch.linalg.qr(y)[0])[0]   # [F, rank], orthonormal columns
    return (x @ q).double().numpy()


@dataclass(frozen=True)
class Threshold:
    """A collision threshold ``τ`` (a pair is a collision when its distance is < ``τ``), how it was set, and how
    often real batches collide at it on images the calibration never saw.

    Calibration (`calibrate_threshold`): the rate α is a property of the data, ``P(a batch of s i.i.d. real images
    holds a pair closer than τ) = 1 − (1 − F(τ))^{s(s−1)/2}`` (pairs taken as independent), with ``F(τ)`` the
    probability that two independent real images lie closer than ``τ``. ``F`` is estimated from *all* pairs of a
    calibration pool of ``n_calibration`` real images: ``τ`` is where ``f* · N(N−1)/2`` of them are expected below,
    ``f* = 1 − (1 − α)^{2/(s(s−1))}``, read off the pool's ``tail_pairs`` closest pairs by a power-law tail fit
    (`tail_threshold`; ``tail_exponent`` its exponent), or, with ``tail_pairs = 0``, the distance of its
    ``(⌊f* · N(N−1)/2⌋ + 1)``-th closest pair. (Nested batches of one small pool, the old rule, put the pool's own
    closest pair in a fixed share of the batches, so τ was that pair's distance and the reference pool could not
    collide at all.)

    Attributes:
        tau: in units of the distance (MSE on the model scale, or the perceptual distance).
        alpha: target false-collision rate at batch size ``s``.
        achieved: the rate at ``τ`` on the calibration pool (``≤ alpha`` for the order statistic).
        n_below, expected_below: calibration pairs closer than ``τ`` and ``f* · N(N−1)/2``; fewer than
            `MIN_CALIBRATION_PAIRS` means the pool is too small to set τ for this α and s.
        n_calibration: the calibration pool's size.
        heldout_*: the same rate measured on a further held-out pool of ``n_heldout`` real images (`heldout_rate`):
            ``heldout_rate`` from its pairs, with a ``confidence`` interval from the Poisson count of its pairs closer
            than τ (``heldout_below``), and ``heldout_batches`` the share of random batches of ``s`` drawn from it
            that collide.
        calibration_sd, check_low, check_high: τ's own calibration noise (`with_calibration_noise`: the standard
            deviation of the log rate at the τ of random re-splits, `split_check`) and the held-out interval widened
            by it — what `holds` compares α with (the Poisson interval alone sees only the held-out pool's noise).
    """

    tau: float
    alpha: float
    s: int
    achieved: float
    n_below: int
    expected_below: float
    n_calibration: int
    heldout_rate: float = math.nan
    heldout_low: float = math.nan
    heldout_high: float = math.nan
    heldout_below: int = -1
    n_heldout: int = 0
    heldout_batches: float = math.nan
    tail_pairs: int = 0
    tail_exponent: float = math.nan
    calibration_sd: float = math.nan
    check_low: float = math.nan
    check_high: float = math.nan

    @property
    def calibrated(self) -> bool:
        """Whether the calibration pool held enough close pairs to set τ for α at s."""
        return self.expected_below >= MIN_CALIBRATION_PAIRS

    @property
    def holds(self) -> bool:
        """Whether α lies within the held-out rate's interval, widened by τ's calibration noise where that was
        measured (`with_calibration_noise`); False when no held-out pool was measured."""
        if math.isfinite(self.check_low) and math.isfinite(self.check_high):
            return bool(self.check_low <= self.alpha <= self.check_high)
        return bool(self.heldout_low <= self.alpha <= self.heldout_high)

    def describe(self, distance: str = "L2") -> str:
        """One sentence for a caption (ASCII: the artifact stores its table's text as ASCII)."""
        out = (f"collision: a pair closer than tau = {self.tau:.4g} ({distance}), set so that a batch of {self.s} real "
               f"images collides with probability alpha = {self.alpha:g}, from all pairs of {self.n_calibration} "
               f"calibration images ({self.n_below} pairs below tau, {self.expected_below:.1f} expected)")
        if self.n_heldout:
            out += (f"; on {self.n_heldout} held-out real images the rate is {self.heldout_rate:.3g} "
                    f"[{self.heldout_low:.3g}, {self.heldout_high:.3g}] ({self.heldout_below} pairs below tau)")
        return out


MIN_CALIBRATION_PAIRS = 5
"""Fewer expected calibration pairs below τ than this: the pool cannot set τ for the asked α and s (flagged)."""


def _pairs(n: int | float) -> float:
    return n * (n - 1) / 2


def tail_threshold(closest: np.ndarray, expected: float, tail_pairs: int) -> tuple[float, float]:
    """``(τ, exponent)``: the distance below which ``expected`` of a pool's pairs lie, from its closest pair distances
    ``closest`` (sorted, at least ``max(tail_pairs, ⌊expected⌋) + 1`` of them).

    Near zero the distance between two images of a ``d``-dimensional data manifold has ``F(t) ∝ t^m`` (``m = d/2``
    for squared distances). With ``K = tail_pairs > expected`` the exponent is Hill's maximum-likelihood estimate from
    the ``K`` closest pairs, ``m̂ = K / Σ_{i<K} log(v_K / v_i)``, and ``τ = v_K (expected / K)^{1/m̂}``: τ rests on
    ``K`` pairs instead of the ~``expected`` pairs of the order statistic ``v_⌊expected⌋`` (returned, with exponent
    NaN, when ``K ≤ expected``, when ``K = 0``, or when a pair at distance 0 — an exact duplicate — makes the fit
    meaningless). On the default run's training images (1500 random splits into 9000 calibration and 9623
    held-out images, α = 0.05 at s = 600: ~12 expected pairs; `benchmarks/bench_support_splits.py`) the held-out
    rate falls within ``[α/2, 2α]`` in 89 % (L2) and 96 % (ST-LPIPS) of splits with ``K = 30``, against 87 % and
    92 % for the order statistic and 98 % and 99 % for τ set from all pairs of all 18,623 images.
    """
    v = np.asarray(closest, dtype=np.float64)
    k = int(math.floor(expected))
    if len(v) < max(tail_pairs, k) + 1:
        raise ValueError(f"tail_threshold needs the {max(tail_pairs, k) + 1} closest pairs, got {len(v)}")
    if tail_pairs <= expected or v[0] <= 0:
        return float(v[k]), math.nan
    exponent = tail_pairs / float(np.sum(np.log(v[tail_pairs] / v[:tail_pairs])))
    return float(v[tail_pairs] * (expected / tail_pairs) ** (1.0 / exponent)), exponent


def calibrate_threshold(calibration: np.ndarray, alpha: float = 0.05, s: int = 2, tail_pairs: int = 0) -> Threshold:
    """``τ`` at which a batch of ``s`` real images collides with probability ``alpha`` (see `Threshold`), from all
    pairs of the pool: its ``tail_pairs`` closest by a power-law tail fit (`tail_threshold`), or (0) the order
    statistic, which keeps the pool's rate at τ at most ``alpha``.

    ``calibration``: features ``[N, F]`` of real images (`ganaudit.audits.features.distance_features`), none of
    which the test's reference or held-out pools hold.
    """
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha}")
    n = len(calibration)
    if s < 2 or n < 3:
        raise ValueError(f"calibration needs s ≥ 2 and a pool of ≥ 3 images, got s = {s}, {n} images")
    expected = _expected_pairs(n, alpha, s)
    tail = int(min(max(int(tail_pairs), 0), _pairs(n) - 1))
    _, _, v = pair_tail(calibration, k=max(tail, int(math.floor(expected))) + 1)
    return _threshold_from_closest(v, n, alpha, s, tail)


def _expected_pairs(n: int, alpha: float, s: int) -> float:
    """``f* · n(n−1)/2``: a pool's pairs expected below τ when batches of ``s`` collide with probability ``alpha``."""
    return -math.expm1(math.log1p(-alpha) / _pairs(s)) * _pairs(n)


def _threshold_from_closest(v: np.ndarray, n: int, alpha: float, s: int, tail: int) -> Threshold:
    """The `Threshold` of a pool of ``n`` images from its closest pair distances ``v`` (sorted, at least
    ``max(tail, ⌊expected⌋) + 1``; `calibrate_threshold`)."""
    expected = _expected_pairs(n, alpha, s)
    tau, exponent = tail_threshold(v, expected, tail)
    below = int(np.sum(v < tau))
    return Threshold(tau, float(alpha), int(s), batch_rate(below / _pairs(n), s), below, expected, n,
                     tail_pairs=tail if math.isfinite(exponent) else 0, tail_exponent=exponent)


def batch_rate(pair_probability: float | np.ndarray, s: int) -> float | np.ndarray:
    """``1 − (1 − F)^{s(s−1)/2}``: the probability that a batch of ``s`` i.i.d. images holds a pair closer than τ
    when two images are closer with probability ``F`` (pairs taken as independent)."""
    return -np.expm1(_pairs(s) * np.log1p(-np.asarray(pair_probability, dtype=np.float64)))


def heldout_rate(threshold: Threshold, heldout: np.ndarray, n_batches: int = 2000, confidence: float = 0.95,
                 seed: int = 0) -> Threshold:
    """``threshold`` with its false-collision rate measured on a held-out pool of real images (features ``[N, F]``).

    The rate from the pool's pairs (`batch_rate` of the share of pairs closer than τ) with an exact Poisson
    interval on that count, and, as a check of the pairs' independence, the share of ``n_batches`` random batches
    of ``s`` images of the pool (without replacement) that hold one of those pairs.
    """
    n, s = len(heldout), threshold.s
    if n < s:
        raise ValueError(f"the held-out pool has {n} images; the batch size is {s}")
    i, j, _ = pair_tail(heldout, below=threshold.tau)
    return _heldout_from_pairs(threshold, n, i, j, n_batches, confidence, seed)


def _heldout_from_pairs(threshold: Threshold, n: int, i: np.ndarray, j: np.ndarray, n_batches: int,
                        confidence: float, seed: int) -> Threshold:
    """`heldout_rate` from the held-out pool's pairs closer than τ (``i``, ``j``: indices into its ``n`` images)."""
    from scipy.stats import chi2

    s = threshold.s
    m = len(i)
    a = 1 - confidence
    lo = 0.0 if m == 0 else chi2.ppf(a / 2, 2 * m) / 2
    hi = chi2.ppf(1 - a / 2, 2 * m + 2) / 2
    rng = np.random.default_rng(seed)
    hits = 0
    for _ in range(n_batches):
        inside = np.zeros(n, dtype=bool)
        inside[rng.choice(n, s, replace=False)] = True
        hits += bool(np.any(inside[i] & inside[j]))
    rate = lambda c: float(batch_rate(min(c / _pairs(n), 1.0), s))  # noqa: E731
    return dataclasses.replace(threshold, heldout_rate=rate(m), heldout_low=rate(lo), heldout_high=rate(hi),
                               heldout_below=m, n_heldout=n, heldout_batches=hits / n_batches)


def _widen(rate: float, low: float, high: float, sd: float, confidence: float) -> tuple[float, float]:
    """An interval ``[low, high]`` around ``rate`` widened, in log space, by a further independent error of standard
    deviation ``sd`` (its ``confidence`` quantiles added in quadrature to each side's log half-width)."""
    z = float(norm.ppf(0.5 + confidence / 2)) * sd
    if not math.isfinite(z):
        return math.nan, math.nan
    if rate <= 0:
        return 0.0, float(min(high * math.exp(z), 1.0))
    lo = rate * math.exp(-math.hypot(math.log(rate / low), z)) if low > 0 else 0.0
    return float(lo), float(min(rate * math.exp(math.hypot(math.log(high / rate), z)), 1.0))


def with_calibration_noise(threshold: Threshold, sd: float, confidence: float = 0.95) -> Threshold:
    """``threshold`` with its held-out interval widened by τ's calibration noise ``sd`` (the standard deviation of the
    log false-collision rate at τ across random re-splits of the real images, `split_check`): the interval `holds`
    compares α with. The Poisson interval of the held-out count is kept as it is (``heldout_low``/``high``)."""
    lo, hi = _widen(threshold.heldout_rate, threshold.heldout_low, threshold.heldout_high, sd, confidence)
    return dataclasses.replace(threshold, calibration_sd=float(sd), check_low=lo, check_high=hi)


def pool_tail(features: np.ndarray, n_calibration: int, alpha: float, s: int, tail_pairs: int = 0
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The closest pairs of a pool of real images (`pair_tail`), as many as any split of it into ``n_calibration``
    calibration images and the rest needs (`split_check`): the calibration side's ``max(tail_pairs, ⌊expected⌋) + 1``
    closest with a margin of 6 (a split's share of the pool's pairs is ``(n_calibration / N)²``)."""
    n = len(features)
    need = max(int(tail_pairs), int(math.floor(_expected_pairs(n_calibration, alpha, s)))) + 1
    share = (n_calibration / n) ** 2
    return pair_tail(features, k=int(min(_pairs(n), math.ceil(6 * need / share) + 64)))


def split_thresholds(pairs: tuple[np.ndarray, np.ndarray, np.ndarray], n: int, n_calibration: int, alpha: float,
                     s: int, tail_pairs: int = 0, n_batches: int = 2000, confidence: float = 0.95, seed: int = 0
                     ) -> Threshold | None:
    """`calibrate_threshold` on the first ``n_calibration`` images of a pool of ``n`` and `heldout_rate` on the rest,
    from the pool's closest ``pairs`` (`pool_tail`) instead of a pair search of each side — the same `Threshold`;
    None when the pairs do not reach far enough on the calibration side."""
    i, j, v = pairs
    cal = (i < n_calibration) & (j < n_calibration)
    tail = int(min(max(int(tail_pairs), 0), _pairs(n_calibration) - 1))
    if int(cal.sum()) < max(tail, int(math.floor(_expected_pairs(n_calibration, alpha, s)))) + 1:
        return None
    thr = _threshold_from_closest(v[cal], n_calibration, alpha, s, tail)
    held = (i >= n_calibration) & (j >= n_calibration) & (v < thr.tau)
    return _heldout_from_pairs(thr, n - n_calibration, i[held] - n_calibration, j[held] - n_calibration, n_batches,
                               confidence, seed)


def split_check(features: np.ndarray, n_calibration: int, alpha: float, s: int, tail_pairs: int = 0,
                n_splits: int = 200, confidence: float = 0.95, seed: int = 0,
                pairs: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None) -> pd.DataFrame:
    """The calibration itself checked on held-out data: ``n_splits`` random splits of a pool of real images
    (features ``[N, F]``) into ``n_calibration`` images τ is calibrated on (`calibrate_threshold`) and the other
    ``N − n_calibration`` on which its rate is measured (`heldout_rate`, without the random batches).

    One `pair_tail` of the whole pool serves every split (`pool_tail`, or ``pairs`` when already found): a split's
    pairs are the pool's pairs with both images on its side, and the pool's closest pairs hold every pair that
    matters as long as the calibration side has its ``max(tail_pairs, ⌊expected⌋) + 1`` closest among them (a split
    that has not is dropped: ``complete`` False).

    τ's own noise: ``outside_rate`` is the rate at a split's τ among all the pool's pairs that do not lie within its
    calibration side (the held-out pairs and the pairs across), and ``calibration_sd`` (one value, on every row) the
    standard deviation of its log over the splits — how far τ's rate wanders from split to split; it includes some
    of those pairs' own count noise, so it errs wide.

    Returns one row per split: ``tau``, ``tail_exponent``, ``heldout_below``, ``rate``, ``low``, ``high`` (the exact
    Poisson interval of `heldout_rate`), ``check_low``/``check_high`` (that interval widened by ``calibration_sd``,
    `with_calibration_noise`), ``within`` (rate in ``[α/2, 2α]``), ``covers`` (the widened interval holds α),
    ``covers_poisson`` (the Poisson one does), ``outside_rate``, ``calibration_sd``, ``complete``.
    """
    from scipy.stats import chi2

    n = len(features)
    n_held = n - int(n_calibration)
    if not (3 <= n_calibration and n_held >= 2):
        raise ValueError(f"split_check needs 3 ≤ n_calibration < N − 1, got {n_calibration} of {n}")
    expected = _expected_pairs(n_calibration, alpha, s)
    need = max(int(tail_pairs), int(math.floor(expected))) + 1
    i, j, v = pairs if pairs is not None else pool_tail(features, n_calibration, alpha, s, tail_pairs)
    rng = np.random.default_rng(seed)
    a = 1 - confidence
    rows = []
    for _ in range(int(n_splits)):
        side = np.ones(n, dtype=bool)
        side[rng.permutation(n)[:n_calibration]] = False          # False: calibration, True: held out
        in_cal = ~side[i] & ~side[j]
        va = v[in_cal]
        if len(va) < need:
            rows.append(dict(tau=math.nan, tail_exponent=math.nan, heldout_below=-1, rate=math.nan, low=math.nan,
                             high=math.nan, outside_rate=math.nan, complete=False))
            continue
        tau, exponent = tail_threshold(va, expected, int(tail_pairs))
        m = int(np.sum(side[i] & side[j] & (v < tau)))
        lo = 0.0 if m == 0 else chi2.ppf(a / 2, 2 * m) / 2
        hi = chi2.ppf(1 - a / 2, 2 * m + 2) / 2
        rate, low, high = (float(batch_rate(min(c / _pairs(n_held), 1.0), s)) for c in (m, lo, hi))
        outside = float(batch_rate(np.sum(~in_cal & (v < tau)) / (_pairs(n) - _pairs(n_calibration)), s))
        rows.append(dict(tau=tau, tail_exponent=exponent, heldout_below=m, rate=rate, low=low, high=high,
                         outside_rate=outside, complete=True))
    out = pd.DataFrame(rows)
    ok = out.complete & (out.outside_rate > 0)
    sd = float(np.std(np.log(out.outside_rate[ok]), ddof=1)) if ok.sum() > 2 else math.nan
    widened = [_widen(r.rate, r.low, r.high, sd, confidence) if r.complete else (math.nan, math.nan)
               for r in out.itertuples()]
    out["check_low"], out["check_high"] = [w[0] for w in widened], [w[1] for w in widened]
    out["within"] = out.complete & (out.rate >= alpha / 2) & (out.rate <= 2 * alpha)
    out["covers"] = out.complete & (out.check_low <= alpha) & (alpha <= out.check_high)
    out["covers_poisson"] = out.complete & (out.low <= alpha) & (alpha <= out.high)
    out["calibration_sd"] = sd
    return out


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
    (``"samples"``, ``"reference"``: held-out real images) and ``p_model`` (the fitted ``P_K̂(s)``); ``estimates``:
    `SupportEstimate` per group; ``pairs``: `closest_pairs` of the sample pool."""

    threshold: Threshold
    curves: pd.DataFrame
    estimates: dict[str, SupportEstimate]
    pairs: pd.DataFrame

    def estimates_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{"group": g, **e.as_row()} for g, e in self.estimates.items()])


POOLS = {"samples": "samples", "reference": "held-out real images"}
"""A birthday test's two pools, as the curves name them (keys) and as the table does (values)."""


def birthday_paradox_test(sample_distances: np.ndarray, reference_distances: np.ndarray, threshold: Threshold,
                          sizes: Sequence[int], n_batches: int = 500, confidence: float = 0.95,
                          n_bootstrap: int = 200, n_pairs: int = 16, seed: int = 0) -> BirthdayResult:
    """Curves and support estimates of the model's samples and of held-out real images at one calibrated ``τ``.

    ``sample_distances``/``reference_distances``: `pairwise_distances` of the model's samples and of real images
    none of which calibrated ``threshold`` (`calibrate_threshold`), one distance, same units; ``sizes``: batch
    sizes ``s`` (≥ 2, ≤ both pool sizes). Both pools go through the same nested batches, so the real images'
    estimate is what the same test says of the data itself: the verdict compares the two. A support ``K`` shows as
    ``P ≈ ½`` at ``s ≈ 1.18 √K``: sizes up to a few hundred, from pools of a few thousand, resolve ``K`` up to ~10⁵.
    """
    sizes = sorted({int(v) for v in sizes})
    if not sizes:
        raise ValueError("sizes must name at least one batch size")
    s_max = sizes[-1]
    est, curves = {}, []
    for g, (d, sd) in {"samples": (sample_distances, seed), "reference": (reference_distances, seed + 1)}.items():
        d = check_square(d)
        if d.shape[0] < s_max:
            raise ValueError(f"{g} pool has {d.shape[0]} images; the largest batch size is {s_max}")
        cur = collision_curve(batch_min_distances(d, s_max, n_batches, sd), sizes, threshold.tau, confidence)
        est[g] = fit_support(cur, d.shape[0], confidence, n_bootstrap, seed + 2)
        curves.append(cur.assign(group=g, p_model=collision_probability(est[g].k_hat, cur["s"].to_numpy())))
    return BirthdayResult(threshold, pd.concat(curves, ignore_index=True), est,
                          closest_pairs(sample_distances, n_pairs, threshold.tau))


# ---------------------------------------------------------------------------------------------- pipeline stage

THRESHOLD_FIELDS = tuple(f.name for f in dataclasses.fields(Threshold))
"""The `Threshold` fields, in the order of a support artifact's ``{distance}/threshold``."""


def _features(x: Tensor, metric: Perceptual | None) -> np.ndarray:
    """`distance_features`, in float32 for a large pool under a wide embedding (half the memory; `pair_tail`
    measures its candidates in float64)."""
    if metric is None:
        return distance_features(x)
    return metric.embed(x).float().cpu().numpy()


def _real(x: Tensor, metric: Perceptual | None, cached: Callable[[str], np.ndarray] | None, pool: str
          ) -> np.ndarray:
    """A real pool's features: from the cache when given (checked against the pool's size), else `_features`."""
    if cached is None:
        return _features(x, metric)
    f = cached(pool)
    if len(f) != len(x):
        raise ValueError(f"real_features({pool!r}) gave {len(f)} rows; the {pool} pool has {len(x)} images")
    return f


def support_audit(samples: Tensor, reference: Tensor, calibration: Tensor, heldout: Tensor, perceptual: Perceptual,
                  params: Mapping[str, Any], seed: int, reference_name: str = "test images",
                  real_features: Callable[[str], np.ndarray] | None = None
                  ) -> tuple[dict[str, Any], dict[str, dict[str, Any]], pd.DataFrame]:
    """The pipeline's support stage: `birthday_paradox_test` under L2 and ``perceptual``.

    Args:
        samples: ``[N, C, H, W]`` model samples (model scale), the pool batches are drawn from.
        reference: ``[M, C, H, W]`` held-out real images (the test images where the run has them): the same test
            on them is what the verdict compares the samples with.
        calibration: real images τ is calibrated on (all their pairs; `calibrate_threshold`), none in ``reference``
            or ``heldout``.
        heldout: further real images on which the false-collision rate at τ is measured (`heldout_rate`).
        params: ``beyond.support`` (sizes, alpha, n_batches, confidence, n_bootstrap, n_pairs; tail_pairs for
            `calibrate_threshold`; split_check: how many random re-splits of the calibration and held-out images
            check the calibration itself, `split_check`, 0 for none).
        real_features: the real pools' features under ``perceptual``, already computed (the run's cache,
            `ganaudit.audits.real_features`): a function of the pool's name (``real``: the calibration images then
            the held-out ones, in their order; ``reference``) giving ``[n, F]`` rows, as ``perceptual.embed`` gives
            them; called when the pool is used, so only one wide pool is in memory at a time. None: the pools are
            embedded here.

    Returns:
        ``(tree, group_attrs, table)`` for `ganaudit.artifacts.store.write`. Per distance key: ``curves`` (s,
        n_collisions, p_collision, p_low, p_high, p_model, group ∈ {samples, reference}), ``estimates``, ``pairs``
        (i, j, distance, collision), ``pair_images`` uint8 ``[k, 2, C, H, W]``, ``threshold`` (`THRESHOLD_FIELDS`)
        and ``splits`` (`split_check`, when asked for);
        ``table``: one row per distance and pool with K̂, its interval, s at P = ½ (``s_half``), τ, α and the
        false-collision rate achieved on the held-out real images.
    """
    import torch

    sizes = sorted({int(s) for s in params["sizes"]})
    for what, pool, key in (("model samples", samples, "n_samples"), (reference_name, reference, "n_reference"),
                            ("held-out training images", heldout, "n_heldout")):
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
        cached = real_features if metric is not None else None
        # one embedding (or one read of the cache) of both real pools: calibration rows first, then held-out ones
        real = _real(torch.cat([calibration, heldout]), metric, cached, "real")
        tail, n_cal, batches = int(params.get("tail_pairs", 0)), len(calibration), params.get("heldout_batches", 2000)
        thr, splits = None, None
        if params.get("split_check"):   # one pair search of both pools serves the run's split and the re-splits
            pairs = pool_tail(real, n_cal, params["alpha"], sizes[-1], tail)
            thr = split_thresholds(pairs, len(real), n_cal, params["alpha"], sizes[-1], tail, batches,
                                   params["confidence"], seed + 3)
            splits = split_check(real, n_cal, params["alpha"], sizes[-1], tail, params["split_check"],
                                 params["confidence"], seed + 5, pairs)
        if thr is None:
            thr = calibrate_threshold(real[:n_cal], params["alpha"], sizes[-1], tail)
            thr = heldout_rate(thr, real[n_cal:], batches, params["confidence"], seed + 3)
        del real
        if splits is not None:
            thr = with_calibration_noise(thr, float(splits.calibration_sd.iloc[0]), params["confidence"])
        ds = pairwise_distances(distance_features(samples, metric))
        dr = pairwise_distances(distance_features(reference, metric) if cached is None else cached("reference"))
        res = birthday_paradox_test(ds, dr, thr, sizes, n_batches=params["n_batches"],
                                    confidence=params["confidence"], n_bootstrap=params["n_bootstrap"],
                                    n_pairs=params["n_pairs"], seed=seed)
        del ds, dr
        n_pool = {"samples": len(samples), "reference": len(reference)}
        frames[f"{key}/curves"] = res.curves
        frames[f"{key}/estimates"] = res.estimates_frame().assign(n_pool=[n_pool[g] for g in res.estimates])
        frames[f"{key}/pairs"] = res.pairs
        if splits is not None:
            frames[f"{key}/splits"] = splits
        done = splits[splits.complete] if splits is not None else pd.DataFrame(columns=["rate", "within", "covers", "covers_poisson"])
        tree.setdefault(key, {})["pair_images"] = pair_images(u8, res.pairs.i.to_numpy(), res.pairs.j.to_numpy())
        tree[key]["threshold"] = np.array([float(getattr(thr, f)) for f in THRESHOLD_FIELDS], dtype=np.float64)
        for pool, est in res.estimates.items():
            rows.append({"distance": name, "pool": POOLS[pool], "n_pool": n_pool[pool],
                         "k_hat": est.k_hat, "k_low": est.k_low, "k_high": est.k_high, "confidence": est.confidence,
                         "s_half": est.s_half, "s_half_squared": est.s_half_squared, "n_collisions": est.n_collisions,
                         "n_batches": params["n_batches"], "s_max": sizes[-1], "tau": thr.tau, "alpha": thr.alpha,
                         "false_collision_rate": thr.heldout_rate, "false_collision_low": thr.heldout_low,
                         "false_collision_high": thr.heldout_high, "false_collision_batches": thr.heldout_batches,
                         "alpha_holds": thr.holds, "n_heldout": thr.n_heldout,
                         "calibration_rate": thr.achieved, "calibration_pairs": thr.n_below,
                         "calibrated": thr.calibrated, "n_calibration": thr.n_calibration,
                         "tail_pairs": thr.tail_pairs, "tail_exponent": thr.tail_exponent,
                         "n_splits": len(done), "split_within": float(done.within.mean()) if len(done) else math.nan,
                         "split_covers": float(done.covers.mean()) if len(done) else math.nan,
                         "split_covers_poisson": float(done.covers_poisson.mean()) if len(done) else math.nan,
                         "calibration_sd": thr.calibration_sd, "alpha_check_low": thr.check_low,
                         "alpha_check_high": thr.check_high,
                         "split_rate_median": float(done.rate.median()) if len(done) else math.nan,
                         "split_rate_p10": float(done.rate.quantile(0.1)) if len(done) else math.nan,
                         "split_rate_p90": float(done.rate.quantile(0.9)) if len(done) else math.nan,
                         "reference_images": reference_name, "calibration": thr.describe(name),
                         "interval": est.interval})
    table = pd.DataFrame(rows)
    frames["table"] = table
    ftree, gattrs = write_frames(frames)
    for key in tree:
        ftree[key].update(tree[key])
    gattrs.update({key: {"distance": name} for key, name in names.items()})
    return ftree, gattrs, table


def real_pool_rows(n_train: int, n_test: int | None, params: Mapping[str, Any], seed: int
                   ) -> tuple[np.ndarray, np.ndarray, str, np.ndarray, str]:
    """The rows of the support test's real pools (`real_pools`) in the run's data groups: ``(calibration rows,
    held-out rows, reference group, reference rows, reference name)``; calibration and held-out are rows of the
    training group, the reference of ``reference group`` (``test``, or ``train`` without a test group)."""
    n_cal, n_ref = int(params["n_calibration"]), int(params["n_reference"])
    own_ref = 0 if n_test is not None else n_ref
    n_held = params.get("n_heldout")
    n_held = n_train - n_cal - own_ref if n_held is None else int(n_held)
    need = n_cal + max(n_held, 1) + own_ref
    if n_train < need:
        raise ValueError(f"config: beyond.support: n_calibration + n_heldout{'' if n_test is not None else ' + n_reference'}"
                         f" = {need} training images are needed; the run has {n_train}")
    if n_test is not None and n_test < n_ref:
        raise ValueError(f"config: beyond.support.n_reference = {n_ref} exceeds the run's {n_test} test images")
    order = np.random.default_rng(seed).permutation(n_train)
    cal, held = order[:n_cal], order[n_cal:n_cal + n_held]
    if n_test is not None:
        return cal, held, "test", np.arange(n_ref), "test images"
    return cal, held, "train", order[n_cal + n_held:n_cal + n_held + n_ref], "held-out training images"


def real_pools(train: Tensor, test: Tensor | None, params: Mapping[str, Any], seed: int
               ) -> tuple[Tensor, Tensor, Tensor, str]:
    """The support test's real pools, disjoint: ``(calibration, heldout, reference, reference name)``.

    A random split (``seed``) of the training images gives ``n_calibration`` images to calibrate τ on and
    ``n_heldout`` to measure its false-collision rate on (None: every training image the other pools do not take);
    the reference pool is the first ``n_reference`` test images, or, without a test group, ``n_reference`` training
    images of the split (`real_pool_rows`).
    """
    cal, held, ref_group, ref, name = real_pool_rows(len(train), None if test is None else len(test), params, seed)
    return train[cal], train[held], (test if ref_group == "test" else train)[ref], name


def stage(inputs: StageInputs, params: Mapping[str, Any]) -> StageOutput:
    """The support audit of one model (registry entry ``support``): a pool of its samples against held-out real
    images, under L2 and the run's perceptual distance, τ calibrated on other real images (`support_audit`). The
    real pools' perceptual features come from the run's cache when it has one (input ``features``)."""
    from ganaudit.data.images import to_model_scale
    from ganaudit.manifold.distances import perceptual_from_config

    p = params["support"]
    train = inputs.group("train")
    test = inputs.group("test")
    pool = inputs.pool(p["n_samples"], inputs.seed, train.labels)
    cal, held, ref, ref_name = real_pools(to_model_scale(train.images),
                                          None if test is None else to_model_scale(test.images), p, inputs.seed)
    perceptual = perceptual_from_config(params["perceptual"], inputs.device)
    cached = None
    if inputs.features() is not None:   # the real pools' perceptual features from the run's cache, rows as real_pools
        cal_rows, held_rows, ref_group, ref_rows, _ = real_pool_rows(
            len(train.images), None if test is None else len(test.images), p, inputs.seed)
        rows = {"real": ("train", np.concatenate([cal_rows, held_rows])), "reference": (ref_group, ref_rows)}
        cached = lambda pool: inputs.real_features("perceptual", *rows[pool], perceptual=perceptual)  # noqa: E731
    tree, group_attrs, table = support_audit(pool.images.float(), ref, cal, held, perceptual, p, inputs.seed, ref_name,
                                             cached)
    return StageOutput(tree, group_attrs, attrs=dict(perceptual_metric=perceptual.name,
                                                     perceptual_backend=perceptual.backend),
                       log=table.drop(columns=["calibration", "interval"]).to_string())
