"""ganaudit.density.typicality on a Gaussian whose entropy is known in closed form."""

import math

import numpy as np
import pandas as pd
import pytest

from ganaudit.density import typicality

D = 10
H_TRUE = 0.5 * D * math.log(2 * math.pi * math.e)       # entropy of N(0, I_10) in nats


def _log_p(x: np.ndarray) -> np.ndarray:
    """log N(x; 0, I) in nats."""
    return -0.5 * D * math.log(2 * math.pi) - 0.5 * (x ** 2).sum(1)


@pytest.fixture(scope="module")
def gaussian():
    rng = np.random.default_rng(1234)
    calibration = _log_p(rng.standard_normal((5000, D)))
    generated = _log_p(rng.standard_normal((5000, D)))             # disjoint from calibration
    shifted = _log_p(rng.standard_normal((5000, D)) + 1.0 / math.sqrt(5))   # ‖μ‖² = 2: mean LL −1 nat
    return calibration, generated, shifted


def test_entropy_estimate_recovers_gaussian_entropy(gaussian):
    calibration, _, _ = gaussian
    assert typicality.entropy_estimate(calibration) == pytest.approx(H_TRUE, abs=0.1)
    assert typicality.entropy_estimate([-1.0, -3.0]) == 2.0
    with pytest.raises(ValueError, match="log_px_generated"):
        typicality.entropy_estimate([])


def test_bootstrap_epsilon_matches_normal_theory(gaussian):
    calibration, _, _ = gaussian
    # Var log p = D/2 for N(0, I); the mean of n is ≈ normal, so ε ≈ 1.96 · sqrt(D / 2n)
    for n in (10, 50):
        eps = typicality.bootstrap_epsilon(calibration, n, 0.95, n_bootstrap=4000, rng=0)
        assert eps == pytest.approx(1.96 * math.sqrt(D / (2 * n)), rel=0.1)
    e1 = typicality.bootstrap_epsilon(calibration, 25, rng=7)
    assert e1 == typicality.bootstrap_epsilon(calibration, 25, rng=7)   # seeded → reproducible
    with pytest.raises(ValueError, match="confidence"):
        typicality.bootstrap_epsilon(calibration, 25, confidence=1.5)


def test_generated_fraction_is_about_confidence(gaussian):
    calibration, generated, _ = gaussian
    h = typicality.entropy_estimate(calibration)
    for n in (10, 50):
        eps = typicality.bootstrap_epsilon(calibration, n, 0.95, rng=1)
        frac = typicality.typical_fraction(generated, h, eps, n, n_trials=200, rng=2)
        assert frac == pytest.approx(0.95, abs=0.07)


def test_shifted_gaussian_leaves_typical_set_as_n_grows(gaussian):
    calibration, generated, shifted = gaussian
    df = typicality.typicality_table(calibration, {"generated": generated, "shifted": shifted},
                                     sizes=(10, 25, 50, 75), n_trials=200, seed=0)
    sh = df[df.group == "shifted"].set_index("n")["fraction_typical"]
    assert sh[75] < 0.15 and sh[10] > 0.4
    assert sh[10] > sh[25] > sh[50] >= sh[75]
    gen = df[df.group == "generated"]["fraction_typical"]
    assert (gen > 0.88).all() and (gen <= 1.0).all()


