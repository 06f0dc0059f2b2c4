"""Manifold classification and per-class outlier detection (paper Fig 4) from the inversion errors,
next to the 1-nearest-neighbour baseline; accuracy and AUROC with the number of images."""

from pathlib import Path

import pandas as pd

from ganaudit.artifacts import readers, store, tables
from ganaudit.manifold import classification
from ganaudit.workflow import runtime


def load_errors(paths: list[str]) -> dict[str, dict[str, dict]]:
    """{model: {group: {mse, perceptual, labels}}} from results/inversion/{model}/{group}.h5 paths."""
    out: dict[str, dict[str, dict]] = {}
    for p in paths:
        model, group = readers.model_and_group(p)
        out.setdefault(model, {})[group] = store.read(p, ["mse", "perceptual", "labels"]) | {
            "metric": store.read_attrs(p).get("perceptual_metric", "perceptual")}
    return out


def evaluate(groups: dict[str, dict], method: str, keys: dict[str, str]) -> tuple[pd.DataFrame, str | None]:
    """Classification on `test`; per-class outlier detection (inliers: `inference.inlier_group`)."""
    frames, ref = [], None
    for distance, key in keys.items():
        scores, labels, inlier, ref = classification.outlier_detection_inputs(groups, key)
        if "test" in groups and scores.shape[1] > 1:
            t = groups["test"]
            frames.append(classification.summarise_classification(method, distance, t[key], t["labels"], higher_is_better=False))
        frames.append(classification.summarise_outlier_detection(method, distance, scores, labels, inlier, higher_is_outlier=True))
    return classification.summarise(frames), ref


def main(inversion_paths: list[str], baseline_paths: list[str], out_csv: str, out_md: str) -> None:
    errors = load_errors(inversion_paths)
    frames, refs = [], set()
    metric = "perceptual"
    for model, groups in errors.items():
        metric = next(iter(groups.values()))["metric"]
        df, ref = evaluate(groups, f"manifold ({model})", {"L2": "mse", metric: "perceptual"})
        frames.append(df)
        refs.add(ref)
    if baseline_paths:
        bgroups = {Path(p).stem: store.read(p, ["l2", "perceptual", "labels"]) for p in sorted(baseline_paths, key=lambda p: Path(p).stem)}
        frames.append(evaluate(bgroups, "1NN (training images)", {"L2": "l2", metric: "perceptual"})[0])
    df = pd.concat(frames, ignore_index=True)
    tables.write_table(df, out_csv, out_md, "Manifold inference (paper Fig 4): accuracy and AUROC",
                       [f"Perceptual distance: {metric}. Outlier detection: {classification.describe_inliers(next(iter(refs), None))}; "
                        "outliers are every other evaluated image (other modelled classes, other_classes, far-OOD "
                        "groups, constant colours). `class = mean` averages the classes."])
    summary = df[(df["class"].isin(["all", "mean"]))]
    log.info("\n%s", tables.to_markdown(summary))


if "snakemake" in globals():
    log = runtime.setup(snakemake.log[0])
    main(list(snakemake.input.inversions), list(snakemake.input.baseline), snakemake.output.csv, snakemake.output.md)
