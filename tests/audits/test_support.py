"""ganaudit.audits.support: the birthday-paradox support estimate on distributions of known support."""

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest
import torch

from ganaudit.audits import features, support
from ganaudit.manifold.distances import mse

D = 64  # 1 × 8 × 8 images


def _dist(x: np.ndarray) -> np.ndarray:
    return features.pairwise_distances(features.distance_features(torch.as_tensor(x).view(-1, 1, 8, 8)))


def _pools(seed: int = 0, k: int = 400, n: int = 600):
    rng = np.random.default_rng(seed)
    items = rng.uniform(-1, 1, (k, D))
    discrete = items[rng.integers(k, size=n)] + 0.01 * rng.standard_normal((n, D))  # K equally likely images
    training = rng.uniform(-1, 1, (n, D))                                         # distinct real images
    continuous = rng.uniform(-1, 1, (n, D))                                       # the data distribution itself
    return discrete, training, continuous


def test_distance_features_give_the_mse():
    x = torch.rand(5, 1, 8, 8) * 2 - 1
    d = features.pairwise_distances(features.distance_features(x))
    i, j = np.triu_indices(5, 1)
    np.testing.assert_allclose(d[i, j], mse(x[i], x[j]).double().numpy(), rtol=1e-6)
    assert (np.diag(d) == 0).all() and (d == d.T).all()


def test_distance_features_give_the_perceptual_distance():
    from ganaudit.manifold.distances import get_perceptual

    p = get_perceptual("stlpips", resize_to=32)
    x = torch.rand(4, 1, 28, 28) * 2 - 1
    d = features.pairwise_distances(features.distance_features(x, p))
    i, j = np.triu_indices(4, 1)
    np.testing.assert_allclose(d[i, j], p.distance(x[i], x[j]).double().numpy(), rtol=1e-4)


def test_collision_probability_is_the_birthday_paradox():
    assert support.collision_probability(365, [23])[0] == pytest.approx(0.507297, abs=1e-6)  # the classic
    assert support.collision_probability(400, [2])[0] == pytest.approx(1 / 400)
    assert support.collision_probability(10, [11, 12]).tolist() == [1.0, 1.0]  # pigeonhole
    assert support.collision_probability(math.inf, [50])[0] == 0.0


def test_batch_minimum_over_the_whole_pool_is_the_closest_pair():
    rng = np.random.default_rng(3)
    d = _dist(rng.uniform(-1, 1, (30, D)))
    m = support.batch_min_distances(d, s_max=30, n_batches=7, seed=0)
    closest = d[np.triu_indices(30, 1)].min()
    assert m.shape == (7, 31) and np.isinf(m[:, :2]).all()
    np.testing.assert_array_equal(m[:, 30], closest)                   # every order holds the closest pair
    assert (np.diff(m[:, 2:], axis=1) <= 0).all()                      # nested batches: non-increasing


def _feat(x: np.ndarray) -> np.ndarray:
    return features.distance_features(torch.as_tensor(x).view(-1, 1, 8, 8))


def _threshold(alpha: float = 0.05, s: int = 60, n: int = 1500, seed: int = 7):
    """τ calibrated on ``n`` uniform images (the 'real data' of these tests)."""
    return support.calibrate_threshold(_feat(np.random.default_rng(seed).uniform(-1, 1, (n, D))), alpha, s)


@pytest.mark.parametrize("wide", [False, True])
def test_pair_tail_is_exactly_the_closest_pairs_of_the_full_matrix(wide):
    rng = np.random.default_rng(0)
    n, f_dim = (300, 1100) if wide else (700, 40)          # wide: screened through a 256-d projection
    f = rng.standard_normal((n, 30)) @ rng.standard_normal((30, f_dim)) + 0.5 * rng.standard_normal((n, f_dim))
    f[5] = f[250] + 1e-3                                   # one near-duplicate
    if wide:
        f = f.astype(np.float32).astype(np.float64)        # the float32 features of a perceptual embedding
    i, j = np.triu_indices(n, 1)
    exact = np.concatenate([((f[a + 1:] - f[a]) ** 2).sum(1) for a in range(n - 1)])   # row-major, as i, j
    order = np.lexsort((j, i, exact))
    ti, tj, tv = support.pair_tail(f, k=25, chunk=97)
    np.testing.assert_array_equal(np.c_[ti, tj], np.c_[i[order[:25]], j[order[:25]]])
    np.testing.assert_allclose(tv, exact[order[:25]], rtol=1e-9)
    assert (ti[0], tj[0]) == (5, 250)
    tau = exact[order[40]]
    bi, bj, bv = support.pair_tail(f.astype(np.float32) if wide else f, below=tau, chunk=128)  # as stored
    assert len(bi) == int(np.sum(exact < tau)) == 40 and (bv < tau).all() and (bi < bj).all()


