"""What the tests beyond the paper share as pipeline stages (rules/beyond.smk), and the latent-size sweep.

Each test's stage lives in its own module, beside the test: `ganaudit.audits.support.support_audit` (birthday paradox),
`ganaudit.audits.memorisation.memorisation_audit`, `ganaudit.audits.coverage.coverage_audit` and `ganaudit.audits.tgtr.tgtr_audit`;
each returns what its artifact ``results/<test>/{model}.h5`` holds and its table rows. Here: the model's sample
pool (`model_pool`), data frames in HDF5 (`write_frames`, `read_frame`: one dataset per column, the column order
in the group's ``columns`` attr), the artifact's notes (what was skipped and why, attr ``notes``), the tables
gathered over the GANs (`gather_tables`), and the latent-size sweep's rows (`latent_sweep_rows`).

Distances are keyed ``l2`` (MSE per pixel-channel on the model scale ``[-1, 1]``) and ``perceptual`` (the run's
LPIPS; its name in the group attr ``distance``). Images are uint8 ``[N, C, H, W]`` as stored, or float
``[N, C, H, W]`` on ``[-1, 1]``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ganaudit.artifacts import store
from ganaudit.audits.registry import AUDITS

if TYPE_CHECKING:
    from torch import Tensor

    from ganaudit.models.base import Generator, Samples

__all__ = ["DISTANCES", "model_pool", "frame_tree", "write_frames", "read_frame", "read_notes", "distance_names",
           "write_audit", "read_by_distance", "gather_table", "gather_tables", "pair_images", "as_uint8", "latent_sweep_rows"]

DISTANCES = ("l2", "perceptual")
"""Keys of the two distances in the artifacts (L2 = MSE on the model scale; the run's perceptual distance)."""


# ---------------------------------------------------------------------------------------------- samples


def model_pool(generator: Generator, n: int, seed: int, class_labels: np.ndarray | None = None,
               batch_size: int = 500) -> Samples:
    """``n`` samples of ``generator`` (`ganaudit.models.base.sample`, latents seeded ``seed``).

    A class-conditional generator gets classes drawn i.i.d. from ``class_labels`` (the training labels, model
    class indices): the pool is then an i.i.d. sample of the model's distribution over the data's class
    proportions, as the birthday test and the label histogram need. Without ``class_labels`` the classes
    cycle ``0, 1, …, K−1``.
    """
    import torch

    from ganaudit.models.base import sample

    if generator.n_classes and class_labels is not None and len(class_labels):
        rng = np.random.default_rng(seed)
        labels: Any = torch.as_tensor(rng.choice(np.asarray(class_labels, dtype=np.int64), size=n))
    else:
        labels = "cycle"
    return sample(generator, n, seed, labels=labels, batch_size=batch_size)


# ---------------------------------------------------------------------------------------------- frames in HDF5


def frame_tree(df: pd.DataFrame) -> dict[str, np.ndarray]:
    """A data frame as ``{column: array}`` for `ganaudit.artifacts.store.write` (text columns as fixed strings)."""
    out = {}
    for c in df.columns:
        v = df[c].to_numpy()
        out[str(c)] = v.astype(str) if v.dtype == object else v
    return out


def write_frames(frames: Mapping[str, pd.DataFrame]) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """``(tree, group_attrs)`` for `ganaudit.artifacts.store.write` holding each frame under its path (e.g. ``l2/curves``)."""
    tree: dict[str, Any] = {}
    attrs = {}
    for path, df in frames.items():
        node = tree
        *parents, leaf = path.split("/")
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = frame_tree(df)
        attrs[path] = {"columns": json.dumps([str(c) for c in df.columns])}
    return tree, attrs


def read_frame(path: str | Path, name: str) -> pd.DataFrame:
    """The frame stored under ``name`` by `write_frames` (one-line `ganaudit.artifacts.store.ArtifactError` if absent)."""
    cols = json.loads(store.read_attrs(path, name)["columns"])
    d = store.read(path, [f"{name}/{c}" for c in cols])
    return pd.DataFrame({c: d[f"{name}/{c}"] for c in cols})


def read_notes(path: str | Path) -> list[str]:
    """The artifact's notes (what was skipped and why)."""
    return list(json.loads(store.read_attrs(path).get("notes", "[]")))


def distance_names(path: str | Path) -> dict[str, str]:
    """``{distance key: its name}`` of a support or memorisation artifact, in the order of `DISTANCES`."""
    return {key: str(store.read_attrs(path, key)["distance"]) for key in DISTANCES}


def write_audit(path: str | Path, tree: Mapping[str, Any], group_attrs: Mapping[str, Mapping[str, Any]],
                params: Mapping[str, Any], seed: int, notes: Sequence[str] = (), **attrs: Any) -> None:
    """Write a test's artifact atomically: its ``tree`` and group attrs, with the provenance of ``params`` and
    ``seed``, the ``notes`` (what was skipped and why) and any further file attrs."""
    file_attrs = store.provenance(dict(params), seed)
    file_attrs.update(attrs, notes=list(notes))
    store.write(path, dict(tree), file_attrs, dict(group_attrs))


def read_by_distance(path: str | Path, frames: Sequence[str] = (), arrays: Sequence[str] = ()) -> dict[str, dict[str, Any]]:
    """``{distance name: {item: value}}`` of a support or memorisation artifact: the frames (`read_frame`) and
    arrays stored under each distance key (e.g. ``frames=("pairs",), arrays=("pair_images",)``)."""
    out = {}
    for key, name in distance_names(path).items():
        d = store.read(path, [f"{key}/{a}" for a in arrays]) if arrays else {}
        out[name] = {**{f: read_frame(path, f"{key}/{f}") for f in frames}, **{a: d[f"{key}/{a}"] for a in arrays}}
    return out


def gather_table(paths: Iterable[str | Path], name: str = "table") -> tuple[pd.DataFrame, list[str]]:
    """The frames ``name`` of several models' artifacts ``results/<stage>/{model}.h5``, stacked with a first
    column ``model``, and their notes prefixed with the model."""
    frames, notes = [], []
    for p in paths:
        model = Path(p).stem
        df = read_frame(p, name)
        frames.append(df.assign(model=model)[["model", *df.columns]])
        notes += [f"{model}: {n}" for n in read_notes(p)]
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame({"model": []})
    return table, notes


def gather_tables(test: str, paths: Sequence[str | Path]) -> dict[str, tuple[pd.DataFrame, str, list[str]]]:
    """The tables of one test over its models' artifacts: ``{name: (table, title, notes)}``, one per entry of its
    registry ``tables`` (`ganaudit.audits.registry.AUDITS`); the notes go with its first table."""
    out = {}
    for i, (name, frame, title) in enumerate(AUDITS[test].tables):
        table, notes = gather_table(paths, frame)
        out[name] = (table, title, notes if i == 0 else [])
    return out


def pair_images(images: np.ndarray, first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """uint8 ``[k, 2, C, H, W]``: ``images[first]`` beside ``images[second]`` (``images`` uint8 ``[N, C, H, W]``)."""
    return np.stack([images[np.asarray(first, np.int64)], images[np.asarray(second, np.int64)]], axis=1)


def as_uint8(x: Tensor | np.ndarray) -> np.ndarray:
    """Model-scale images as stored (uint8 ``[N, C, H, W]``, `ganaudit.data.images.to_uint8`); uint8 passes unchanged."""
    from ganaudit.data.images import to_uint8

    return x if isinstance(x, np.ndarray) and x.dtype == np.uint8 else to_uint8(x)


# ---------------------------------------------------------------------------------------------- latent sweep


def latent_sweep_rows(inversions: Mapping[tuple[str, str], Mapping[str, np.ndarray]], models: Mapping[str, Mapping[str, Any]],
                      settings: Mapping[str, Mapping[str, Any]], nn_test: Mapping[str, np.ndarray] | None = None) -> pd.DataFrame:
    """Inversion PSNR against latent size: one row per model and group.

    Args:
        inversions: ``(model, group) → {"restart_mse": [N, K, R], "labels": [N]}`` of the inversion artifacts
            (``restart_mse``: each restart's best MSE on the model scale, NaN for classes not evaluated).
        models: ``models.<name>`` config entries (``kind``, ``latent_dim``).
        settings: each model's inversion settings (`ganaudit.workflow.plan.inversion_params`).
        nn_test: ``{"l2": [Nt, K], "labels": [Nt]}`` of the 1NN baseline of the test images, or None.

    Returns:
        Columns ``kind``, ``model``, ``latent_dim``, ``group``, ``n_images``, ``n_restarts``, ``n_steps``,
        ``median_psnr_db`` (best restart; [0, 1] scale), ``median_worst_psnr_db`` (worst restart),
        ``median_spread_db`` (median over images of best − worst), ``p10_psnr_db``, ``p90_psnr_db`` and
        ``nn_test_psnr_db`` (median PSNR of each test image's nearest training image of its class: how close a
        held-out image lies to the training set, for reference).
    """
    from ganaudit.data import stats

    def psnr(mse: np.ndarray) -> np.ndarray:
        return stats.psnr(stats.to_unit_scale_variance(np.clip(mse, 1e-12, None)))

    nn_psnr = float("nan")
    if nn_test is not None and len(nn_test["labels"]):
        lab = np.asarray(nn_test["labels"])
        own = np.asarray(nn_test["l2"])[np.arange(len(lab)), np.clip(lab, 0, None)]
        nn_psnr = float(np.median(psnr(own[lab >= 0])))
    rows = []
    for (model, group), d in inversions.items():
        r = np.asarray(d["restart_mse"], dtype=np.float64)
        per_restart = np.nanmin(r, axis=1) if r.ndim == 3 else r        # own class: the only evaluated one
        best, worst = np.nanmin(per_restart, axis=1), np.nanmax(per_restart, axis=1)
        pb, pw = psnr(best), psnr(worst)
        spec = models[model]
        rows.append({"kind": spec["kind"], "model": model, "latent_dim": int(spec["latent_dim"]), "group": group,
                     "n_images": len(best), "n_restarts": int(settings[model]["n_restarts"]),
                     "n_steps": int(settings[model]["n_steps"]), "median_psnr_db": float(np.median(pb)),
                     "median_worst_psnr_db": float(np.median(pw)), "median_spread_db": float(np.median(pb - pw)),
                     "p10_psnr_db": float(np.percentile(pb, 10)), "p90_psnr_db": float(np.percentile(pb, 90)),
                     "nn_test_psnr_db": nn_psnr})
    out = pd.DataFrame(rows)
    return out.sort_values(["kind", "latent_dim", "group"], kind="stable").reset_index(drop=True) if len(out) else out
