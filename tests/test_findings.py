import numpy as np
import pandas as pd
import pytest

from ganaudit import findings
from ganaudit.findings import Verdict


def _tables(tmp_path):
    pd.DataFrame([
        {"method": "manifold (gan)", "distance": "L2", "task": "classification", "class": "all", "metric": "accuracy", "value": 0.6, "n_images": 10},
        {"method": "manifold (gan)", "distance": "P", "task": "classification", "class": "all", "metric": "accuracy", "value": 0.7, "n_images": 10},
        {"method": "manifold (gan)", "distance": "L2", "task": "outlier_detection", "class": "mean", "metric": "auroc", "value": 0.4, "n_images": 30},
        {"method": "manifold (gan)", "distance": "P", "task": "outlier_detection", "class": "mean", "metric": "auroc", "value": 0.5, "n_images": 30},
        {"method": "1NN (training images)", "distance": "L2", "task": "classification", "class": "all", "metric": "accuracy", "value": 0.9, "n_images": 10},
        {"method": "1NN (training images)", "distance": "P", "task": "classification", "class": "all", "metric": "accuracy", "value": 0.95, "n_images": 10},
        {"method": "1NN (training images)", "distance": "L2", "task": "outlier_detection", "class": "mean", "metric": "auroc", "value": 0.8, "n_images": 30},
        {"method": "1NN (training images)", "distance": "P", "task": "outlier_detection", "class": "mean", "metric": "auroc", "value": 0.9, "n_images": 30},
    ]).to_csv(tmp_path / "manifold_inference.csv", index=False)
    pd.DataFrame([{"model": "gan", "group": "train", "median_psnr_db": 15.0, "median_mse_model_scale": 0.12},
                  {"model": "gan", "group": "generated", "median_psnr_db": 35.0, "median_mse_model_scale": 0.0013}]
                 ).to_csv(tmp_path / "inversion_validation.csv", index=False)
    pd.DataFrame([{"model": "gan", "group": g, "mean_log_px": v, "error_max_nats": e, "se_mean_nats": se}
                  for g, v, e, se in
                  [("train", -100.0, 5.0, 6.0), ("test", -110.0, 8.0, 30.0), ("constant_colour", 50.0, 20.0, 40.0),
                   ("animals", -300.0, 30.0, 70.0), ("generated", 20.0, 1.0, 2.0)]]
                 ).to_csv(tmp_path / "ll_per_group.csv", index=False)
    pd.DataFrame([{"model": "gan", "images": "all groups", "spearman_rho": -0.4, "spearman_p": 1e-3}]
                 ).to_csv(tmp_path / "patch_cv_correlation.csv", index=False)
    pd.DataFrame([{"model": "gan", "group": g, "n": n, "fraction_typical": f} for g, n, f in
                  [("generated", 75, 0.95), ("train", 75, 0.0), ("test", 75, 0.02), ("generated", 10, 0.9)]]
                 ).to_csv(tmp_path / "table2.csv", index=False)


def test_summary_numbers_and_verdicts(tmp_path):
    _tables(tmp_path)
    s = findings.summarise(tmp_path, "gan")
    assert s["manifold"]["ratio"] == 0.12 / 0.0013 and s["manifold"]["holds"] is Verdict.REPRODUCED
    assert s["inference"]["gan_auc_p"] == 0.5 and s["inference"]["nn_acc_p"] == 0.95
    assert s["inference"]["holds"] is Verdict.REPRODUCED
    assert s["density"]["above_test"] == "constant_colour" and s["density"]["holds"] is Verdict.REPRODUCED
    assert s["typicality"]["n"] == 75 and s["typicality"]["train"] == 0.0 and s["typicality"]["holds"] is Verdict.REPRODUCED
    text = findings.render("$v1 $train_psnr/$gen_psnr; $above_test; N=$typ_n train $typ_train", s,
                           {"dataset": {"name": "mnist", "classes": [0, 1]}, "ais": {"preset": "paper", "overrides": {}}})
    assert text == "**reproduced** 15.0/35.0; constant_colour; N=75 train 0.00"


