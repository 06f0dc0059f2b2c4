"""ganaudit.audits.real_features: the run's real images embedded once; the support, memorisation and metrics stages
give the same tables reading the cache as embedding the images themselves."""

import json

import numpy as np
import pandas as pd
import pytest
import torch

from ganaudit.artifacts import store
from ganaudit.audits import memorisation, metrics, support
from ganaudit.audits.real_features import RealFeatures, read_real_features, space_functions, write_real_features
from ganaudit.audits.stage import StageInputs
from ganaudit.data.images import ImageGroup, groups_to_tree, to_model_scale
from ganaudit.manifold.distances import perceptual_from_config
from ganaudit.models.classifier import Classifier
from ganaudit.models.dcgan import ConditionalGenerator
from ganaudit.models.registry import save_generator

PERCEPTUAL = {"backend": "stlpips", "weights": None, "resize_to": 32}


def _images(n, seed, size=16):
    return np.random.default_rng(seed).integers(0, 256, (n, 1, size, size), dtype=np.uint8)


def _cheap(x):   # a wide, exact float32 "embedding" of model-scale images
    return torch.cat([x.flatten(1), 2 * x.flatten(1)], 1).numpy().astype(np.float32)


def test_round_trip_rows_in_any_order(tmp_path):
    groups = {"train": _images(37, 0), "test": _images(11, 1)}
    # a cheap function stands for the classifier's network
    path = write_real_features(tmp_path / "real.h5", groups, {"classifier": _cheap}, store.provenance({}, 0), chunk=8)
    full = _cheap(to_model_scale(groups["train"]))
    assert np.array_equal(read_real_features(path, "classifier", "train"), full)
    rows = [30, 2, 3, 4, 2, 36, 0]
    got = read_real_features(path, "classifier", "train", rows)
    assert got.dtype == np.float32 and np.array_equal(got, full[rows])
    assert np.array_equal(read_real_features(path, "classifier", "test", range(3, 9)),
                          _cheap(to_model_scale(groups["test"][3:9])))
    cache = RealFeatures(path)
    assert cache.spaces["classifier"]["n_train"] == 37 and cache.spaces["classifier"]["n_test"] == 11
    assert cache.spaces["classifier"]["dim"] == 512 and cache.attrs["complete"]
    assert json.loads(cache.attrs["spaces"]) == ["classifier"] and json.loads(cache.attrs["splits"]) == ["train", "test"]


def test_missing_space_split_or_row_is_a_one_line_error_naming_file_and_key(tmp_path):
    path = write_real_features(tmp_path / "real.h5", {"train": _images(5, 0)}, {"classifier": _cheap})
    for space, split in (("perceptual", "train"), ("classifier", "test")):
        with pytest.raises(store.ArtifactError) as e:
            read_real_features(path, space, split, [0])
        msg = str(e.value)
        assert "\n" not in msg and str(path) in msg and f"'{space}/{split}'" in msg
    with pytest.raises(store.ArtifactError, match=r"real\.h5: 'classifier/train' has 5 rows; asked for row 5"):
        read_real_features(path, "classifier", "train", [1, 5])
    with pytest.raises(store.ArtifactError, match="file not found"):
        read_real_features(tmp_path / "none.h5", "classifier", "train")


def test_a_failed_embedding_leaves_no_file(tmp_path):
    def broken(x):
        raise RuntimeError("out of memory")

    with pytest.raises(RuntimeError):
        write_real_features(tmp_path / "real.h5", {"train": _images(5, 0)}, {"classifier": broken})
    assert list(tmp_path.iterdir()) == []


def test_a_space_the_run_lacks_is_an_error():
    with pytest.raises(ValueError, match="needs a classifier"):
        space_functions(["classifier"], classifier=None)
    with pytest.raises(ValueError, match="not cached"):
        space_functions(["pixels"])


# ---------------------------------------------------------------------------------------------- stages

