"""Memorisation: how close is each sample to its nearest training image, compared with held-out data?

A model that copies its training set puts samples much closer to training images than fresh data
lies to them. For each sample the distance to its nearest training image is set against the same
distance for the test images (held out from training, so the reference for "close, but not copied").
The distance is the squared Euclidean distance of features from `ganaudit.audits.features.distance_features`:
the L2 of the paper (MSE per pixel-channel on the model scale ``[-1, 1]``) or a perceptual distance
(LPIPS, through its exact embedding) — the same features as the 1NN baseline
(`ganaudit.manifold.classification.nearest_class_distances`), searched over all classes at once and with the index
of the neighbour kept, so the pairs can be shown (`nearest_neighbours`).

`memorisation` returns per-image distances, a summary (quantiles, the fraction of samples closer than
the ``q``-quantile of the test images' distances — ``q`` expected if the samples were fresh data —
with its exact one-sided p-value `flagged_p_value`, and a one-sided Mann–Whitney test that samples are closer
than test images) and the closest sample/training pairs. The lecture's caveat applies: L2 is fooled by small
shifts, so a "not memorised" verdict is only as good as the distance; look at the pairs.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy.stats import hypergeom, mannwhitneyu

from ganaudit.audits.common import DISTANCES, as_uint8, write_frames
from ganaudit.audits.stage import StageInputs, StageOutput

if TYPE_CHECKING:
    from torch import Tensor

    from ganaudit.manifold.distances import Perceptual

__all__ = ["nearest_neighbours", "nearest_in_chunks", "MemorisationResult", "memorisation", "memorisation_from_neighbours",
           "QUANTILES", "memorisation_audit", "stage"]

QUANTILES = (0.0, 0.01, 0.05, 0.25, 0.5)
"""Quantiles of the nearest-training distance reported for samples and test images."""


def nearest_neighbours(query: ArrayLike, reference: ArrayLike, chunk: int = 1024,
                       ref_chunk: int = 8192) -> tuple[np.ndarray, np.ndarray]:
    """Nearest reference row of each query row: ``(squared distance [N] float64, index [N] int64)``.

    ``query`` ``[N, F]``, ``reference`` ``[M, F]`` (features whose squared Euclidean distance is the
    audited distance). The search ranks by ``‖q‖² + ‖r‖² − 2 q·r`` in blocks of ``chunk × ref_chunk``
    (float64 if either input is float64, else float32); the winner's distance is then recomputed as
    ``‖q − r‖²`` in float64, so an exact copy gives exactly 0. Ties go to the lowest index.
    """
    import torch

    with torch.no_grad():
        q, r = torch.as_tensor(np.asarray(query)), torch.as_tensor(np.asarray(reference))
        if q.ndim != 2 or r.ndim != 2 or q.shape[1] != r.shape[1]:
            raise ValueError(f"query [N, F] and reference [M, F] must share F, got shapes {tuple(q.shape)} "
                             f"and {tuple(r.shape)}")
        if r.shape[0] == 0:
            raise ValueError("reference must contain at least one row")
        if chunk < 1 or ref_chunk < 1:
            raise ValueError(f"chunk and ref_chunk must be ≥ 1, got {chunk} and {ref_chunk}")
        dtype = torch.float64 if torch.float64 in (q.dtype, r.dtype) else torch.float32
        n = q.shape[0]
        arg = torch.zeros(n, dtype=torch.long)
        for i in range(0, n, chunk):
            qi = q[i:i + chunk].to(dtype)
            qn = (qi * qi).sum(1, keepdim=True)
            best = torch.full((qi.shape[0],), float("inf"), dtype=dtype)
            best_j = torch.zeros(qi.shape[0], dtype=torch.long)
            for j in range(0, r.shape[0], ref_chunk):
                rj = r[j:j + ref_chunk].to(dtype)
                val, idx = (qn + (rj * rj).sum(1)[None, :] - 2.0 * (qi @ rj.T)).min(1)
                better = val < best
                best, best_j = torch.where(better, val, best), torch.where(better, idx + j, best_j)
            arg[i:i + chunk] = best_j
        exact = (q.double() - r[arg].double()).pow(2).sum(1)
        return exact.numpy(), arg.numpy()


def nearest_in_chunks(queries: Sequence[ArrayLike], reference_chunks: Iterable[ArrayLike]
                      ) -> list[tuple[np.ndarray, np.ndarray]]:
    """`nearest_neighbours` of each query set against a reference that arrives in chunks (e.g. perceptual
    embeddings computed a thousand images at a time, so the whole reference is never in memory).

    ``queries``: feature arrays ``[N_q, F]``; ``reference_chunks``: ``[M_c, F]`` arrays, the rows of the whole
    reference in order. Returns, per query set, ``(squared distance [N_q] float64, index [N_q] int64)``, the
    index counting rows of the whole reference. Distances are compared as `nearest_neighbours` returns them
    (recomputed exactly in float64), ties to the lowest index; the result equals one search over the whole
    reference up to float32 ranking inside a chunk.
    """
    best = [(np.full(len(np.asarray(q)), np.inf), np.zeros(len(np.asarray(q)), np.int64)) for q in queries]
    offset = 0
    for chunk in reference_chunks:
        chunk = np.asarray(chunk)
        for k, q in enumerate(queries):
            d, i = nearest_neighbours(q, chunk)
            better = d < best[k][0]
            best[k] = (np.where(better, d, best[k][0]), np.where(better, i + offset, best[k][1]))
        offset += len(chunk)
    if offset == 0:
        raise ValueError("reference must contain at least one row")
    return best


@dataclass(frozen=True)
class MemorisationResult:
    """`memorisation` output for one distance.

    ``distances``: one row per sample and per test image — ``group`` (``"samples"``/``"test"``),
    ``index`` (row in its set), ``nn_index`` (nearest training image), ``distance`` (its squared
    feature distance: MSE on the model scale for L2, LPIPS for the perceptual distance), ``flagged``
    (closer than ``threshold``), ``exact_copy`` (``distance ≤ copy_tol``), ``distance_name``.
    ``summary``: one-row frame, see `memorisation`. ``pairs``: the closest sample/training pairs
    (``index``, ``nn_index``, ``distance``, ``flagged``, ``exact_copy``), closest first.
    """

    distances: pd.DataFrame
    summary: pd.DataFrame
    pairs: pd.DataFrame
    threshold: float


def memorisation(sample_features: ArrayLike, test_features: ArrayLike, train_features: ArrayLike,
                 distance: str = "L2", quantile: float = 0.01, n_pairs: int = 16,
                 copy_tol: float = 1e-10) -> MemorisationResult:
    """Nearest-training distances of samples against those of test images.

    Args:
        sample_features: ``[Ns, F]`` features of the model's samples.
        test_features: ``[Nt, F]`` features of held-out test images (Nt ≥ 1).
        train_features: ``[M, F]`` features of the training images searched.
        distance: name of the distance for the tables (``"L2"``, ``"LPIPS"``, …).
        quantile: ``q``; the threshold is the ``q``-quantile of the test images' distances
            (linear interpolation), and a sample closer than it is *flagged*.
        n_pairs: closest sample/training pairs returned; copy_tol: a distance ≤ this is a copy.

    Returns:
        `MemorisationResult`. ``summary`` columns: ``distance``, ``n_samples``, ``n_test``,
        ``n_train``, ``threshold``, ``quantile``, ``n_flagged``, ``frac_flagged`` (``q`` expected if
        samples were fresh data), ``rank_p`` (`flagged_p_value`: more flagged than fresh data would be), ``n_copies``,
        ``mannwhitney_p`` (one-sided: sample distances smaller than test distances),
        ``median_ratio`` (sample median / test median), and ``samples_q{x}``/``test_q{x}`` for each
        of `QUANTILES`.
    """
    if not 0 < quantile < 1:
        raise ValueError(f"quantile must lie in (0, 1), got {quantile}")
    s_d, s_i = nearest_neighbours(sample_features, train_features)
    t_d, t_i = nearest_neighbours(test_features, train_features)
    return memorisation_from_neighbours(s_d, s_i, t_d, t_i, int(np.asarray(train_features).shape[0]), distance,
                                        quantile, n_pairs, copy_tol)


def flagged_p_value(flagged: int, n_samples: int, test_below: int, n_test: int) -> float:
    """Exact one-sided p-value of ``flagged`` of ``n_samples`` samples lying below a threshold that ``test_below`` of
    ``n_test`` test images lie below (the threshold is a quantile of the test images' own distances), when samples
    and test images are exchangeable (the samples are fresh data).

    The threshold lies at or below the ``(test_below + 1)``-th smallest test distance, so the samples below it are at
    most ``Y``, the samples ranked before that test image; ``Y ≥ x`` exactly when the first ``x + test_below`` of the
    pooled ranking hold at most ``test_below`` test images: a hypergeometric tail. So ``P(Y ≥ flagged)`` is a valid
    (slightly conservative) p-value. A binomial test with the quantile as a known rate ignores that the threshold
    is estimated from the test images, and under the null rejects several times as often as its level (at ``q =
    0.01`` and 500 test images, ~7 % of p-values fall below 0.01; `ganaudit.calibration.memorisation_null`).
    """
    if flagged <= 0:
        return 1.0
    return float(hypergeom(n_samples + n_test, n_test, flagged + test_below).cdf(test_below))


def memorisation_from_neighbours(s_d: ArrayLike, s_i: ArrayLike, t_d: ArrayLike, t_i: ArrayLike, n_train: int,
                                 distance: str = "L2", quantile: float = 0.01, n_pairs: int = 16,
                                 copy_tol: float = 1e-10) -> MemorisationResult:
    """`memorisation` from nearest-training distances already found: ``s_d``/``s_i`` (``[Ns]`` squared
    distance and index of each sample's nearest training image), ``t_d``/``t_i`` (``[Nt]``, the test images'),
    ``n_train`` training images searched. Arguments and result as in `memorisation`."""
    if not 0 < quantile < 1:
        raise ValueError(f"quantile must lie in (0, 1), got {quantile}")
    s_d, s_i, t_d, t_i = (np.asarray(a) for a in (s_d, s_i, t_d, t_i))
    if len(t_d) == 0 or len(s_d) == 0:
        raise ValueError(f"memorisation needs at least one sample and one test image, got {len(s_d)} and {len(t_d)}")
    thr = float(np.quantile(t_d, quantile))
    frames = []
    for g, d, i in (("samples", s_d, s_i), ("test", t_d, t_i)):
        frames.append(pd.DataFrame({"group": g, "index": np.arange(len(d)), "nn_index": i, "distance": d,
                                    "flagged": d < thr, "exact_copy": d <= copy_tol}))
    dist = pd.concat(frames, ignore_index=True).assign(distance_name=distance)
    flagged = int((s_d < thr).sum())
    row = {"distance": distance, "n_samples": len(s_d), "n_test": len(t_d), "n_train": int(n_train),
           "threshold": thr, "quantile": quantile, "n_flagged": flagged, "frac_flagged": flagged / len(s_d),
           "rank_p": flagged_p_value(flagged, len(s_d), int(np.sum(t_d < thr)), len(t_d)),
           "n_copies": int((s_d <= copy_tol).sum()),
           "mannwhitney_p": float(mannwhitneyu(s_d, t_d, alternative="less").pvalue),
           "median_ratio": float(np.median(s_d) / np.median(t_d)) if np.median(t_d) > 0 else float("nan")}
    for q in QUANTILES:
        row[f"samples_q{q:g}"] = float(np.quantile(s_d, q))
        row[f"test_q{q:g}"] = float(np.quantile(t_d, q))
    order = np.lexsort((np.arange(len(s_d)), s_d))[:n_pairs]
    pairs = dist[dist.group == "samples"].iloc[order][["index", "nn_index", "distance", "flagged", "exact_copy"]]
    return MemorisationResult(dist, pd.DataFrame([row]), pairs.reset_index(drop=True), thr)


# ---------------------------------------------------------------------------------------------- pipeline stage


def _embed_chunks(images: Tensor, perceptual: Perceptual, chunk: int = 1000) -> Iterable[np.ndarray]:
    for i in range(0, len(images), chunk):
        yield perceptual.embed(images[i:i + chunk]).cpu().numpy()


def _counted(chunks: Iterable[np.ndarray], n: int) -> Iterator[np.ndarray]:
    """``chunks``, checked to hold ``n`` rows in all (the training images searched)."""
    seen = 0
    for c in chunks:
        seen += len(c)
        yield c
    if seen != n:
        raise ValueError(f"train_features holds {seen} rows; {n} training images are searched")


def memorisation_audit(samples: Tensor, test: Tensor, train: Tensor, perceptual: Perceptual, params: Mapping[str, Any],
                       test_features: np.ndarray | None = None, train_features: Iterable[np.ndarray] | None = None
                       ) -> tuple[dict[str, Any], dict[str, dict[str, Any]], pd.DataFrame]:
    """The pipeline's memorisation stage: each sample's nearest training image against the test images'
    (`memorisation_from_neighbours`), under L2 and ``perceptual``.

    Args:
        samples: ``[Ns, C, H, W]``, test: ``[Nt, C, H, W]``, train: ``[M, C, H, W]`` on the model scale.
        params: ``beyond.memorisation``: ``max_train_perceptual`` caps the training images searched under the
            perceptual distance (the first ones; their embedding is streamed in chunks of 1000, never held at
            once); ``quantile`` and ``n_pairs`` as in `memorisation`.
        test_features, train_features: the test images' and the searched training images' features under
            ``perceptual``, already computed (the run's cache, `ganaudit.audits.real_features`): ``[Nt, F]``, and
            the first ``max_train_perceptual`` training images' as ``[n, F]`` chunks in order (as `nearest_in_chunks`
            takes them); None: embedded here.

    Returns:
        ``(tree, group_attrs, table)``: per distance key ``distances`` (group ∈ {samples, test}, index,
        nn_index, distance, flagged, exact_copy), ``summary`` and ``pairs`` with ``pair_images`` uint8
        ``[k, 2, C, H, W]`` (sample, its nearest training image); ``table``: the summaries, one row per distance.
    """
    import torch

    from ganaudit.audits.features import distance_features

    cap = params.get("max_train_perceptual")
    train_p = train if cap is None else train[:int(cap)]
    searched = {"l2": train, "perceptual": train_p}
    frames: dict[str, pd.DataFrame] = {}
    images: dict[str, np.ndarray] = {}
    for key in DISTANCES:
        if key == "l2":
            fs, ft, fr = distance_features(samples), distance_features(test), distance_features(train)
            (s_d, s_i), (t_d, t_i) = nearest_neighbours(fs, fr), nearest_neighbours(ft, fr)
            name = "L2"
            del fr
        else:
            fs = perceptual.embed(samples).cpu().numpy()
            ft = perceptual.embed(test).cpu().numpy() if test_features is None else test_features
            if len(ft) != len(test):
                raise ValueError(f"test_features has {len(ft)} rows; there are {len(test)} test images")
            chunks = _embed_chunks(train_p, perceptual) if train_features is None else train_features
            (s_d, s_i), (t_d, t_i) = nearest_in_chunks([fs, ft], _counted(chunks, len(train_p)))
            name = perceptual.name
        del fs, ft
        res = memorisation_from_neighbours(s_d, s_i, t_d, t_i, len(searched[key]), name, params["quantile"],
                                           params["n_pairs"])
        frames[f"{key}/distances"] = res.distances
        frames[f"{key}/summary"] = res.summary
        frames[f"{key}/pairs"] = res.pairs
        idx, nn = (torch.as_tensor(np.array(res.pairs[c], dtype=np.int64)) for c in ("index", "nn_index"))
        images[key] = np.stack([as_uint8(samples[idx]), as_uint8(searched[key][nn])], axis=1)
    table = pd.concat([frames[f"{k}/summary"] for k in DISTANCES], ignore_index=True)
    frames["table"] = table
    tree, gattrs = write_frames(frames)
    for key in DISTANCES:
        tree[key]["pair_images"] = images[key]
        gattrs[key] = {"distance": frames[f"{key}/summary"].distance.iloc[0]}
    return tree, gattrs, table


def stage(inputs: StageInputs, params: Mapping[str, Any]) -> StageOutput:
    """The memorisation audit of one model (registry entry ``memorisation``): each sample's nearest training image
    against the test images' nearest training images, under L2 and the run's perceptual distance
    (`memorisation_audit`); the real images' perceptual features come from the run's cache when it has one."""
    from ganaudit.data.images import to_model_scale
    from ganaudit.manifold.distances import perceptual_from_config

    p = params["memorisation"]
    train = inputs.group("train", p["max_train"])
    test = inputs.group("test", p["n_test"])
    pool = inputs.pool(p["n_samples"], inputs.seed, train.labels)
    perceptual = perceptual_from_config(params["perceptual"], inputs.device)
    cap = p.get("max_train_perceptual")
    n_searched = len(train.images) if cap is None else min(int(cap), len(train.images))
    test_f = inputs.real_features("perceptual", "test", np.arange(len(test.images)), perceptual)
    train_f = None if test_f is None else (    # from the run's cache, a chunk at a time as when embedded here
        inputs.real_features("perceptual", "train", np.arange(a, min(a + 1000, n_searched)))
        for a in range(0, n_searched, 1000))
    tree, group_attrs, table = memorisation_audit(pool.images.float(), to_model_scale(test.images),
                                                  to_model_scale(train.images), perceptual, p, test_f, train_f)
    return StageOutput(tree, group_attrs, attrs=dict(perceptual_metric=perceptual.name,
                                                     perceptual_backend=perceptual.backend),
                       log=table.T.to_string())
