"""ganaudit.audits.stage: an audit's inputs load on demand, once, in the model's image shape, and say what the run
lacks."""

import numpy as np
import pytest

from ganaudit.artifacts import store
from ganaudit.audits.stage import StageInputs, StageOutput
from ganaudit.data.images import ImageGroup, groups_to_tree
from ganaudit.models.dcgan import ConditionalGenerator
from ganaudit.models.registry import save_generator


@pytest.fixture()
def paths(tmp_path):
    kwargs = dict(latent_dim=4, image_shape=(1, 8, 8), n_classes=2, width=4)
    save_generator(tmp_path / "g.pt", ConditionalGenerator(**kwargs).eval(), kwargs)
    images = np.arange(5 * 64, dtype=np.uint8).reshape(5, 1, 8, 8)
    group = ImageGroup(images, np.array([0, 1, 0, 1, 0]), np.arange(5), "train")
    tree, attrs = groups_to_tree({"train": group})
    store.write(tmp_path / "train.h5", tree, store.provenance({}, 0), attrs)
    return {"generator": str(tmp_path / "g.pt"), "train": str(tmp_path / "train.h5"), "test": None}


def test_inputs_load_on_demand_once_and_name_what_is_absent(paths):
    inputs = StageInputs(paths, seed=7)
    assert inputs.has("train") and not inputs.has("test") and not inputs.has("classifier")
    assert inputs.generator() is inputs.generator()          # loaded once
    train = inputs.group("train", 3)
    assert train.images.shape == (3, 1, 8, 8) and train.labels.tolist() == [0, 1, 0]
    assert inputs.group("test") is None and inputs.classifier() is None


def test_output_defaults():
    out = StageOutput({"a": np.zeros(1)}, {})
    assert out.notes == [] and out.attrs == {} and out.log == ""


@pytest.fixture()
def stored_paths(paths, tmp_path):
    from ganaudit.models.samples import StoredSamples, artifact_tree

    def write(labels):
        s = StoredSamples(np.repeat(np.arange(6, dtype=np.uint8) * 10, 64).reshape(6, 1, 8, 8), labels, "mem")  # image i: 10 i
        path = tmp_path / f"samples_{labels is None}.h5"
        tree, group_attrs = artifact_tree(s, 2)
        store.write(path, tree, store.provenance({}, 0), group_attrs)
        return {**paths, "generator": None, "samples": str(path)}
    return write


def test_stored_samples_serve_the_pool_without_a_generator(stored_paths):
    inputs = StageInputs(stored_paths(np.array([0, 1, 1, 0, 1, 0])), seed=7)
    assert inputs.is_stored() and inputs.image_shape() == (1, 8, 8) and inputs.n_classes() == 2
    pool = inputs.pool(6, seed=1)
    first = ((pool.images + 1) * 127.5).round().long()[:, 0, 0, 0] // 10          # which stored image each is
    assert sorted(first.tolist()) == [0, 1, 2, 3, 4, 5]                            # drawn without replacement
    assert pool.labels.tolist() == [[0, 1, 1, 0, 1, 0][i] for i in first.tolist()] and pool.z.shape == (6, 0)
    assert (inputs.pool(4, seed=1).images == inputs.pool(4, seed=1).images).all()
    with pytest.raises(ValueError, match="7 samples asked for, but only 6 are stored"):
        inputs.pool(7, seed=1)
    assert inputs.group("train", 2).images.shape == (2, 1, 8, 8)                   # in the samples' shape
    unlabelled = StageInputs(stored_paths(None), seed=7)
    assert unlabelled.n_classes() is None and unlabelled.pool(3, 0).labels is None


def test_tgtr_of_unlabelled_samples_without_a_classifier_is_skipped_with_the_reason(stored_paths):
    from ganaudit.audits import tgtr

    out = tgtr.stage(StageInputs(stored_paths(None), seed=0), {"tgtr": {}, "train": {}})
    assert out.notes == ["skipped: the samples have no classes and the run has no classifier to label them"]
