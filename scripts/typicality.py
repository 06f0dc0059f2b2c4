"""Typicality of each image group under one model (Nalisnick et al. 2019, paper Table 2). The entropy
and ε come from the `generated_calibration` samples only; the `generated` group is tested like any
other group, an honest check that the test is calibrated."""

from pathlib import Path

from ganaudit.artifacts import store
from ganaudit.data import evaluation
from ganaudit.density import typicality
from ganaudit.workflow import runtime


def main(ais_paths: list[str], out_path: str, params: dict) -> None:
    lls = {}
    for p in ais_paths:
        group = Path(p).stem
        d = store.read(p, ["log_px_class", "labels"])
        lls[group] = evaluation.marginal_log_px(d["log_px_class"], d["labels"], group)
    if "generated_calibration" not in lls or not len(lls["generated_calibration"]):
        raise ValueError("typicality needs the AIS log-likelihoods of the 'generated_calibration' group "
                         "(add it to ais.groups)")
    calib = lls.pop("generated_calibration")
    t = params["typicality"]
    seed = runtime.seed_for(params["seed"], "typicality")
    df = typicality.typicality_table(calib, lls, sizes=t["sizes"], n_trials=t["trials"], confidence=t["confidence"],
                                     n_bootstrap=t["n_bootstrap"], seed=seed, entropy_error=t["entropy_error"])
    if t["null_splits"] and len(lls.get("generated", [])):
        null = typicality.null_false_positives(calib, lls["generated"], t["sizes"], t["confidence"], t["n_bootstrap"],
                                               t["null_splits"], seed, t["entropy_error"])
        df = df.merge(null, on="n", how="left")
    df.insert(0, "model", Path(out_path).stem)
    df["n_calibration"] = len(calib)
    df.to_csv(out_path, index=False)
    log.info("\n%s", df.to_string())


if "snakemake" in globals():
    log = runtime.setup(snakemake.log[0])
    main(list(snakemake.input.ais), snakemake.output[0], runtime.as_dict(snakemake.params))
