"""User dataset readers: small files in the exact on-disk formats, read back value for value."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from scipy.io import savemat

from ganaudit.data import sources
from ganaudit.data.sources import read_cifar, read_image_folder, read_source, read_svhn, torchvision_download

# ---------------------------------------------------------------------------------------------- image folders

def _png(path: Path, arr: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(arr).save(path)


def test_image_folder_order_labels_values(tmp_path):
    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (5, 5, 3), dtype=np.uint8)
    b = rng.integers(0, 256, (5, 5, 3), dtype=np.uint8)
    c = rng.integers(0, 256, (5, 5), dtype=np.uint8)        # grey
    _png(tmp_path / "zebra" / "a.png", a)
    _png(tmp_path / "cat" / "b.png", b)
    _png(tmp_path / "cat" / "a.png", a[::-1].copy())
    _png(tmp_path / "zebra" / "c.bmp", c)
    (tmp_path / "cat" / "notes.txt").write_text("not an image")
    x, y, names = read_image_folder(tmp_path, size=None, channels=3)
    assert names == ["cat", "zebra"] and y.dtype == np.int64 and y.tolist() == [0, 0, 1, 1]
    assert x.dtype == np.uint8 and x.shape == (4, 3, 5, 5)
    np.testing.assert_array_equal(x[0], a[::-1].transpose(2, 0, 1))   # cat/a.png before cat/b.png
    np.testing.assert_array_equal(x[1], b.transpose(2, 0, 1))
    np.testing.assert_array_equal(x[2], a.transpose(2, 0, 1))
    np.testing.assert_array_equal(x[3], np.broadcast_to(c, (3, 5, 5)))  # grey repeated to RGB
    x1, _, _ = read_image_folder(tmp_path, size=None, channels=1)
    a32 = a.astype(np.int64)
    luma = (a32[..., 0] * 299 + a32[..., 1] * 587 + a32[..., 2] * 114) / 1000    # ITU-R 601-2, PIL's L mode
    assert np.abs(x1[2, 0].astype(float) - luma).max() <= 1.0


def test_image_folder_resize_and_channel_inference(tmp_path):
    _png(tmp_path / "g" / "wide.png", np.full((6, 10), 77, dtype=np.uint8))
    grad = np.tile(np.arange(0, 240, 12, dtype=np.uint8), (20, 1))      # 20×20 horizontal ramp
    _png(tmp_path / "g" / "ramp.png", grad)
    x, y, names = read_image_folder(tmp_path, size=8, channels=None, resample="lanczos")
    assert x.shape == (2, 1, 8, 8) and names == ["g"]                   # all grey → 1 channel
    expect = np.asarray(Image.fromarray(grad).resize((8, 8), Image.Resampling.LANCZOS))
    np.testing.assert_array_equal(x[0, 0], expect)                      # ramp.png sorts first
    assert np.all(x[1] == 77)                                           # a constant stays constant
    xc, _, _ = read_image_folder(tmp_path, size=8, channels=3, resample="nearest", center_crop=True)
    assert xc.shape == (2, 3, 8, 8) and np.all(xc[1] == 77)
    with pytest.raises(ValueError, match="different sizes .* set size"):
        read_image_folder(tmp_path, size=None)
    with pytest.raises(ValueError, match="resample must be one of"):
        read_image_folder(tmp_path, size=8, resample="cubic")


def test_image_folder_flat_and_missing(tmp_path):
    flat = tmp_path / "herons"
    _png(flat / "1.png", np.zeros((4, 4, 3), dtype=np.uint8))
    _png(flat / "0.png", np.full((4, 4, 3), 255, dtype=np.uint8))
    x, y, names = read_image_folder(flat)
    assert names == ["herons"] and y.tolist() == [0, 0] and x[0].min() == 255 and x[1].max() == 0
    with pytest.raises(ValueError, match=r"nowhere: image folder not found \(expected class sub-folders"):
        read_image_folder(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no image files"):
        read_image_folder(tmp_path / "empty")


# ---------------------------------------------------------------------------------------------- CIFAR

def _dump_py2(path: Path, d: dict) -> None:
    """A pickle as the CIFAR release ships it: python-2 str keys, which python 3 reads as bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        pickle.dump({k.encode(): v for k, v in d.items()}, f, protocol=2)