def test_not_reproduced_is_said(tmp_path):
    _tables(tmp_path)
    pd.DataFrame([{"model": "gan", "group": "train", "median_psnr_db": 30.0, "median_mse_model_scale": 0.002},
                  {"model": "gan", "group": "generated", "median_psnr_db": 35.0, "median_mse_model_scale": 0.0013}]
                 ).to_csv(tmp_path / "inversion_validation.csv", index=False)
    s = findings.summarise(tmp_path, "gan")
    assert s["manifold"]["holds"] is Verdict.NOT_REPRODUCED
    assert findings.verdict(Verdict.NOT_REPRODUCED) == "**not reproduced in this run**"


def test_partly_when_below_1nn_but_above_chance(tmp_path):
    _tables(tmp_path)
    df = pd.read_csv(tmp_path / "manifold_inference.csv")
    df.loc[(df.method == "manifold (gan)") & (df.distance == "P") & (df.task == "outlier_detection"), "value"] = 0.85
    df.to_csv(tmp_path / "manifold_inference.csv", index=False)
    s = findings.summarise(tmp_path, "gan")
    assert s["inference"]["holds"] is Verdict.PARTLY
    assert findings.verdict(Verdict.PARTLY).startswith("**partly reproduced**")


def test_finding3_needs_a_lead_beyond_both_error_bars(tmp_path):
    """constant_colour leads test by 160 nats: established while both error bars are below it, 'suggested, not
    established' once either bar reaches it, and never established when a bar was not measured."""
    _tables(tmp_path)

    def verdict_with(const_err, test_err):
        df = pd.read_csv(tmp_path / "ll_per_group.csv")
        df.loc[df.group == "constant_colour", "error_max_nats"] = const_err
        df.loc[df.group == "test", "error_max_nats"] = test_err
        df.to_csv(tmp_path / "ll_per_group.csv", index=False)
        return findings.summarise(tmp_path, "gan")["density"]

    d = verdict_with(159.0, 10.0)
    assert d["holds"] is Verdict.REPRODUCED and d["established"] == "constant_colour" and d["margin"] == 160.0
    assert verdict_with(160.0, 10.0)["holds"] is Verdict.WITHIN_ERROR       # "exceeds": equal is not enough
    assert verdict_with(10.0, 161.0)["holds"] is Verdict.WITHIN_ERROR       # the reference's bar counts too
    assert verdict_with(float("nan"), 10.0)["holds"] is Verdict.WITHIN_ERROR  # an unmeasured error establishes nothing
    d = verdict_with(20.0, 8.0)
    text = findings.render("$ll_order | $established | $error_largest ($error_largest_group)", findings.summarise(tmp_path, "gan"),
                           {"dataset": {"name": "m", "classes": [0]}, "ais": {"preset": "posterior", "overrides": {}}})
    assert text == ("constant_colour (50 ± 20, s.e. 40) > generated (20 ± 1, s.e. 2) > train (-100 ± 5, s.e. 6) > "
                    "test (-110 ± 8, s.e. 30) > animals (-300 ± 30, s.e. 70) | constant_colour | 30 (animals)")
    cfg = {"dataset": {"name": "m", "classes": [0]}, "ais": {"preset": "posterior", "overrides": {}}}
    assert findings.render("$lead", findings.summarise(tmp_path, "gan"), cfg) == (
        "constant_colour (the first by 160 nats; error bars 20 and 8 nats, standard errors of the means 40 and 30 "
        "nats: a lead must exceed 100 nats, set by the sampling error); above by more than both errors: "
        "constant_colour")
    verdict_with(20.0, 8.0)
    df = pd.read_csv(tmp_path / "ll_per_group.csv")
    df.loc[df.group == "constant_colour", "mean_log_px"] = -200.0          # now below the test images
    df.to_csv(tmp_path / "ll_per_group.csv", index=False)
    assert findings.render("$lead", findings.summarise(tmp_path, "gan"), cfg) == "none"  # no "n/a nats" sentence