def test_threshold_holds_alpha_on_held_out_pools():
    """The false-collision rate α is a property of the data: τ set on one pool of real images gives the rate α on
    pools it never saw, by their pairs and by random batches (the old rule, nested batches of one small pool, gave
    0 on its own pool and 12–42 % on others)."""
    thr = _threshold(alpha=0.05, s=60, n=1500)
    assert thr.calibrated and thr.n_below == int(thr.expected_below) and thr.achieved <= 0.05
    rates = []
    for seed in range(6):
        held = support.heldout_rate(thr, _feat(np.random.default_rng(100 + seed).uniform(-1, 1, (1500, D))),
                                    n_batches=1000, seed=seed)
        rates += [held.heldout_rate, held.heldout_batches]
        assert held.heldout_low <= held.heldout_rate <= held.heldout_high and held.n_heldout == 1500
    assert 0.025 <= np.mean(rates) <= 0.08                  # α = 0.05 on average over unseen pools
    assert sum(0.025 <= r <= 0.1 for r in rates) >= 10      # and within [α/2, 2α] on most of them
    assert f"from all pairs of 1500 calibration images ({thr.n_below} pairs below tau" in thr.describe()
    assert thr.describe().isascii()


def test_threshold_rates_follow_the_pairs():
    f = np.random.default_rng(0).uniform(0, 100, (100, 1))            # distinct pair distances
    v = np.sort(((f[:, None, 0] - f[None, :, 0]) ** 2)[np.triu_indices(100, 1)])
    thr = support.calibrate_threshold(f, alpha=0.5, s=10)
    k = int(np.floor((1 - 0.5 ** (1 / 45)) * 4950))                    # f* · pairs: 75
    assert thr.n_below == k == 75 and thr.tau == v[k] and thr.expected_below == pytest.approx(75.7, abs=0.1)
    assert thr.achieved == pytest.approx(1 - (1 - k / 4950) ** 45) and thr.achieved <= 0.5
    held = support.heldout_rate(thr, f, n_batches=500, seed=0)        # the same pool: the same pairs
    assert held.heldout_below == k and held.heldout_rate == pytest.approx(thr.achieved)
    assert held.heldout_low < held.heldout_rate < held.heldout_high and held.holds
    assert not support.calibrate_threshold(f[:8], alpha=0.05, s=4).calibrated   # too few pairs for this α
    with pytest.raises(ValueError, match="alpha must lie in"):
        support.calibrate_threshold(f, alpha=0.0, s=10)


def test_support_of_k_equally_likely_images_is_recovered():
    discrete, training, _ = _pools()
    res = support.birthday_paradox_test(_dist(discrete), _dist(training), _threshold(),
                                        sizes=[5, 10, 15, 20, 25, 30, 40, 50, 60], n_batches=300, n_bootstrap=200, seed=0)
    est = res.estimates["samples"]
    assert est.k_low <= 400 <= est.k_high                               # the interval covers K
    assert 0.8 * 400 < est.k_hat < 1.2 * 400 and est.k_high / est.k_low < 1.6
    assert 20 <= est.s_half <= 28 and est.s_half_model == 24            # P_400(s) = ½ at s ≈ 1.18·√400 = 23.5
    assert est.s_half_squared == pytest.approx(est.s_half ** 2)
    # held-out real images collide at about the false rate α, far below the samples
    ref = res.curves[res.curves.group == "reference"]
    assert ref.p_collision.max() <= 0.15 and res.estimates["reference"].k_low > 10 * 400
    # the closest pairs are noisy copies of one image: distance ≈ 2·0.01² per pixel, all collisions
    assert res.pairs.collision.all() and (res.pairs.distance < 4e-4).all() and len(res.pairs) == 16


