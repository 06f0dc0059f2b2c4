"""Fig 4 (manifold: GAN projections) and Fig 7 (density: AIS log-likelihoods): classification and
outlier detection vs the 1NN baseline; ``params.figure`` picks which."""

import matplotlib

matplotlib.use("Agg")

import pandas as pd  # noqa: E402

from ganaudit.plots import classification as inference_plots
from ganaudit.plots import style  # noqa: E402
from ganaudit.workflow import runtime  # noqa: E402

FIGURES = {"fig4": inference_plots.fig4_manifold_inference, "fig7": inference_plots.fig7_density_inference}


def main(table: str, png: str, pdf: str, params: dict) -> None:
    df = pd.read_csv(table, dtype={"class": str})
    fig = FIGURES[params["figure"]](df, params["n_classes"], params["roles"], inliers=params["inliers"])
    style.save(fig, png, pdf, params["dpi"])


if "snakemake" in globals():
    log = runtime.setup(snakemake.log[0])
    main(snakemake.input.table, snakemake.output.png, snakemake.output.pdf, runtime.as_dict(snakemake.params))