def _write_cifar10(folder: Path, n_per_batch: int = 2) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    xs, ys = [], []
    for i in range(1, 6):
        data = rng.integers(0, 256, (n_per_batch, 3072), dtype=np.uint8)
        labels = [int(v) for v in rng.integers(0, 10, n_per_batch)]
        _dump_py2(folder / f"data_batch_{i}", {"batch_label": f"training batch {i} of 5".encode(), "labels": labels,
                                                "data": data, "filenames": [b"x.png"] * n_per_batch})
        xs.append(data)
        ys.extend(labels)
    test = rng.integers(0, 256, (3, 3072), dtype=np.uint8)
    _dump_py2(folder / "test_batch", {"labels": [9, 0, 4], "data": test})
    _dump_py2(folder / "batches.meta", {"label_names": [b"airplane", b"automobile", b"bird", b"cat", b"deer", b"dog",
                                                        b"frog", b"horse", b"ship", b"truck"],
                                        "num_cases_per_batch": n_per_batch, "num_vis": 3072})
    return np.concatenate(xs), np.asarray(ys), test, np.asarray([9, 0, 4])


def test_image_folder_refuses_nan_and_float_images(tmp_path):
    _png(tmp_path / "ok" / "a" / "0.png", np.zeros((4, 4), np.uint8))
    bad = np.zeros((4, 4), np.float32)
    bad[1, 2] = np.nan
    Image.fromarray(bad, mode="F").save(tmp_path / "ok" / "a" / "1.tif")
    with pytest.raises(ValueError, match=r"1\.tif: image has NaN/inf pixels"):
        read_image_folder(tmp_path / "ok")
    Image.fromarray(np.full((4, 4), 0.5, np.float32), mode="F").save(tmp_path / "ok" / "a" / "1.tif")
    with pytest.raises(ValueError, match=r"1\.tif: 32-bit float image \(mode F\)"):
        read_image_folder(tmp_path / "ok")


def test_image_folder_scales_16_bit_grey(tmp_path):
    a16 = np.array([[0, 257, 65535, 32896]], dtype=np.uint16)
    Image.fromarray(a16).save(tmp_path / "deep.png")
    images, labels, names = read_image_folder(tmp_path)
    assert images.dtype == np.uint8 and images[0, 0].tolist() == [[0, 1, 255, 128]]


def test_cifar10_batches(tmp_path):
    data, labels, test, test_labels = _write_cifar10(tmp_path / "cifar-10-batches-py")
    x, y, names = read_cifar(tmp_path, "train", "cifar10")                 # parent folder works
    assert x.shape == (10, 3, 32, 32) and x.dtype == np.uint8 and y.dtype == np.int64
    np.testing.assert_array_equal(y, labels)                               # batches 1..5 in order
    assert names[0] == "airplane" and names[9] == "truck" and len(names) == 10
    # channel-planar, row-major: pixel (c, h, w) of image i is data[i, 1024 c + 32 h + w]
    for i, c, h, w in [(0, 0, 0, 0), (3, 1, 5, 7), (9, 2, 31, 30)]:
        assert x[i, c, h, w] == data[i, 1024 * c + 32 * h + w]
    xt, yt, _ = read_cifar(tmp_path / "cifar-10-batches-py", "test")
    np.testing.assert_array_equal(xt.reshape(3, -1), test)
    assert yt.tolist() == test_labels.tolist()
    (tmp_path / "cifar-10-batches-py" / "data_batch_3").unlink()
    with pytest.raises(ValueError, match=r"data_batch_3: file not found \(expected a cifar10 python pickle"):
        read_cifar(tmp_path, "train")