def test_support_interval_covers_k_at_its_stated_rate():
    """Known answer: pools drawn from K equally likely images; the 95 % interval covers K in ≥ 90 % of draws."""
    covered = []
    for rep in range(30):
        rng = np.random.default_rng(1000 + rep)
        labels = rng.integers(300, size=200)
        d = (labels[:, None] != labels[None, :]).astype(np.float64)   # a collision is an exact repeat
        cur = support.collision_curve(support.batch_min_distances(d, 40, 100, rep), [10, 20, 30, 40], 0.5)
        est = support.fit_support(cur, 200, 0.95, n_bootstrap=60, seed=rep)
        covered.append(est.k_low <= 300 <= est.k_high)
    assert np.mean(covered) >= 0.9


def test_a_continuous_distribution_has_no_small_support():
    _, training, continuous = _pools(seed=1)
    res = support.birthday_paradox_test(_dist(continuous), _dist(training), _threshold(), sizes=[10, 20, 40, 60],
                                        n_batches=300, seed=0)
    est = res.estimates["samples"]
    assert est.k_low > 10 * 600 and math.isnan(est.s_half)              # collisions only at the false rate α


def test_no_collision_gives_an_infinite_estimate_with_a_lower_bound():
    _, training, continuous = _pools(seed=2)
    far = _dist(continuous) * 4                                         # every pair far beyond τ
    res = support.birthday_paradox_test(far, _dist(training), _threshold(), sizes=[10, 30, 60], n_batches=300, seed=0)
    est = res.estimates["samples"]
    assert est.n_collisions == 0 and math.isinf(est.k_hat) and math.isinf(est.k_high)
    pairs = 600 * 599 / 2
    covered = 1 - (1 - 60 * 59 / (600 * 599)) ** 300                   # pairs seen by at least one batch
    assert est.k_low == pytest.approx(covered * pairs / -math.log(0.05), rel=0.02)


def test_closest_pairs_are_sorted_and_exact_copies_come_first():
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (50, D))
    x[17], x[40] = x[3], x[3]                                           # three copies of one image
    d = _dist(x)
    pairs = features.closest_pairs(d, k=5, tau=1e-9, chunk=7)
    assert pairs[["i", "j"]].iloc[:3].values.tolist() == [[3, 17], [3, 40], [17, 40]]
    assert (pairs.distance.iloc[:3] == 0).all() and pairs.collision.tolist() == [True] * 3 + [False] * 2
    assert pairs.distance.is_monotonic_increasing


def test_errors_name_what_was_wrong():
    with pytest.raises(ValueError, match="s_max must lie in"):
        support.batch_min_distances(np.zeros((5, 5)), 6, 3, 0)
    with pytest.raises(ValueError, match="square"):
        support.batch_min_distances(np.zeros((5, 4)), 3, 3, 0)
    with pytest.raises(ValueError, match="n_pool"):
        support.fit_support(pd.DataFrame({"s": [10], "n_batches": [5], "n_collisions": [1]}), n_pool=5)


def test_tail_threshold_recovers_a_power_law_tail_better_than_the_order_statistic():
    """Pair distances with ``F(t) = t^m``: Hill's exponent comes back, and τ where 10 of 10^6 pairs are expected
    below is closer to the truth from the 100 closest pairs than from the 11th alone."""
    m, n_pairs, expected = 4.0, 1_000_000, 10.0
    truth = (expected / n_pairs) ** (1 / m)
    err_fit, err_order, exps = [], [], []
    for seed in range(200):
        u = np.sort(np.random.default_rng(seed).uniform(size=n_pairs))[:101]
        v = u ** (1 / m)
        tau, exponent = support.tail_threshold(v, expected, 100)
        order, none = support.tail_threshold(v, expected, 0)
        assert order == v[10] and np.isnan(none)
        err_fit.append(np.log(tau / truth)), err_order.append(np.log(order / truth)), exps.append(exponent)
    assert np.mean(exps) == pytest.approx(m, rel=0.05)
    assert abs(np.mean(err_fit)) < 0.02                                  # unbiased in log τ
    assert np.sqrt(np.mean(np.square(err_fit))) < 0.85 * np.sqrt(np.mean(np.square(err_order)))   # 0.059 vs 0.079
    v = np.r_[0.0, np.linspace(0.1, 1, 40)]                             # an exact duplicate: the order statistic
    assert support.tail_threshold(v, 5.5, 30) == (v[5], pytest.approx(np.nan, nan_ok=True))
    with pytest.raises(ValueError, match="needs the 31 closest pairs"):
        support.tail_threshold(v[:20], 5.5, 30)


