"""The run's real images embedded once, in every feature space the audits read: ``results/features/real.h5``.

The support, memorisation and metrics audits compare a model's samples with the run's training and test images in
the same feature spaces (`ganaudit.metrics.features`). The samples differ per model; the real images do not, so
`write_real_features` embeds every image of each split once (the job of rule ``real_features``) and the audits
read the rows they need (`RealFeatures.rows`): a random split of all training images for the support test's
calibration and held-out pools, the first training and test images for memorisation and the metrics.

Layout: one dataset per space and split, ``{space}/{split}`` float32 ``[N, F]`` (row ``i`` is image ``i`` of the
split's group in the data file), chunked by rows so a read of some rows touches only their chunks. Every network
the spaces use computes in float32 (`Perceptual.embed`, the classifier, the TorchScript networks), so float32
storage holds the features exactly. Attrs: on each space's group ``description`` (`SPACE_DESCRIPTIONS`),
``dim`` and ``n_<split>``; on the file, besides the provenance, ``spaces``, ``splits``, and for the perceptual
space ``perceptual_metric`` and ``perceptual_backend``. ``pixels`` (L2) costs nothing to compute and is not stored.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ganaudit.artifacts import store
from ganaudit.metrics.features import SPACE_DESCRIPTIONS

if TYPE_CHECKING:
    import h5py
    from torch import Tensor

__all__ = ["CACHED_SPACES", "SPLITS", "PATH", "space_functions", "write_real_features", "RealFeatures",
           "read_real_features"]

CACHED_SPACES = ("perceptual", "classifier", "inception", "dinov2")
"""The feature spaces the cache may hold (``pixels`` is the images themselves)."""

SPLITS = ("train", "test")
"""The data groups embedded: every image of each."""

PATH = "results/features/real.h5"
"""Where the workflow keeps the cache (rule ``real_features``)."""

_CHUNK_BYTES = 1 << 20  # HDF5 chunk of about 1 MiB (the default chunk cache), whole rows


def _ascii(text: str) -> str:
    """Text for an HDF5 attr: ASCII (the artifacts' text attrs are ASCII)."""
    return text.encode("ascii", "backslashreplace").decode("ascii")


def space_functions(spaces: list[str] | tuple[str, ...], classifier: Any | None = None, perceptual: Any | None = None,
                    weights: Mapping[str, str | None] | None = None) -> dict[str, Callable[[Tensor], np.ndarray]]:
    """``{space: model-scale images → float32 features}`` for ``spaces`` (a subset of `CACHED_SPACES`): the
    functions of `ganaudit.metrics.features.feature_function`, in float32 (the networks' own precision). A space
    whose network the run lacks is a one-line error."""
    from ganaudit.metrics.features import feature_function

    out: dict[str, Callable[[Tensor], np.ndarray]] = {}
    for space in spaces:
        if space not in CACHED_SPACES:
            raise ValueError(f"real features: space {space!r} is not cached (cached: {', '.join(CACHED_SPACES)})")
        if space == "perceptual" and perceptual is not None:
            out[space] = lambda x, p=perceptual: p.embed(x.float()).float().cpu().numpy()
            continue
        fn = feature_function(space, classifier, perceptual, weights)
        if fn is None:
            raise ValueError(f"real features: space {space!r} needs "
                             f"{'a classifier' if space == 'classifier' else 'a perceptual distance' if space == 'perceptual' else f'a weights file (beyond.metrics.weights.{space})'}"
                             ", which the run lacks")
        out[space] = lambda x, f=fn: np.asarray(f(x), dtype=np.float32)
    return out


def write_real_features(path: str | Path, images: Mapping[str, np.ndarray],
                        functions: Mapping[str, Callable[[Tensor], np.ndarray]], attrs: Mapping[str, Any] | None = None,
                        chunk: int = 1000, log: Callable[[str], None] | None = None) -> Path:
    """Embed every image of each split and write ``{space}/{split}`` float32 ``[N, F]`` to ``path`` atomically.

    Args:
        images: ``{split: uint8 images [N, C, H, W]}`` as stored in the data files (converted to the model scale a
            chunk at a time).
        functions: ``{space: model-scale images → features [n, F]}`` (`space_functions`).
        attrs: further file attrs (the provenance, the perceptual metric's name and backend).
        chunk: images embedded at once (memory: ``chunk × F`` floats per space).
        log: called with one line per space and split (e.g. ``logging.info``).
    """
    import time

    import torch

    from ganaudit.data.images import to_model_scale

    sizes = {split: len(x) for split, x in images.items()}
    if not all(sizes.values()):
        raise ValueError(f"real features: every split needs images, got {sizes}")
    group_attrs = {space: {"description": _ascii(SPACE_DESCRIPTIONS[space]),
                           **{f"n_{split}": n for split, n in sizes.items()}} for space in functions}
    file_attrs = {**(attrs or {}), "spaces": list(functions), "splits": list(images)}
    with store.writing(path, {k: _ascii(v) if isinstance(v, str) else v for k, v in file_attrs.items()},
                       group_attrs) as f:
        for space, fn in functions.items():
            for split, x in images.items():
                t0 = time.perf_counter()
                ds = None
                with torch.no_grad():
                    for a in range(0, len(x), chunk):
                        feats = np.asarray(fn(to_model_scale(x[a:a + chunk])), dtype=np.float32)
                        if ds is None:
                            ds = _create(f, f"{space}/{split}", len(x), feats.shape[1] if feats.ndim == 2 else 0)
                            f[space].attrs["dim"] = ds.shape[1]
                        ds[a:a + len(feats)] = feats
                if log:
                    log(f"{space}/{split}: {len(x)} images, {ds.shape[1]} features, {time.perf_counter() - t0:.1f} s")
    return Path(path)


def _create(f: h5py.File, name: str, n: int, dim: int) -> h5py.Dataset:
    rows = max(1, min(n, _CHUNK_BYTES // max(4 * dim, 1)))
    return f.create_dataset(name, shape=(n, dim), dtype=np.float32, chunks=(rows, dim) if n and dim else None)


class RealFeatures:
    """A reader of the cache: which spaces it holds (`spaces`), their attrs, and `rows` of one (space, split).
    Opening checks the file (`ganaudit.artifacts.store.open_checked`: one-line error naming it)."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        with store.open_checked(self.path) as f:
            self.attrs = {k: (v.item() if isinstance(v, np.generic) else v) for k, v in f.attrs.items()}
            self.spaces = {k: dict(g.attrs) for k, g in f.items() if hasattr(g, "keys")}

    def rows(self, space: str, split: str, rows: np.ndarray | list[int] | range | None = None) -> np.ndarray:
        """Features float32 ``[len(rows), F]`` of images ``rows`` (in that order, repeats allowed; all when None) of
        ``split`` in ``space``. Reads only the asked rows: the sorted rows, a run of consecutive ones per read."""
        key = f"{space}/{split}"
        with store.open_checked(self.path) as f:
            if key not in f:
                have = []
                f.visititems(lambda n, o: have.append(n) if hasattr(o, "shape") else None)
                raise store.ArtifactError(f"{self.path}: no cached features '{key}' (has: {', '.join(sorted(have)) or 'none'})")
            ds = f[key]
            if rows is None:
                return ds[()]
            idx = np.asarray(rows, dtype=np.int64).reshape(-1)
            if len(idx) and (idx.min() < 0 or idx.max() >= ds.shape[0]):
                raise store.ArtifactError(f"{self.path}: '{key}' has {ds.shape[0]} rows; asked for row "
                                          f"{int(idx.min() if idx.min() < 0 else idx.max())}")
            out = np.empty((len(idx), ds.shape[1]), dtype=np.float32)
            order = np.argsort(idx, kind="stable")
            srt = idx[order]
            in_order = bool(np.all(order == np.arange(len(idx))))
            for a, b in _runs(srt):
                if in_order:
                    ds.read_direct(out, np.s_[srt[a]:srt[b - 1] + 1], np.s_[a:b])
                else:
                    out[order[a:b]] = ds[srt[a]:srt[b - 1] + 1]
            return out

    def chunks(self, space: str, split: str, n: int, chunk: int = 1000) -> Iterator[np.ndarray]:
        """The first ``n`` rows of ``space``/``split`` a ``chunk`` at a time (never all in memory at once)."""
        for a in range(0, n, chunk):
            yield self.rows(space, split, np.arange(a, min(n, a + chunk)))

    def check_perceptual(self, name: str, backend: str) -> None:
        """One-line error when the cache was embedded under another perceptual distance than ``name``/``backend``."""
        have = (self.attrs.get("perceptual_metric"), self.attrs.get("perceptual_backend"))
        if have != (_ascii(name), backend):
            raise store.ArtifactError(f"{self.path}: cached perceptual features are of {have[0]} [{have[1]}]; this "
                                      f"audit uses {name} [{backend}] (rerun rule real_features)")

    def describe(self) -> str:
        return json.dumps({s: {k: (v.item() if isinstance(v, np.generic) else v) for k, v in a.items()}
                           for s, a in self.spaces.items()})


def _runs(sorted_rows: np.ndarray) -> list[tuple[int, int]]:
    """``(start, stop)`` positions of the runs of consecutive values in sorted rows."""
    if not len(sorted_rows):
        return []
    breaks = np.flatnonzero(np.diff(sorted_rows) != 1) + 1
    return list(zip(np.r_[0, breaks].tolist(), np.r_[breaks, len(sorted_rows)].tolist()))


def read_real_features(path: str | Path, space: str, split: str,
                       rows: np.ndarray | list[int] | range | None = None) -> np.ndarray:
    """`RealFeatures.rows` of the cache at ``path``."""
    return RealFeatures(path).rows(space, split, rows)
