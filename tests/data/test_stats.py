"""ganaudit.data.stats: closed-form checks for patch CV, bits/dim, PSNR, σ² scale and correlations."""

import math

import numpy as np
import pytest

from ganaudit.data import stats


def _img(values: np.ndarray) -> np.ndarray:
    return np.asarray(values, dtype=np.uint8)[None, None]


def test_patch_cv_constant_image_is_zero():
    x = np.full((3, 2, 16, 16), 77, dtype=np.uint8)
    np.testing.assert_array_equal(stats.patch_coefficient_of_variation(x), np.zeros(3))


def test_patch_cv_checkerboard_quarter_three_quarters():
    # values 64/192 (0.25/0.75 of 256): mean m = 128, std = 64 -> CV = 0.5 exactly (scale-free)
    board = np.where((np.add.outer(np.arange(16), np.arange(16)) % 2) == 0, 64, 192)
    cv = stats.patch_coefficient_of_variation(_img(board))
    assert cv.shape == (1,) and cv.dtype == np.float64
    assert cv[0] == pytest.approx(0.5, abs=1e-12)


def test_patch_cv_averages_patches_and_channels_and_drops_partial_patches():
    # closed forms: stripes {0, 100} -> CV 50/50 = 1; constant -> 0; stripes {50, 150} -> 50/100 = 0.5
    x = np.zeros((1, 2, 8, 19), dtype=np.uint8)          # 19 wide: 2 whole patches, 3 columns dropped
    stripes = np.tile(np.array([0, 100], dtype=np.uint8), (8, 4))
    x[0, 0, :, 0:8] = stripes                             # CV = 50/50 = 1
    x[0, 0, :, 8:16] = 40                                 # CV = 0
    x[0, 1, :, 0:8] = np.tile(np.array([50, 150], dtype=np.uint8), (8, 4))   # CV = 50/100 = 0.5
    x[0, 1, :, 8:16] = np.tile(np.array([50, 150], dtype=np.uint8), (8, 4))  # CV = 0.5
    x[0, :, :, 16:] = 255                                  # dropped: would change the answer if kept
    cv = stats.patch_coefficient_of_variation(x, patch=8)
    assert cv[0] == pytest.approx((1 + 0 + 0.5 + 0.5) / 4, abs=1e-12)


def test_patch_cv_black_patch_policy_is_zero():
    x = np.zeros((1, 1, 16, 16), dtype=np.uint8)
    x[0, 0, :8, :8] = np.tile(np.array([0, 100], dtype=np.uint8), (8, 4))   # CV 1; three black patches → 0
    cv = stats.patch_coefficient_of_variation(x)
    assert np.isfinite(cv).all()
    assert cv[0] == pytest.approx(0.25, abs=1e-12)


def test_patch_cv_rejects_bad_input():
    with pytest.raises(ValueError, match="uint8"):
        stats.patch_coefficient_of_variation(np.zeros((1, 1, 8, 8), dtype=np.float32))
    with pytest.raises(ValueError, match="does not fit"):
        stats.patch_coefficient_of_variation(np.zeros((1, 1, 4, 8), dtype=np.uint8))
    with pytest.raises(ValueError, match=r"\[N, C, H, W\]"):
        stats.patch_coefficient_of_variation(np.zeros((8, 8), dtype=np.uint8))


def test_bits_per_dim_uniform_density_is_minus_eight():
    d = 784
    log_px = -d * math.log(2.0)                       # uniform on [-1, 1]^D
    assert stats.bits_per_dim(log_px, d) == pytest.approx(-8.0, abs=1e-12)
    arr = stats.bits_per_dim(np.array([log_px, log_px + d * math.log(2.0)]), d)
    np.testing.assert_allclose(arr, [-8.0, -7.0], atol=1e-12)   # doubling the density: +1 bit/dim


def test_bits_per_dim_gaussian_closed_form():
    # N(0, s² I) density at x = 0 on D dims: log p = -D/2 log(2π s²); bpd = log2(Δ/sqrt(2π s²))
    d, s2 = 3072, 0.01
    lp = -0.5 * d * math.log(2 * math.pi * s2)
    assert stats.bits_per_dim(lp, d) == pytest.approx(math.log2((2 / 256) / math.sqrt(2 * math.pi * s2)), rel=1e-12)
    with pytest.raises(ValueError, match="n_dims"):
        stats.bits_per_dim(lp, 0)


def test_psnr_and_variance_scale_match_table3():
    assert stats.psnr(0.01) == pytest.approx(20.0, abs=1e-12)
    assert stats.psnr(1.0) == 0.0
    assert stats.psnr(0.0) == math.inf
    # paper Table 3: σ² = 0.018 → 17.4 dB, 0.012 → 19.2, 0.021 → 16.8 (σ² on [0, 1])
    np.testing.assert_allclose(stats.psnr(np.array([0.018, 0.012, 0.021])), [17.4, 19.2, 16.8], atol=0.05)
    assert stats.to_unit_scale_variance(0.072) == pytest.approx(0.018)
    assert stats.to_unit_scale_variance(1.2) == pytest.approx(0.3)
    # an error of e on [-1, 1] is e/2 on [0, 1]: MSE scales by 1/4
    rng = np.random.default_rng(0)
    e = rng.normal(0, 0.2, 10_000)
    assert np.mean((e / 2) ** 2) == pytest.approx(stats.to_unit_scale_variance(np.mean(e ** 2)), rel=1e-12)
    with pytest.raises(ValueError, match="mse01"):
        stats.psnr(-1.0)


def test_log_mean_exp():
    a = np.array([[1000.0, 1000.0], [0.0, math.log(3.0)]])
    np.testing.assert_allclose(stats.log_mean_exp(a, axis=1), [1000.0, math.log(2.0)], rtol=1e-12)
    assert stats.log_mean_exp([0.0, 0.0, 0.0]) == pytest.approx(0.0, abs=1e-15)


def test_log_mean_exp_leaves_out_nan_and_keeps_minus_inf():
    a = np.array([[0.0, np.nan, math.log(3.0)], [-np.inf, -np.inf, np.nan]])
    out = stats.log_mean_exp(a, axis=1, ignore_nan=True)
    assert out[0] == pytest.approx(math.log(2.0), abs=1e-15) and out[1] == -np.inf
    assert stats.log_mean_exp([-np.inf, -np.inf]) == -np.inf                    # never NaN
    assert np.isnan(stats.log_mean_exp([0.0, np.nan]))                           # NaN counts unless left out


def test_correlation_known_values():
    x = np.arange(10.0)
    r = stats.correlation(x, -3 * x + 1)
    assert r["pearson_r"] == pytest.approx(-1.0) and r["spearman_rho"] == pytest.approx(-1.0)
    assert r["n"] == 10 and r["pearson_p"] < 1e-10
    # monotone but non-linear: Spearman 1, Pearson < 1; Pearson of (x, x^3) on 0..9 in closed form
    y = x ** 3
    r = stats.correlation(x, y)
    expected = np.corrcoef(x, y)[0, 1]
    assert r["spearman_rho"] == pytest.approx(1.0) and r["pearson_r"] == pytest.approx(expected, rel=1e-12)
    assert expected < 0.95
    # non-finite pairs are dropped; too few pairs → NaN
    r = stats.correlation([1.0, 2.0, np.nan, 4.0, np.inf], [2.0, 4.0, 5.0, 8.0, 1.0])
    assert r["n"] == 3 and r["pearson_r"] == pytest.approx(1.0)
    r = stats.correlation([1.0, 2.0], [1.0, 3.0])
    assert r["n"] == 2 and math.isnan(r["pearson_r"])
