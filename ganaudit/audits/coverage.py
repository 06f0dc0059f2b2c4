"""Mode coverage and covariance spectrum (Santurkar, Schmidt & Mądry 2018; the lecture, §4).

* **Label histogram.** The pipeline's classifier (`ganaudit.models.classifier`) labels the model's
  samples; `mode_coverage` sets their class histogram against the data's, with the total variation
  distance and a chi-square test of homogeneity (both histograms are counts of finite samples).
  A model that drops or favours classes shows here even when every sample looks good.
* **Class-conditional agreement.** For a class-conditional model, `conditional_agreement` gives, per
  requested class, the fraction of samples the classifier assigns to that class. (Its label histogram
  follows the labels it was asked for: request them in the data's class proportions, or the
  histogram's distance to the data measures the request, not the model.)
* **Covariance spectrum.** `covariance_spectrum` gives the eigenvalues of the pixel covariance
  (sorted, largest first) and `n_directions` how many of them hold a fraction (99 %) of the total
  variance. Generated images whose spectrum decays much faster than the data's have dropped
  directions of variation (`compare_spectra` tabulates both).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy.stats import chi2_contingency

from ganaudit.audits.common import write_frames
from ganaudit.audits.stage import StageInputs, StageOutput

if TYPE_CHECKING:
    from torch import Tensor

    from ganaudit.models.base import Samples

__all__ = ["label_histogram", "ModeCoverage", "mode_coverage", "conditional_agreement", "covariance_spectrum",
           "n_directions", "compare_spectra", "coverage_audit", "stage"]


def _array(x: object, dtype: type | None = None) -> np.ndarray:
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    return np.asarray(x, dtype=dtype)


def label_histogram(labels: ArrayLike, n_classes: int) -> np.ndarray:
    """Counts ``[n_classes]`` (int64) of integer labels ``[N]`` in ``[0, n_classes)``."""
    y = _array(labels)
    if y.ndim != 1 or (y.size and not np.issubdtype(y.dtype, np.integer)):
        raise ValueError(f"labels must be 1-D integers, got {y.dtype} {y.shape}")
    if n_classes < 1:
        raise ValueError(f"n_classes must be ≥ 1, got {n_classes}")
    if y.size and (y.min() < 0 or y.max() >= n_classes):
        raise ValueError(f"labels must lie in [0, {n_classes}), got [{y.min()}, {y.max()}]")
    return np.bincount(y, minlength=n_classes).astype(np.int64)


@dataclass(frozen=True)
class ModeCoverage:
    """`mode_coverage` output.

    ``table``: one row per class — ``class``, ``n_samples``, ``p_samples``, ``n_data``, ``p_data``.
    ``total_variation``: ½ Σ|p_samples − p_data| in [0, 1]. ``chi2``, ``dof``, ``p_value``: chi-square
    test that both histograms come from one distribution (classes empty in both are left out).
    ``n_missing``: classes present in the data with no sample.
    """

    table: pd.DataFrame
    total_variation: float
    chi2: float
    dof: int
    p_value: float
    n_missing: int


def mode_coverage(sample_labels: ArrayLike, data_labels: ArrayLike, n_classes: int) -> ModeCoverage:
    """Class histogram of samples (the classifier's predictions ``[Ns]``) against the data's labels ``[Nd]``."""
    a, b = label_histogram(sample_labels, n_classes), label_histogram(data_labels, n_classes)
    if a.sum() == 0 or b.sum() == 0:
        raise ValueError(f"mode_coverage needs samples and data, got {a.sum()} and {b.sum()} labels")
    pa, pb = a / a.sum(), b / b.sum()
    used = (a + b) > 0
    if used.sum() >= 2:
        chi2, p, dof, _ = chi2_contingency(np.stack([a[used], b[used]]), correction=False)
    else:
        chi2, p, dof = 0.0, 1.0, 0
    table = pd.DataFrame({"class": np.arange(n_classes), "n_samples": a, "p_samples": pa, "n_data": b, "p_data": pb})
    return ModeCoverage(table, float(0.5 * np.abs(pa - pb).sum()), float(chi2), int(dof), float(p),
                        int(((a == 0) & (b > 0)).sum()))


def conditional_agreement(predicted: ArrayLike, requested: ArrayLike, n_classes: int) -> pd.DataFrame:
    """Per requested class: ``class``, ``n`` samples, ``n_agree`` (classifier says the requested class),
    ``agreement`` (= n_agree / n; NaN for a class never requested), and a last row ``class = "all"``.
    Also one ``pred_{k}`` column per class: how many samples of the requested class went to class ``k``."""
    p, r = _array(predicted), _array(requested)
    if p.shape != r.shape:
        raise ValueError(f"predicted and requested must have one shape, got {p.shape} and {r.shape}")
    label_histogram(p, n_classes), label_histogram(r, n_classes)  # validates both
    conf = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(conf, (r, p), 1)
    n = conf.sum(1)
    agree = np.diag(conf)
    with np.errstate(invalid="ignore", divide="ignore"):
        rows = pd.DataFrame({"class": [str(c) for c in range(n_classes)], "n": n, "n_agree": agree, "agreement": agree / n})
    for k in range(n_classes):
        rows[f"pred_{k}"] = conf[:, k]
    total = {"class": "all", "n": int(n.sum()), "n_agree": int(agree.sum()),
             "agreement": agree.sum() / n.sum() if n.sum() else np.nan,
             **{f"pred_{k}": int(conf[:, k].sum()) for k in range(n_classes)}}
    return pd.concat([rows, pd.DataFrame([total])], ignore_index=True)


def covariance_spectrum(x: ArrayLike) -> np.ndarray:
    """Eigenvalues of the pixel covariance of images ``[N, ...]`` (flattened to ``D`` values each), float64
    ``[min(N − 1, D)]``, largest first, ≥ 0; unbiased (``1/(N − 1)``). Units: (model-scale pixel)²."""
    a = _array(x, np.float64)
    if a.ndim < 2 or a.shape[0] < 2:
        raise ValueError(f"x must hold at least 2 images [N, ...], got shape {a.shape}")
    a = a.reshape(len(a), -1)
    a = a - a.mean(0)
    sv = np.linalg.svd(a, compute_uv=False)
    return (sv[: min(len(a) - 1, a.shape[1])] ** 2 / (len(a) - 1))


def n_directions(eigenvalues: ArrayLike, fraction: float = 0.99) -> int:
    """Fewest leading directions whose eigenvalues sum to at least ``fraction`` of the total (0 if all zero)."""
    e = np.sort(_array(eigenvalues, np.float64))[::-1]
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must lie in (0, 1], got {fraction}")
    total = e.sum()
    if total <= 0:
        return 0
    return int(np.searchsorted(np.cumsum(e) / total, fraction * (1 - 1e-12)) + 1)


def compare_spectra(images: Mapping[str, ArrayLike], fraction: float = 0.99) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Covariance spectra of named image sets (e.g. ``{"generated": …, "train": …}``).

    Returns ``(spectra, summary)``. ``spectra``: ``group``, ``rank`` (1 = largest), ``eigenvalue``,
    ``explained`` (fraction of the total), ``cumulative``. ``summary``: ``group``, ``n_images``,
    ``total_variance`` (sum of eigenvalues), ``n_directions`` (holding ``fraction``), ``fraction``.
    """
    spec, summ = [], []
    for g, x in images.items():
        e = covariance_spectrum(x)
        tot = e.sum()
        expl = e / tot if tot > 0 else np.zeros_like(e)
        spec.append(pd.DataFrame({"group": g, "rank": np.arange(1, len(e) + 1), "eigenvalue": e,
                                  "explained": expl, "cumulative": np.cumsum(expl)}))
        summ.append({"group": g, "n_images": len(_array(x)), "total_variance": float(tot),
                     "n_directions": n_directions(e, fraction), "fraction": fraction})
    return pd.concat(spec, ignore_index=True), pd.DataFrame(summ)


# ---------------------------------------------------------------------------------------------- pipeline stage


def coverage_audit(samples: Samples, params: Mapping[str, Any], classifier: Any | None = None,
                   train: Tensor | None = None, test: Tensor | None = None, test_labels: np.ndarray | None = None,
                   skipped: Sequence[str] = ()) -> tuple[dict[str, Any], dict[str, dict[str, Any]], pd.DataFrame, list[str]]:
    """The pipeline's coverage stage: `mode_coverage` and `conditional_agreement` under the pipeline's
    classifier, and `compare_spectra`.

    Args:
        samples: the model's samples (`ganaudit.audits.stage.StageInputs.pool`; ``labels`` the requested or stored classes, None if none).
        params: ``beyond.coverage`` (``n_reference``, ``fraction``).
        classifier: the pipeline's classifier (`ganaudit.models.classifier.Classifier`) or None.
        train, test: ``[M, C, H, W]`` real images (model scale), the reference spectra (first ``n_reference``);
            the test images are also what the data's label histogram is measured on: the classifier's
            predictions on them, so its own errors enter both histograms alike. ``test_labels`` are their true
            classes (the classifier's accuracy on them goes in a note).
        skipped: why parts cannot be made (no classifier, no training images), written to the notes.

    Returns:
        ``(tree, group_attrs, table, notes)``: frames ``classes`` (class, n_samples, p_samples, n_data, p_data,
        agreement, n_requested; a last row ``all`` with the total variation distance, the chi-square p-value and
        the classes never produced), ``spectra`` (group, rank, eigenvalue, explained, cumulative), ``spectrum``
        (group, n_images, total_variance, n_directions, fraction, directions_vs_train) and ``table`` (= classes).
    """
    notes = list(skipped)
    frames: dict[str, pd.DataFrame] = {}
    if classifier is not None and test is not None:
        from ganaudit.models.classifier import predict_and_features

        k = int(classifier.n_classes)
        pred, _ = predict_and_features(classifier, samples.images.float())
        pred_data, _ = predict_and_features(classifier, test.float())
        mc = mode_coverage(pred, pred_data, k)
        classes = mc.table.assign(**{"class": mc.table["class"].astype(str)})
        if samples.labels is not None:
            agree = conditional_agreement(pred, samples.labels.numpy(), k)
            classes["n_requested"] = agree.n.to_numpy()[:k]
            classes["agreement"] = agree.agreement.to_numpy()[:k]
            overall = float(agree.agreement.iloc[-1])
        else:
            classes["n_requested"] = 0
            classes["agreement"] = np.nan
            overall = float("nan")
            notes.append("class agreement: the generator is unconditional (no requested classes)")
        total = {"class": "all", "n_samples": int(mc.table.n_samples.sum()), "p_samples": 1.0,
                 "n_data": int(mc.table.n_data.sum()), "p_data": 1.0, "n_requested": int(classes.n_requested.sum()),
                 "agreement": overall, "total_variation": mc.total_variation, "chi2_p": mc.p_value,
                 "n_missing": mc.n_missing}
        frames["classes"] = pd.concat([classes, pd.DataFrame([total])], ignore_index=True)
        if test_labels is not None and len(test_labels) == len(pred_data):
            notes.append(f"the classifier labels {np.mean(pred_data == np.asarray(test_labels)):.4f} of the "
                         f"{len(pred_data)} test images correctly (the data histogram is its predictions on them)")
    sets = {"generated": samples.images}
    n_ref = int(params["n_reference"])
    for g, x in (("train", train), ("test", test)):
        if x is not None and len(x) >= 2:
            sets[g] = x[:n_ref]
    spectra, summary = compare_spectra({g: x.double().numpy() for g, x in sets.items()}, params["fraction"])
    base = summary.set_index("group").n_directions.get("train", np.nan)
    summary["directions_vs_train"] = summary.n_directions / base if base else np.nan
    frames["spectra"] = spectra
    frames["spectrum"] = summary
    table = frames.get("classes", pd.DataFrame({"class": []}))
    frames["table"] = table
    tree, gattrs = write_frames(frames)
    return tree, gattrs, table, notes


def stage(inputs: StageInputs, params: Mapping[str, Any]) -> StageOutput:
    """The coverage audit of one model (registry entry ``coverage``): its samples' label histogram and class agreement
    under the pipeline's classifier, and their covariance spectrum against the training and test images'
    (`coverage_audit`). Parts whose inputs the run lacks (no training images, no classifier) are skipped and named
    in the notes."""
    from ganaudit.data.images import to_model_scale

    p = params["coverage"]
    train, test = inputs.group("train"), inputs.group("test")
    classifier = inputs.classifier()
    pool = inputs.pool(p["n_samples"], inputs.seed, train.labels if train is not None else None)
    skipped = []
    if train is None:
        skipped.append("reference spectra and label histogram skipped: no training or test images in this run")
    elif classifier is None:
        skipped.append("label histogram and class agreement skipped: no classifier (classifier.enabled: false)")
    tree, group_attrs, table, notes = coverage_audit(
        pool, p, classifier, to_model_scale(train.images) if train is not None else None,
        to_model_scale(test.images) if test is not None else None,
        test.labels if test is not None else None, skipped)
    return StageOutput(tree, group_attrs, notes, log=table.to_string() + "\n" + "\n".join(notes))