def test_finding3_needs_a_lead_beyond_the_sampling_error_of_the_means(tmp_path):
    """The same 160-nat lead with small error bars is not established when the means' standard errors are large:
    2 · √(se₁² + se₂²) must be below it too, and the page says the sampling error decided."""
    _tables(tmp_path)
    df = pd.read_csv(tmp_path / "ll_per_group.csv")
    df.loc[df.group == "constant_colour", "se_mean_nats"] = 70.0            # 2·√(70² + 30²) = 152 < 160
    df.to_csv(tmp_path / "ll_per_group.csv", index=False)
    d = findings.summarise(tmp_path, "gan")["density"]
    assert d["holds"] is Verdict.REPRODUCED and d["decided_by"] == "sampling error"
    assert d["threshold"] == pytest.approx(2 * np.hypot(70, 30))
    df.loc[df.group == "constant_colour", "se_mean_nats"] = 75.0            # 2·√(75² + 30²) = 161.6 > 160
    df.to_csv(tmp_path / "ll_per_group.csv", index=False)
    assert findings.summarise(tmp_path, "gan")["density"]["holds"] is Verdict.WITHIN_ERROR
    df.loc[df.group == "constant_colour", ["se_mean_nats", "error_max_nats"]] = [1.0, 150.0]
    df.to_csv(tmp_path / "ll_per_group.csv", index=False)
    d = findings.summarise(tmp_path, "gan")["density"]
    assert d["holds"] is Verdict.REPRODUCED and d["decided_by"] == "error bar" and d["threshold"] == 150.0


def _no_training_images(tmp_path):
    """Tables as a pretrained-GAN audit without training data writes them (configs/faces.yaml)."""
    pd.DataFrame([
        {"method": "manifold (gan)", "distance": d, "task": "outlier_detection", "class": "mean", "metric": "auroc",
         "value": v, "n_images": 80} for d, v in (("L2", 0.87), ("P", 0.9))]).to_csv(tmp_path / "manifold_inference.csv", index=False)
    pd.DataFrame([{"model": "gan", "group": "generated", "median_psnr_db": 39.7, "median_mse_model_scale": 0.00045}]
                 ).to_csv(tmp_path / "inversion_validation.csv", index=False)
    pd.DataFrame([{"model": "gan", "group": g, "mean_log_px": v, "error_max_nats": e, "se_mean_nats": se}
                  for g, v, e, se in
                  [("generated", 2779.0, 40.0, 30.0), ("generated_calibration", 2530.0, 40.0, 30.0),
                   ("constant_colour", 3690.0, 300.0, 250.0), ("noise", -22000.0, 900.0, 800.0)]]
                 ).to_csv(tmp_path / "ll_per_group.csv", index=False)
    pd.DataFrame([{"model": "gan", "images": "all groups", "spearman_rho": -0.8, "spearman_p": 1e-20}]
                 ).to_csv(tmp_path / "patch_cv_correlation.csv", index=False)
    pd.DataFrame([{"model": "gan", "group": g, "n": 16, "fraction_typical": f} for g, f in
                  [("generated", 1.0), ("constant_colour", 0.0), ("noise", 0.0)]]).to_csv(tmp_path / "table2.csv", index=False)


def test_findings_without_training_images(tmp_path):
    _no_training_images(tmp_path)
    s = findings.summarise(tmp_path, "gan")
    assert s["manifold"]["holds"] is s["inference"]["holds"] is s["typicality"]["holds"] is Verdict.CANNOT_TEST
    # finding 3 against the model's own samples: constant colours beat them and flat images score higher
    assert s["density"]["reference"] == "the GAN's own samples" and s["density"]["above_test"] == "constant_colour"
    assert s["density"]["holds"] is Verdict.REPRODUCED and s["density"]["margin"] == 3690.0 - 2779.0
    cfg = {"dataset": {"name": "faces", "classes": [0], "source": {"kind": "none"}}, "ais": {"preset": "accurate", "overrides": {}},
           "models": {"gan": {"kind": "gan_face_generate"}}, "density": {"patch": 8}}
    text = findings.render("$v1|$v3|$baselines|$typ_fractions|$data_note", s, cfg)
    v1, v3, baselines, fractions, note = text.split("|")
    assert v1.startswith("**cannot be tested in this run**") and v3 == "**reproduced**"
    assert baselines == "with no baseline models" and fractions == "generated 1.00, constant_colour 0.00, noise 0.00"
    assert "no training images" in note


