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
