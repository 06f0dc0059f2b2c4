"""Fig 7: generative classification / outlier detection (AIS log-likelihoods) vs the 1NN baseline."""

import matplotlib

matplotlib.use("Agg")

import pandas as pd  # noqa: E402

from ganaudit import plots, runtime  # noqa: E402


def main(table: str, png: str, pdf: str, params: dict) -> None:
    df = pd.read_csv(table, dtype={"class": str})
    fig = plots.fig7_density_inference(df, params["n_classes"], params["roles"], inliers=params["inliers"])
    plots.save(fig, png, pdf, params["dpi"])


if "snakemake" in globals():
    log = runtime.setup(snakemake.log[0])
    main(snakemake.input.table, snakemake.output.png, snakemake.output.pdf, runtime.as_dict(snakemake.params))
