"""The mode-coverage figure of one GAN: label histograms under the classifier and covariance spectra."""

import matplotlib

matplotlib.use("Agg")

from ganaudit import beyond, runtime  # noqa: E402
from ganaudit.plots import beyond as beyond_plots, style  # noqa: E402


def main(artifact: str, png: str, pdf: str, model: str, params: dict) -> None:
    fig = beyond_plots.coverage_histograms(model, beyond.read_frame(artifact, "table"),
                                           beyond.read_frame(artifact, "spectrum"), beyond.read_frame(artifact, "spectra"),
                                           beyond.read_notes(artifact))
    style.save(fig, png, pdf, params["dpi"])


if "snakemake" in globals():
    log = runtime.setup(snakemake.log[0])
    main(*runtime.model_figure_args(snakemake))
