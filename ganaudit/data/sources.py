"""Readers for datasets the user has on disk: image folders, CIFAR-10/100 and SVHN files.

Every reader returns ``(images, labels, class_names)``: ``images`` uint8 ``[N, C, H, W]``, ``labels``
int64 ``[N]`` indexing ``class_names`` (``list[str]``). Nothing is downloaded unless the user asks for it
(`torchvision_download` with ``allow_download=True``). A missing file is a one-line ``ValueError`` naming
the path and the format expected there.

`read_source(spec, split)` is the config-facing dispatcher used by `ganaudit.data.images`.
"""

from __future__ import annotations

import pickle
import socket
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np
from PIL import Image

Dataset = tuple[np.ndarray, np.ndarray, list[str]]

RESAMPLE = {"nearest": Image.Resampling.NEAREST, "bilinear": Image.Resampling.BILINEAR,
            "bicubic": Image.Resampling.BICUBIC, "lanczos": Image.Resampling.LANCZOS,
            "box": Image.Resampling.BOX, "hamming": Image.Resampling.HAMMING}
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".ppm", ".pgm")
GREY_MODES = ("1", "L", "LA", "I", "I;16", "F")
CIFAR_DIRS = {"cifar10": "cifar-10-batches-py", "cifar100": "cifar-100-python"}
TORCHVISION_NAMES = ("cifar10", "cifar100", "svhn")
TORCHVISION_CLASSES = {"cifar10": "CIFAR10", "cifar100": "CIFAR100", "svhn": "SVHN"}
DOWNLOAD_URLS = {"cifar10": "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
                 "cifar100": "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz",
                 "svhn": "http://ufldl.stanford.edu/housenumbers/"}


# ---------------------------------------------------------------------------------------------- image folders

def _list_images(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def read_image_folder(root: str | Path, size: int | None = None, channels: int | None = None,
                      resample: str = "bilinear", center_crop: bool = False) -> Dataset:
    """Images under ``root/<class name>/*`` (class folders and files in sorted order; label = index of
    the class folder), or directly under ``root`` (one class named after ``root``).

    ``size``: resize every image to ``size×size`` with the PIL filter ``resample`` (``nearest``,
    ``bilinear``, ``bicubic``, ``lanczos``, ``box``, ``hamming``); without ``center_crop`` the aspect ratio
    is not kept; with it, the largest centred square is cropped first. ``None`` keeps the size (all images
    must then have the same size). ``channels``: 1 (PIL ``L``, ITU-R 601-2 luma) or 3 (``RGB``; grey is
    repeated, alpha dropped); ``None``: 1 if every image is grey, else 3. 16-bit grey images are scaled to
    8 bits (/257); float images and images with NaN are refused.
    """
    root = Path(root)
    if not root.is_dir():
        raise ValueError(f"{root}: image folder not found (expected class sub-folders of image files)")
    if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 1):
        raise ValueError(f"size must be a positive integer or None, got {size!r}")
    if channels not in (1, 3, None):
        raise ValueError(f"channels must be 1, 3 or None, got {channels!r}")
    if resample not in RESAMPLE:
        raise ValueError(f"resample must be one of {sorted(RESAMPLE)}, got {resample!r}")
    class_dirs = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    files: list[tuple[Path, int]] = []
    if class_dirs:
        class_names = [d.name for d in class_dirs]
        for k, d in enumerate(class_dirs):
            files.extend((f, k) for f in _list_images(d))
    else:
        class_names = [root.name]
        files = [(f, 0) for f in _list_images(root)]
    if not files:
        raise ValueError(f"{root}: no image files ({', '.join(IMAGE_SUFFIXES)}) in the folder or its class sub-folders")
    pils = []
    for f, _ in files:
        try:
            with Image.open(f) as im:
                im.load()
                pils.append(im.copy())
        except OSError as e:
            raise ValueError(f"{f}: not a readable image ({e})") from e
    if channels is None:
        channels = 1 if all(im.mode in GREY_MODES for im in pils) else 3
    out = []
    for (f, _), im in zip(files, pils):
        if im.mode in ("F", "I", "I;16") and not np.isfinite(np.asarray(im, dtype=np.float64)).all():
            raise ValueError(f"{f}: image has NaN/inf pixels (expected finite values)")
        if im.mode == "F":
            raise ValueError(f"{f}: 32-bit float image (mode F); save it as 8-bit grey or RGB (PNG/JPEG) "
                             "so the value scale is unambiguous")
        if im.mode.startswith("I"):  # 16-bit grey (PIL "I;16*" or "I"): PIL's convert would clip at 255
            a16 = np.asarray(im, dtype=np.float64)
            if a16.min() < 0 or a16.max() > 65535:
                raise ValueError(f"{f}: integer image with values outside [0, 65535]; expected 8- or 16-bit pixels")
            im = Image.fromarray(np.round(a16 / 257.0).astype(np.uint8), mode="L")
        im = im.convert("L" if channels == 1 else "RGB")
        if size is not None:
            if center_crop and im.width != im.height:
                s = min(im.width, im.height)
                left, top = (im.width - s) // 2, (im.height - s) // 2
                im = im.crop((left, top, left + s, top + s))
            if im.size != (size, size):
                im = im.resize((size, size), RESAMPLE[resample])
        a = np.asarray(im, dtype=np.uint8)
        out.append(a[None] if channels == 1 else a.transpose(2, 0, 1))
    shapes = {a.shape for a in out}
    if len(shapes) > 1:
        raise ValueError(f"{root}: images have different sizes {sorted(s[1:] for s in shapes)[:4]}; set size")
    labels = np.asarray([k for _, k in files], dtype=np.int64)
    return np.ascontiguousarray(np.stack(out)), labels, class_names


