"""ganaudit.calibration: each row can fail — on a known answer it reports the rate it was built to have."""

import numpy as np
import pandas as pd
import pytest
from scipy.stats import hypergeom

from ganaudit import calibration
from ganaudit.audits.memorisation import flagged_p_value


def test_memorisation_p_values_hold_their_level_under_the_null():
    """Fresh data against fresh data: p < level at most at the level (the binomial test it replaces: ~7 % at 1 %)."""
    rng = np.random.default_rng(0)
    p, _ = calibration.memorisation_null(rng.exponential(size=1000), 0.01, 400, seed=1)
    assert (p < 0.01).mean() <= 0.015 and (p < 0.05).mean() <= 0.065
    assert 0.3 <= (p < 0.5).mean() <= 0.55                                 # not trivially conservative either


def test_flagged_p_value_is_the_exact_tail_of_the_rank_statistic():
    # by simulation: samples ranked before the (m+1)-th of the test images, all exchangeable
    rng = np.random.default_rng(0)
    n_s, n_t, m = 40, 60, 2
    y = []
    for _ in range(20000):
        is_test = rng.permutation(np.r_[np.zeros(n_s, bool), np.ones(n_t, bool)])
        y.append(int(np.sum(~is_test[:np.flatnonzero(is_test)[m]])))
    y = np.asarray(y)
    for x in (1, 3, 6, 10):
        assert flagged_p_value(x, n_s, m, n_t) == pytest.approx((y >= x).mean(), abs=0.01)
    assert flagged_p_value(0, n_s, m, n_t) == 1.0
    assert flagged_p_value(5, n_s, m, n_t) == pytest.approx(hypergeom(100, 60, 7).cdf(2))


def test_support_interval_coverage_on_k_equally_likely_images():
    """95 % intervals hold K in ~92–95 % of pools (60 pools each: 92 % at K = 300 of 200, 95 % at K = 3000 of 600);
    40 pools here, so the bound allows their binomial noise."""
    covered, reps = calibration.interval_coverage(300, 200, [10, 20, 30, 40], 100, 0.95, 100, 40, seed=0)
    assert reps == 40 and covered >= 34


def test_errorbar_leave_one_out_coverage_is_exact_on_known_changes():
    checks = pd.DataFrame({"model": "gan", "group": ["a"] * 3 + ["b"] * 2 + ["c"],
                           "change": [1.0, -5.0, 2.0, 3.0, 3.0, 100.0]})
    (row,) = calibration.errorbar_coverage(checks)
    # a: |1| ≤ 5 yes, |−5| ≤ 2 no, |2| ≤ 5 yes; b: ties hold both; c: one image, no check
    assert (row["achieved"], row["n"]) == (4 / 5, 5) and row["nominal"] == pytest.approx((3 * 2 / 3 + 2 * 1 / 2) / 5)
    assert row["holds"]                                                      # 0.8 is not below 0.6


def test_table_rows_and_their_verdicts():
    support = pd.DataFrame([
        {"model": "gan", "distance": "L2", "pool": "held-out real images", "s_max": 600, "n_heldout": 9000,
         "alpha": 0.05, "false_collision_rate": 0.056, "false_collision_low": 0.03, "false_collision_high": 0.094,
         "k_hat": np.inf, "k_low": 3.75e5, "n_pool": 1500},
        {"model": "gan", "distance": "P", "pool": "held-out real images", "s_max": 600, "n_heldout": 9000,
         "alpha": 0.05, "false_collision_rate": 0.3, "false_collision_low": 0.2, "false_collision_high": 0.4,
         "k_hat": np.inf, "k_low": 3.75e5, "n_pool": 1500}])
    table2 = pd.DataFrame({"model": "gan", "group": ["generated", "generated", "train"], "n": [10, 75, 75],
                           "fraction_typical": [0.95, 0.7, 0.0]})
    params = {"support": {"sizes": [10, 20], "n_batches": 50, "confidence": 0.95}, "quantile": 0.01,
              "memorisation_p": 0.01, "typicality": {"confidence": 0.95, "trials": 100}, "interval_reps": 5,
              "interval_bootstrap": 20, "null_splits": 50, "seed": 0}
    t = calibration.calibration_table(support, {}, table2, None, params)
    assert list(t.columns) == calibration.COLUMNS
    rows = t.set_index(["check", "what"]).holds
    assert rows[("support: false-collision rate", "L2, batches of 600, 9000 held-out real images")]
    assert not rows[("support: false-collision rate", "P, batches of 600, 9000 held-out real images")]
    assert rows[("typicality: false-positive rate", "own held-out samples, N = 10")]      # 5 % atypical
    assert not rows[("typicality: false-positive rate", "own held-out samples, N = 75")]  # 30 %: far above 5 %


def test_support_rows_of_the_resampled_splits():
    """The re-split check is a coverage row: the share of splits whose held-out interval holds α, against the
    interval's confidence (it fails when the share's Wilson interval lies below it)."""
    base = {"model": "gan", "distance": "L2", "pool": "held-out real images", "s_max": 600, "n_heldout": 9623,
            "alpha": 0.05, "false_collision_rate": 0.05, "false_collision_low": 0.03, "false_collision_high": 0.09,
            "confidence": 0.95, "split_within": 0.9, "split_rate_median": 0.05, "split_rate_p10": 0.03,
            "split_rate_p90": 0.08, "split_covers_poisson": 0.8, "calibration_sd": 0.3}
    good, bad = (calibration.support_rows(pd.DataFrame([{**base, "n_splits": 200, "split_covers": c}]))
                 for c in (0.93, 0.7))
    assert len(good) == 2 and good[1]["n"] == 200 and good[1]["nominal"] == 0.95 and good[1]["holds"]
    assert "within [α/2, 2α] on 90%" in good[1]["what"] and not bad[1]["holds"]
    assert len(calibration.support_rows(pd.DataFrame([{**base, "n_splits": 0, "split_covers": np.nan}]))) == 1


def test_typicality_rows_count_the_resampled_splits_not_the_overlapping_subsets():
    t2 = pd.DataFrame({"model": "gan", "group": "generated", "n": [10, 75], "fraction_typical": [0.95, 0.0],
                       "false_positive_rate": [0.06, 0.2], "null_splits": [200, 200]})
    low, high = calibration.typicality_rows(t2, 0.95, 100)
    assert (low["n"], low["achieved"], low["holds"]) == (200, 0.06, True)
    assert (high["achieved"], high["holds"]) == (0.2, False) and "the run's held-out subsets: 1.00 atypical" in high["what"]
    (old,) = calibration.typicality_rows(t2.drop(columns=["false_positive_rate", "null_splits"]).iloc[:1], 0.95, 100)
    assert old["n"] == 100 and old["what"] == "own held-out samples, N = 10"
