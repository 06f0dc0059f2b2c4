"""Table 2: fraction of random N-subsets of each group inside the model's (ε, N)-typical set."""

import pandas as pd

from ganaudit.artifacts import tables
from ganaudit.density import typicality
from ganaudit.workflow import runtime


def main(paths: list[str], out_csv: str, out_md: str) -> None:
    df = pd.concat([pd.read_csv(p) for p in paths], ignore_index=True)
    df.to_csv(out_csv, index=False)
    layout = typicality.table2_layout(df)
    tables.write_table(layout, None, out_md,
                       "Table 2: fraction of trials in which N images are (ε, N)-typical",
                       ["A row per (model, group), a column per set size N; `images`: the group's images with "
                        "a log-likelihood. Subsets are drawn without replacement when the group has at least N "
                        "images, else with replacement. ε and the entropy come from separate calibration samples."])
    log.info("\n%s", tables.to_markdown(layout))


if "snakemake" in globals():
    log = runtime.setup(snakemake.log[0])
    main(list(snakemake.input.typicality), snakemake.output.csv, snakemake.output.md)
