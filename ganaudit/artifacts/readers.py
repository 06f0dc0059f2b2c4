"""Readers of the pipeline's artifacts, shaped for the analyses and figures that use them.

* `read_inversion` / `read_inversions` turn ``results/inversion/{model}/{group}.h5`` (errors and
  reconstructions ``[N, K, …]`` under each evaluated class) into one `Inversion` per group: each
  image's best class (`reduce_inversion`), with its original image when asked.
* `align_images` joins a table of (group, index) rows, e.g. ``results/density/per_image.csv``, with
  the images stored in the AIS files.

Images are uint8 ``[N, C, H, W]`` (stored format); reconstructions float32 on ``[-1, 1]``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ganaudit.artifacts import store

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Inversion", "reduce_inversion", "read_inversion", "read_inversions", "model_and_group", "align_images", "restart_latents"]


@dataclass(frozen=True)
class Inversion:
    """One model's inversion of one image group, reduced to one reconstruction per image.

    Attributes:
        group: image group name.
        error: float64 ``[N]`` per-pixel MSE on ``[-1, 1]`` under the best evaluated class (the own
            class for train/generated, which are evaluated under it only; the minimum over classes
            for every other group).
        perceptual: float64 ``[N]`` perceptual distance under the same class.
        best_class: int ``[N]`` the class of that reconstruction (0 for unconditional models).
        originals: uint8 ``[N, C, H, W]`` or None when not read.
        recon: float32 ``[N, C, H, W]`` on ``[-1, 1]`` or None when not read.
        metric: the perceptual distance's name (artifact attr ``perceptual_metric``).
    """

    group: str
    error: np.ndarray
    perceptual: np.ndarray
    best_class: np.ndarray
    originals: np.ndarray | None = None
    recon: np.ndarray | None = None
    metric: str = "perceptual"

    def __len__(self) -> int:
        return len(self.error)


def reduce_inversion(group: str, mse: np.ndarray, perceptual: np.ndarray | None = None,
                     recon: np.ndarray | None = None, originals: np.ndarray | None = None,
                     metric: str = "perceptual") -> Inversion:
    """Keep each image's best class: ``argmin_c mse[i, c]`` over the evaluated (non-NaN) classes.

    Args:
        mse: ``[N, K]`` per-pixel MSE, NaN where a class was not evaluated.
        perceptual: ``[N, K]`` (same NaN pattern) or None.
        recon: ``[N, K, C, H, W]`` or None.
        originals: uint8 ``[N, C, H, W]`` or None.

    Images with no evaluated class are dropped.
    """
    mse = np.asarray(mse, dtype=np.float64)
    if mse.ndim != 2:
        raise ValueError(f"mse must have shape [N, K], got {mse.shape}")
    ok = np.isfinite(mse).any(axis=1)
    filled = np.where(np.isfinite(mse), mse, np.inf)
    best = filled.argmin(axis=1)
    rows = np.flatnonzero(ok)
    b = best[rows]
    err = mse[rows, b]
    per = np.asarray(perceptual, dtype=np.float64)[rows, b] if perceptual is not None else np.full(len(rows), np.nan)
    rec = np.asarray(recon)[rows, b] if recon is not None else None
    org = np.asarray(originals)[rows] if originals is not None else None
    if org is not None and len(org) != len(err):
        raise ValueError(f"originals has {len(org)} images for {len(err)} inverted images")
    return Inversion(group, err, per, b, org, rec, metric)


def read_inversion(inversion_path: str | Path, images_path: str | Path | None = None) -> Inversion:
    """Read ``results/inversion/{model}/{group}.h5`` (+ the originals from ``images_path``, the data
    or samples file holding the group) and reduce it with `reduce_inversion`."""
    group = Path(inversion_path).stem
    names = ["mse", "perceptual", "index"] + (["recon"] if images_path is not None else [])
    d = store.read(inversion_path, names)
    metric = str(store.read_attrs(inversion_path).get("perceptual_metric", "perceptual"))
    originals = None
    if images_path is not None:
        with store.open_checked(images_path) as f:
            key = f"groups/{group}/images"
            if key not in f:
                raise store.ArtifactError(f"{images_path}: no image group '{group}'")
            idx = np.asarray(d["index"], dtype=np.int64)
            uniq, inv = np.unique(idx, return_inverse=True)
            originals = f[key][uniq][inv] if len(idx) else np.empty((0, *f[key].shape[1:]), np.uint8)
    return reduce_inversion(group, d["mse"], d["perceptual"], d.get("recon"), originals, metric)


def read_inversions(paths: Sequence[str | Path],
                    images: Sequence[str | Path] | None = None) -> dict[str, dict[str, Inversion]]:
    """``{model: {group: Inversion}}`` from ``results/inversion/{model}/{group}.h5`` paths.

    Originals are read when ``images`` is given: aligned with ``paths``, the file holding each group's
    images (``results/data/{dataset}/{group}.h5`` or ``results/samples/{model}/{group}.h5``); otherwise
    only the errors.
    """
    if images is not None and len(images) != len(paths):
        raise ValueError(f"images must name one file per inversion ({len(paths)}), got {len(images)}")
    out: dict[str, dict[str, Inversion]] = {}
    for i, p in enumerate(paths):
        model, group = model_and_group(p)
        out.setdefault(model, {})[group] = read_inversion(p, None if images is None else images[i])
    return out


def model_and_group(path: str | Path) -> tuple[str, str]:
    """``(model, group)`` of a per-model, per-group artifact ``results/<stage>/{model}/{group}.h5``."""
    p = Path(path)
    return p.parent.name, p.stem


def align_images(table: pd.DataFrame, images: Mapping[str, tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """The image of each row of ``table`` (columns ``group``, ``index``).

    Args:
        images: group → (index ``[M]``, uint8 images ``[M, C, H, W]``), e.g. from the AIS files.

    Returns:
        uint8 ``[len(table), C, H, W]``; a ValueError names the first (group, index) not found.
    """
    out = []
    lookup = {g: {int(i): k for k, i in enumerate(idx)} for g, (idx, _) in images.items()}
    for g, i in zip(table["group"], table["index"]):
        k = lookup.get(g, {}).get(int(i))
        if k is None:
            raise ValueError(f"images: no image for group {g!r} index {int(i)}")
        out.append(images[g][1][k])
    if not out:
        shape = next((v[1].shape[1:] for v in images.values()), (1, 1, 1))
        return np.empty((0, *shape), np.uint8)
    return np.stack(out)


def restart_latents(inversion_path: str | Path | None, start: int, stop: int, n_classes: int | None,
                    latent_dim: int) -> np.ndarray | None:
    """The inversion's restart latents ``[stop − start, K, R, d]`` of images ``start .. stop − 1`` (NaN for images
    the inversion did not cover), the starting points of the posterior start's mode search; None without a file."""
    if not inversion_path:
        return None
    d = store.read(inversion_path, ["restart_z", "index"])
    k = n_classes or 1
    out = np.full((stop - start, k, d["restart_z"].shape[2], latent_dim), np.nan, dtype=np.float32)
    where = {int(i): j for j, i in enumerate(d["index"])}
    for row, i in enumerate(range(start, stop)):
        if i in where:
            out[row] = d["restart_z"][where[i]]
    return out
