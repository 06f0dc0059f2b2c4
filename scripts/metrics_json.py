"""results/metrics/{model}.json: every scalar of the run's tables for one model, the metrics under their
conventional keys (`ganaudit.metrics.flat.flat_metrics`)."""

import json
from pathlib import Path

import pandas as pd

from ganaudit.metrics.flat import flat_metrics
from ganaudit.workflow import runtime


def main(tables: list[str], model: str, out_path: str) -> None:
    frames = {Path(t).stem: pd.read_csv(t) for t in tables}
    record = flat_metrics(model, frames)
    tmp = Path(out_path).with_suffix(".json.tmp")
    tmp.write_text(json.dumps(record, indent=1, ensure_ascii=False, allow_nan=False) + "\n")
    tmp.replace(out_path)
    log.info("%s: %d metrics, %d further scalars", model, len(record["metrics"]), len(record["tables"]))


if "snakemake" in globals():
    log = runtime.setup(snakemake.log[0])
    main(list(snakemake.input.tables), snakemake.wildcards.model, snakemake.output[0])
