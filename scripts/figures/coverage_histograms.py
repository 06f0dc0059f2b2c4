"""The mode-coverage figure of one GAN: label histograms under the classifier and covariance spectra."""

import matplotlib

matplotlib.use("Agg")

from ganaudit.audits import common  # noqa: E402
from ganaudit.plots import audits as beyond_plots
from ganaudit.plots import style  # noqa: E402
from ganaudit.workflow import runtime


def main(artifact: str, png: str, pdf: str, model: str, params: dict) -> None:
    fig = beyond_plots.coverage_histograms(model, common.read_frame(artifact, "table"),
                                           common.read_frame(artifact, "spectrum"), common.read_frame(artifact, "spectra"),
                                           common.read_notes(artifact))
    style.save(fig, png, pdf, params["dpi"])


if "snakemake" in globals():
    log = runtime.setup(snakemake.log[0])
    main(*runtime.model_figure_args(snakemake))