def test_calibrate_threshold_with_a_tail_fit():
    f = _feat(np.random.default_rng(7).uniform(-1, 1, (1500, D)))
    thr = support.calibrate_threshold(f, 0.05, 60, tail_pairs=40)
    order = support.calibrate_threshold(f, 0.05, 60)
    assert thr.tail_pairs == 40 and thr.tail_exponent > 0 and order.tail_pairs == 0
    _, _, v = support.pair_tail(f, k=41)
    assert thr.tau == support.tail_threshold(v, thr.expected_below, 40)[0] and thr.n_below == int(np.sum(v < thr.tau))
    assert 0.5 < thr.tau / order.tau < 2


def test_split_check_repeats_the_calibration_on_each_split():
    """Each split's τ and held-out count are what `calibrate_threshold` and `heldout_rate` give on its two sides, and
    on uniform 'real' images (pairs independent enough) the rate lies within [α/2, 2α] on most splits."""
    f = _feat(np.random.default_rng(3).uniform(-1, 1, (2400, D)))
    splits = support.split_check(f, 1200, 0.05, 60, tail_pairs=30, n_splits=40, seed=5)
    assert splits.complete.all() and len(splits) == 40
    rng = np.random.default_rng(5)
    for r in range(3):
        side = np.ones(2400, dtype=bool)
        side[rng.permutation(2400)[:1200]] = False
        thr = support.heldout_rate(support.calibrate_threshold(f[~side], 0.05, 60, 30), f[side], n_batches=10)
        assert splits.tau[r] == pytest.approx(thr.tau, rel=1e-12) and splits.heldout_below[r] == thr.heldout_below
        assert splits.rate[r] == pytest.approx(thr.heldout_rate) and splits.low[r] == pytest.approx(thr.heldout_low)
    assert splits.within.mean() >= 0.7 and 0.03 < splits.rate.median() < 0.08
    assert (splits.covers_poisson == ((splits.low <= 0.05) & (0.05 <= splits.high))).all()
    sd = splits.calibration_sd.iloc[0]
    assert sd == pytest.approx(np.std(np.log(splits.outside_rate), ddof=1)) and 0 < sd < 1
    assert (splits.check_low <= splits.low).all() and (splits.check_high >= splits.high).all()   # wider, never narrower
    assert (splits.covers == ((splits.check_low <= 0.05) & (0.05 <= splits.check_high))).all()
    assert splits.covers.mean() >= splits.covers_poisson.mean()


def test_calibration_noise_widens_the_interval_alpha_is_judged_by():
    thr = support.Threshold(0.01, 0.05, 60, 0.05, 10, 10.0, 1000, heldout_rate=0.02, heldout_low=0.01,
                            heldout_high=0.04, heldout_below=4, n_heldout=1000)
    assert not thr.holds                                                  # α = 0.05 outside [0.01, 0.04]
    wide = support.with_calibration_noise(thr, 0.5)
    z = 1.959964 * 0.5
    assert wide.check_high == pytest.approx(0.02 * np.exp(np.hypot(np.log(2), z)), rel=1e-5) and wide.holds
    assert wide.check_low == pytest.approx(0.02 * np.exp(-np.hypot(np.log(2), z)), rel=1e-5)
    assert support.with_calibration_noise(thr, 0.0).check_high == pytest.approx(0.04) and not \
        support.with_calibration_noise(thr, 0.0).holds
    zero = support.with_calibration_noise(dataclasses.replace(thr, heldout_rate=0.0, heldout_low=0.0), 0.5)
    assert zero.check_low == 0.0 and zero.check_high == pytest.approx(0.04 * np.exp(z), rel=1e-5)


@pytest.mark.parametrize("tail", [0, 30])
def test_split_thresholds_from_the_pools_pairs_equal_the_searches_of_each_side(tail):
    """The support stage's own split from the one pair search of both pools (`pool_tail`) is the same `Threshold` as
    `calibrate_threshold` and `heldout_rate` on each side."""
    f = _feat(np.random.default_rng(11).uniform(-1, 1, (2000, D)))
    pairs = support.pool_tail(f, 1100, 0.05, 60, tail)
    got = support.split_thresholds(pairs, 2000, 1100, 0.05, 60, tail, n_batches=300, seed=4)
    want = support.heldout_rate(support.calibrate_threshold(f[:1100], 0.05, 60, tail), f[1100:], n_batches=300, seed=4)
    assert got == want
    short = tuple(a[:3] for a in pairs)                    # too few pairs on the calibration side: no threshold
    assert support.split_thresholds(short, 2000, 1100, 0.05, 60, tail) is None
