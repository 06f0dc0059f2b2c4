"""Error bars of the log-likelihoods (`ganaudit.density.errorbars`) and the density tables that carry them
(`ganaudit.density.summaries`)."""

import numpy as np
import pandas as pd
import pytest

from ganaudit.density import errorbars, summaries


def test_changes_are_the_larger_budget_minus_the_run():
    factors = np.array([0.5, 2.0, 4.0])
    est = np.array([[-10.0, -20.0], [-6.0, -15.0], [-5.0, -12.0]])
    np.testing.assert_array_equal(errorbars.changes(est, factors, np.array([-7.0, -18.0]), 4.0), [2.0, 6.0])
    with pytest.raises(ValueError, match="no re-estimate at factor 8"):
        errorbars.changes(est, factors, np.array([0.0, 0.0]), 8.0)


def test_summary_median_and_largest_absolute_change_per_group():
    change = pd.DataFrame({"model": ["gan"] * 5 + ["vae"], "group": ["test"] * 3 + ["photos"] * 2 + ["test"],
                           "change": [1.0, -9.0, 3.0, 0.5, 0.25, 40.0]})
    s = errorbars.summarise(change).set_index(["model", "group"])
    assert s.loc[("gan", "test")].tolist() == [3, 1.0, 9.0]      # images, median, largest |change|
    assert s.loc[("gan", "photos")].tolist() == [2, 0.375, 0.5]
    assert s.loc[("vae", "test"), "error_max_nats"] == 40.0


@pytest.mark.parametrize("margin, bars, expected", [
    (10.0, (9.0, 2.0), True), (10.0, (10.0, 2.0), False), (-10.0, (9.0, 9.0), True),
    (10.0, (np.nan, 1.0), False), (np.nan, (1.0, 1.0), False)])
def test_a_difference_counts_only_beyond_every_error_bar(margin, bars, expected):
    assert errorbars.exceeds(margin, *bars) is expected


def test_bootstrap_standard_error_of_a_mean_matches_its_formula_and_covers():
    rng = np.random.default_rng(0)
    x = rng.normal(0.0, 50.0, 200)
    assert errorbars.bootstrap_se(x) == pytest.approx(x.std(ddof=1) / np.sqrt(200), rel=0.05)
    assert np.isnan(errorbars.bootstrap_se(np.array([1.0])))
    # coverage: mean ± 2 s.e. holds the true mean (0) in ~95 % of groups of 20 heavy-tailed values
    hits = [abs(v.mean()) <= 2 * errorbars.bootstrap_se(v, 500, seed=i)
            for i, v in enumerate(rng.standard_t(4, (300, 20)) * 100)]
    assert 0.88 <= np.mean(hits) <= 0.99


@pytest.mark.parametrize("margin, bars, ses, expected, decides", [
    (100.0, (10.0, 20.0), (30.0, 40.0), True, "sampling error"),   # 2·50 = 100 ... exceeded? no: equal is not
    (101.0, (10.0, 20.0), (30.0, 40.0), True, "sampling error"),
    (90.0, (10.0, 20.0), (30.0, 40.0), False, "sampling error"),
    (90.0, (85.0, 20.0), (3.0, 4.0), True, "error bar"),
    (90.0, (95.0, 20.0), (3.0, 4.0), False, "error bar"),
    (90.0, (5.0, 5.0), (np.nan, 4.0), False, "an unmeasured error")])
def test_a_lead_is_established_beyond_both_errors(margin, bars, ses, expected, decides):
    ok, what, threshold = errorbars.established(margin, bars, ses)
    assert what == decides and ok is (expected and margin != 100.0)


def test_log_likelihood_table_carries_the_error_bars():
    per_image = pd.DataFrame({"model": ["gan"] * 4, "group": ["test", "test", "photos", "photos"],
                              "log_px": [-100.0, -120.0, 50.0, 70.0], "bits_per_dim": [-7.0, -7.2, -6.0, -5.9],
                              "patch_cv": [1.0, 1.2, 0.1, 0.2]})
    checks = pd.DataFrame({"model": ["gan"] * 3, "group": ["test", "test", "photos"], "index": [0, 1, 0],
                           "change": [4.0, -2.0, 11.0]})
    t = summaries.ll_per_group(per_image, checks).set_index("group")
    assert t.loc["test", "mean_log_px"] == -110.0 and t.loc["test", "error_max_nats"] == 4.0
    assert t.loc["test", "error_median_nats"] == 1.0 and t.loc["photos", "check_images"] == 1
    assert t.loc["test", "se_mean_nats"] == pytest.approx(np.sqrt(50), rel=0.1)  # resampled means -100, -110, -120
    t1 = summaries.table1(per_image, t.reset_index(), {"gan": {"kind": "dcgan"}},
                          {"gan": {"sigma2_unit_scale": 0.01}}, {})
    assert t1.test_ll_nats.iloc[0] == -110.0 and t1.test_ll_error_max_nats.iloc[0] == 4.0
    # no re-estimates (e.g. a run without them): the table says so with NaN, it does not invent a bar
    assert summaries.ll_per_group(per_image, summaries.load_checks([])).error_max_nats.isna().all()


def test_the_1nn_baseline_is_cut_to_the_largest_group_any_model_scored(tmp_path):
    """The density table used to trim the 1NN baseline to the *last* model's group sizes; it must cover every
    image some model scored."""
    from ganaudit.artifacts import store

    rng = np.random.default_rng(0)

    def run(n_test, n_photos):
        return {"test": {"log_px_class": rng.normal(size=(n_test, 2)), "labels": np.arange(n_test) % 2},
                "photos": {"log_px_class": rng.normal(size=(n_photos, 2)) - 5, "labels": np.full(n_photos, -1)}}

    for g, n in (("test", 8), ("photos", 8)):
        store.write(tmp_path / f"{g}.h5", {"perceptual": rng.random((n, 2)), "labels": np.arange(n) % 2 if g == "test"
                                           else np.full(n, -1)}, {"perceptual_metric": "P"})
    lls = {"big": run(6, 6), "small": run(3, 2)}            # the last model scored fewer images
    table, _ = summaries.density_inference(lls, [str(tmp_path / "test.h5"), str(tmp_path / "photos.h5")])
    nn = table[(table.method == "1NN (training images)") & (table.task == "outlier_detection") & (table["class"] == "mean")]
    assert int(nn.n_images.iloc[0]) == 6 + 6


def test_the_front_page_is_only_ever_this_configurations(tmp_path):
    from ganaudit.workflow.plan import findings_stamp, front_page

    page, pending = tmp_path / "workflow.rst", tmp_path / "pending.rst"
    params = {"dataset": {"name": "mnist"}, "ais": {"preset": "posterior"}}
    assert front_page(page, params, pending) == str(pending)               # not made yet
    page.write_text(findings_stamp(params) + "\n\nfindings")
    assert front_page(page, params, pending) == str(page)
    other = {**params, "dataset": {"name": "faces"}}
    assert front_page(page, other, pending) == str(pending)                # made for another configuration
    page.write_text("findings without a stamp (an older version)")
    assert front_page(page, params, pending) == str(pending)
