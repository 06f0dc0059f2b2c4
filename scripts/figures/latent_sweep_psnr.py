"""The latent-size sweep figure: inversion PSNR of training vs generated images against latent size."""

import matplotlib

matplotlib.use("Agg")

import pandas as pd  # noqa: E402

from ganaudit.plots import audits as beyond_plots
from ganaudit.plots import style  # noqa: E402
from ganaudit.workflow import runtime  # noqa: E402


def main(table: str, png: str, pdf: str, params: dict) -> None:
    fig = beyond_plots.latent_sweep_psnr(pd.read_csv(table))
    style.save(fig, png, pdf, params["dpi"])


if "snakemake" in globals():
    log = runtime.setup(snakemake.log[0])
    main(snakemake.input.table, snakemake.output.png, snakemake.output.pdf, runtime.as_dict(snakemake.params))
