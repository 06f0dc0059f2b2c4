import numpy as np
import pytest
import torch

from ganaudit.artifacts import store
from ganaudit.data import images


def test_scales_round_trip():
    u8 = np.arange(256, dtype=np.uint8).reshape(1, 1, 16, 16)
    x = images.to_model_scale(u8)
    assert x.min() == -1 and x.max() == 1 and x.dtype == torch.float32
    np.testing.assert_array_equal(images.to_uint8(x), u8)


def test_mnist_ships_offline():
    x, y = images.load_mnist("test")
    assert x.shape == (10000, 1, 28, 28) and x.dtype == np.uint8
    assert np.bincount(y).tolist()[:3] == [980, 1135, 1032]  # the official MNIST test split


def test_build_groups_split_and_labels():
    groups = images.build_groups({"image_size": 28, "channels": 1, "classes": [3, 7], "max_train": 100, "max_test": 40,
                                "source": {"kind": "mnist"}},
                               {"other_classes": {"n": 10}, "cc": {"source": "constant_colour", "n": 5},
                                "animals": {"source": "animal_silhouettes", "n": 6}}, seed=0)
    assert set(groups) == {"train", "test", "other_classes", "cc", "animals"}
    tr, te = groups["train"], groups["test"]
    assert len(tr) == 100 and len(te) == 40
    # model labels index the configured classes; source labels keep the digit
    assert set(tr.source_labels) == {3, 7} and np.all((tr.source_labels == 7) == (tr.labels == 1))
    # interleaved: every prefix is balanced
    assert abs(int((te.labels[:10] == 0).sum()) - 5) <= 1
    assert not np.isin(groups["other_classes"].source_labels, [3, 7]).any()
    assert (groups["other_classes"].labels == -1).all()
    cc = groups["cc"].images
    assert cc.shape == (5, 1, 28, 28) and all(len(np.unique(im)) == 1 for im in cc)
    assert groups["animals"].images.shape == (6, 1, 28, 28)


def test_unknown_class_and_source_are_one_line_errors():
    with pytest.raises(ValueError, match=r"dataset.classes: classes \[11\]"):
        images.build_groups({"image_size": 28, "channels": 1, "classes": [1, 11]}, {}, 0)
    with pytest.raises(ValueError, match="groups.x.source: unknown source"):
        images.ood_group("x", {"source": "nope", "n": 2}, 28, 1, 0)


def test_photo_crops_and_resize_rgb():
    p = images.photo_crops(4, 32, 3, seed=1)
    assert p.shape == (4, 3, 32, 32) and p.std() > 5
    g = images.resize_images(p, 16, 1)
    assert g.shape == (4, 1, 16, 16)


def test_read_group_checks_shape(tmp_path):
    groups = {"test": images.ImageGroup(np.zeros((3, 1, 8, 8), np.uint8), np.zeros(3), np.zeros(3), "test")}
    tree, attrs = images.groups_to_tree(groups)
    store.write(tmp_path / "d.h5", tree, {}, attrs)
    assert len(images.read_group(tmp_path / "d.h5", "test", 2)) == 2
    with pytest.raises(store.ArtifactError, match=r"d\.h5: group 'test' images has shape \(3, 1, 8, 8\); expected \(N, 1, 28, 28\)"):
        images.read_group(tmp_path / "d.h5", "test", image_shape=(1, 28, 28))
    with pytest.raises(store.ArtifactError, match=r"no image group 'train'"):
        images.read_group(tmp_path / "d.h5", "train")


def test_nan_images_are_refused_not_stored():
    x = torch.zeros(3, 1, 2, 2)
    x[1, 0, 0, 1] = float("nan")
    with pytest.raises(ValueError, match=r"images contain NaN/inf \(1 of 3 images, first at index 1\)"):
        images.to_uint8(x)
    assert images.to_uint8(torch.tensor([[[[-1.0, 1.0]]]])).tolist() == [[[[0, 255]]]]
