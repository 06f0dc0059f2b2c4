"""The birthday-paradox figure of one GAN: collision curves per distance and the closest sample pairs."""

import matplotlib

matplotlib.use("Agg")

from ganaudit.audits import common  # noqa: E402
from ganaudit.audits.support import THRESHOLD_FIELDS  # noqa: E402
from ganaudit.plots import audits as beyond_plots
from ganaudit.plots import style  # noqa: E402
from ganaudit.workflow import runtime


def main(artifact: str, png: str, pdf: str, model: str, params: dict) -> None:
    d = common.read_by_distance(artifact, frames=("curves", "estimates", "pairs"), arrays=("threshold", "pair_images"))
    curves, estimates, pairs, images = ({n: v[k] for n, v in d.items()} for k in ("curves", "estimates", "pairs", "pair_images"))
    thresholds = {n: dict(zip(THRESHOLD_FIELDS, v["threshold"])) for n, v in d.items()}
    fig = beyond_plots.support_collisions(model, curves, estimates, thresholds, pairs, images,
                                          params["n_examples"], common.read_notes(artifact))
    style.save(fig, png, pdf, params["dpi"])


if "snakemake" in globals():
    log = runtime.setup(snakemake.log[0])
    main(*runtime.model_figure_args(snakemake))
