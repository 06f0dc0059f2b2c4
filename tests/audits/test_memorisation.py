"""ganaudit.audits.memorisation: nearest-training distances of samples against test images, with exact copies."""

import numpy as np
import pytest
import torch

from ganaudit.audits import memorisation
from ganaudit.audits.features import distance_features
from ganaudit.manifold import classification


def _feats(x: np.ndarray) -> np.ndarray:
    return distance_features(torch.as_tensor(x, dtype=torch.float32).view(-1, 1, 8, 8))


def test_nearest_neighbours_match_bruteforce_and_the_1nn_baseline():
    rng = np.random.default_rng(0)
    q, r = rng.normal(size=(37, 20)), rng.normal(size=(101, 20))
    d, i = memorisation.nearest_neighbours(q, r, chunk=8, ref_chunk=16)
    full = ((q[:, None, :] - r[None, :, :]) ** 2).sum(-1)
    np.testing.assert_array_equal(i, full.argmin(1))
    np.testing.assert_allclose(d, full.min(1), rtol=1e-12)
    one_class = classification.nearest_class_distances(q, r, np.zeros(101, np.int64), 1)[:, 0]
    np.testing.assert_allclose(d, one_class, rtol=1e-9)               # the 1NN baseline's distance, all classes


def test_exact_copies_of_training_images_are_zero_and_flagged():
    rng = np.random.default_rng(1)
    train = rng.uniform(-1, 1, (300, 64)).astype(np.float32)
    test = rng.uniform(-1, 1, (200, 64)).astype(np.float32)
    samples = rng.uniform(-1, 1, (100, 64)).astype(np.float32)
    copied = [5, 17, 99]
    samples[copied] = train[[10, 250, 0]]
    res = memorisation.memorisation(_feats(samples), _feats(test), _feats(train), distance="L2", n_pairs=5)
    s = res.distances[res.distances.group == "samples"]
    assert (s.distance.iloc[copied] == 0).all() and s.nn_index.iloc[copied].tolist() == [10, 250, 0]
    assert s.flagged.iloc[copied].all() and s.exact_copy.iloc[copied].all() and s.exact_copy.sum() == 3
    row = res.summary.iloc[0]
    assert row.n_copies == 3 and row.threshold == pytest.approx(np.quantile(
        res.distances[res.distances.group == "test"].distance, 0.01))
    # fresh samples are as far as test images: 3 copies + ≈ 1 % chance flags, not a shift of the bulk
    assert 3 <= row.n_flagged <= 6 and row.mannwhitney_p > 0.05 and 0.9 < row.median_ratio < 1.1
    assert res.pairs["index"].iloc[:3].tolist() == [5, 17, 99] and (res.pairs.distance.iloc[:3] == 0).all()
    assert row.samples_q0 == 0.0 and row.test_q0 > 0.1


def test_a_memorising_model_is_detected_by_both_tests():
    rng = np.random.default_rng(2)
    train = rng.uniform(-1, 1, (300, 64)).astype(np.float32)
    test = rng.uniform(-1, 1, (200, 64)).astype(np.float32)
    samples = train[rng.integers(300, size=100)] + rng.normal(0, 0.05, (100, 64)).astype(np.float32)  # near-copies
    res = memorisation.memorisation(_feats(samples), _feats(test), _feats(train))
    row = res.summary.iloc[0]
    assert row.frac_flagged == 1.0 and row.rank_p < 1e-70 and row.mannwhitney_p < 1e-30  # all 100 before the 3rd test image
    assert row.n_copies == 0 and row.median_ratio < 0.02               # near, not exact, copies


def test_errors_name_what_was_wrong():
    with pytest.raises(ValueError, match="share F"):
        memorisation.nearest_neighbours(np.zeros((2, 3)), np.zeros((2, 4)))
    with pytest.raises(ValueError, match="quantile"):
        memorisation.memorisation(np.zeros((2, 3)), np.zeros((2, 3)), np.zeros((2, 3)), quantile=1.5)
