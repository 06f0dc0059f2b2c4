"""Fig 12: log-likelihood histograms per image group for every model."""

import matplotlib

matplotlib.use("Agg")

import pandas as pd  # noqa: E402

from ganaudit.plots import density, style  # noqa: E402
from ganaudit.workflow import runtime  # noqa: E402


def main(per_image: str, png: str, pdf: str, params: dict) -> None:
    df = pd.read_csv(per_image)
    notes = style.absent_groups(params["expected"], list(df["group"].unique()),
                                "no log-likelihoods in this run (absent or empty group)")
    fig = density.fig12_likelihood_all_models(df, notes=notes)
    style.save(fig, png, pdf, params["dpi"])


if "snakemake" in globals():
    log = runtime.setup(snakemake.log[0])
    main(snakemake.input.per_image, snakemake.output.png, snakemake.output.pdf, runtime.as_dict(snakemake.params))
