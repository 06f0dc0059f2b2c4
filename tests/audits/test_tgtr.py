"""ganaudit.audits.tgtr: train on generated, test on real, on a two-class problem with known answers."""

import time

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from ganaudit.audits import tgtr
from ganaudit.models.train import TrainConfig

TEMPLATES = torch.stack([torch.linspace(-0.8, 0.8, 64), torch.linspace(0.8, -0.8, 64)]).view(2, 1, 8, 8)


class TemplateGenerator(nn.Module):
    """Class c → template c (or the other class's template when ``swap``) + noise from z."""

    def __init__(self, swap: bool = False) -> None:
        super().__init__()
        self.latent_dim, self.image_shape, self.n_classes, self.swap = 4, (1, 8, 8), 2, swap
        self.mix = torch.randn(4, 64, generator=torch.Generator().manual_seed(0)) * 0.1

    def forward(self, z, labels=None):
        return TEMPLATES[(1 - labels) if self.swap else labels] + (z @ self.mix).view(-1, 1, 8, 8)


def _real(n, seed):
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 2
    return TEMPLATES[y] + 0.2 * torch.randn(n, 1, 8, 8, generator=g), y


def test_faithful_and_label_swapping_generators():
    torch.set_num_threads(1)
    (xtr, ytr), (xte, yte) = _real(200, 0), _real(100, 1)
    cfg = TrainConfig(steps=30, batch_size=32, progress=False)
    t0 = time.time()
    good = tgtr.train_generated_test_real(TemplateGenerator(), xtr, ytr, xte, yte, n=64, config=cfg, seed=0)
    bad = tgtr.train_generated_test_real(TemplateGenerator(swap=True), xtr, ytr, xte, yte, n=64, config=cfg, seed=0)
    assert time.time() - t0 < 20
    assert good.accuracy_real == 1.0 and good.accuracy_generated == 1.0 and good.gap == 0.0
    assert bad.accuracy_real == 1.0 and bad.accuracy_generated == 0.0   # a classifier of swapped classes
    assert bad.per_class.accuracy_generated.tolist() == [0.0, 0.0] and bad.per_class.n_test.tolist() == [50, 50]
    assert good.n_train == 64 and good.n_test == 100


def test_class_balanced_samples_and_subsets():
    x, y = tgtr.sample_class_balanced(TemplateGenerator(), 7, seed=0, batch_size=3)
    assert x.shape == (7, 1, 8, 8) and y.tolist() == [0, 1, 0, 1, 0, 1, 0]
    labels = np.array([0] * 10 + [1] * 3)
    idx = tgtr.balanced_subset(labels, 5, 2, seed=0)
    assert np.bincount(labels[idx]).tolist() == [3, 2] and len(set(idx)) == 5
    with pytest.raises(ValueError, match="class 1 has 3 training images; a balanced subset of 8 needs 4"):
        tgtr.balanced_subset(labels, 8, 2, seed=0)


# ---------------------------------------------------------------------------------------------- the curve


def test_crossing_interpolates_in_log_n_and_names_off_curve_targets():
    n, acc = [10, 100, 1000], [0.5, 0.7, 0.9]
    assert tgtr.crossing(n, acc, 0.8) == (pytest.approx(np.sqrt(100 * 1000)), "")     # halfway in log n
    assert tgtr.crossing(n, acc, 0.7) == (pytest.approx(100.0), "")
    assert tgtr.crossing(n, [0.5, 0.75, 0.7], 0.72)[0] == pytest.approx(10 ** (1 + 0.22 / 0.25))  # the first crossing
    assert tgtr.crossing(n, acc, 0.5)[1] == "below" and tgtr.crossing(n, acc, 0.3)[1] == "below"
    assert tgtr.crossing(n, acc, 0.95)[1] == "above" and np.isnan(tgtr.crossing(n, acc, 0.95)[0])
    with pytest.raises(ValueError, match="n must increase"):
        tgtr.crossing([10, 10, 100], acc, 0.6)


