"""The metrics by name (StyleGAN3's ``metric_main`` registry, typed): each a small function of a feature cache,
one feature space and the settings, returning its table rows.

A row has ``metric`` (the flat key of `ganaudit.metrics`: ``fd``, ``kd_mean``, …), ``feature_space``, ``class``
(``all`` or a class index), ``value``, ``low``/``high`` (an interval, NaN if none), ``n`` (samples used),
``n_reference``, ``reference`` (the split compared with) and ``settings`` (text). The image sets of the cache are
``samples``, ``train`` (the reference training images) and ``test`` (held out).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ganaudit.metrics.authenticity import authenticity
from ganaudit.metrics.copying import data_copying
from ganaudit.metrics.fd import fd_bootstrap
from ganaudit.metrics.features import FeatureCache
from ganaudit.metrics.fld import feature_likelihood_divergence
from ganaudit.metrics.kd import kernel_distance
from ganaudit.metrics.prdc import prdc
from ganaudit.metrics.vendi import vendi_score

__all__ = ["Metric", "METRICS", "row", "compute_fd", "compute_kd", "compute_prdc", "compute_ct", "compute_authpct",
           "compute_fld", "compute_vendi", "compute_metrics"]

NAN = float("nan")


def row(metric: str, space: str, value: float, n: int, n_reference: int, reference: str, settings: str,
        low: float = NAN, high: float = NAN, cls: str = "all") -> dict[str, Any]:
    """One table row (see the module doc); its text is ASCII (the artifacts store fixed-width ASCII strings)."""
    settings.encode("ascii"), reference.encode("ascii")      # UnicodeEncodeError naming the text, before any work
    return {"metric": metric, "feature_space": space, "class": cls, "value": float(value), "low": float(low),
            "high": float(high), "n": int(n), "n_reference": int(n_reference), "reference": reference,
            "settings": settings}


def compute_fd(c: FeatureCache, space: str, s: Mapping[str, Any], seed: int) -> list[dict[str, Any]]:
    """Fréchet distance to the training images with its bootstrap interval (`ganaudit.metrics.fd.fd_bootstrap`)."""
    a, b = c.get(space, "samples"), c.get(space, "train")
    v, lo, hi = fd_bootstrap(a, b, s["fd_bootstrap"], s["confidence"], seed)
    return [row("fd", space, v, len(a), len(b), "train",
                f"{s['fd_bootstrap']} bootstrap resamples, {100 * s['confidence']:g} % percentile interval shifted by the "
                "resamples' bias", lo, hi)]


def compute_kd(c: FeatureCache, space: str, s: Mapping[str, Any], seed: int) -> list[dict[str, Any]]:
    """KID mean and std (`ganaudit.metrics.kd.kernel_distance`)."""
    a, b = c.get(space, "samples"), c.get(space, "train")
    mean, std, size = kernel_distance(a, b, s["kd_subset_size"], s["kd_subsets"], seed)
    text = f"cubic polynomial kernel, {s['kd_subsets']} subsets of {size}"
    if size == len(a) == len(b):
        text += " (the whole sets: std 0 by construction)"
    return [row("kd_mean", space, mean, len(a), len(b), "train", text),
            row("kd_std", space, std, len(a), len(b), "train", text)]


def compute_prdc(c: FeatureCache, space: str, s: Mapping[str, Any], seed: int) -> list[dict[str, Any]]:
    """Precision, recall, density, coverage (`ganaudit.metrics.prdc.prdc`) against the training images."""
    a, b = c.get(space, "samples"), c.get(space, "train")
    r = prdc(b, a, s["k"])
    text = f"k = {r.k} nearest neighbours"
    return [row(m, space, getattr(r, m), len(a), len(b), "train", text)
            for m in ("precision", "recall", "density", "coverage")]


def compute_ct(c: FeatureCache, space: str, s: Mapping[str, Any], seed: int) -> list[dict[str, Any]]:
    """Data-copying C_T (`ganaudit.metrics.copying.data_copying`): samples vs held-out test images."""
    a, b, t = c.get(space, "samples"), c.get(space, "train"), c.get(space, "test")
    r = data_copying(b, t, a, s["ct_cells"], s["ct_min_generated"], seed)
    text = (f"{r.n_cells} k-means cells of the training images, a cell kept with >= {r.min_generated} samples "
            f"(tau = {r.min_generated}/{len(a)}); kept cells hold {100 * r.frac_test_kept:.0f} % of the test images")
    return [row("ct", space, r.ct, len(a), len(t), "test (cells and distances: train)", text)]


def compute_authpct(c: FeatureCache, space: str, s: Mapping[str, Any], seed: int) -> list[dict[str, Any]]:
    """Authenticity in percent (`ganaudit.metrics.authenticity.authenticity`)."""
    a, b = c.get(space, "samples"), c.get(space, "train")
    return [row("authpct", space, authenticity(b, a), len(a), len(b), "train", "1-NN, Euclidean")]


def compute_fld(c: FeatureCache, space: str, s: Mapping[str, Any], seed: int) -> list[dict[str, Any]]:
    """FLD and its generalisation gap (`ganaudit.metrics.fld.feature_likelihood_divergence`)."""
    a, b, t = c.get(space, "samples"), c.get(space, "train"), c.get(space, "test")
    r = feature_likelihood_divergence(b, t, a, s["fld_iter"])
    text = f"isotropic Gaussian per sample, variances by {r.n_iter} EM steps on the training images; nats / dim"
    return [row("fld", space, r.fld, len(a), len(t), "test (fit: train)", text),
            row("fld_gap", space, r.gap, len(a), len(t), "test - train", text)]


def compute_vendi(c: FeatureCache, space: str, s: Mapping[str, Any], seed: int,
                  labels: np.ndarray | None = None) -> list[dict[str, Any]]:
    """Vendi score of the samples per class (``labels`` ``[n]``: the requested or predicted classes; None: one
    set), and their mean over classes as ``class = all`` (`ganaudit.metrics.vendi.vendi_score`); features centred
    at the training images' mean feature when the run has training images."""
    a = c.get(space, "samples")
    centre = c.get(space, "train").mean(0) if "train" in c.images else None
    how = "cosine similarity of features centred at the training mean" if centre is not None else \
        "cosine similarity (no training images: uncentred)"
    if labels is None:
        return [row("vendi", space, vendi_score(a, centre), len(a), 0, "none", f"{how}, all samples")]
    out = [row("vendi", space, vendi_score(a[labels == k], centre), int((labels == k).sum()), 0, "none",
               f"{how}, per class", cls=str(int(k))) for k in np.unique(labels) if (labels == k).sum() >= 2]
    mean = float(np.mean([r["value"] for r in out])) if out else NAN
    return out + [row("vendi", space, mean, len(a), 0, "none", f"{how}, mean over classes")]


