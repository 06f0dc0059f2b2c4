"""ganaudit.artifacts.readers: the readers pick each image's best evaluated class, its original and the right rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ganaudit.artifacts import readers


def test_reduce_inversion_keeps_best_evaluated_class():
    mse = np.array([[0.5, 0.2], [np.nan, 0.7], [0.1, np.nan], [np.nan, np.nan]])
    per = mse * 10
    recon = np.arange(4 * 2, dtype=np.float32).reshape(4, 2, 1, 1, 1) / 10
    orig = np.arange(4, dtype=np.uint8).reshape(4, 1, 1, 1)
    inv = readers.reduce_inversion("test", mse, per, recon, orig)
    np.testing.assert_array_equal(inv.best_class, [1, 1, 0])           # the all-NaN image is dropped
    np.testing.assert_allclose(inv.error, [0.2, 0.7, 0.1])
    np.testing.assert_allclose(inv.perceptual, [2.0, 7.0, 1.0])
    np.testing.assert_allclose(inv.recon.ravel(), [0.1, 0.3, 0.4])
    np.testing.assert_array_equal(inv.originals.ravel(), [0, 1, 2])


def test_align_images_joins_on_group_and_index():
    imgs = {"a": (np.array([5, 3]), np.array([[[[1]]], [[[2]]]], np.uint8)),
            "b": (np.array([0]), np.array([[[[9]]]], np.uint8))}
    table = pd.DataFrame({"group": ["b", "a", "a"], "index": [0, 3, 5]})
    np.testing.assert_array_equal(readers.align_images(table, imgs).ravel(), [9, 2, 1])
    with pytest.raises(ValueError, match="group 'a' index 4"):
        readers.align_images(pd.DataFrame({"group": ["a"], "index": [4]}), imgs)


def test_read_inversion_roundtrip(tmp_path):
    from ganaudit.artifacts import store

    mse = np.array([[0.3, 0.1], [0.2, 0.9]])
    recon = np.zeros((2, 2, 1, 4, 4), np.float32)
    recon[1, 0] = 0.5
    store.write(tmp_path / "inv" / "gan" / "test.h5",
                {"mse": mse, "perceptual": mse, "index": np.array([2, 0]), "recon": recon},
                {"perceptual_metric": "toy"})
    images = np.arange(3, dtype=np.uint8)[:, None, None, None] * np.ones((1, 1, 4, 4), np.uint8)
    store.write(tmp_path / "data.h5", {"groups": {"test": {"images": images}}})
    out = readers.read_inversions([tmp_path / "inv" / "gan" / "test.h5"], [tmp_path / "data.h5"])
    inv = out["gan"]["test"]
    assert inv.metric == "toy"
    np.testing.assert_array_equal(inv.originals[:, 0, 0, 0], [2, 0])     # rows follow the stored index
    np.testing.assert_allclose(inv.error, [0.1, 0.2])
    assert inv.recon[1].max() == pytest.approx(0.5)


# ---------------------------------------------------------------------------------------------- figures
