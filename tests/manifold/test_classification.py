"""ganaudit.manifold.classification: exact AUROC, classification, per-class outlier AUROC, chunked 1NN distances."""

import math

import numpy as np
import pandas as pd
import pytest
import torch

from ganaudit.manifold import classification


def _auroc_bruteforce(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    gt = (b[None, :] > a[:, None]).sum()
    eq = (b[None, :] == a[:, None]).sum()
    return (gt + 0.5 * eq) / (a.size * b.size)


def test_auroc_hand_made():
    assert classification.auroc([0.1, 0.4], [0.35, 0.8]) == pytest.approx(0.75, abs=1e-15)
    assert classification.auroc([0.0, 0.1], [0.5, 0.9]) == 1.0
    assert classification.auroc([0.5, 0.9], [0.0, 0.1]) == 0.0


def test_auroc_ties_count_half():
    assert classification.auroc([1.0, 1.0], [1.0]) == 0.5
    # inliers [1, 2], outliers [2, 3]: pairs (2>1)=1, (2=2)=½, (3>1)=1, (3>2)=1 → 3.5/4
    assert classification.auroc([1.0, 2.0], [2.0, 3.0]) == pytest.approx(0.875, abs=1e-15)
    assert classification.auroc([0.0, -math.inf], [math.inf, 0.0]) == pytest.approx(0.875)


def test_auroc_matches_bruteforce_with_many_ties():
    rng = np.random.default_rng(1)
    a = rng.integers(0, 6, 300).astype(float)
    b = rng.integers(1, 8, 211).astype(float)
    assert classification.auroc(a, b) == pytest.approx(_auroc_bruteforce(a, b), abs=1e-12)


def test_auroc_empty_and_nan():
    assert math.isnan(classification.auroc([], [1.0]))
    assert math.isnan(classification.auroc([1.0], []))
    with pytest.raises(ValueError, match="outlier_scores"):
        classification.auroc([1.0], [np.nan])


def test_classify_and_accuracy():
    s = np.array([[0.1, 0.9, 0.5], [3.0, 2.0, 1.0], [np.nan, 0.2, 0.1], [np.nan, np.nan, np.nan]])
    np.testing.assert_array_equal(classification.classify(s, higher_is_better=True), [1, 0, 1, -1])
    np.testing.assert_array_equal(classification.classify(s, higher_is_better=False), [0, 2, 2, -1])
    assert classification.accuracy([1, 0, 1, -1], [1, 0, 2, 0]) == 0.5
    assert classification.accuracy(torch.tensor([2, 2]), torch.tensor([2, 1])) == 0.5
    assert math.isnan(classification.accuracy([], []))
    with pytest.raises(ValueError, match="pred and labels"):
        classification.accuracy([1, 2], [1])


def test_per_class_outlier_auroc_constructed():
    # rows: class-0 test ×2, class-1 test ×2, OOD ×2 (label −1). Score = reconstruction error.
    score = np.array([
        [0.1, 0.9],
        [0.2, 0.8],
        [0.7, 0.3],
        [0.9, 0.1],
        [0.15, 0.5],   # OOD: reconstructed well by GAN 0 (between its inliers)
        [0.05, 0.2],   # OOD: reconstructed best of all by both
    ])
    labels = np.array([0, 0, 1, 1, -1, -1])
    inl = np.array([True, True, True, True, False, False])
    auc = classification.per_class_outlier_auroc(score, labels, inl, higher_is_outlier=True)
    # class 0: inliers {0.1, 0.2}; outliers {0.7, 0.9, 0.15, 0.05}: pairs won 2+2+1+0 = 5 of 8
    # class 1: inliers {0.3, 0.1}; outliers {0.9, 0.8, 0.5, 0.2}: pairs won 2+2+2+1 = 7 of 8
    np.testing.assert_allclose(auc, [5 / 8, 7 / 8], atol=1e-15)
    # log-likelihood-style scores: higher = inlier; negating the errors must give the same AUROCs
    auc_ll = classification.per_class_outlier_auroc(-score, labels, inl, higher_is_outlier=False)
    np.testing.assert_allclose(auc_ll, auc, atol=1e-15)
    # a class with no inliers → NaN
    auc3 = classification.per_class_outlier_auroc(np.c_[score, score[:, 0]], labels, inl, True)
    assert math.isnan(auc3[2])
    with pytest.raises(ValueError, match="inlier_candidates"):
        classification.per_class_outlier_auroc(score, labels, inl.astype(int), True)


def test_nearest_class_distances_matches_bruteforce():
    g = torch.Generator().manual_seed(0)
    q = torch.randn(37, 23, generator=g)
    r = torch.randn(101, 23, generator=g)
    lab = torch.randint(0, 4, (101,), generator=g)
    lab[lab == 3] = 2                         # class 3 has no reference → inf
    r[5] = q[7]                               # an exact duplicate → distance 0
    d = classification.nearest_class_distances(q, r, lab, n_classes=4, chunk=8, ref_chunk=10)
    full = ((q.double()[:, None, :] - r.double()[None, :, :]) ** 2).sum(-1).numpy()
    expected = np.stack([full[:, (lab == c).numpy()].min(1) if (lab == c).any() else np.full(37, np.inf)
                         for c in range(4)], 1)
    assert d.shape == (37, 4) and d.dtype == np.float64
    np.testing.assert_allclose(d[:, :3], expected[:, :3], rtol=1e-5, atol=1e-4)
    assert np.isinf(d[:, 3]).all()
    assert d[7, int(lab[5])] == pytest.approx(0.0, abs=1e-4)
    # float64 inputs are computed in float64: tight agreement, and chunking does not matter
    d64 = classification.nearest_class_distances(q.double(), r.double(), lab, 4, chunk=1000, ref_chunk=3)
    np.testing.assert_allclose(d64[:, :3], expected[:, :3], rtol=1e-10, atol=1e-10)
    # 1NN classification by these distances equals brute-force nearest-neighbour labels (classes 0..2)
    nn = lab.numpy()[full.argmin(1)]
    np.testing.assert_array_equal(classification.classify(d64, higher_is_better=False), nn)
    with pytest.raises(ValueError, match="ref_labels"):
        classification.nearest_class_distances(q, r, lab + 5, n_classes=4)


def test_summaries_are_tidy():
    scores = np.array([[0.0, 1.0], [1.0, 0.0], [0.2, 0.1]])
    labels = np.array([0, 1, 0])
    clf = classification.summarise_classification("1NN", "L2", scores, labels, higher_is_better=False)
    assert list(clf.columns) == classification.SUMMARY_COLUMNS
    assert clf.loc[0, "value"] == pytest.approx(2 / 3) and clf.loc[0, "n_images"] == 3
    od = classification.summarise_outlier_detection(
        "GAN manifold", "LPIPS", scores, labels, np.array([True, True, False]), True, class_names=["cat", "dog"])
    assert list(od["class"]) == ["cat", "dog", "mean"]
    # cat: inlier {0.0}, outliers {1.0, 0.2} → 1; dog: inlier {0.0}, outliers {1.0, 0.1} → 1
    np.testing.assert_allclose(od["value"], [1.0, 1.0, 1.0])
    table = classification.summarise([clf, od], model="dcgan", dataset="mnist")
    assert list(table.columns[:2]) == ["model", "dataset"] and len(table) == 4
    assert set(table["task"]) == {"classification", "outlier_detection"}
    assert isinstance(table, pd.DataFrame)


def test_inliers_are_test_images_else_the_models_own_samples():
    assert classification.inlier_group(["train", "test", "generated", "photos"]) == "test"
    assert classification.inlier_group(["generated", "generated_calibration", "photos"]) == "generated"
    assert classification.inlier_group(["photos", "noise"]) is None
    # next to a test group, generated samples are neither inliers nor outliers; train and calibration never score
    assert classification.scored_groups(["train", "test", "generated", "generated_calibration", "photos"]) == ["test", "photos"]
    assert classification.scored_groups(["generated", "generated_calibration", "photos", "noise"]) == ["generated", "photos", "noise"]


def test_outlier_detection_without_a_test_group_uses_generated_as_inliers():
    # an unconditional third-party GAN (one score column): its samples carry label -1
    groups = {
        "generated": {"labels": np.full(3, -1), "mse": np.array([[0.1], [0.2], [0.3]])},
        "photos": {"labels": np.full(2, -1), "mse": np.array([[0.25], [0.9]])},
        "noise": {"labels": np.empty(0, int), "mse": np.empty((0, 1))},  # empty groups are skipped
    }
    scores, labels, inlier, ref = classification.outlier_detection_inputs(groups, "mse")
    assert ref == "generated"
    np.testing.assert_array_equal(inlier, [True, True, True, False, False])
    np.testing.assert_array_equal(labels, [0, 0, 0, -1, -1])
    # outlier 0.25 beats 2 of 3 inliers, 0.9 beats all: AUROC = (2 + 3) / 6
    auc = classification.per_class_outlier_auroc(scores, labels, inlier, higher_is_outlier=True)
    assert auc == pytest.approx([5 / 6])


def test_outlier_detection_with_a_test_group_keeps_class_labels():
    groups = {
        "test": {"labels": np.array([0, 1]), "ll": np.array([[-1.0, -9.0], [-9.0, -1.0]])},
        "photos": {"labels": np.array([-1]), "ll": np.array([[-5.0, -5.0]])},
    }
    scores, labels, inlier, ref = classification.outlier_detection_inputs(groups, "ll")
    assert ref == "test" and inlier.tolist() == [True, True, False]
    np.testing.assert_array_equal(labels, [0, 1, -1])


def test_outlier_detection_inputs_with_no_images():
    scores, labels, inlier, ref = classification.outlier_detection_inputs({"photos": {"labels": np.empty(0), "mse": np.empty((0, 1))}}, "mse")
    assert scores.shape == (0, 1) and labels.shape == inlier.shape == (0,) and ref is None
    assert np.isnan(classification.summarise_outlier_detection("m", "L2", scores, labels, inlier, True).value).all()
