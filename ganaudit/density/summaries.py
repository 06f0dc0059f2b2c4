"""The density tables of a run (paper section 4), assembled from its artifacts: each image's log-likelihood,
the log-likelihood of each group with its error bar, generative classification and outlier detection next to
the 1NN baseline (Fig 7), the patch-CV correlation (Fig 8), Table 1 and Table 3.

Inputs are what `load_ais` / `load_checks` read: ``{model: {group: arrays}}`` from
``results/ais/{model}/{group}.h5`` and ``results/ais_check/{model}/{group}.h5``. Log-likelihoods are in nats
(``log p(x)`` under the class mixture, `ganaudit.data.evaluation.marginal_log_px`), bits/dim as in the paper's Table 1.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ganaudit.artifacts import store
from ganaudit.artifacts.readers import model_and_group
from ganaudit.data import evaluation, stats
from ganaudit.density import errorbars
from ganaudit.manifold import classification

Runs = dict[str, dict[str, dict[str, np.ndarray]]]


def load_ais(paths: Iterable[str | Path]) -> Runs:
    """``{model: {group: {log_px_class, labels, source_labels, images, index}}}`` of the AIS artifacts."""
    out: Runs = {}
    for p in paths:
        model, group = model_and_group(p)
        out.setdefault(model, {})[group] = store.read(p, ["log_px_class", "labels", "source_labels", "images", "index"])
    return out


def load_checks(paths: Iterable[str | Path]) -> pd.DataFrame:
    """One row per re-estimated image: ``model``, ``group``, ``index``, ``change`` (nats; see `ganaudit.density.errorbars`)."""
    rows = []
    for p in paths:
        model, group = model_and_group(p)
        d = store.read(p, ["change"])
        rows += [{"model": model, "group": group, "index": i, "change": float(c)} for i, c in enumerate(d["change"])]
    return pd.DataFrame(rows, columns=["model", "group", "index", "change"])


def per_image(lls: Runs, patch: int) -> pd.DataFrame:
    """One row per (model, group, image): ``log_px``, ``bits_per_dim`` and the image's patch coefficient of variation."""
    rows = []
    for model, groups in lls.items():
        for group, d in groups.items():
            if not len(d["labels"]):
                continue
            log_px = evaluation.marginal_log_px(d["log_px_class"], d["labels"], group)
            n_dims = int(np.prod(d["images"].shape[1:]))
            rows.append(pd.DataFrame({
                "model": model, "group": group, "index": d["index"], "label": d["labels"],
                "source_label": d["source_labels"], "log_px": log_px,
                "bits_per_dim": stats.bits_per_dim(log_px, n_dims),
                "patch_cv": stats.patch_coefficient_of_variation(d["images"], patch)}))
    return pd.concat(rows, ignore_index=True)


def ll_per_group(per_image_table: pd.DataFrame, checks: pd.DataFrame) -> pd.DataFrame:
    """Mean, median and spread of ``log p(x)`` per (model, group), with the group's two errors: the sampling error
    of its mean (``se_mean_nats``, bootstrap over its images, `ganaudit.density.errorbars.bootstrap_se`) and the
    estimator's error bar, the median and the largest change of its re-estimated images at the larger budget
    (`ganaudit.density.errorbars.summarise`)."""
    groups = (per_image_table.groupby(["model", "group"], sort=False)
              .agg(n_images=("log_px", "size"), mean_log_px=("log_px", "mean"), median_log_px=("log_px", "median"),
                   std_log_px=("log_px", "std"), mean_bits_per_dim=("bits_per_dim", "mean"),
                   mean_patch_cv=("patch_cv", "mean")).reset_index())
    se = per_image_table.groupby(["model", "group"], sort=False)["log_px"].agg(errorbars.bootstrap_se)
    groups["se_mean_nats"] = [se[(m, g)] for m, g in zip(groups.model, groups.group)]
    bars = errorbars.summarise(checks) if len(checks) else pd.DataFrame(
        columns=["model", "group", "check_images", "error_median_nats", "error_max_nats"])
    return groups.merge(bars, on=["model", "group"], how="left")


