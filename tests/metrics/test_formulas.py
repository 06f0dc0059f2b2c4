"""Known answers of each metric's formula on small arrays computed by hand."""

import numpy as np
import pytest

from ganaudit.metrics.authenticity import authenticity
from ganaudit.metrics.copying import data_copying, mann_whitney_z
from ganaudit.metrics.fd import fd_bootstrap, frechet_distance, gaussian_frechet_distance
from ganaudit.metrics.fld import feature_likelihood_divergence, fit_bandwidths, mixture_log_likelihood
from ganaudit.metrics.kd import kernel_distance, mmd2_unbiased
from ganaudit.metrics.prdc import kth_neighbour_radius, prdc
from ganaudit.metrics.vendi import vendi_score


def exact_moments(rng, n, mean, cov):
    """n points whose sample mean and unbiased covariance are exactly ``mean`` and ``cov``."""
    x = rng.standard_normal((n, len(mean)))
    x -= x.mean(0)
    w, v = np.linalg.eigh(np.cov(x, rowvar=False))
    x = x @ (v / np.sqrt(w)) @ v.T                      # whitened: covariance I
    w, v = np.linalg.eigh(cov)
    return x @ (v * np.sqrt(w)) @ v.T + mean


def test_fd_of_two_gaussians_in_closed_form():
    # N(0, diag(1, 4)) vs N((1, 0), diag(4, 1)): 1 + (1 + 4 + 4 + 1) − 2 (√4 + √4) = 3
    assert gaussian_frechet_distance([0, 0], np.diag([1, 4]), [1, 0], np.diag([4, 1])) == pytest.approx(3.0, abs=1e-12)
    rng = np.random.default_rng(0)
    a = exact_moments(rng, 50, np.zeros(2), np.diag([1.0, 4.0]))
    b = exact_moments(rng, 70, np.array([1.0, 0.0]), np.diag([4.0, 1.0]))
    assert frechet_distance(a, b) == pytest.approx(3.0, abs=1e-9)


def test_fd_wider_than_the_sets_matches_the_covariance_formula():
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((20, 40)), rng.standard_normal((25, 40)) * 2 + 0.5   # F > n: the SVD branch
    ref = gaussian_frechet_distance(a.mean(0), np.cov(a, rowvar=False), b.mean(0), np.cov(b, rowvar=False))
    assert frechet_distance(a, b) == pytest.approx(ref, rel=1e-8)
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)              # of a trace ≈ 40


def test_fd_bootstrap_interval_brackets_and_is_seeded():
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal((400, 3)), rng.standard_normal((400, 3)) + [1.0, 0, 0]
    v, lo, hi = fd_bootstrap(a, b, 100, 0.9, seed=3)
    assert lo < v < hi and lo < 1.0 < hi                 # around the estimate, and the true FD (1) inside
    # two sets of one distribution: the interval holds the estimate (the unshifted percentiles lie above it)
    c = rng.standard_normal((400, 3))
    v0, lo0, hi0 = fd_bootstrap(a, c, 100, 0.9, seed=3)
    assert lo0 <= v0 < hi0
    assert fd_bootstrap(a, b, 100, 0.9, seed=3) == (v, lo, hi)


def test_kd_exact_on_two_points_and_subset_cap():
    # F = 1, k(x, y) = (xy + 1)³: k_xx off-diagonal 1, k_yy 7³ = 343, k_xy mean (1 + 1 + 27 + 64) / 4
    assert mmd2_unbiased([[0.0], [1.0]], [[2.0], [3.0]]) == pytest.approx(1 + 343 - 2 * 93 / 4)
    rng = np.random.default_rng(0)
    mean, std, size = kernel_distance(rng.standard_normal((10, 3)), rng.standard_normal((4, 3)), subset_size=1000)
    assert size == 4 and std > 0


def test_kd_of_one_distribution_is_unbiased():
    rng = np.random.default_rng(4)
    vals = [mmd2_unbiased(rng.standard_normal((50, 4)), rng.standard_normal((50, 4))) for _ in range(300)]
    assert abs(np.mean(vals)) < 3 * np.std(vals) / np.sqrt(len(vals))
    assert min(vals) < 0 < max(vals)                     # unbiased, so not clipped at 0


def test_prdc_by_hand():
    real = np.array([[0.0], [1.0], [2.0], [3.0]])         # k = 1: every real ball has radius 1
    fake = np.array([[0.5], [10.0]])                      # fake balls: radius 9.5
    r = prdc(real, fake, k=1)
    assert (r.precision, r.recall, r.density, r.coverage) == (0.5, 1.0, 1.0, 0.5)
    np.testing.assert_allclose(kth_neighbour_radius(real, 2), [4, 1, 1, 4])
    np.testing.assert_allclose(kth_neighbour_radius(real, 2, chunk=1), [4, 1, 1, 4])


def test_mann_whitney_z_and_ct_of_copies():
    assert mann_whitney_z([0, 0], [1, 1]) == pytest.approx(-2 / np.sqrt(4 * 5 / 12))
    assert mann_whitney_z([1, 1], [0, 0]) == pytest.approx(2 / np.sqrt(4 * 5 / 12))
    rng = np.random.default_rng(5)
    train, test, fresh = rng.standard_normal((600, 2)), rng.standard_normal((300, 2)), rng.standard_normal((300, 2))
    copies = train[rng.choice(600, 300, replace=False)]
    assert data_copying(train, test, copies, n_cells=5).ct < -8
    fair = data_copying(train, test, fresh, n_cells=5)
    assert abs(fair.ct) < 2.5 and fair.cells.kept.all() and fair.frac_test_kept == pytest.approx(1.0)


