"""The train-on-generated figure of one model: the accuracy curve over real training sizes with the generated levels."""

import matplotlib

matplotlib.use("Agg")

from ganaudit.audits import common  # noqa: E402
from ganaudit.plots import audits as beyond_plots  # noqa: E402
from ganaudit.plots import style  # noqa: E402
from ganaudit.workflow import runtime  # noqa: E402


def main(artifact: str, png: str, pdf: str, model: str, params: dict) -> None:
    fig = beyond_plots.tgtr_accuracy_curve(model, common.read_frame(artifact, "curve"), common.read_frame(artifact, "table"),
                                           common.read_notes(artifact))
    style.save(fig, png, pdf, params["dpi"])


if "snakemake" in globals():
    log = runtime.setup(snakemake.log[0])
    main(*runtime.model_figure_args(snakemake))