def test_table_columns_empty_groups_and_paper_layout(gaussian):
    calibration, generated, _ = gaussian
    train = calibration[:3] - 5.0                                   # a tiny group: sampled with replacement
    df = typicality.typicality_table(calibration, {"generated": generated[:500], "train": train, "svhn": []},
                                     sizes=(10, 25), n_trials=50, n_bootstrap=300, seed=3)
    assert list(df.columns) == typicality.TABLE_COLUMNS and len(df) == 6
    assert df[df.group == "svhn"]["fraction_typical"].isna().all()
    assert (df[df.group == "svhn"]["n_images"] == 0).all()
    assert (df[df.group == "train"]["fraction_typical"] == 0.0).all()   # 5 nats below: never typical
    assert df["entropy"].nunique() == 1 and df.groupby("n")["epsilon"].nunique().eq(1).all()
    # adding a group does not change another group's numbers
    df2 = typicality.typicality_table(calibration, {"svhn": [], "generated": generated[:500]},
                                      sizes=(10, 25), n_trials=50, n_bootstrap=300, seed=3)
    pd.testing.assert_series_equal(df[df.group == "generated"]["fraction_typical"].reset_index(drop=True),
                                   df2[df2.group == "generated"]["fraction_typical"].reset_index(drop=True))

    # the paper's layout: a row per group, a column per N, readable at a glance
    layout = typicality.table2_layout(df)
    assert list(layout.columns) == ["group", "images", "N=10", "N=25"]
    assert list(layout.group) == ["generated", "train", "svhn"] and list(layout.images) == [500, 3, 0]
    assert math.isnan(layout.set_index("group").loc["svhn", "N=25"])
    assert (layout.set_index("group").loc["train", ["N=10", "N=25"]] == 0.0).all()
    # several models stacked with a `model` column → one row per (model, group)
    both = pd.concat([df.assign(model="A"), df.assign(model="B")])
    l2 = typicality.table2_layout(both)
    assert list(l2.columns[:2]) == ["model", "group"] and l2.shape == (6, 5)
    assert list(l2.model) == ["A"] * 3 + ["B"] * 3


def test_typical_fraction_replacement_rule_and_errors():
    h, eps = 2.0, 0.5
    # group of 3 < n = 10: drawn with replacement; values all −2 → always typical
    assert typicality.typical_fraction([-2.0, -2.0, -2.0], h, eps, 10, n_trials=20, rng=0) == 1.0
    # without replacement when n = group size: every subset is the whole group, mean −2.6 → never
    assert typicality.typical_fraction([-2.0, -2.0, -3.8], h, eps, 3, n_trials=20, rng=0) == 0.0
    assert typicality.typical_set([-2.0, -2.0, -3.8], h, eps) is False
    assert typicality.typical_set([-2.0, -2.4], h, eps) is True
    assert math.isnan(typicality.typical_fraction([], h, eps, 10))
    with pytest.raises(ValueError, match="non-finite"):
        typicality.typical_fraction([-2.0, np.nan], h, eps, 1)


def test_bootstrap_epsilon_with_the_entropy_error_matches_normal_theory(gaussian):
    """With Ĥ the mean of M calibration values, |mean_n + Ĥ| has variance σ²(1/n + 1/M): ε ≈ 1.96 σ √(1/n + 1/M)."""
    calibration, _, _ = gaussian
    cal = calibration[:120]
    sigma = math.sqrt(D / 2)
    for n in (10, 75):
        eps = typicality.bootstrap_epsilon(cal, n, 0.95, n_bootstrap=4000, rng=0, entropy_error=True)
        assert eps == pytest.approx(1.96 * sigma * math.sqrt(1 / n + 1 / 120), rel=0.12)
    with pytest.raises(ValueError, match="entropy_error resamples"):
        typicality.bootstrap_epsilon(cal, 10, entropy=0.0, entropy_error=True)


def test_null_false_positives_is_nominal_only_with_the_entropy_error(gaussian):
    """120 calibration and 80 held-out samples of the model, as the default run has: the paper's ε (Ĥ taken as
    exact) finds the model's own 75-sets atypical far more often than 5 %; with Ĥ's error in ε, about 5 %."""
    calibration, generated, _ = gaussian
    kw = dict(sizes=[10, 75], confidence=0.95, n_bootstrap=300, n_splits=300, seed=3)
    paper = typicality.null_false_positives(calibration[:120], generated[:80], **kw)
    fixed = typicality.null_false_positives(calibration[:120], generated[:80], entropy_error=True, **kw)
    assert list(paper.columns) == ["n", "false_positive_rate", "null_splits"] and (paper.null_splits == 300).all()
    rate = dict(zip(paper.n, paper.false_positive_rate)), dict(zip(fixed.n, fixed.false_positive_rate))
    assert rate[0][75] > 0.09                                # theory: P(|Z| > 1.96 / √(1 + 75/120 · …)) ≈ 0.12
    assert rate[1][75] < 0.09 and rate[1][10] < 0.09         # nominal 0.05 (300 splits: ± 0.025)
    assert rate[0][75] > rate[1][75]