def test_cifar100_fine_labels(tmp_path):
    rng = np.random.default_rng(2)
    folder = tmp_path / "cifar-100-python"
    data = rng.integers(0, 256, (4, 3072), dtype=np.uint8)
    _dump_py2(folder / "train", {"data": data, "fine_labels": [99, 3, 50, 0], "coarse_labels": [19, 1, 2, 0]})
    _dump_py2(folder / "test", {"data": data[:1], "fine_labels": [7], "coarse_labels": [1]})
    fine = [f"class{i}".encode() for i in range(100)]
    _dump_py2(folder / "meta", {"fine_label_names": fine, "coarse_label_names": [b"c"] * 20})
    x, y, names = read_cifar(tmp_path, "train", variant="cifar100")
    assert y.tolist() == [99, 3, 50, 0] and len(names) == 100 and names[99] == "class99"
    np.testing.assert_array_equal(x.reshape(4, -1), data)
    with pytest.raises(ValueError, match="variant must be one of"):
        read_cifar(tmp_path, "train", variant="cifar20")
    with pytest.raises(ValueError, match="split must be 'train' or 'test'"):
        read_cifar(tmp_path, "val", variant="cifar100")


# ---------------------------------------------------------------------------------------------- SVHN

def test_svhn_mat(tmp_path):
    rng = np.random.default_rng(3)
    X = rng.integers(0, 256, (32, 32, 3, 4), dtype=np.uint8)
    savemat(tmp_path / "test_32x32.mat", {"X": X, "y": np.array([[10], [1], [5], [10]], dtype=np.uint8)})
    x, y, names = read_svhn(tmp_path / "test_32x32.mat")
    assert y.tolist() == [0, 1, 5, 0] and y.dtype == np.int64 and names == [str(d) for d in range(10)]
    assert x.shape == (4, 3, 32, 32) and x.dtype == np.uint8
    np.testing.assert_array_equal(x[2], X[:, :, :, 2].transpose(2, 0, 1))
    assert x[1, 2, 31, 0] == X[31, 0, 2, 1]
    with pytest.raises(ValueError, match=r"train_32x32.mat: file not found \(expected an SVHN"):
        read_svhn(tmp_path / "train_32x32.mat")


# ---------------------------------------------------------------------------------------------- torchvision + dispatch

def test_torchvision_offline_reads_present_files_never_downloads(tmp_path, monkeypatch):
    monkeypatch.setattr(sources, "is_online", lambda url: pytest.fail("must not touch the network"))
    with pytest.raises(ValueError, match=r"cifar-10-batches-py/batches.meta: not found; place the cifar10 files .* "
                                         r"or set allow_download: true"):
        torchvision_download("cifar10", tmp_path, "train", allow_download=False)
    data, labels, _, _ = _write_cifar10(tmp_path / "cifar-10-batches-py", n_per_batch=1)
    x, y, _ = torchvision_download("cifar10", tmp_path, "train", allow_download=True)   # present: no download
    np.testing.assert_array_equal(x.reshape(5, -1), data)
    monkeypatch.setattr(sources, "is_online", lambda url: False)
    with pytest.raises(ValueError, match="allow_download is true but .* cannot be reached"):
        torchvision_download("svhn", tmp_path, "extra", allow_download=True)
    with pytest.raises(ValueError, match="name must be one of"):
        torchvision_download("imagenet", tmp_path)


def test_read_source_dispatch(tmp_path):
    _png(tmp_path / "folder" / "test" / "a" / "0.png", np.full((3, 3, 3), 9, dtype=np.uint8))
    _png(tmp_path / "folder" / "train" / "b" / "0.png", np.full((3, 3, 3), 200, dtype=np.uint8))
    x, y = read_source({"kind": "image_folder", "path": str(tmp_path / "folder")}, "test", size=6)
    assert x.shape == (1, 3, 6, 6) and np.all(x == 9) and y.tolist() == [0]
    X = np.zeros((32, 32, 3, 2), dtype=np.uint8)
    savemat(tmp_path / "train_32x32.mat", {"X": X, "y": np.array([[3], [10]])})
    x, y = read_source({"source": "svhn", "path": str(tmp_path), "n": 5}, "train")
    assert y.tolist() == [3, 0] and x.shape == (2, 3, 32, 32)
    with pytest.raises(ValueError, match="source kind must be"):
        read_source({"kind": "lsun", "path": "."})
    with pytest.raises(ValueError, match="cifar10: missing 'path'"):
        read_source({"kind": "cifar10"})
