"""A model given as stored samples instead of a generator (config kind ``samples``).

A folder of PNG/JPEG images (read in file-name order), an ``.npz`` with an ``images`` array and optional ``labels``,
or an HDF5 file with a dataset ``images`` (optional ``labels``; a file with a single dataset may name it anything).
Arrays are uint8 ``[N, C, H, W]`` or ``[N, H, W, C]`` (``[N, H, W]`` for one channel). Labels are the dataset's
source labels (e.g. MNIST digits) and are mapped to the model's class indices by ``dataset.classes``.
The audits that need only samples draw from them without replacement (`StoredSamples.draw`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["SAMPLES_KEYS", "IMAGE_SUFFIXES", "StoredSamples", "read_samples", "artifact_tree",
           "write_png_folder", "unused_training_images"]

SAMPLES_KEYS = frozenset({"kind", "path", "role", "name", "description"})
"""The keys a ``samples`` model's config entry may have."""
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
"""Image files read from a folder (case-insensitive)."""


@dataclass(frozen=True)
class StoredSamples:
    """Stored samples: ``images`` uint8 ``[N, C, H, W]``, ``labels`` int64 ``[N]`` model class indices (None when
    the samples have no classes), ``source`` the file or folder they came from."""

    images: np.ndarray
    labels: np.ndarray | None
    source: str

    def __len__(self) -> int:
        return len(self.images)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(int(v) for v in self.images.shape[1:])  # type: ignore[return-value]

    def draw(self, n: int, seed: int) -> tuple[np.ndarray, np.ndarray | None]:
        """``n`` samples drawn without replacement, the same for the same ``seed``: ``(images, labels)``; a one-line
        ``ValueError`` when more are asked for than are stored."""
        if n > len(self):
            raise ValueError(f"{self.source}: {n} samples asked for, but only {len(self)} are stored "
                             "(lower the audit's sample count or store more samples)")
        if n < 0:
            raise ValueError(f"n must be ≥ 0, got {n}")
        idx = np.random.default_rng(seed).choice(len(self), size=n, replace=False)
        return self.images[idx], (None if self.labels is None else self.labels[idx])


def _read_folder(path: Path, channels: int | None) -> np.ndarray:
    from PIL import Image

    files = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise ValueError(f"{path}: no {'/'.join(s[1:].upper() for s in IMAGE_SUFFIXES)} images in the folder")
    mode = {1: "L", 3: "RGB"}.get(channels or 0)
    arrays = []
    for f in files:
        with Image.open(f) as im:
            arrays.append(np.asarray(im.convert(mode) if mode else im))
    shapes = {a.shape for a in arrays}
    if len(shapes) > 1:
        raise ValueError(f"{path}: the images differ in shape ({sorted(shapes)[:3]} …); all must have one shape")
    return np.stack(arrays)


def _read_arrays(path: Path) -> tuple[np.ndarray, np.ndarray | None]:
    suffix = path.suffix.lower()
    if suffix == ".npz":
        with np.load(path, allow_pickle=False) as f:
            if "images" not in f:
                raise ValueError(f"{path}: no array 'images' (has: {', '.join(f.files) or 'none'})")
            return f["images"], (f["labels"] if "labels" in f else None)
    if suffix in (".h5", ".hdf5"):
        import h5py

        with h5py.File(path, "r") as f:
            names: list[str] = []
            f.visititems(lambda name, obj: names.append(name) if isinstance(obj, h5py.Dataset) else None)
            key = "images" if "images" in names else (names[0] if len(names) == 1 else None)
            if key is None:
                raise ValueError(f"{path}: no dataset 'images' (has: {', '.join(names) or 'none'})")
            return f[key][()], (f["labels"][()] if key == "images" and "labels" in names else None)
    raise ValueError(f"{path}: expected a folder of images, an .npz or an HDF5 file (.h5, .hdf5)")


def _to_nchw(arr: np.ndarray, image_shape: tuple[int, int, int] | None, where: str) -> np.ndarray:
    c, h, w = image_shape if image_shape else (None, None, None)
    expected = f"uint8 [N, {c}, {h}, {w}] or [N, {h}, {w}, {c}] (the dataset's shape)" if image_shape else \
        "uint8 [N, C, H, W] or [N, H, W, C]"
    if arr.dtype != np.uint8:
        raise ValueError(f"{where}: images are {arr.dtype}; expected {expected}")
    if arr.ndim == 3:
        arr = arr[:, None]
    if arr.ndim != 4:
        raise ValueError(f"{where}: images of shape {tuple(arr.shape)}; expected {expected}")
    if image_shape is None:
        return arr if arr.shape[1] in (1, 3) or arr.shape[-1] not in (1, 3) else np.ascontiguousarray(arr.transpose(0, 3, 1, 2))
    if tuple(arr.shape[1:]) == tuple(image_shape):
        return arr
    if tuple(arr.shape[1:]) == (h, w, c):
        return np.ascontiguousarray(arr.transpose(0, 3, 1, 2))
    raise ValueError(f"{where}: images of shape {tuple(arr.shape)}; expected {expected}")