@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A tiny run (16 px, two classes): generator, classifier, train and test files, and its feature cache."""
    d = tmp_path_factory.mktemp("real")
    kwargs = dict(latent_dim=4, image_shape=(1, 16, 16), n_classes=2, width=4)
    torch.manual_seed(0)
    save_generator(d / "g.pt", ConditionalGenerator(**kwargs).eval(), kwargs)
    ckw = dict(image_shape=(1, 16, 16), n_classes=2, width=4, feature_dim=16)
    save_generator(d / "c.pt", Classifier(**ckw).eval(), ckw)
    groups = {}
    for name, n, seed in (("train", 260, 0), ("test", 120, 1)):
        rng = np.random.default_rng(seed)
        groups[name] = _images(n, seed)
        tree, attrs = groups_to_tree({name: ImageGroup(groups[name], rng.integers(0, 2, n), np.arange(n), name)})
        store.write(d / f"{name}.h5", tree, store.provenance({}, 0), attrs)
    paths = {"generator": str(d / "g.pt"), "train": str(d / "train.h5"), "test": str(d / "test.h5"),
             "classifier": str(d / "c.pt")}
    perceptual = perceptual_from_config(PERCEPTUAL)
    from ganaudit.models.registry import load_generator

    functions = space_functions(["perceptual", "classifier"], load_generator(d / "c.pt"), perceptual)
    write_real_features(d / "real.h5", groups, functions,
                        dict(perceptual_metric=perceptual.name, perceptual_backend=perceptual.backend), chunk=100)
    return paths, str(d / "real.h5")


def _same(a, b):
    pd.testing.assert_frame_equal(pd.DataFrame(a), pd.DataFrame(b), check_exact=True)


def _table(out, columns):
    return pd.DataFrame({c: out.tree["table"][c] for c in columns})


def test_support_stage_is_the_same_with_the_cache(run):
    paths, cache = run
    p = {"support": dict(n_samples=60, n_reference=60, n_calibration=120, n_heldout=120, sizes=[5, 10, 20],
                         alpha=0.2, n_batches=40, confidence=0.95, n_bootstrap=20, n_pairs=4, tail_pairs=30,
                         split_check=10),
         "perceptual": PERCEPTUAL}
    without = support.stage(StageInputs(paths, seed=5), p)
    inputs = StageInputs({**paths, "features": cache}, seed=5)
    calls = []
    inputs.real_features = lambda *a, **k: calls.append(a[:2]) or StageInputs.real_features(inputs, *a, **k)
    cached = support.stage(inputs, p)
    assert sorted(calls) == [("perceptual", "test"), ("perceptual", "train")]   # calibration + held-out: one read
    cols = ["distance", "pool", "k_hat", "k_low", "k_high", "tau", "false_collision_rate", "calibration_pairs",
            "n_collisions"]
    _same(_table(cached, cols), _table(without, cols))
    for key in ("l2", "perceptual"):
        assert np.array_equal(cached.tree[key]["threshold"], without.tree[key]["threshold"], equal_nan=True)
        _same(cached.tree[key]["splits"], without.tree[key]["splits"])


def test_memorisation_stage_is_the_same_with_the_cache(run):
    paths, cache = run
    p = {"memorisation": dict(n_samples=50, n_test=40, max_train=None, max_train_perceptual=150, quantile=0.05,
                              n_pairs=4), "perceptual": PERCEPTUAL}
    without = memorisation.stage(StageInputs(paths, seed=5), p)
    cached = memorisation.stage(StageInputs({**paths, "features": cache}, seed=5), p)
    for key in ("l2", "perceptual"):
        _same(cached.tree[key]["distances"], without.tree[key]["distances"])
        assert np.array_equal(cached.tree[key]["pair_images"], without.tree[key]["pair_images"])
    assert cached.tree["perceptual"]["summary"]["n_train"][0] == 150


def test_metrics_stage_is_the_same_with_the_cache(run):
    paths, cache = run
    p = {"metrics": dict(n_samples=40, n_train=80, n_test=30, n_perceptual=20, spaces=["classifier", "pixels", "perceptual"],
                         fd_bootstrap=5, confidence=0.9, kd_subset_size=1000, kd_subsets=10, k=3, ct_cells=2,
                         ct_min_generated=5, fld_iter=10, references=True, weights={"inception": None, "dinov2": None},
                         ppl=dict(n_pairs=10, epsilon=1e-4, trim=[1, 99])),
         "perceptual": PERCEPTUAL}
    without = metrics.stage(StageInputs(paths, seed=3), p)
    cached = metrics.stage(StageInputs({**paths, "features": cache}, seed=3), p)
    a, b = _table(cached, metrics.COLUMNS), _table(without, metrics.COLUMNS)
    assert a.value.notna().sum() > 50 and set(a.feature_space) == {"classifier", "pixels", "perceptual"}
    _same(a, b)


def test_a_cache_of_another_perceptual_distance_is_refused(run, tmp_path):
    paths, _ = run
    path = write_real_features(tmp_path / "real.h5", {"train": _images(5, 0), "test": _images(5, 1)},
                               {"perceptual": _cheap}, dict(perceptual_metric="L9", perceptual_backend="other"))
    inputs = StageInputs({**paths, "features": str(path)}, seed=0)
    with pytest.raises(store.ArtifactError, match="cached perceptual features are of L9 \\[other\\]"):
        inputs.real_features("perceptual", "test", [0], perceptual_from_config(PERCEPTUAL))
    assert StageInputs(paths, seed=0).real_features("perceptual", "test", [0]) is None