def density_inference(lls: Runs, baseline_paths: list[str]) -> tuple[pd.DataFrame, str | None]:
    """Generative classification on `test` and outlier detection over `inference.scored_groups`; the 1NN
    baseline on the same images (the largest number any model scored per group: a prefix of the inverted
    images). Returns the tidy table and the inlier group."""
    frames, ref = [], None
    n_used: dict[str, int] = {}
    for model, groups in lls.items():
        used = {g: groups[g] for g in classification.scored_groups(groups) if len(groups[g]["labels"])}
        scores, labels, inlier, ref = classification.outlier_detection_inputs(used, "log_px_class")
        for g, d in used.items():
            n_used[g] = max(n_used.get(g, 0), len(d["labels"]))
        if "test" in used and scores.shape[1] > 1:
            t = used["test"]
            frames.append(classification.summarise_classification(f"density ({model})", "log-likelihood", t["log_px_class"],
                                                              t["labels"], higher_is_better=True))
        frames.append(classification.summarise_outlier_detection(f"density ({model})", "log-likelihood", scores, labels,
                                                            inlier, higher_is_outlier=False))
    if baseline_paths:
        metric = store.read_attrs(baseline_paths[0]).get("perceptual_metric", "perceptual")
        base = {Path(p).stem: store.read(p, ["perceptual", "labels"]) for p in baseline_paths}
        bgroups = {g: {"perceptual": base[g]["perceptual"][: n], "labels": base[g]["labels"][: n]}
                   for g, n in n_used.items() if g in base}
        scores, labels, inlier, _ = classification.outlier_detection_inputs(bgroups, "perceptual")
        if "test" in bgroups:
            t = bgroups["test"]
            frames.append(classification.summarise_classification("1NN (training images)", metric, t["perceptual"],
                                                              t["labels"], higher_is_better=False))
        frames.append(classification.summarise_outlier_detection("1NN (training images)", metric, scores, labels, inlier,
                                                            higher_is_outlier=True))
    return classification.summarise(frames), ref


def patch_cv_correlation(per_image_table: pd.DataFrame) -> pd.DataFrame:
    """Correlation of ``log p(x)`` with the patch CV per model, over all groups and over the test images alone
    (the calibration samples only set the typicality threshold; like Fig 8, the correlation leaves them out)."""
    rows = []
    sub_all = per_image_table[per_image_table.group != "generated_calibration"]
    for model, sub in sub_all.groupby("model", sort=False):
        for scope, s in (("all groups", sub), ("test", sub[sub.group == "test"])):
            rows.append({"model": model, "images": scope,
                         **stats.correlation(s.patch_cv.to_numpy(), s.log_px.to_numpy())})
    return pd.DataFrame(rows)


def table1(per_image_table: pd.DataFrame, groups: pd.DataFrame, models: Mapping[str, Any],
           sigmas: Mapping[str, dict], quality: Mapping[str, dict]) -> pd.DataFrame:
    """Paper Table 1: the test log-likelihood (bits/dim, its standard error over images, nats, and the test
    group's error bar in nats) and sample quality per model."""
    rows = []
    for model, spec in models.items():
        test = per_image_table[(per_image_table.model == model) & (per_image_table.group == "test")]
        bar = groups[(groups.model == model) & (groups.group == "test")]
        q = quality.get(model, {})
        rows.append({"model": model, "kind": spec["kind"], "role": spec.get("role", "gan"),
                     "test_ll_bits_per_dim": test.bits_per_dim.mean() if len(test) else np.nan,
                     "test_ll_bits_per_dim_se": test.bits_per_dim.std() / np.sqrt(len(test)) if len(test) > 1 else np.nan,
                     "test_ll_nats": test.log_px.mean() if len(test) else np.nan,
                     "test_ll_error_max_nats": float(bar.error_max_nats.iloc[0]) if len(bar) else np.nan,
                     "n_test": len(test),
                     "fid_classifier_features": q.get("fid_classifier_features", np.nan),
                     "classifier_accuracy_on_samples": q.get("sample_accuracy", np.nan),
                     "sigma2_unit_scale": sigmas[model]["sigma2_unit_scale"]})
    return pd.DataFrame(rows)


def table3(models: Mapping[str, Any], sigmas: Mapping[str, dict]) -> pd.DataFrame:
    """Paper Table 3: σ² of each model's observation model and its PSNR, with where σ² came from."""
    return pd.DataFrame([{"model": m, "kind": spec["kind"], "sigma2_unit_scale": sigmas[m]["sigma2_unit_scale"],
                          "sigma2_model_scale": sigmas[m]["sigma2_model_scale"], "psnr_db": sigmas[m]["psnr_db"],
                          "source": sigmas[m]["source"], "n_images": sigmas[m]["n_images"]}
                         for m, spec in models.items()])


__all__ = ["density_inference", "ll_per_group", "load_ais", "load_checks", "patch_cv_correlation", "per_image",
           "table1", "table3"]
