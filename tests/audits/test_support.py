"""ganaudit.audits.support: the birthday-paradox support estimate on distributions of known support."""

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


def test_threshold_is_the_alpha_quantile_of_batch_minima():
    m = np.full((100, 4), np.inf)
    m[:, 3] = np.random.default_rng(0).permutation(100).astype(float)  # closest pairs 0, 1, …, 99
    thr = support.calibrate_threshold(m, alpha=0.05, n_reference=10)
    assert thr.tau == 5.0 and thr.achieved == 0.05 and thr.s == 3      # batches 0..4 collide: 5 %
    assert "τ = 5" in thr.describe() and "0.05-quantile" in thr.describe()
    assert support.calibrate_threshold(m, alpha=0.0).tau == 0.0        # α = 0: no reference batch collides


def test_support_of_k_equally_likely_images_is_recovered():
    discrete, training, _ = _pools()
    res = support.birthday_paradox_test(_dist(discrete), _dist(training), sizes=[5, 10, 15, 20, 25, 30, 40, 50, 60],
                                        n_batches=300, n_bootstrap=200, seed=0)
    est = res.estimates["samples"]
    assert est.k_low <= 400 <= est.k_high                               # the interval covers K
    assert 0.8 * 400 < est.k_hat < 1.2 * 400 and est.k_high / est.k_low < 1.6
    assert 20 <= est.s_half <= 28 and est.s_half_model == 24            # P_400(s) = ½ at s ≈ 1.18·√400 = 23.5
    assert est.s_half_squared == pytest.approx(est.s_half ** 2)
    # the training images' curve stays at ≤ α by construction, far below the samples'
    tr = res.curves[res.curves.group == "training"]
    assert tr.p_collision.max() <= 0.05 and res.estimates["training"].k_low > 10 * 400
    # the closest pairs are noisy copies of one image: distance ≈ 2·0.01² per pixel, all collisions
    assert res.pairs.collision.all() and (res.pairs.distance < 4e-4).all() and len(res.pairs) == 16


def test_a_continuous_distribution_has_no_small_support():
    _, training, continuous = _pools(seed=1)
    res = support.birthday_paradox_test(_dist(continuous), _dist(training), sizes=[10, 20, 40, 60], n_batches=300,
                                        alpha=0.05, seed=0)
    est = res.estimates["samples"]
    assert est.k_low > 10 * 600 and math.isnan(est.s_half)              # collisions only at the false rate α


def test_no_collision_gives_an_infinite_estimate_with_a_lower_bound():
    _, training, continuous = _pools(seed=2)
    far = _dist(continuous) * 4                                         # every pair far beyond τ
    res = support.birthday_paradox_test(far, _dist(training), sizes=[10, 30, 60], n_batches=300, seed=0)
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
