"""The birthday-paradox figure of one GAN: collision curves per distance and the closest sample pairs."""

import matplotlib

matplotlib.use("Agg")

from ganaudit import beyond, runtime, store  # noqa: E402
from ganaudit.support import THRESHOLD_FIELDS  # noqa: E402
from ganaudit.plots import beyond as beyond_plots, style  # noqa: E402


def main(artifact: str, png: str, pdf: str, model: str, params: dict) -> None:
    curves, estimates, thresholds, pairs, images = {}, {}, {}, {}, {}
    for key, name in beyond.distance_names(artifact).items():
        curves[name] = beyond.read_frame(artifact, f"{key}/curves")
        estimates[name] = beyond.read_frame(artifact, f"{key}/estimates")
        pairs[name] = beyond.read_frame(artifact, f"{key}/pairs")
        d = store.read(artifact, [f"{key}/threshold", f"{key}/pair_images"])
        thresholds[name] = dict(zip(THRESHOLD_FIELDS, d[f"{key}/threshold"]))
        images[name] = d[f"{key}/pair_images"]
    fig = beyond_plots.support_collisions(model, curves, estimates, thresholds, pairs, images,
                                          params["n_examples"], beyond.read_notes(artifact))
    style.save(fig, png, pdf, params["dpi"])


if "snakemake" in globals():
    log = runtime.setup(snakemake.log[0])
    main(snakemake.input.artifact, snakemake.output.png, snakemake.output.pdf, snakemake.wildcards.model,
         runtime.as_dict(snakemake.params))