@dataclass(frozen=True)
class Metric:
    """A metric of the registry: its function and the image sets it needs besides the samples."""

    name: str
    compute: Callable[..., list[dict[str, Any]]]
    needs: tuple[str, ...]


METRICS: dict[str, Metric] = {m.name: m for m in (
    Metric("fd", compute_fd, ("train",)),
    Metric("kd", compute_kd, ("train",)),
    Metric("prdc", compute_prdc, ("train",)),
    Metric("ct", compute_ct, ("train", "test")),
    Metric("authpct", compute_authpct, ("train",)),
    Metric("fld", compute_fld, ("train", "test")),
    Metric("vendi", compute_vendi, ()),
)}
"""The feature-space metrics by name, in the table's order (PPL needs the generator: `ganaudit.metrics.ppl`)."""


def compute_metrics(cache: FeatureCache, spaces: Sequence[str], settings: Mapping[str, Any], seed: int,
                    available: Sequence[str] = ("train", "test"), labels: np.ndarray | None = None,
                    names: Sequence[str] | None = None) -> tuple[list[dict[str, Any]], list[str]]:
    """Every metric of `METRICS` (or ``names``) in every space: ``(rows, notes)``; a metric whose image sets are not
    ``available`` is skipped with a note saying why."""
    rows: list[dict[str, Any]] = []
    notes: list[str] = []
    for name in names or list(METRICS):
        m = METRICS[name]
        missing = [n for n in m.needs if n not in available]
        if missing:
            notes.append(f"{name} skipped: no {' or '.join(missing)} images in this run")
            continue
        for space in spaces:
            extra = {"labels": labels} if name == "vendi" else {}
            rows += m.compute(cache, space, settings, seed, **extra)
    return rows, notes