def test_ordering_within_the_ais_error_is_not_called_established(tmp_path):
    _no_training_images(tmp_path)
    df = pd.read_csv(tmp_path / "ll_per_group.csv")
    df.loc[df.group == "constant_colour", "error_max_nats"] = 1444.0      # larger than the 911-nat lead
    df.to_csv(tmp_path / "ll_per_group.csv", index=False)
    s = findings.summarise(tmp_path, "gan")
    assert s["density"]["holds"] is Verdict.WITHIN_ERROR and s["density"]["error_first"] == 1444.0
    assert findings.verdict(Verdict.WITHIN_ERROR).startswith("**suggested, not established**")


def test_thresholds_decide_at_their_value(tmp_path):
    """Each rule flips exactly at its named threshold."""
    ratio, psnr = findings.TRAIN_TO_GENERATED_MSE_RATIO, findings.SELF_INVERSION_PSNR_DB

    def manifold(train_mse, gen_psnr):
        df = pd.DataFrame([{"model": "gan", "group": "train", "median_psnr_db": 15.0, "median_mse_model_scale": train_mse},
                           {"model": "gan", "group": "generated", "median_psnr_db": gen_psnr, "median_mse_model_scale": 1.0}])
        return findings.manifold_finding(df, "gan")["holds"]

    assert manifold(ratio * 1.01, psnr) is Verdict.REPRODUCED
    assert manifold(ratio, psnr) is Verdict.NOT_REPRODUCED                       # "more than" the ratio
    assert manifold(ratio * 1.01, psnr - 0.01) is Verdict.NOT_REPRODUCED
    t2 = pd.DataFrame([{"model": "gan", "group": g, "n": 8, "fraction_typical": f} for g, f in
                       [("generated", 0.8), ("train", findings.TYPICAL_FRACTION_RATIO * 0.8)]])
    assert findings.typicality_finding(t2, "gan")["holds"] is Verdict.NOT_REPRODUCED


def test_every_verdict_has_words_and_the_template_states_the_thresholds():
    from pathlib import Path

    assert {findings.verdict(v) for v in Verdict} and len({findings.verdict(v) for v in Verdict}) == len(Verdict)
    template = (Path(__file__).resolve().parents[1] / "report" / "workflow.rst").read_text()
    cfg = {"dataset": {"name": "m", "classes": [0]}, "ais": {"preset": "paper", "overrides": {}}}
    empty = {"gan": "g", "perceptual": "P", "manifold": {"holds": Verdict.CANNOT_TEST, "train_psnr": 1.0, "gen_psnr": 1.0,
                                                         "ratio": 1.0},
             "inference": {"holds": Verdict.CANNOT_TEST}, "density": {"holds": Verdict.CANNOT_TEST, "ordering": "",
                                                                       "above_test": "", "rho": 0.0, "p": 1.0},
             "typicality": {"holds": Verdict.CANNOT_TEST, "n": 0, "generated": 0.0, "train": 0.0, "test": 0.0}}
    text = findings.render(template, empty, cfg)
    assert "train error > 3 × generated error and generated PSNR ≥ 30 dB" in text
    assert "validated when the latter is ≥ 30 dB" in text and "the AUROC ≤ 0.6, near chance" in text
    assert "$rule" not in text


_CALIBRATED = dict(alpha=0.05, false_collision_rate=0.056, false_collision_low=0.030, false_collision_high=0.094,
                   alpha_holds=True, calibrated=True, calibration_pairs=11, n_heldout=9000,
                   reference_images="test images")