def test_ct_drops_cells_by_the_tau_rule():
    rng = np.random.default_rng(6)
    train = np.concatenate([rng.normal(-5, 1, (300, 1)), rng.normal(5, 1, (300, 1))])
    test = np.concatenate([rng.normal(-5, 1, (100, 1)), rng.normal(5, 1, (100, 1))])
    gen = np.concatenate([rng.normal(-5, 1, (95, 1)), rng.normal(5, 1, (5, 1))])   # 5 < 20 in the right cell
    r = data_copying(train, test, gen, n_cells=2, min_generated=20)
    assert r.cells.kept.sum() == 1 and r.frac_test_kept == pytest.approx(0.5)
    kept = r.cells[r.cells.kept].iloc[0]
    assert r.ct == pytest.approx(kept.z) and kept.n_generated == 95


def test_authenticity_by_hand():
    train = np.array([[0.0], [1.0], [3.0]])               # own NN distances²: 1, 1, 4
    assert authenticity(train, [[0.4], [5.0], [6.0]]) == pytest.approx(100 / 3)
    assert authenticity(train, train) == 0.0


def test_fld_one_centre_closed_form():
    train = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 2.0], [0.0, -2.0]])
    var = fit_bandwidths(train, np.zeros((1, 2)), n_iter=3)
    assert var[0] == pytest.approx((1 + 1 + 4 + 4) / (2 * 4))              # mean squared distance per dimension
    x = np.array([[0.5, 0.5]])
    expect = -0.5 * (0.5 / 1.25) - np.log(2 * np.pi * 1.25)
    assert mixture_log_likelihood(x, np.zeros((1, 2)), var)[0] == pytest.approx(expect)


def test_fld_gap_of_copies_is_positive():
    rng = np.random.default_rng(7)
    train, test = rng.standard_normal((400, 3)), rng.standard_normal((200, 3))
    copy = feature_likelihood_divergence(train, test, train[:200])
    fresh = feature_likelihood_divergence(train, test, rng.standard_normal((200, 3)))
    # the variances are fitted on the training points, so even fresh samples show a small gap; copies a large one
    assert copy.gap > fresh.gap + 0.3 and 0 < fresh.gap < 0.3 and copy.fld > fresh.fld


def test_vendi_known_answers():
    assert vendi_score(np.ones((5, 3))) == pytest.approx(1.0)
    assert vendi_score(np.eye(4)) == pytest.approx(4.0)
    assert vendi_score(np.eye(4)[[0, 0, 1, 1]]) == pytest.approx(2.0)      # two distinct items, twice each
    x = np.random.default_rng(0).standard_normal((30, 8))
    assert vendi_score(x) == pytest.approx(vendi_score(x.T.T.copy()[np.random.default_rng(1).permutation(30)]))


def test_fd_bootstrap_of_wide_features_resamples_the_same_sets():
    rng = np.random.default_rng(8)
    a, b = rng.standard_normal((15, 30)), rng.standard_normal((12, 30)) + 0.3     # F > n: inner products resampled
    v, lo, hi = fd_bootstrap(a, b, 5, 0.5, seed=2)
    r = np.random.default_rng(2)
    draws = [(r.integers(0, 15, 15), r.integers(0, 12, 12)) for _ in range(5)]
    reps = [frechet_distance(a[i], b[j]) for i, j in draws]
    bias = np.mean(reps) - frechet_distance(a, b)
    assert v == pytest.approx(frechet_distance(a, b))
    assert (lo, hi) == pytest.approx(tuple(np.clip(np.quantile(reps, [0.25, 0.75]) - bias, 0, None)), rel=1e-8)


def test_vendi_centred_at_a_reference():
    # all-positive features are nearly parallel uncentred (≈ 1); centred at (10, 10): two orthogonal items, twice each
    x = np.array([[11.0, 10.0], [10.0, 11.0], [11.0, 10.0], [10.0, 11.0]])
    assert vendi_score(x) < 1.05
    assert vendi_score(x, centre=[10.0, 10.0]) == pytest.approx(2.0)


def test_bootstrap_replicates_agree_with_the_exact_formula_on_singular_covariances():
    from ganaudit.metrics.fd import _frechet_distance_cholesky

    rng = np.random.default_rng(9)
    a, b = rng.standard_normal((60, 6)), rng.standard_normal((80, 6)) * 1.5 + 0.2
    a[:, 0] = b[:, 0] = -1.0                                  # a constant pixel: singular covariances
    assert _frechet_distance_cholesky(a, b) == pytest.approx(frechet_distance(a, b), rel=1e-6)


def test_kd_subsets_from_the_precomputed_kernel_match_fresh_mmd():
    rng = np.random.default_rng(10)
    a, b = rng.standard_normal((30, 4)), rng.standard_normal((20, 4)) + 0.5
    mean, std, size = kernel_distance(a, b, subset_size=10, n_subsets=7, seed=4)
    r = np.random.default_rng(4)
    vals = [mmd2_unbiased(a[r.choice(30, 10, replace=False)], b[r.choice(20, 10, replace=False)]) for _ in range(7)]
    assert (mean, std, size) == (pytest.approx(np.mean(vals), rel=1e-10), pytest.approx(np.std(vals), rel=1e-8), 10)
