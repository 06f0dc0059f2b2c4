"""ganaudit.audits.coverage: label histograms, class agreement and covariance spectra with known answers."""

import numpy as np
import pytest
import torch

from ganaudit.audits import coverage


def test_mode_coverage_of_a_model_that_drops_a_class():
    data = np.repeat([0, 1, 2], [100, 100, 100])
    samples = np.repeat([0, 1, 2], [150, 150, 0])                     # class 2 dropped
    cov = coverage.mode_coverage(samples, data, 3)
    assert cov.total_variation == pytest.approx(1 / 3) and cov.n_missing == 1 and cov.dof == 2
    # homogeneity chi-square by hand: expected 50 per cell in the 3 class columns of both rows' halves
    exp = np.array([[125, 125, 50], [125, 125, 50]])
    obs = np.array([[150, 150, 0], [100, 100, 100]])
    assert cov.chi2 == pytest.approx(((obs - exp) ** 2 / exp).sum()) and cov.p_value < 1e-20
    assert cov.table.p_samples.tolist() == [0.5, 0.5, 0.0] and cov.table.n_data.tolist() == [100, 100, 100]


def test_mode_coverage_of_a_faithful_model_is_zero():
    cov = coverage.mode_coverage(torch.tensor([0, 1, 1, 2] * 25), np.array([0, 1, 1, 2] * 40), 3)
    assert cov.total_variation == 0.0 and cov.chi2 == pytest.approx(0.0) and cov.p_value == pytest.approx(1.0)


def test_conditional_agreement_counts_per_requested_class():
    requested = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    predicted = np.array([0, 0, 0, 1, 2, 2, 1, 1])                    # class 1 half turns into class 2
    t = coverage.conditional_agreement(predicted, requested, 3)
    assert t.agreement.iloc[:2].tolist() == [0.75, 0.5] and np.isnan(t.agreement.iloc[2])
    assert t.iloc[-1]["class"] == "all" and t.iloc[-1].agreement == 5 / 8
    assert t.pred_2.tolist() == [0, 2, 0, 2] and t.n.tolist() == [4, 4, 0, 8]


def test_data_of_rank_r_has_r_directions():
    rng = np.random.default_rng(0)
    r, d = 5, 64
    basis = np.linalg.qr(rng.normal(size=(d, r)))[0].T                 # r orthonormal directions
    x = rng.normal(size=(4000, r)) @ basis + 1e-4 * rng.normal(size=(4000, d))
    e = coverage.covariance_spectrum(x.reshape(-1, 1, 8, 8))
    assert e.shape == (64,) and (np.diff(e) <= 0).all()
    assert coverage.n_directions(e, 0.99) == r and e[:r].sum() == pytest.approx(r, rel=0.05)
    assert e[r] < 1e-7                                                  # the noise floor (1e-4)² per direction
    spectra, summary = coverage.compare_spectra({"generated": x[:, :32], "train": x}, 0.99)
    assert summary.set_index("group").n_directions["train"] == r
    assert spectra[spectra.group == "train"].cumulative.iloc[-1] == pytest.approx(1.0)


def test_spectrum_of_a_sample_smaller_than_the_dimension():
    x = np.random.default_rng(1).normal(size=(20, 64))
    e = coverage.covariance_spectrum(x)
    assert e.shape == (19,)                                             # at most N − 1 directions
    assert e.sum() == pytest.approx(np.trace(np.cov(x, rowvar=False)))  # eigenvalues sum to the total variance
    np.testing.assert_allclose(e, np.linalg.eigvalsh(np.cov(x, rowvar=False))[::-1][:19], rtol=1e-9)
    assert coverage.n_directions([1.0] * 100, 0.99) == 99 and coverage.n_directions([0.0, 0.0]) == 0


def test_errors_name_what_was_wrong():
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 3\)"):
        coverage.mode_coverage([0, 3], [0, 1], 3)
    with pytest.raises(ValueError, match="at least 2 images"):
        coverage.covariance_spectrum(np.zeros((1, 4)))
