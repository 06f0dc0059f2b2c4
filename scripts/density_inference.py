"""Density experiments from the AIS log-likelihoods: LL per group (Fig 8, 12), generative
classification and outlier detection vs the 1NN baseline (Fig 7), the patch-CV correlation (Fig 8),
Table 1 (bits/dim + sample quality) and Table 3 (σ², PSNR)."""

import json
from pathlib import Path

import numpy as np
import pandas as pd

from ganaudit import inference, pipeline, runtime, stats, store, tables


def load_ais(paths: list[str]) -> dict[str, dict[str, dict]]:
    out: dict[str, dict[str, dict]] = {}
    for p in paths:
        model, group = Path(p).parent.name, Path(p).stem
        out.setdefault(model, {})[group] = store.read(p, ["log_px_class", "labels", "source_labels", "images", "index"])
    return out


def per_image_table(lls: dict[str, dict[str, dict]], patch: int) -> pd.DataFrame:
    rows = []
    for model, groups in lls.items():
        for group, d in groups.items():
            if not len(d["labels"]):
                continue
            log_px = pipeline.marginal_log_px(d["log_px_class"], d["labels"], group)
            n_dims = int(np.prod(d["images"].shape[1:]))
            rows.append(pd.DataFrame({
                "model": model, "group": group, "index": d["index"], "label": d["labels"],
                "source_label": d["source_labels"], "log_px": log_px,
                "bits_per_dim": stats.bits_per_dim(log_px, n_dims),
                "patch_cv": stats.patch_coefficient_of_variation(d["images"], patch)}))
    return pd.concat(rows, ignore_index=True)


def inference_table(lls: dict[str, dict[str, dict]], baseline_paths: list[str]) -> tuple[pd.DataFrame, str | None]:
    """Generative classification on `test` and outlier detection over `inference.scored_groups`; the 1NN
    baseline on the same images (the largest number any model scored per group: a prefix of the inverted
    images)."""
    frames, ref = [], None
    n_used: dict[str, int] = {}
    for model, groups in lls.items():
        used = {g: groups[g] for g in inference.scored_groups(groups) if len(groups[g]["labels"])}
        scores, labels, inlier, ref = inference.outlier_detection_inputs(used, "log_px_class")
        for g, d in used.items():
            n_used[g] = max(n_used.get(g, 0), len(d["labels"]))
        if "test" in used and scores.shape[1] > 1:
            t = used["test"]
            frames.append(inference.summarise_classification(f"density ({model})", "log-likelihood", t["log_px_class"],
                                                              t["labels"], higher_is_better=True))
        frames.append(inference.summarise_outlier_detection(f"density ({model})", "log-likelihood", scores, labels,
                                                            inlier, higher_is_outlier=False))
    if baseline_paths:
        metric = store.read_attrs(baseline_paths[0]).get("perceptual_metric", "perceptual")
        base = {Path(p).stem: store.read(p, ["perceptual", "labels"]) for p in baseline_paths}
        # the same images as the AIS groups (a prefix of the inverted images), in the order the models used
        bgroups = {g: {"perceptual": base[g]["perceptual"][: n], "labels": base[g]["labels"][: n]}
                   for g, n in n_used.items() if g in base}
        scores, labels, inlier, _ = inference.outlier_detection_inputs(bgroups, "perceptual")
        if "test" in bgroups:
            t = bgroups["test"]
            frames.append(inference.summarise_classification("1NN (training images)", metric, t["perceptual"],
                                                              t["labels"], higher_is_better=False))
        frames.append(inference.summarise_outlier_detection("1NN (training images)", metric, scores, labels, inlier,
                                                            higher_is_outlier=True))
    return inference.summarise(frames), ref


