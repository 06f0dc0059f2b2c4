"""The metrics figure of one model: each metric per feature space beside the memorising and fresh-data references."""

import matplotlib

matplotlib.use("Agg")

from ganaudit.audits import common  # noqa: E402
from ganaudit.plots import audits as beyond_plots  # noqa: E402
from ganaudit.plots import style  # noqa: E402
from ganaudit.workflow import runtime  # noqa: E402


def main(artifact: str, png: str, pdf: str, model: str, params: dict) -> None:
    fig = beyond_plots.metrics_summary(model, common.read_frame(artifact, "table"), common.read_notes(artifact))
    style.save(fig, png, pdf, params["dpi"])


if "snakemake" in globals():
    log = runtime.setup(snakemake.log[0])
    main(*runtime.model_figure_args(snakemake))