def _runs(levels, curve=lambda n: 0.5 + 0.1 * np.log10(n), ns=(10, 100, 1000, 10000), n_gen=1000, clf="linear"):
    rows = [{"classifier": clf, "source": "real", "n": n, "repeat": r, "accuracy": curve(n)}
            for r in range(len(levels)) for n in ns]
    rows += [{"classifier": clf, "source": "generated", "n": n_gen, "repeat": r, "accuracy": a} for r, a in enumerate(levels)]
    return pd.DataFrame(rows)


def test_real_sample_size_known_answers():
    # accuracy 0.5 + 0.1 log10 n: a level of 0.8 is worth 1000 real images; 0.75 and 0.85 are 10^2.5 and 10^3.5
    t = tgtr.real_sample_size(_runs([0.75, 0.85])).iloc[0]
    assert t.real_equivalent == pytest.approx(1000) and t.bound == ""
    assert t.real_equivalent_low == pytest.approx(10 ** 2.5) and t.real_equivalent_high == pytest.approx(10 ** 3.5)
    assert t.accuracy_real_same_n == pytest.approx(0.8) and t.gap_points == pytest.approx(0.0, abs=1e-9)
    assert t.worth == "~ 1,000 [316, 3,162]" and t.n_repeats == 2 and (t.n_real_min, t.n_real_max) == (10, 10000)
    below = tgtr.real_sample_size(_runs([0.5, 0.6, 0.65])).iloc[0]    # the mean 0.583 is under the first point, 0.6
    assert below.bound == "below" and np.isnan(below.real_equivalent) and below.worth == "< 10 [0, 32]"  # 0.65 is 10^1.5
    above = tgtr.real_sample_size(_runs([0.95, 0.97], n_gen=5)).iloc[0]
    assert above.bound == "above" and above.worth == "> 10,000 [10,000, inf]" and np.isnan(above.accuracy_real_same_n)
    summary = tgtr.curve_summary(_runs([0.75, 0.85]))
    gen = summary[summary.source == "generated"].iloc[0]
    assert gen.accuracy_mean == pytest.approx(0.8) and gen.accuracy_std == pytest.approx(np.std([0.75, 0.85], ddof=1))
    assert (gen.accuracy_min, gen.accuracy_max, gen.n_repeats) == (0.75, 0.85, 2)


