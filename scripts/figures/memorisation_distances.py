"""The memorisation figure of one GAN: nearest-training distances of samples vs test images per distance, and
the closest sample/training pairs."""

import matplotlib

matplotlib.use("Agg")

from ganaudit.audits import common  # noqa: E402
from ganaudit.plots import audits as beyond_plots
from ganaudit.plots import style  # noqa: E402
from ganaudit.workflow import runtime


def main(artifact: str, png: str, pdf: str, model: str, params: dict) -> None:
    d = common.read_by_distance(artifact, frames=("distances", "summary", "pairs"), arrays=("pair_images",))
    distances, pairs, images = ({n: v[k] for n, v in d.items()} for k in ("distances", "pairs", "pair_images"))
    summaries = {n: v["summary"].iloc[0].to_dict() for n, v in d.items()}
    fig = beyond_plots.memorisation_distances(model, distances, summaries, pairs, images,
                                              params["n_examples"], common.read_notes(artifact))
    style.save(fig, png, pdf, params["dpi"])


if "snakemake" in globals():
    log = runtime.setup(snakemake.log[0])
    main(*runtime.model_figure_args(snakemake))
