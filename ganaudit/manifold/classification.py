"""Classification and outlier detection from per-class scores (paper sections 3.1 and 4.2).

Every method in the paper reduces to a score matrix ``[N, K]``: one score per image and per
modelled class ``c``:

* **GAN manifold** — the reconstruction error of the image under the GAN of class ``c``
  (lower is better: an image belongs where it is reconstructed best);
* **GAN density** — the AIS log-likelihood ``log p(x | c)`` (higher is better);
* **1NN** — the squared distance to the nearest training image of class ``c`` (lower is better),
  from `nearest_class_distances`, for the L2 or a perceptual (LPIPS-embedding) distance.

Classification takes the best class per row (`classify`, `accuracy`). Outlier detection
(`per_class_outlier_auroc`) treats each class in turn as the inlier distribution: the inliers are
the test images of that class (the model's own samples when there is no test group, see
`inlier_group`), the outliers every other image scored, and the score is column ``c``.
`auroc` is the exact Mann–Whitney statistic. `summarise_classification` /
`summarise_outlier_detection` turn results into tidy rows for tables and figures.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from ganaudit.data.roles import inlier_group, scored_groups

if TYPE_CHECKING:
    import torch
    from torch import Tensor


def _is_tensor(x: object) -> bool:
    """True for a torch tensor, without importing torch (light scripts never load it)."""
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(x, torch.Tensor)

__all__ = [
    "auroc",
    "classify",
    "accuracy",
    "per_class_outlier_auroc",
    "inlier_group",
    "scored_groups",
    "describe_inliers",
    "outlier_detection_inputs",
    "nearest_class_distances",
    "summarise_classification",
    "summarise_outlier_detection",
    "summarise",
    "SUMMARY_COLUMNS",
]

SUMMARY_COLUMNS = ["method", "distance", "task", "class", "metric", "value", "n_images"]
"""Columns of the tidy summary frame (one row per method × distance × task × class)."""


def _as_1d(x: ArrayLike, name: str) -> np.ndarray:
    a = np.asarray(x.detach().cpu() if _is_tensor(x) else x, dtype=np.float64)
    if a.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {a.shape}")
    if np.isnan(a).any():
        raise ValueError(f"{name} contains NaN; drop or impute failed scores first")
    return a


def _as_2d(x: ArrayLike, name: str) -> np.ndarray:
    a = np.asarray(x.detach().cpu() if _is_tensor(x) else x, dtype=np.float64)
    if a.ndim != 2:
        raise ValueError(f"{name} must have shape [N, K], got shape {a.shape}")
    return a


def auroc(inlier_scores: ArrayLike, outlier_scores: ArrayLike) -> float:
    """Area under the ROC curve for separating outliers from inliers; HIGHER score = MORE outlying.

    Exact Mann–Whitney form: ``P(s_out > s_in) + ½ P(s_out = s_in)`` over all inlier/outlier
    pairs (ties count ½), computed from average ranks in ``O(n log n)``. 1 is perfect, 0.5 chance,
    0 perfectly inverted. ``±inf`` scores are allowed; NaN is an error.

    Returns:
        The AUROC in ``[0, 1]``, or NaN if either side is empty.
    """
    a = _as_1d(inlier_scores, "inlier_scores")
    b = _as_1d(outlier_scores, "outlier_scores")
    n_in, n_out = a.size, b.size
    if n_in == 0 or n_out == 0:
        return float("nan")
    from scipy.stats import rankdata  # imported here: scipy.stats costs half a second, and most jobs never rank

    ranks = rankdata(np.concatenate([a, b]), method="average")
    u = ranks[n_in:].sum() - n_out * (n_out + 1) / 2.0
    return float(u / (n_in * n_out))


def classify(scores: ArrayLike, higher_is_better: bool) -> np.ndarray:
    """The predicted class of each row: ``argmax`` (``higher_is_better``) or ``argmin`` of the scores.

    NaN scores (e.g. a failed inversion) count as the worst possible score; a row that is all NaN
    gets the prediction ``-1`` (always wrong). Ties go to the lowest class index.

    Args:
        scores: ``[N, K]`` per-class scores (reconstruction errors, log-likelihoods, distances).
        higher_is_better: True for log-likelihoods, False for errors/distances.

    Returns:
        int64 ``[N]`` predicted class indices in ``[0, K)`` (or −1).
    """
    s = _as_2d(scores, "scores")
    if s.shape[1] == 0:
        raise ValueError("scores must have at least one class column (K ≥ 1)")
    nan = np.isnan(s)
    if higher_is_better:
        pred = np.where(nan, -np.inf, s).argmax(axis=1)
    else:
        pred = np.where(nan, np.inf, s).argmin(axis=1)
    pred = pred.astype(np.int64)
    pred[nan.all(axis=1)] = -1
    return pred


def accuracy(pred: ArrayLike, labels: ArrayLike) -> float:
    """Fraction of ``pred == labels`` (both ``[N]`` integer class indices); NaN when N = 0."""
    p = np.asarray(pred.cpu() if _is_tensor(pred) else pred)
    y = np.asarray(labels.cpu() if _is_tensor(labels) else labels)
    if p.ndim != 1 or p.shape != y.shape:
        raise ValueError(f"pred and labels must be 1-D of equal length, got shapes {p.shape} and {y.shape}")
    if p.size == 0:
        return float("nan")
    return float(np.mean(p == y))


def per_class_outlier_auroc(score: ArrayLike, labels: ArrayLike, inlier_candidates: ArrayLike,
                            higher_is_outlier: bool) -> np.ndarray:
    """One-vs-rest outlier-detection AUROC for each modelled class.

    For class ``c`` the inliers are the images with ``inlier_candidates & (labels == c)`` (the test
    images of class ``c``) and the outliers are **all other rows** (other classes' test images,
    held-out classes, OOD groups such as constant colours or SVHN). The outlier score is column
    ``c`` of ``score`` (negated when ``higher_is_outlier`` is False, e.g. for log-likelihoods).

    Args:
        score: ``[N, K]`` per-class scores for every image scored (inliers and outliers).
        labels: ``[N]`` integer labels; only read where ``inlier_candidates`` is True (OOD rows may
            carry any value, e.g. −1).
        inlier_candidates: bool ``[N]``: True for test images of the modelled classes.
        higher_is_outlier: True for reconstruction errors/distances, False for log-likelihoods.

    Returns:
        float64 ``[K]``: AUROC per class; NaN for a class with no inliers or no outliers.
        Rows whose class-``c`` score is NaN are left out of class ``c``'s AUROC.
    """
    s = _as_2d(score, "score")
    n, k = s.shape
    y = np.asarray(labels.cpu() if _is_tensor(labels) else labels)
    m = np.asarray(inlier_candidates.cpu() if _is_tensor(inlier_candidates) else inlier_candidates)
    if y.shape != (n,):
        raise ValueError(f"labels must have shape ({n},), got {y.shape}")
    if m.shape != (n,) or m.dtype != np.bool_:
        raise ValueError(f"inlier_candidates must be a bool mask of shape ({n},), got {m.dtype} {m.shape}")
    sign = 1.0 if higher_is_outlier else -1.0
    out = np.full(k, np.nan)
    for c in range(k):
        col = sign * s[:, c]
        ok = ~np.isnan(col)
        inl = m & (y == c)
        out[c] = auroc(col[inl & ok], col[~inl & ok])
    return out


def describe_inliers(group: str | None) -> str:
    """A table note saying which images were the inliers (`group` from `inlier_group`)."""
    return {
        "test": "inliers are the test images of each modelled class",
        "generated": "there is no test group, so the inliers are the model's own samples (`generated`)",
        None: "no inlier group was evaluated (neither `test` nor `generated`), so no AUROC can be formed",
    }[group]


def outlier_detection_inputs(groups: Mapping[str, Mapping[str, np.ndarray]], key: str,
                             ) -> tuple[np.ndarray, np.ndarray, np.ndarray, str | None]:
    """Stack the groups' ``[n, K]`` scores for `per_class_outlier_auroc`.

    Args:
        groups: ``{group: {key: [n, K] scores, "labels": [n]}}``; empty groups are skipped.
        key: the score array to stack (e.g. ``"mse"``, ``"log_px_class"``).

    Returns:
        ``(scores [N, K], labels [N], inlier mask [N], inlier group)``. The inliers are the rows of
        `inlier_group`. Samples of an unconditional model carry label −1; with one score column
        they are inliers of column 0, so their label is read as 0.
    """
    names = [g for g in groups if len(groups[g]["labels"])]
    ref = inlier_group(names)
    if not names:
        return np.empty((0, 1)), np.empty(0, np.int64), np.empty(0, bool), None
    scores = np.concatenate([np.asarray(groups[g][key], dtype=np.float64) for g in names])
    labels = np.concatenate([np.asarray(groups[g]["labels"]) for g in names]).astype(np.int64)
    inlier = np.concatenate([np.full(len(groups[g]["labels"]), g == ref) for g in names])
    if scores.ndim == 2 and scores.shape[1] == 1:
        labels = np.where(inlier & (labels < 0), 0, labels)
    return scores, labels, inlier, ref


def nearest_class_distances(query: Tensor | np.ndarray, reference: Tensor | np.ndarray,
                            ref_labels: Tensor | np.ndarray, n_classes: int, chunk: int = 1024,
                            ref_chunk: int = 8192, dtype: "torch.dtype | None" = None) -> np.ndarray:
    """Squared Euclidean distance from each query to the nearest reference of each class (1NN).

    Serves both 1NN baselines: ``F`` = a flattened image on the model scale (L2) or an LPIPS
    embedding whose squared Euclidean distance equals LPIPS (perceptual). Distances are computed
    as ``‖q‖² + ‖r‖² − 2 q·r`` in blocks of ``chunk × ref_chunk`` (memory ≈ ``4 · chunk ·
    ref_chunk`` bytes in float32), on ``query``'s device, and clamped at 0. Queries are not
    excluded from the reference (they are test images; the reference is the training set).

    Args:
        query: ``[N, F]`` query features.
        reference: ``[M, F]`` reference (training) features.
        ref_labels: ``[M]`` integer class of each reference, in ``[0, n_classes)``.
        n_classes: K.
        chunk: query rows per block; ref_chunk: reference rows per block.
        dtype: compute dtype; default float64 if either input is float64, else float32.

    Returns:
        float64 ``[N, K]``: squared distance (units of the features², e.g. LPIPS for an LPIPS
        embedding) to the nearest reference of each class; ``inf`` for a class with no reference.
    """
    import torch

    with torch.no_grad():
        return _nearest_class_distances(torch, query, reference, ref_labels, n_classes, chunk, ref_chunk, dtype)


def _nearest_class_distances(torch, query, reference, ref_labels, n_classes, chunk, ref_chunk, dtype) -> np.ndarray:
    q = torch.as_tensor(query)
    r = torch.as_tensor(reference)
    lab = torch.as_tensor(ref_labels)
    if q.ndim != 2 or r.ndim != 2 or q.shape[1] != r.shape[1]:
        raise ValueError(f"query [N, F] and reference [M, F] must share F, got shapes {tuple(q.shape)} and {tuple(r.shape)}")
    if lab.shape != (r.shape[0],) or lab.dtype.is_floating_point:
        raise ValueError(f"ref_labels must be integers of shape ({r.shape[0]},), got {lab.dtype} {tuple(lab.shape)}")
    if n_classes < 1:
        raise ValueError(f"n_classes must be ≥ 1, got {n_classes}")
    if lab.numel() and (int(lab.min()) < 0 or int(lab.max()) >= n_classes):
        raise ValueError(f"ref_labels must lie in [0, {n_classes}), got [{int(lab.min())}, {int(lab.max())}]")
    if chunk < 1 or ref_chunk < 1:
        raise ValueError(f"chunk and ref_chunk must be ≥ 1, got {chunk} and {ref_chunk}")
    if dtype is None:
        dtype = torch.float64 if torch.float64 in (q.dtype, r.dtype) else torch.float32
    device = q.device
    n = q.shape[0]
    out = torch.full((n, n_classes), float("inf"), dtype=torch.float64)
    lab = lab.to(torch.long).cpu()
    for c in range(n_classes):
        rc_all = r[(lab == c).to(r.device)]
        if rc_all.shape[0] == 0:
            continue
        for i in range(0, n, chunk):
            qi = q[i:i + chunk].to(device=device, dtype=dtype)
            qn = (qi * qi).sum(dim=1, keepdim=True)
            best = torch.full((qi.shape[0],), float("inf"), dtype=dtype, device=device)
            for j in range(0, rc_all.shape[0], ref_chunk):
                rj = rc_all[j:j + ref_chunk].to(device=device, dtype=dtype)
                d = qn + (rj * rj).sum(dim=1)[None, :] - 2.0 * (qi @ rj.T)
                best = torch.minimum(best, d.min(dim=1).values)
            out[i:i + chunk, c] = best.clamp_min(0).to(torch.float64).cpu()
    return out.numpy()


def _row(method: str, distance: str, task: str, cls: str, metric: str, value: float, n_images: int) -> dict:
    return {"method": method, "distance": distance, "task": task, "class": cls,
            "metric": metric, "value": float(value), "n_images": int(n_images)}


def summarise_classification(method: str, distance: str, scores: ArrayLike, labels: ArrayLike,
                             higher_is_better: bool) -> pd.DataFrame:
    """One tidy row: the accuracy of ``classify(scores)`` against ``labels``.

    ``method`` e.g. "GAN manifold", "GAN density", "1NN"; ``distance`` e.g. "L2", "LPIPS" (or
    "log-likelihood" for density). Columns: `SUMMARY_COLUMNS` (class = "all", metric = "accuracy").
    """
    pred = classify(scores, higher_is_better)
    y = np.asarray(labels)
    return pd.DataFrame([_row(method, distance, "classification", "all", "accuracy",
                              accuracy(pred, y), y.size)], columns=SUMMARY_COLUMNS)


def summarise_outlier_detection(method: str, distance: str, score: ArrayLike, labels: ArrayLike,
                                inlier_candidates: ArrayLike, higher_is_outlier: bool,
                                class_names: Sequence[str] | None = None) -> pd.DataFrame:
    """Tidy rows of `per_class_outlier_auroc`: one per class plus a ``class = "mean"`` row.

    The mean ignores NaN classes; its ``n_images`` is the number of rows scored. A class row's
    ``n_images`` is its inliers + outliers. Columns: `SUMMARY_COLUMNS` (metric = "auroc").
    """
    s = _as_2d(score, "score")
    k = s.shape[1]
    names = [str(c) for c in range(k)] if class_names is None else [str(c) for c in class_names]
    if len(names) != k:
        raise ValueError(f"class_names must have {k} entries, got {len(names)}")
    aucs = per_class_outlier_auroc(s, labels, inlier_candidates, higher_is_outlier)
    rows = []
    for c in range(k):
        n_ok = int((~np.isnan(s[:, c])).sum())
        rows.append(_row(method, distance, "outlier_detection", names[c], "auroc", aucs[c], n_ok))
    mean = float(np.nanmean(aucs)) if np.isfinite(aucs).any() else float("nan")
    rows.append(_row(method, distance, "outlier_detection", "mean", "auroc", mean, s.shape[0]))
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


def summarise(frames: Iterable[pd.DataFrame], **extra: str) -> pd.DataFrame:
    """Concatenate summary frames into one tidy table with `SUMMARY_COLUMNS` first.

    ``extra`` adds constant columns in front (e.g. ``model="dcgan", dataset="mnist"``).
    """
    frames = list(frames)
    df = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=SUMMARY_COLUMNS)
    missing = [c for c in SUMMARY_COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"frames are missing summary columns {missing}")
    for i, (k, v) in enumerate(extra.items()):
        df.insert(i, k, v)
    rest = [c for c in df.columns if c not in SUMMARY_COLUMNS and c not in extra]
    return df[list(extra) + SUMMARY_COLUMNS + rest]