def read_samples(path: str | Path, image_shape: Sequence[int] | None = None,
                 classes: Sequence[int] | None = None) -> StoredSamples:
    """Read stored samples (a folder of PNG/JPEG images, an ``.npz`` or an HDF5 file; see the module docstring).

    Args:
        image_shape: the dataset's ``(C, H, W)``; images of another shape are a one-line ``ValueError`` naming the
            file and the expected shape (a folder's images are converted to grey or RGB to match ``C``).
        classes: the dataset's source labels in class order (``dataset.classes``): stored labels are mapped to their
            index; a label outside them is an error. None: stored labels are taken as class indices.
    """
    p = Path(path).expanduser()
    if not p.exists():
        raise ValueError(f"{p}: stored samples not found")
    shape = tuple(int(v) for v in image_shape) if image_shape is not None else None
    if p.is_dir():
        arr, labels = _read_folder(p, shape[0] if shape else None), None
    else:
        arr, labels = _read_arrays(p)
    images = _to_nchw(np.asarray(arr), shape, str(p))  # type: ignore[arg-type]
    if len(images) == 0:
        raise ValueError(f"{p}: holds no images")
    if labels is not None:
        labels = np.asarray(labels).astype(np.int64).reshape(-1)
        if len(labels) != len(images):
            raise ValueError(f"{p}: {len(labels)} labels for {len(images)} images")
        if classes is not None:
            index = {int(c): i for i, c in enumerate(classes)}
            unknown = sorted(set(labels.tolist()) - set(index))
            if unknown:
                raise ValueError(f"{p}: labels {unknown[:5]} are not among the dataset's classes {list(classes)}")
            labels = np.array([index[int(v)] for v in labels], dtype=np.int64)
    return StoredSamples(images, labels, str(p))


def artifact_tree(stored: StoredSamples, n_classes: int | None) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """``(tree, group_attrs)`` of the pipeline's stored-samples artifact (``results/models/{model}/samples.h5``, for
    `ganaudit.artifacts.store.write`): the group ``stored`` in the data-group layout (`ganaudit.data.images.read_group`;
    labels −1 when there are none) and its attr ``n_classes`` (−1: the samples have no classes)."""
    n = len(stored)
    labels = stored.labels if stored.labels is not None else np.full(n, -1, dtype=np.int64)
    k = int(n_classes) if stored.labels is not None and n_classes else -1
    tree = {"groups": {"stored": {"images": stored.images, "labels": labels, "source_labels": np.full(n, -1)}}}
    return tree, {"groups/stored": {"kind": "stored samples", "description": f"stored samples from {stored.source}",
                                    "n_classes": k}}


def write_png_folder(images: np.ndarray, folder: str | Path) -> list[Path]:
    """Write uint8 ``[N, C, H, W]`` images as ``000000.png``, ``000001.png``, … in ``folder`` (made if absent): a
    folder `read_samples` reads back unchanged (PNG is lossless)."""
    from PIL import Image

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, im in enumerate(np.asarray(images, dtype=np.uint8)):
        path = out / f"{i:06d}.png"
        Image.fromarray(im[0] if im.shape[0] == 1 else im.transpose(1, 2, 0)).save(path)
        paths.append(path)
    return paths


def unused_training_images(dataset: Mapping[str, Any], n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` training images of ``dataset`` (a config's ``dataset`` section, with ``max_train``) that a run with it
    does not use: the next ``n`` in the run's order after its first ``max_train`` (`ganaudit.data.images.dataset_split`).
    Fresh draws from the training distribution, neither trained on nor tested on: the samples of a perfect GAN.
    Returns ``(images uint8 [n, C, H, W], source labels [n])``."""
    from ganaudit.data.images import dataset_split

    cap = dataset.get("max_train")
    if cap is None:
        raise ValueError("dataset.max_train must be set: the unused images are those after the first max_train")
    g = dataset_split({**dict(dataset), "max_train": int(cap) + int(n)}, "train", seed)
    if len(g.images) < int(cap) + int(n):
        raise ValueError(f"the training split holds {len(g.images)} images of the classes; {cap} + {n} asked for")
    return g.images[int(cap):], g.source_labels[int(cap):]
