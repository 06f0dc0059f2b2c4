"""ganaudit.models.samples: stored samples from a folder of PNGs, an .npz or HDF5, in either layout, checked against
the dataset's shape, drawn without replacement and deterministically."""

import h5py
import numpy as np
import pytest
from PIL import Image

from ganaudit.models import samples

RNG = np.random.default_rng(0)
GREY = RNG.integers(0, 256, (7, 1, 6, 5), dtype=np.uint8)
RGB = RNG.integers(0, 256, (4, 3, 6, 5), dtype=np.uint8)


def test_png_folder_round_trip_in_file_name_order(tmp_path):
    paths = samples.write_png_folder(GREY, tmp_path / "pngs")
    assert [p.name for p in paths[:2]] == ["000000.png", "000001.png"]
    (tmp_path / "pngs" / "notes.txt").write_text("not an image")
    s = samples.read_samples(tmp_path / "pngs", (1, 6, 5))
    assert np.array_equal(s.images, GREY) and s.labels is None and len(s) == 7 and s.image_shape == (1, 6, 5)
    samples.write_png_folder(RGB, tmp_path / "rgb")
    assert np.array_equal(samples.read_samples(tmp_path / "rgb", (3, 6, 5)).images, RGB)
    grey_of_rgb = samples.read_samples(tmp_path / "rgb", (1, 6, 5)).images          # converted to the dataset's C
    assert grey_of_rgb.shape == (4, 1, 6, 5)
    assert np.array_equal(grey_of_rgb[:, 0], np.stack([np.asarray(Image.fromarray(im.transpose(1, 2, 0)).convert("L"))
                                                        for im in RGB]))


def test_npz_and_hdf5_in_either_layout_with_labels_mapped_to_classes(tmp_path):
    nhwc = RGB.transpose(0, 2, 3, 1)
    np.savez(tmp_path / "s.npz", images=nhwc, labels=np.array([7, 3, 3, 7]))
    s = samples.read_samples(tmp_path / "s.npz", (3, 6, 5), classes=[3, 7])
    assert np.array_equal(s.images, RGB) and s.labels.tolist() == [1, 0, 0, 1]
    with h5py.File(tmp_path / "s.h5", "w") as f:
        f["images"] = RGB
        f["labels"] = np.array([0, 1, 2, 1])
    assert samples.read_samples(tmp_path / "s.h5", (3, 6, 5)).labels.tolist() == [0, 1, 2, 1]
    with h5py.File(tmp_path / "one.hdf5", "w") as f:
        f["x/arr"] = GREY[:, 0]                          # a single dataset of any name; [N, H, W] for one channel
    assert np.array_equal(samples.read_samples(tmp_path / "one.hdf5", (1, 6, 5)).images, GREY)
    with pytest.raises(ValueError, match=r"labels \[5\] are not among the dataset's classes \[3, 7\]"):
        np.savez(tmp_path / "bad.npz", images=RGB, labels=np.array([3, 5, 3, 7]))
        samples.read_samples(tmp_path / "bad.npz", (3, 6, 5), classes=[3, 7])


def test_shape_and_type_errors_name_the_file_and_the_expected_shape(tmp_path):
    np.savez(tmp_path / "s.npz", images=RGB)
    with pytest.raises(ValueError) as e:
        samples.read_samples(tmp_path / "s.npz", (1, 28, 28))
    assert str(e.value) == (f"{tmp_path / 's.npz'}: images of shape (4, 3, 6, 5); expected uint8 [N, 1, 28, 28] or "
                            "[N, 28, 28, 1] (the dataset's shape)")
    np.savez(tmp_path / "f.npz", images=RGB.astype(np.float32))
    with pytest.raises(ValueError, match=r"f.npz: images are float32; expected uint8 \[N, 3, 6, 5\]"):
        samples.read_samples(tmp_path / "f.npz", (3, 6, 5))
    np.savez(tmp_path / "x.npz", pictures=RGB)
    with pytest.raises(ValueError, match=r"x.npz: no array 'images' \(has: pictures\)"):
        samples.read_samples(tmp_path / "x.npz")
    samples.write_png_folder(GREY, tmp_path / "pngs")
    with pytest.raises(ValueError, match=r"pngs: images of shape \(7, 1, 6, 5\); expected uint8 \[N, 1, 28, 28\]"):
        samples.read_samples(tmp_path / "pngs", (1, 28, 28))
    with pytest.raises(ValueError, match="stored samples not found"):
        samples.read_samples(tmp_path / "absent")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no PNG/JPG/JPEG images in the folder"):
        samples.read_samples(tmp_path / "empty")


def test_draw_without_replacement_deterministic_in_the_seed():
    s = samples.StoredSamples(np.arange(10, dtype=np.uint8).reshape(10, 1, 1, 1), np.arange(10) % 3, "mem")
    x, y = s.draw(10, seed=3)
    assert sorted(x.ravel().tolist()) == list(range(10))                     # every sample once: no replacement
    assert np.array_equal(y, x.ravel() % 3)                                   # labels stay with their images
    assert np.array_equal(s.draw(6, 3)[0], s.draw(6, 3)[0]) and not np.array_equal(s.draw(6, 3)[0], s.draw(6, 4)[0])
    with pytest.raises(ValueError, match="mem: 11 samples asked for, but only 10 are stored"):
        s.draw(11, 0)


def test_unused_training_images_follow_the_runs_order():
    from ganaudit.data.images import dataset_split

    ds = {"source": {"kind": "mnist"}, "classes": [0, 1], "image_size": 28, "channels": 1, "max_train": 50}
    x, y = samples.unused_training_images(ds, 20, seed=0)
    full = dataset_split({**ds, "max_train": 70}, "train", 0)
    used = dataset_split(ds, "train", 0)
    assert np.array_equal(x, full.images[50:]) and set(y.tolist()) <= {0, 1} and len(x) == 20
    assert not any((used.images == im).all(axis=(1, 2, 3)).any() for im in x)     # none is a training image of the run
    with pytest.raises(ValueError, match="dataset.max_train must be set"):
        samples.unused_training_images({**ds, "max_train": None}, 5, 0)
