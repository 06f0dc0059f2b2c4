"""Table 2 as a figure: fraction of N-image sets that are (ε, N)-typical, per group and model."""

import matplotlib

matplotlib.use("Agg")

import pandas as pd  # noqa: E402

from ganaudit.plots import style  # noqa: E402
from ganaudit.plots import typicality as typicality_plots
from ganaudit.workflow import runtime  # noqa: E402


def main(table: str, png: str, pdf: str, params: dict) -> None:
    df = pd.read_csv(table)
    fig = typicality_plots.table2_typicality(df, params["confidence"])
    style.save(fig, png, pdf, params["dpi"])


if "snakemake" in globals():
    log = runtime.setup(snakemake.log[0])
    main(snakemake.input.table, snakemake.output.png, snakemake.output.pdf, runtime.as_dict(snakemake.params))