def _beyond_tables(tmp_path):
    """The four tables of the tests beyond the paper, as the beyond rules write them."""
    inf = float("inf")
    pd.DataFrame([{"model": "gan", "distance": d, "pool": p, "n_pool": 1500, "k_hat": k, "k_low": lo, "k_high": hi,
                   "tau": 0.008, "confidence": 0.95, **_CALIBRATED} for d, p, k, lo, hi in
                  [("L2", "samples", 3.9e4, 2.8e4, 5.5e4), ("L2", "held-out real images", inf, 3.75e5, inf),
                   ("P", "samples", 4.6e5, 1.9e5, inf), ("P", "held-out real images", inf, 3.75e5, inf)]]
                 ).to_csv(tmp_path / "support.csv", index=False)
    pd.DataFrame([{"model": "gan", "distance": d, "n_samples": 1000, "n_train": 18623, "quantile": 0.01, "n_flagged": f,
                   "rank_p": p, "n_copies": 0, "median_ratio": 1.3} for d, f, p in [("L2", 1, 1.0), ("P", 2, 0.9995)]]
                 ).to_csv(tmp_path / "memorisation.csv", index=False)
    pd.DataFrame([{"model": "gan", "class": c, "p_samples": ps, "p_data": pdata, "agreement": a, "total_variation": tv,
                   "n_missing": m} for c, ps, pdata, a, tv, m in
                  [("0", 0.34, 0.31, 0.991, None, None), ("1", 0.37, 0.36, 1.0, None, None),
                   ("2", 0.29, 0.33, 1.0, None, None), ("all", 1.0, 1.0, 0.997, 0.04, 0)]]
                 ).to_csv(tmp_path / "coverage.csv", index=False)
    pd.DataFrame([{"model": "gan", "group": g, "n_images": 1000, "n_directions": n, "fraction": 0.99} for g, n in
                  [("generated", 209), ("train", 242), ("test", 241)]]).to_csv(tmp_path / "coverage_spectrum.csv", index=False)
    pd.DataFrame([_tgtr_row("cnn", 1000, 0.96, 0.9886, "~ 120 [80, 200]"),
                  _tgtr_row("cnn", 10000, 0.97, float("nan"), "~ 300 [200, 1,000]"),
                  _tgtr_row("linear", 1000, 0.93, 0.9815, "< 10 [0, 10]")]).to_csv(tmp_path / "tgtr.csv", index=False)


def _tgtr_row(classifier, n, acc, real, worth):
    return {"model": "gan", "classifier": classifier, "labels": "the class the conditional generator was asked for",
            "n_generated": n, "accuracy_generated": acc, "accuracy_real_same_n": real,
            "gap_points": 100 * (real - acc), "worth": worth, "cnn_steps": 150}


def test_beyond_the_paper_verdicts_and_their_lines(tmp_path):
    _tables(tmp_path)
    _beyond_tables(tmp_path)
    b = findings.summarise(tmp_path, "gan")["beyond"]
    assert b["support"]["holds"] is Verdict.REPRODUCED and b["support"]["below"] == "L2"      # L2 only: 5.5e4 < 3.75e5
    assert b["support"]["text"].startswith(
        "L2: samples K̂ = 3.9e+04 [2.8e+04, 5.5e+04], held-out test images K̂ = ∞ (no collision; ≥ 3.75e+05) "
        "(τ = 0.008, pools 1500 and 1500; false-collision rate on 9000 held-out real images 0.056 [0.030, 0.094] "
        "for α = 0.05); P:")
    assert b["memorisation"]["holds"] is Verdict.REPRODUCED
    assert b["coverage"]["holds"] is Verdict.NOT_REPRODUCED                                  # 209 < 0.9 × 242
    assert "209 directions hold 99 % of the samples' variance vs 242 for the training images, test images 241 " \
           "(14 % fewer)" in b["coverage"]["text"]
    assert b["tgtr"]["holds"] is Verdict.NOT_REPRODUCED and b["tgtr"]["gap"] == pytest.approx(2.86)  # the CNN only
    text = findings.render("$v_support|$v_tgtr|$tgtr_text|$rule_directions_drop|$rule_tgtr_gap", findings.summarise(tmp_path, "gan"),
                           {"dataset": {"name": "m", "classes": [0]}, "ais": {"preset": "paper", "overrides": {}}})
    assert text == ("**holds**|**does not hold**|CNN (150 steps): 1,000 samples give 96.0 % (vs 98.9 % on as many real "
                    "images), worth ~ 120 [80, 200] real images; 10,000 samples give 97.0 %, worth ~ 300 [200, 1,000] "
                    "real images; linear classifier on pixels: 1,000 samples give 93.0 % (vs 98.2 % on as many real "
                    "images), worth < 10 [0, 10] real images (samples labelled by the class the conditional generator "
                    "was asked for; [range over repeats]).|10|1")