def _blobs(n, seed, d=64, shift=0.18, flip=0.0):
    """Two Gaussian classes in d pixels, means ±shift: a linear problem whose accuracy keeps growing with n."""
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 2
    x = (2 * y[:, None] - 1) * shift + torch.randn(n, d, generator=g)
    if flip:
        y = torch.where(torch.rand(n, generator=g) < flip, 1 - y, y)
    return x.view(n, 1, 8, d // 8), y


def test_linear_classifier_reaches_the_bayes_accuracy_on_held_out_data():
    from scipy.stats import norm

    torch.set_num_threads(1)
    (x, y), (xt, yt) = _blobs(20000, 0, d=8, shift=0.5), _blobs(20000, 1, d=8, shift=0.5)
    model = tgtr.fit_linear(x, y, 2, l2=1e-4)
    bayes = norm.cdf(0.5 * np.sqrt(8))                   # the distance of a mean to the boundary, in units of σ
    assert abs(tgtr.accuracy_on(model, xt, yt) - bayes) < 0.01
    w = model.linear.weight[1] - model.linear.weight[0]  # the boundary's normal is the means' difference
    assert float(torch.nn.functional.cosine_similarity(w, torch.ones(8), dim=0)) > 0.99


def test_fresh_data_is_worth_its_size_and_noisy_labels_less():
    torch.set_num_threads(1)
    train, test = _blobs(4000, 0), _blobs(4000, 1)
    cfg = tgtr.CurveConfig(n_generated=(100,), n_real=(10, 30, 100, 300, 1000), repeats=4, classifiers=("linear",))
    runs, notes = tgtr.tgtr_curve(lambda n, s: _blobs(n, 1000 + s), *train, *test, 2, cfg, seed=0)   # a perfect "GAN"
    t = tgtr.real_sample_size(runs).iloc[0]
    assert notes == [] and len(runs) == 4 * 6
    assert 50 < t.real_equivalent < 200 and t.real_equivalent_low <= 100 <= t.real_equivalent_high   # measured: 95 [53, 163]
    runs, _ = tgtr.tgtr_curve(lambda n, s: _blobs(n, 1000 + s, flip=0.1), *train, *test, 2, cfg, seed=0)  # 10 % wrong labels
    t = tgtr.real_sample_size(runs).iloc[0]
    assert t.real_equivalent < 30 and t.real_equivalent_high < 100                                  # measured: 12 [0, 36]


def test_curve_runs_both_classifiers_and_drops_sizes_the_data_cannot_give():
    torch.set_num_threads(1)
    (xtr, ytr), (xte, yte) = _real(40, 0), _real(20, 1)
    cfg = tgtr.CurveConfig(n_generated=(8,), n_real=(4, 16, 64), repeats=2,
                           cnn=TrainConfig(steps=5, batch_size=8, lr=1e-3, progress=False))
    runs, notes = tgtr.tgtr_curve(lambda n, s: tgtr.sample_class_balanced(TemplateGenerator(), n, s), xtr, ytr, xte, yte,
                                  2, cfg, seed=0)
    assert notes == ["real training sizes [64] dropped: a class-balanced subset holds at most 40 of the training images"]
    assert sorted(runs.groupby(["classifier", "source"]).size().items()) == [
        (("cnn", "generated"), 2), (("cnn", "real"), 4), (("linear", "generated"), 2), (("linear", "real"), 4)]
    assert runs.accuracy.between(0, 1).all()
    assert runs[runs.classifier == "linear"].accuracy.min() == 1.0     # the templates are linearly separable
    with pytest.raises(ValueError, match="classifiers must be among"):
        tgtr.CurveConfig(classifiers=("svm",))


def test_curve_config_accepts_one_size_or_a_list():
    p = {"n": 1000, "n_real": [10, 100], "repeats": 2, "steps": 7, "classifiers": ["linear"], "linear_l2": 0.1,
         "linear_max_iter": 5}
    cfg = tgtr.curve_config(p, {"steps": 500, "batch_size": 32, "lr": 0.001})
    assert cfg.n_generated == (1000,) and cfg.cnn.steps == 7 and cfg.cnn.batch_size == 32 and cfg.classifiers == ("linear",)
    assert tgtr.curve_config({**p, "n": [1000, 10000]}, {}).n_generated == (1000, 10000)


def test_the_artifact_round_trips_the_tables(tmp_path):
    from ganaudit.audits import common

    (xtr, ytr), (xte, yte) = _real(40, 0), _real(20, 1)
    cfg = tgtr.CurveConfig(n_generated=(8, 64), n_real=(4, 16), repeats=2, classifiers=("linear",))
    sampler = lambda n, s: tgtr.sample_class_balanced(TemplateGenerator(swap=True), n, s)   # noqa: E731
    tree, attrs, table, notes = tgtr.tgtr_audit(sampler, "the class asked for", xtr, ytr.numpy(), xte, yte.numpy(), 2, cfg, 0)
    common.write_audit(tmp_path / "gan.h5", tree, attrs, {}, 0, notes)
    back = common.read_frame(tmp_path / "gan.h5", "table")
    assert back.worth.tolist() == table.worth.tolist() == ["< 4 [0, 4]", "< 4 [0, 4]"]   # swapped classes: worth nothing
    assert back["labels"].tolist() == ["the class asked for"] * 2 and back.cnn_steps.tolist() == [cfg.cnn.steps] * 2
    assert len(common.read_frame(tmp_path / "gan.h5", "runs")) == 2 * (2 + 2)
    assert common.read_notes(tmp_path / "gan.h5")[-1].startswith("generated images labelled by the class asked for")