# ---------------------------------------------------------------------------------------------- CIFAR

def _unpickle(path: Path, expected: str) -> dict[str, Any]:
    if not path.is_file():
        raise ValueError(f"{path}: file not found (expected {expected})")
    try:
        with open(path, "rb") as f:
            d = pickle.load(f, encoding="bytes")
    except (pickle.UnpicklingError, EOFError, ValueError) as e:
        raise ValueError(f"{path}: not a CIFAR python pickle ({e})") from e
    if not isinstance(d, dict):
        raise ValueError(f"{path}: expected a pickled dict ({expected}), got {type(d).__name__}")
    return {(k.decode("latin1") if isinstance(k, bytes) else k): v for k, v in d.items()}


def _field(d: dict[str, Any], key: str, path: Path) -> Any:
    if key not in d:
        raise ValueError(f"{path}: missing key {key!r} (have {sorted(d)})")
    return d[key]


def _names(values: Any) -> list[str]:
    return [v.decode("utf-8") if isinstance(v, bytes) else str(v) for v in values]


def _cifar_dir(root: Path, variant: str) -> Path:
    sub = root / CIFAR_DIRS[variant]
    return sub if sub.is_dir() else root


def read_cifar(root: str | Path, split: str = "train", variant: str = "cifar10") -> Dataset:
    """CIFAR-10 / CIFAR-100 from the python pickle files (the ``*-python.tar.gz`` release, extracted).

    ``root`` is the folder with the files, or its parent holding ``cifar-10-batches-py`` /
    ``cifar-100-python``. CIFAR-10: ``data_batch_1..5`` (train, in that order), ``test_batch``,
    ``batches.meta`` (``label_names``); CIFAR-100: ``train``, ``test``, ``meta`` with the 100 fine labels
    (``fine_labels``, ``fine_label_names``). Rows of ``data`` are 3072 bytes (1024 R, 1024 G, 1024 B,
    row-major), returned as ``[N, 3, 32, 32]``.
    """
    if variant not in CIFAR_DIRS:
        raise ValueError(f"variant must be one of {sorted(CIFAR_DIRS)}, got {variant!r}")
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    d = _cifar_dir(Path(root), variant)
    fmt = f"a {variant} python pickle (from {DOWNLOAD_URLS[variant]})"
    if variant == "cifar10":
        names = ["data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5"] \
            if split == "train" else ["test_batch"]
        label_key, meta_name, names_key = "labels", "batches.meta", "label_names"
    else:
        names, label_key, meta_name, names_key = [split], "fine_labels", "meta", "fine_label_names"
    xs, ys = [], []
    for name in names:
        path = d / name
        batch = _unpickle(path, fmt)
        data = np.asarray(_field(batch, "data", path), dtype=np.uint8)
        labels = np.asarray(_field(batch, label_key, path), dtype=np.int64)
        if data.ndim != 2 or data.shape[1] != 3072 or len(labels) != len(data):
            raise ValueError(f"{path}: expected data [N, 3072] and {label_key} [N], got {data.shape} and {labels.shape}")
        xs.append(data.reshape(-1, 3, 32, 32))
        ys.append(labels)
    meta_path = d / meta_name
    class_names = _names(_field(_unpickle(meta_path, fmt), names_key, meta_path))
    return np.ascontiguousarray(np.concatenate(xs)), np.concatenate(ys), class_names


# ---------------------------------------------------------------------------------------------- SVHN

def read_svhn(path: str | Path) -> Dataset:
    """SVHN cropped digits from a ``{train,test,extra}_32x32.mat`` file (MATLAB, read with scipy): ``X``
    uint8 ``[32, 32, 3, N]``, ``y`` ``[N, 1]`` with 1..10 where 10 means the digit 0 (mapped to label 0).
    Class names ``"0"..."9"``; label = digit."""
    from scipy.io import loadmat

    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: file not found (expected an SVHN *_32x32.mat file from {DOWNLOAD_URLS['svhn']})")
    try:
        mat = loadmat(str(path))
    except (ValueError, OSError, TypeError) as e:
        raise ValueError(f"{path}: not a MATLAB .mat file ({e})") from e
    if "X" not in mat or "y" not in mat:
        raise ValueError(f"{path}: expected variables 'X' [32, 32, 3, N] and 'y' [N, 1]")
    x, y = np.asarray(mat["X"]), np.asarray(mat["y"]).reshape(-1).astype(np.int64)
    if x.ndim != 4 or x.shape[2] != 3 or x.shape[3] != len(y):
        raise ValueError(f"{path}: expected X [H, W, 3, N] matching y [N], got {x.shape} and {y.shape}")
    y = np.where(y == 10, 0, y)
    if len(y) and (y.min() < 0 or y.max() > 9):
        raise ValueError(f"{path}: labels must lie in 1..10, got [{y.min()}, {y.max()}]")
    images = np.ascontiguousarray(x.transpose(3, 2, 0, 1).astype(np.uint8))
    return images, y, [str(d) for d in range(10)]