def test_beyond_rules_flip_at_their_thresholds():
    def tgtr(gap):
        row = {**_tgtr_row("cnn", 10, 0.9, 0.9, "~ 5 [1, 8]"), "gap_points": gap}
        return findings.tgtr_finding(pd.DataFrame([row]), None, "gan")["holds"]

    assert tgtr(findings.TGTR_MAX_GAP_POINTS) is Verdict.REPRODUCED
    assert tgtr(findings.TGTR_MAX_GAP_POINTS + 0.01) is Verdict.NOT_REPRODUCED

    def memo(p, copies=0):
        return findings.memorisation_finding(pd.DataFrame([{"model": "gan", "distance": "L2", "n_samples": 100, "n_train": 5,
                                                            "quantile": 0.01, "n_flagged": 1, "rank_p": p,
                                                            "n_copies": copies, "median_ratio": 1.0}]), "gan")["holds"]

    assert memo(findings.MEMORISATION_P) is Verdict.REPRODUCED and memo(0.0099) is Verdict.NOT_REPRODUCED
    assert memo(0.5, copies=1) is Verdict.NOT_REPRODUCED                                    # an exact copy is a copy

    def cover(agreement, gen_dirs, train_dirs=100):
        classes = pd.DataFrame([{"model": "gan", "class": "0", "p_samples": 1.0, "p_data": 1.0, "agreement": agreement},
                                {"model": "gan", "class": "all", "p_samples": 1.0, "p_data": 1.0, "agreement": agreement,
                                 "total_variation": 0.0, "n_missing": 0}])
        spectrum = pd.DataFrame([{"model": "gan", "group": g, "n_images": 10, "n_directions": n, "fraction": 0.99}
                                 for g, n in (("generated", gen_dirs), ("train", train_dirs))])
        return findings.coverage_finding(classes, spectrum, "gan")["holds"]

    drop = findings.MAX_DIRECTIONS_DROP
    assert cover(findings.MIN_CLASS_AGREEMENT, round(100 * (1 - drop))) is Verdict.REPRODUCED
    assert cover(findings.MIN_CLASS_AGREEMENT - 0.001, 100) is Verdict.NOT_REPRODUCED
    assert cover(1.0, round(100 * (1 - drop)) - 1) is Verdict.NOT_REPRODUCED

    def support(hi_samples, lo_train, **calibration):
        return findings.support_finding(pd.DataFrame(
            [{"model": "gan", "distance": "L2", "pool": p, "n_pool": 10, "k_hat": 1.0, "k_low": lo, "k_high": hi, "tau": 0.1,
              **{**_CALIBRATED, **calibration}}
             for p, lo, hi in (("samples", 1.0, hi_samples), ("held-out real images", lo_train, float("inf")))]), "gan")

    assert support(99.0, 100.0)["holds"] is Verdict.REPRODUCED
    assert support(100.0, 100.0)["holds"] is Verdict.NOT_REPRODUCED
    # a τ whose false-collision rate does not hold on held-out real images gives no verdict, and says why
    off = support(99.0, 100.0, alpha_holds=False, false_collision_rate=0.3, false_collision_low=0.2)
    assert off["holds"] is Verdict.CANNOT_TEST and "no verdict: α lies outside that interval" in off["text"]
    few = support(99.0, 100.0, calibrated=False, calibration_pairs=2)
    assert few["holds"] is Verdict.CANNOT_TEST and "only 2 calibration pairs below τ" in few["text"]