def main(inp, out, params: dict) -> None:
    lls = load_ais(list(inp.ais))
    per_image = per_image_table(lls, params["patch"])
    per_image.to_csv(out.per_image, index=False)

    groups = (per_image.groupby(["model", "group"], sort=False)
              .agg(n_images=("log_px", "size"), mean_log_px=("log_px", "mean"), median_log_px=("log_px", "median"),
                   std_log_px=("log_px", "std"), mean_bits_per_dim=("bits_per_dim", "mean"),
                   mean_patch_cv=("patch_cv", "mean")).reset_index())
    tables.write_table(groups, out.groups, out.groups_md, "Log-likelihood per image group (nats; bits/dim)",
                       ["log p(x) under the class mixture with a uniform class prior (see ganaudit.pipeline.marginal_log_px)."])

    inf, ref = inference_table(lls, list(inp.get("baseline", [])))
    tables.write_table(inf, out.inference, out.inference_md, "Density inference (paper Fig 7): generative classification "
                       "(argmax_c log p(x|c)) and per-class outlier detection (score: −log p(x|c))",
                       [f"Outlier detection: {inference.describe_inliers(ref)}; outliers are every other scored group "
                        "(the training images and the calibration samples are not scored)."])

    corr = []
    # the calibration samples only set the typicality threshold; like Fig 8, the correlation leaves them out
    for model, sub in per_image[per_image.group != "generated_calibration"].groupby("model", sort=False):
        for scope, s in (("all groups", sub), ("test", sub[sub.group == "test"])):
            corr.append({"model": model, "images": scope, **stats.correlation(s.patch_cv.to_numpy(), s.log_px.to_numpy())})
    pd.DataFrame(corr).to_csv(out.correlation, index=False)

    sig = {Path(p).stem: json.load(open(p)) for p in inp.sigmas}
    qual = {Path(p).stem: json.load(open(p)) for p in inp.get("quality", [])}
    t1, t3 = [], []
    for model, spec in params["models"].items():
        test = per_image[(per_image.model == model) & (per_image.group == "test")]
        q = qual.get(model, {})
        t1.append({"model": model, "kind": spec["kind"], "role": spec.get("role", "gan"),
                   "test_ll_bits_per_dim": test.bits_per_dim.mean() if len(test) else np.nan,
                   "test_ll_bits_per_dim_se": test.bits_per_dim.std() / np.sqrt(len(test)) if len(test) > 1 else np.nan,
                   "test_ll_nats": test.log_px.mean() if len(test) else np.nan, "n_test": len(test),
                   "fid_classifier_features": q.get("fid_classifier_features", np.nan),
                   "classifier_accuracy_on_samples": q.get("sample_accuracy", np.nan),
                   "sigma2_unit_scale": sig[model]["sigma2_unit_scale"]})
        t3.append({"model": model, "kind": spec["kind"], "sigma2_unit_scale": sig[model]["sigma2_unit_scale"],
                   "sigma2_model_scale": sig[model]["sigma2_model_scale"], "psnr_db": sig[model]["psnr_db"],
                   "source": sig[model]["source"], "n_images": sig[model]["n_images"]})
    metric = next(iter(qual.values()), {}).get("metric", "FID (classifier features)")
    notes = [f"All log-likelihoods by the same AIS under the Gaussian observation model with each model's own σ². "
             f"Sample-quality column: {metric} and the classifier's accuracy on class-conditional samples (there is no "
             "Inception network offline)."]
    if not (per_image.group == "test").any():
        notes.append("There is no test group (no training data: dataset.source.kind is 'none'), so the test "
                     "log-likelihood cannot be measured; ll_per_group.md has the log-likelihood of every group scored.")
    if not qual:
        notes.append("No sample-quality numbers: the classifier is disabled or there are no training images to train it on.")
    tables.write_table(pd.DataFrame(t1), out.table1, out.table1_md, "Table 1: test log-likelihood (bits/dim, higher is better) "
                       "and sample quality", notes)
    tables.write_table(pd.DataFrame(t3), out.table3, out.table3_md, "Table 3: observation variance σ² and PSNR ([0, 1] scale)")
    log.info("\n%s", tables.to_markdown(groups))


if "snakemake" in globals():
    log = runtime.setup(snakemake.log[0])
    main(snakemake.input, snakemake.output, runtime.as_dict(snakemake.params))
