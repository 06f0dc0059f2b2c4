"""The pipeline stages of the tests beyond the paper (`ganaudit.audits.common` and each test's ``*_audit``), on toy
models with known answers, and their artifacts read back the way the table and figure rules read them."""

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from ganaudit.artifacts import store
from ganaudit.audits import common, coverage, memorisation, support
from ganaudit.data import stats
from ganaudit.manifold.distances import get_perceptual

SHAPE = (1, 8, 8)


class Templates(nn.Module):
    """A generator of exactly ``k`` distinct images (template ``z``-bucket), class-conditional when ``n_classes``."""

    def __init__(self, templates: torch.Tensor, n_classes: int | None = None) -> None:
        super().__init__()
        self.t, self.latent_dim, self.image_shape, self.n_classes = templates, 4, SHAPE, n_classes

    def forward(self, z, labels=None):
        k = len(self.t)
        i = (torch.special.ndtr(z[:, 0]) * k).long().clamp(max=k - 1)   # z picks one of k images, uniformly
        return self.t[i]


class MeanClassifier(nn.Module):
    """Predicts class 1 when the mean pixel is > 0, else 0 (the `Classifier` interface `predict_and_features` uses)."""

    n_classes = 2

    def features(self, x):
        return x.flatten(1).mean(1, keepdim=True)

    def head(self, f):
        return torch.cat([-f, f], 1)


def _write(tmp_path, name, result):
    """The artifact as the stage scripts write it (`beyond.write_audit`)."""
    tree, group_attrs = result[0], result[1]
    notes = result[3] if len(result) > 3 else []
    path = tmp_path / f"{name}.h5"
    common.write_audit(path, tree, group_attrs, {"seed": 0}, 0, notes, perceptual_metric="P")
    return path


@pytest.fixture(scope="module")
def perceptual():
    torch.set_num_threads(1)
    return get_perceptual("stlpips", resize_to=32)


def test_frames_round_trip_through_hdf5_in_column_order(tmp_path):
    df = pd.DataFrame({"z": [1, 2], "a": ["x", "yy"], "flag": [True, False], "v": [0.5, np.nan]})
    tree, attrs = common.write_frames({"one/two": df, "table": df.iloc[:1]})
    store.write(tmp_path / "f.h5", tree, {"notes": ["a note"]}, attrs)
    back = common.read_frame(tmp_path / "f.h5", "one/two")
    assert list(back.columns) == ["z", "a", "flag", "v"] and back.a.tolist() == ["x", "yy"]
    pd.testing.assert_frame_equal(back, df, check_dtype=False)
    table, notes = common.gather_table([tmp_path / "f.h5"])
    assert list(table.columns) == ["model", "z", "a", "flag", "v"] and table.model.tolist() == ["f"]
    assert notes == ["f: a note"]


def test_model_pool_draws_classes_in_the_data_s_proportions():
    g = Templates(torch.zeros(3, *SHAPE), n_classes=3)
    data_labels = np.repeat([0, 1, 2], [700, 200, 100])
    pool = common.model_pool(g, 4000, seed=1, class_labels=data_labels)
    share = np.bincount(pool.labels.numpy(), minlength=3) / 4000
    np.testing.assert_allclose(share, [0.7, 0.2, 0.1], atol=0.03)
    assert common.model_pool(g, 6, seed=1).labels.tolist() == [0, 1, 2, 0, 1, 2]   # no data labels: cycle