def test_beyond_tests_the_run_did_not_make_say_why(tmp_path):
    _no_training_images(tmp_path)
    pd.DataFrame({"model": [], "class": []}).to_csv(tmp_path / "coverage.csv", index=False)
    pd.DataFrame([{"model": "gan", "group": "generated", "n_images": 60, "n_directions": 40, "fraction": 0.99}]
                 ).to_csv(tmp_path / "coverage_spectrum.csv", index=False)
    why = "no training images in this run: dataset.source.kind is none"
    s = findings.summarise(tmp_path, "gan", {"support": why, "memorisation": why, "coverage": None, "tgtr": why})
    b = s["beyond"]
    assert b["support"]["holds"] is b["memorisation"]["holds"] is b["tgtr"]["holds"] is Verdict.CANNOT_TEST
    assert b["coverage"]["holds"] is Verdict.CANNOT_TEST
    assert b["coverage"]["reason"] == ("class part not tested: no classifier or no test images in this run; spectrum "
                                       "not compared, no training images: 40 directions hold 99 % of the variance of "
                                       "60 samples")
    text = findings.render("$v_support|$v_coverage", s, {"dataset": {"name": "f", "classes": [0]},
                                                         "ais": {"preset": "paper", "overrides": {}}})
    assert text.split("|")[0] == f"**cannot be tested in this run** ({why})"
    assert text.split("|")[1] == f"**cannot be tested in this run** ({b['coverage']['reason']})"


def test_the_calibration_sentence_names_what_fails():
    t = pd.DataFrame([{"check": "support: false-collision rate", "model": "gan", "what": "L2", "nominal": 0.05,
                       "achieved": 0.056, "holds": True},
                      {"check": "memorisation: p < level under the null", "model": "gan", "what": "P", "nominal": 0.01,
                       "achieved": 0.07, "holds": False}])
    assert findings.calibration_summary(t) == ("1 of 2 checks hold (0.1 of 2 checks at 95 % are expected to fail by "
                                               "chance alone; 1 or more fail with probability 0.098 when all are "
                                               "calibrated); failing: memorisation: p < level under the null "
                                               "(gan, P: 0.07 for a nominal 0.01)")
    assert findings.calibration_summary(t.assign(holds=True)) == "2 of 2 checks hold"
    assert findings.calibration_summary(None) == "no calibration checks in this run"


def test_bdmc_sentence_states_a_gap_only_when_the_bounds_hold():
    base = {"check": "BDMC, images simulated from the GAN", "model": "gan", "n_images": 4, "gap_mean_nats": 12.34,
            "reverse_defensive_fraction": 0.25}
    ok = findings.bdmc_finding(pd.DataFrame([{**base, "bdmc_status": "bounds"}]), "gan")
    assert ok == {"degenerate": False, "text": "upper minus lower bound 12.3 nats on average over 4 images; 25 % of "
                                               "reverse chains in the proposal's defensive stratum"}
    worst = findings.bdmc_finding(pd.DataFrame([{**base, "bdmc_status": "bounds", "gap_max_nats": 40.04}]), "gan")
    assert worst["text"].startswith("upper minus lower bound 12.3 nats on average over 4 images, 40.0 at the worst "
                                    "image; ")   # a basin the search missed on one image shows there
    status = "degenerate: 100 % of reverse chains made no move (one-sample weights), no gap stated"
    bad = findings.bdmc_finding(pd.DataFrame([{**base, "bdmc_status": status, "gap_mean_nats": float("nan")}]), "gan")
    assert bad["degenerate"] is True and "12.3" not in bad["text"] and bad["text"].startswith("**degenerate** (")
    assert findings.bdmc_finding(None, "gan")["text"] == "not made in this run"


def test_a_run_of_stored_samples_reads_no_paper_table_and_says_why(tmp_path):
    _beyond_tables(tmp_path)                               # only the tests beyond the paper ran
    why = "every model of this run is given as stored samples (kind samples: perfect)"
    s = findings.summarise(tmp_path, "gan", paper_skipped=why)
    assert all(s[k]["holds"] is Verdict.CANNOT_TEST for k in ("manifold", "inference", "density", "typicality"))
    assert s["beyond"]["tgtr"]["holds"] is Verdict.NOT_REPRODUCED
    page = findings.render("$data_note|$v1|$v4|$gan_acc_l2|$v_tgtr", s, {"dataset": {"name": "m", "classes": [0]},
                                                                         "ais": {"preset": "paper", "overrides": {}}})
    assert page == (f"\n**This run audits stored samples, not a generator**: {why}.\n|"
                    "**cannot be tested in this run** (it needs a generator; see the note above)|"
                    "**cannot be tested in this run** (it needs a generator; see the note above)|n/a|**does not hold**")