# ---------------------------------------------------------------------------------------------- torchvision

def is_online(url: str, timeout: float = 3.0) -> bool:
    """Whether a TCP connection to ``url``'s host (port 443) opens within ``timeout`` seconds."""
    host = urlparse(url).hostname or url
    try:
        with socket.create_connection((host, 443), timeout=timeout):
            return True
    except OSError:
        return False


def _torchvision_file(name: str, root: Path, split: str) -> Path:
    if name == "svhn":
        return root / f"{split}_32x32.mat"
    return root / CIFAR_DIRS[name] / ("batches.meta" if name == "cifar10" else "meta")


def _read_torchvision_layout(name: str, root: Path, split: str) -> Dataset:
    if name == "svhn":
        return read_svhn(root / f"{split}_32x32.mat")
    return read_cifar(root / CIFAR_DIRS[name], split, name)


def torchvision_download(name: str, root: str | Path, split: str = "train", allow_download: bool = False) -> Dataset:
    """CIFAR-10, CIFAR-100 or SVHN in torchvision's layout under ``root`` (``cifar-10-batches-py/``,
    ``cifar-100-python/``, ``{split}_32x32.mat``), downloaded by torchvision only if ``allow_download``
    and the files are not there yet. Read with our own readers."""
    if name not in TORCHVISION_NAMES:
        raise ValueError(f"name must be one of {list(TORCHVISION_NAMES)}, got {name!r}")
    splits = ("train", "test", "extra") if name == "svhn" else ("train", "test")
    if split not in splits:
        raise ValueError(f"split must be one of {list(splits)} for {name}, got {split!r}")
    root = Path(root)
    marker = _torchvision_file(name, root, split)
    if not marker.is_file():
        if not allow_download:
            raise ValueError(f"{marker}: not found; place the {name} files there (from {DOWNLOAD_URLS[name]}) "
                             f"or set allow_download: true")
        if not is_online(DOWNLOAD_URLS[name]):
            raise ValueError(f"{name}: allow_download is true but {urlparse(DOWNLOAD_URLS[name]).hostname} cannot "
                             f"be reached; place the files at {marker}")
        import torchvision.datasets as tvd

        cls = getattr(tvd, TORCHVISION_CLASSES[name])
        root.mkdir(parents=True, exist_ok=True)
        if name == "svhn":
            cls(str(root), split=split, download=True)
        else:
            cls(str(root), train=split == "train", download=True)
    return _read_torchvision_layout(name, root, split)


# ---------------------------------------------------------------------------------------------- dispatcher

def read_source(spec: Mapping[str, Any], split: str = "train", size: int | None = None,
                channels: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Images and labels of a user source from its config ``spec``.

    The source type is ``spec["kind"]`` (dataset sources) or ``spec["source"]`` (image groups):
    ``image_folder`` (``path``; ``path/<split>`` is used when that folder exists; ``size``/``channels``
    from the spec or the arguments, ``resample``, ``center_crop``), ``cifar10`` / ``cifar100`` (``path``),
    ``svhn`` (``path``: a ``.mat`` file, or a folder with ``{split}_32x32.mat``), ``torchvision``
    (``name``, ``path``, ``allow_download``). Other keys are ignored.
    """
    kind = spec.get("kind") or spec.get("source")
    if kind not in ("image_folder", "cifar10", "cifar100", "svhn", "torchvision"):
        raise ValueError(f"source kind must be image_folder, cifar10, cifar100, svhn or torchvision, got {kind!r}")
    if kind != "torchvision" and spec.get("path") is None:
        raise ValueError(f"{kind}: missing 'path' (the location of the files)")
    path = Path(spec.get("path", spec.get("root", ".")))
    if kind == "image_folder":
        folder = path / split if (path / split).is_dir() else path
        x, y, _ = read_image_folder(folder, spec.get("size", size), spec.get("channels", channels),
                                    spec.get("resample", "bilinear"), bool(spec.get("center_crop", False)))
    elif kind in ("cifar10", "cifar100"):
        x, y, _ = read_cifar(path, split, kind)
    elif kind == "svhn":
        x, y, _ = read_svhn(path if path.suffix == ".mat" else path / f"{split}_32x32.mat")
    else:
        if spec.get("name") is None:
            raise ValueError(f"torchvision: missing 'name' (one of {list(TORCHVISION_NAMES)})")
        x, y, _ = torchvision_download(spec["name"], path, split, bool(spec.get("allow_download", False)))
    return x, y
