"""ganaudit.audits.metrics: the metrics stage of one model on tiny artifacts, with its references and skips."""

import numpy as np
import pandas as pd
import pytest

from ganaudit.artifacts import store
from ganaudit.audits.metrics import COLUMNS, ppl_rows, stage
from ganaudit.audits.stage import StageInputs
from ganaudit.data.images import ImageGroup, groups_to_tree
from ganaudit.models.dcgan import ConditionalGenerator
from ganaudit.models.registry import save_generator

PARAMS = {"metrics": dict(n_samples=40, n_train=80, n_test=30, n_perceptual=20, spaces=["classifier", "pixels", "perceptual"],
                          fd_bootstrap=5, confidence=0.9, kd_subset_size=1000, kd_subsets=10, k=3, ct_cells=2,
                          ct_min_generated=5, fld_iter=10, references=True, weights={"inception": None, "dinov2": None},
                          ppl=dict(n_pairs=20, epsilon=1e-4, trim=[1, 99])),
          "perceptual": {"backend": "stlpips", "weights": None, "resize_to": 32}}


def _write(path, name, n, seed):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (n, 1, 16, 16), dtype=np.uint8)
    tree, attrs = groups_to_tree({name: ImageGroup(images, rng.integers(0, 2, n), np.arange(n), name)})
    store.write(path, tree, store.provenance({}, 0), attrs)


@pytest.fixture(scope="module")
def paths(tmp_path_factory):
    d = tmp_path_factory.mktemp("metrics")
    kwargs = dict(latent_dim=4, image_shape=(1, 16, 16), n_classes=2, width=4)
    save_generator(d / "g.pt", ConditionalGenerator(**kwargs).eval(), kwargs)
    _write(d / "train.h5", "train", 100, 0)
    _write(d / "test.h5", "test", 70, 1)
    return {"generator": str(d / "g.pt"), "train": str(d / "train.h5"), "test": str(d / "test.h5"), "classifier": None}


def test_stage_measures_the_model_and_both_references(paths):
    out = stage(StageInputs(paths, seed=3), PARAMS)
    t = pd.DataFrame({c: out.tree["table"][c] for c in COLUMNS})
    assert set(t.samples) == {"model", "memorising", "fresh"}
    pix = t[(t.feature_space == "pixels") & (t["class"] == "all")].set_index(["samples", "metric"]).value
    assert pix["memorising", "authpct"] == 0.0 and pix["memorising", "precision"] == 1.0   # copies of training images
    assert pix["memorising", "ct"] < pix["fresh", "ct"]
    n = t[t.feature_space == "perceptual"].set_index(["samples", "metric"]).n
    # n_perceptual of each set; the memorising reference draws half the reference training images
    assert n["model", "fd"] == 20 and n["memorising", "fd"] == 10 and n["fresh", "fd"] == 20
    assert t[(t.feature_space == "pixels") & (t.metric == "fd")].n.tolist() == [40, 40, 40]
    ppl = t[t.metric == "ppl_mean"].iloc[0]
    assert ppl.value > 0 and "eps = 0.0001" in ppl.settings and "40 generator passes" in ppl.settings
    cls = t[t.feature_space == "classifier"]
    assert cls.value.isna().all() and cls.settings.str.contains("no classifier").all()
    assert any("classifier not computed" in n for n in out.notes)
    v = t[(t.metric == "vendi") & (t.samples == "model") & (t.feature_space == "pixels")]
    assert set(v["class"]) == {"0", "1", "all"} and v.value.between(1, 40).all()


def test_without_training_images_only_the_samples_metrics(paths):
    out = stage(StageInputs({**paths, "train": None, "test": None}, seed=3),
                {**PARAMS, "metrics": {**PARAMS["metrics"], "spaces": ["pixels"]}})
    t = pd.DataFrame({c: out.tree["table"][c] for c in COLUMNS})
    assert set(t.samples) == {"model"}
    measured = t[t.value.notna()]
    assert set(measured.metric) == {"vendi", "ppl_mean", "ppl_std"}
    assert t[t.metric == "ct"].settings.iloc[0] == "skipped: no train or test images in this run"


def test_ppl_is_skipped_without_a_latent_space():
    rows = ppl_rows(None, None, PARAMS["metrics"], 0)
    assert [r["metric"] for r in rows] == ["ppl_mean", "ppl_std"] and np.isnan(rows[0]["value"])
    assert "no generator with a latent space" in rows[0]["settings"]