def test_support_of_a_generator_of_k_images_against_held_out_real_images(perceptual):
    rng = np.random.default_rng(0)
    k = 150
    g = Templates(torch.as_tensor(rng.uniform(-1, 1, (k, *SHAPE)), dtype=torch.float32))
    samples = common.model_pool(g, 300, seed=0).images
    real = lambda n: torch.as_tensor(rng.uniform(-1, 1, (n, *SHAPE)), dtype=torch.float32)  # noqa: E731
    train, test = real(1200), real(300)
    params = dict(sizes=[5, 10, 20, 30, 40], alpha=0.05, n_batches=200, confidence=0.95, n_bootstrap=50, n_pairs=6,
                  n_calibration=600, n_heldout=600, n_reference=300, heldout_batches=500)
    cal, held, ref, name = support.real_pools(train, test, params, seed=0)
    assert name == "test images" and ref is test[:300] or torch.equal(ref, test[:300])
    tree, attrs, table = support.support_audit(samples, ref, cal, held, perceptual, params, seed=0)
    rows = table.set_index(["distance", "pool"])
    for dist in ("L2", perceptual.name):
        s, t = rows.loc[(dist, "samples")], rows.loc[(dist, "held-out real images")]
        assert s.k_low <= k <= s.k_high and s.k_high < t.k_low          # exact duplicates: K is recovered
        assert t.calibrated and t.n_calibration == t.n_heldout == 600 and s.n_pool == t.n_pool == 300
        assert t.false_collision_low <= t.false_collision_rate <= t.false_collision_high
        assert t.false_collision_rate < 0.2                              # fresh real images at about α
    assert all(str(v).isascii() for v in table.select_dtypes(object).to_numpy().ravel())  # HDF5 text is ASCII
    thr = dict(zip(support.THRESHOLD_FIELDS, tree["l2"]["threshold"]))
    assert thr["alpha"] == 0.05 and thr["s"] == 40 and thr["n_calibration"] == 600 and thr["n_heldout"] == 600
    pairs = tree["l2"]["pairs"]
    assert tree["l2"]["pair_images"].shape == (6, 2, *SHAPE) and tree["l2"]["pair_images"].dtype == np.uint8
    np.testing.assert_array_equal(tree["l2"]["pair_images"][:, 0], tree["l2"]["pair_images"][:, 1])  # duplicates
    assert (pairs["distance"] == 0).all() and pairs["collision"].all()
    with pytest.raises(ValueError, match=r"beyond.support.sizes: the largest batch size 400 exceeds the pool of 300 "
                                         r"model samples \(beyond.support.n_samples"):
        support.support_audit(samples, ref, cal, held, perceptual, {**params, "sizes": [5, 400]}, seed=0)


def test_support_pools_are_disjoint_and_follow_the_seed():
    train = torch.arange(100.0).view(100, 1, 1, 1)
    p = dict(n_calibration=40, n_heldout=30, n_reference=20)
    cal, held, ref, name = support.real_pools(train, None, p, seed=0)
    ids = [set(x.flatten().tolist()) for x in (cal, held, ref)]
    assert name == "held-out training images" and [len(i) for i in ids] == [40, 30, 20]
    assert not (ids[0] & ids[1] or ids[0] & ids[2] or ids[1] & ids[2])
    assert set(support.real_pools(train, None, p, seed=1)[0].flatten().tolist()) != ids[0]
    with pytest.raises(ValueError, match=r"beyond.support: n_calibration \+ n_heldout \+ n_reference = 90 training "
                                         r"images are needed; the run has 50"):
        support.real_pools(train[:50], None, p, seed=0)


def test_memorisation_finds_copies_under_both_distances_and_the_artifact_reads_back(tmp_path, perceptual):
    rng = np.random.default_rng(1)
    train = torch.as_tensor(rng.uniform(-1, 1, (250, *SHAPE)), dtype=torch.float32)
    test = torch.as_tensor(rng.uniform(-1, 1, (100, *SHAPE)), dtype=torch.float32)
    samples = torch.as_tensor(rng.uniform(-1, 1, (60, *SHAPE)), dtype=torch.float32)
    samples[[3, 7]] = train[[11, 200]]
    params = dict(max_train_perceptual=130, quantile=0.05, n_pairs=4)
    out = memorisation.memorisation_audit(samples, test, train, perceptual, params)
    table = out[2].set_index("distance")
    assert table.n_copies.tolist() == [2, 1]                          # the perceptual search stops at image 129
    assert table.n_train.tolist() == [250, 130] and table.loc["L2"].rank_p > 0.01
    path = _write(tmp_path, "gan", out)
    assert common.distance_names(path) == {"l2": "L2", "perceptual": perceptual.name}
    pairs = common.read_frame(path, "l2/pairs")
    assert pairs["index"].tolist()[:2] == [3, 7] and pairs.nn_index.tolist()[:2] == [11, 200]
    images = store.read(path, ["l2/pair_images"])["l2/pair_images"]
    np.testing.assert_array_equal(images[:2, 0], images[:2, 1])       # each copy beside its training image
    by_distance = common.read_by_distance(path, frames=("pairs",), arrays=("pair_images",))
    assert list(by_distance) == ["L2", perceptual.name]
    pd.testing.assert_frame_equal(by_distance["L2"]["pairs"], pairs)
    np.testing.assert_array_equal(by_distance["L2"]["pair_images"], images)
    attrs = store.read_attrs(path)
    assert attrs["perceptual_metric"] == "P" and common.read_notes(path) == [] and attrs.get("complete")


def test_nearest_in_chunks_equals_one_search():
    rng = np.random.default_rng(2)
    q1, q2, ref = rng.normal(size=(20, 6)), rng.normal(size=(7, 6)), rng.normal(size=(53, 6))
    got = memorisation.nearest_in_chunks([q1, q2], (ref[i:i + 10] for i in range(0, 53, 10)))
    for q, (d, i) in zip((q1, q2), got):
        want_d, want_i = memorisation.nearest_neighbours(q, ref)
        np.testing.assert_array_equal(i, want_i)
        np.testing.assert_allclose(d, want_d, rtol=1e-12)
    with pytest.raises(ValueError, match="at least one row"):
        memorisation.nearest_in_chunks([q1], [])


