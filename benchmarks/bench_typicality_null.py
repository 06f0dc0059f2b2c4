"""The typicality test's false-positive rate on each model's own samples, the paper's ε against ε with Ĥ's error.

On a finished run (``--results``): each model's AIS log-likelihoods of its ``generated_calibration`` and
``generated`` samples (`results/ais/{model}/{group}.h5`) are pooled and split ``--splits`` times into a calibration
part (as many as the run's) and a held-out part; ε comes from the calibration part (`bootstrap_epsilon`, without and
with ``entropy_error``) and one random N-subset of the held-out part is tested
(`ganaudit.density.typicality.null_false_positives`). Nominal: ``1 − confidence``. Also the run's Table 2 with
either ε (`typicality_table`), to show which verdicts the change moves.

    .venv/bin/python benchmarks/bench_typicality_null.py --results results --splits 1000
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd
import yaml

from ganaudit.artifacts import store
from ganaudit.artifacts.tables import to_markdown
from ganaudit.data import evaluation
from ganaudit.density import typicality
from ganaudit.workflow import runtime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--results", default="results")
    ap.add_argument("--config", default="config.yaml")
    ap.add_argument("--splits", type=int, default=1000)
    args = ap.parse_args()
    cfg = yaml.safe_load(open(args.config))
    t = cfg["typicality"]
    seed = runtime.seed_for(cfg["seed"], "typicality")
    rows, tables = [], []
    for model_dir in sorted((Path(args.results) / "ais").iterdir()):
        lls = {}
        for f in sorted(model_dir.glob("*.h5")):
            d = store.read(f, ["log_px_class", "labels"])
            lls[f.stem] = evaluation.marginal_log_px(d["log_px_class"], d["labels"], f.stem)
        if "generated_calibration" not in lls or "generated" not in lls:
            continue
        cal = lls.pop("generated_calibration")
        for err in (False, True):
            null = typicality.null_false_positives(cal, lls["generated"], t["sizes"], t["confidence"],
                                                   t["n_bootstrap"], args.splits, seed, err)
            for r in null.itertuples():
                rows.append({"model": model_dir.name, "ε": "with Ĥ's error" if err else "paper (Ĥ exact)",
                             "N": r.n, "false-positive rate": r.false_positive_rate, "nominal": 1 - t["confidence"],
                             "splits": r.null_splits, "calibration / held-out": f"{len(cal)} / {len(lls['generated'])}"})
            tab = typicality.table2_layout(typicality.typicality_table(
                cal, lls, t["sizes"], t["trials"], t["confidence"], t["n_bootstrap"], seed, err))
            tables.append(tab.assign(model=model_dir.name, ε="with Ĥ's error" if err else "paper"))
    print(to_markdown(pd.DataFrame(rows), floatfmt=".3g"))
    print()
    print(to_markdown(pd.concat(tables, ignore_index=True), floatfmt=".2f"))


if __name__ == "__main__":
    main()
