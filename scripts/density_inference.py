"""Density experiments from the AIS log-likelihoods (`ganaudit.density.summaries`): LL per group with its error bar
(Fig 8, 12), generative classification and outlier detection vs the 1NN baseline (Fig 7), the patch-CV
correlation (Fig 8), Table 1 (bits/dim + sample quality) and Table 3 (σ², PSNR)."""

import json
from pathlib import Path

from ganaudit.artifacts import tables
from ganaudit.density import summaries
from ganaudit.manifold import classification
from ganaudit.workflow import runtime


def main(inp, out, params: dict) -> None:
    lls = summaries.load_ais(list(inp.ais))
    per_image = summaries.per_image(lls, params["patch"])
    per_image.to_csv(out.per_image, index=False)
    checks = summaries.load_checks(list(inp.checks))
    groups = summaries.ll_per_group(per_image, checks)
    factor = params["check_factor"]
    tables.write_table(groups, out.groups, out.groups_md, "Log-likelihood per image group (nats; bits/dim) and its error bar", [
        "log p(x) under the class mixture with a uniform class prior (see ganaudit.data.evaluation.marginal_log_px).",
        f"Error bar: the first {params['check_images']} images of each group were estimated again with {factor:g}x the "
        "budget (independent random numbers); error_median_nats / error_max_nats are the median and the largest change "
        "of their log p(x) (positive: the run's estimate was too low). A group difference smaller than both groups' "
        "largest change is not established."])

    inf, ref = summaries.density_inference(lls, list(inp.get("baseline", [])))
    tables.write_table(inf, out.inference, out.inference_md, "Density inference (paper Fig 7): generative classification "
                       "(argmax_c log p(x|c)) and per-class outlier detection (score: −log p(x|c))",
                       [f"Outlier detection: {classification.describe_inliers(ref)}; outliers are every other scored group "
                        "(the training images and the calibration samples are not scored)."])
    summaries.patch_cv_correlation(per_image).to_csv(out.correlation, index=False)

    sig = {Path(p).stem: json.load(open(p)) for p in inp.sigmas}
    qual = {Path(p).stem: json.load(open(p)) for p in inp.get("quality", [])}
    metric = next(iter(qual.values()), {}).get("metric", "FID (classifier features)")
    notes = ["All log-likelihoods by the same AIS under the Gaussian observation model with each model's own σ²; "
             f"test_ll_error_max_nats is the test group's error bar (largest change at {factor:g}x the budget). "
             f"Sample-quality column: {metric} and the classifier's accuracy on class-conditional samples (there is no "
             "Inception network offline)."]
    if not (per_image.group == "test").any():
        notes.append("There is no test group (no training data: dataset.source.kind is 'none'), so the test "
                     "log-likelihood cannot be measured; ll_per_group.md has the log-likelihood of every group scored.")
    if not qual:
        notes.append("No sample-quality numbers: the classifier is disabled or there are no training images to train it on.")
    tables.write_table(summaries.table1(per_image, groups, params["models"], sig, qual), out.table1, out.table1_md,
                       "Table 1: test log-likelihood (bits/dim, higher is better) and sample quality", notes)
    tables.write_table(summaries.table3(params["models"], sig), out.table3, out.table3_md,
                       "Table 3: observation variance σ² and PSNR ([0, 1] scale)")
    log.info("\n%s", tables.to_markdown(groups))


if "snakemake" in globals():
    log = runtime.setup(snakemake.log[0])
    main(snakemake.input, snakemake.output, runtime.as_dict(snakemake.params))