class AllZeros(Templates):
    """Class-conditional, but every class comes out as template 0."""

    def forward(self, z, labels=None):
        return self.t[torch.zeros_like(labels)]


def test_coverage_of_a_model_that_turns_class_1_into_class_0(tmp_path):
    flipped = AllZeros(torch.stack([torch.full(SHAPE, -0.5), torch.full(SHAPE, 0.5)]), n_classes=2)
    pool = common.model_pool(flipped, 40, seed=0, class_labels=np.array([0, 1]))
    rng = np.random.default_rng(3)
    real = torch.as_tensor(rng.uniform(-1, 1, (50, *SHAPE)), dtype=torch.float32)
    test_labels = (real.flatten(1).mean(1) > 0).long().numpy()
    out = coverage.coverage_audit(pool, {"n_reference": 30, "fraction": 0.99}, MeanClassifier(), real, real, test_labels)
    table, notes = out[2], out[3]
    per = table[table["class"] != "all"].set_index("class")
    assert per.p_samples.tolist() == [1.0, 0.0] and per.agreement["0"] == 1.0 and per.agreement["1"] == 0.0
    total = table[table["class"] == "all"].iloc[0]
    assert total.n_missing == 1 and total.total_variation == pytest.approx(1 - per.p_data["0"])
    assert notes == ["the classifier labels 1.0000 of the 50 test images correctly (the data histogram is its "
                     "predictions on them)"]
    spectrum = common.read_frame(_write(tmp_path, "gan", out), "spectrum").set_index("group")
    assert spectrum.n_directions["generated"] == 0 and spectrum.n_images.tolist() == [40, 30, 30]
    assert spectrum.directions_vs_train["train"] == 1.0


def test_coverage_without_data_keeps_the_samples_spectrum_and_says_why():
    g = Templates(torch.as_tensor(np.random.default_rng(4).uniform(-1, 1, (5, *SHAPE)), dtype=torch.float32))
    pool = common.model_pool(g, 50, seed=0)
    tree, attrs, table, notes = coverage.coverage_audit(pool, {"n_reference": 30, "fraction": 0.99},
                                                      skipped=["label histogram skipped: no classifier"])
    assert table.empty and notes == ["label histogram skipped: no classifier"]
    assert tree["spectrum"]["group"].tolist() == ["generated"]
    assert tree["spectrum"]["n_directions"].tolist() == [4]            # 5 distinct images span 4 directions


def test_latent_sweep_rows_psnr_of_best_and_worst_restart():
    nan = np.nan
    restart = np.array([[[0.04, 0.16], [nan, nan]], [[0.01, 0.04], [nan, nan]]])      # [N=2, K=2, R=2], own class 0
    inv = {("gan_z2", "train"): {"restart_mse": restart, "labels": np.array([0, 0])},
           ("gan_z8", "train"): {"restart_mse": restart / 4, "labels": np.array([0, 0])}}
    models = {"gan_z2": {"kind": "dcgan", "latent_dim": 2}, "gan_z8": {"kind": "dcgan", "latent_dim": 8}}
    settings = {"gan_z2": {"n_restarts": 2, "n_steps": 10}, "gan_z8": {"n_restarts": 2, "n_steps": 40}}
    nn_test = {"l2": np.array([[0.04, 1.0], [1.0, 0.04], [0.5, 0.5]]), "labels": np.array([0, 1, -1])}
    rows = common.latent_sweep_rows(inv, models, settings, nn_test).set_index("model")
    psnr = lambda m: stats.psnr(stats.to_unit_scale_variance(np.array(m)))  # noqa: E731
    assert rows.median_psnr_db["gan_z2"] == pytest.approx(np.median(psnr([0.04, 0.01])))
    assert rows.median_worst_psnr_db["gan_z2"] == pytest.approx(np.median(psnr([0.16, 0.04])))
    assert rows.median_spread_db["gan_z2"] == pytest.approx(10 * np.log10(4))  # worst = 4 × best: 6.02 dB
    assert rows.median_psnr_db["gan_z8"] - rows.median_psnr_db["gan_z2"] == pytest.approx(10 * np.log10(4))
    assert rows.nn_test_psnr_db.tolist() == pytest.approx([float(psnr([0.04])[0])] * 2)   # own class, modelled only
    assert rows.n_steps.tolist() == [10, 40] and rows.latent_dim.tolist() == [2, 8]
