"""The memorisation figure of one GAN: nearest-training distances of samples vs test images per distance, and
the closest sample/training pairs."""

import matplotlib

matplotlib.use("Agg")

from ganaudit import beyond, runtime, store  # noqa: E402
from ganaudit.plots import beyond as beyond_plots, style  # noqa: E402


def main(artifact: str, png: str, pdf: str, model: str, params: dict) -> None:
    distances, summaries, pairs, images = {}, {}, {}, {}
    for key, name in beyond.distance_names(artifact).items():
        distances[name] = beyond.read_frame(artifact, f"{key}/distances")
        summaries[name] = beyond.read_frame(artifact, f"{key}/summary").iloc[0].to_dict()
        pairs[name] = beyond.read_frame(artifact, f"{key}/pairs")
        images[name] = store.read(artifact, [f"{key}/pair_images"])[f"{key}/pair_images"]
    fig = beyond_plots.memorisation_distances(model, distances, summaries, pairs, images,
                                              params["n_examples"], beyond.read_notes(artifact))
    style.save(fig, png, pdf, params["dpi"])


if "snakemake" in globals():
    log = runtime.setup(snakemake.log[0])
    main(snakemake.input.artifact, snakemake.output.png, snakemake.output.pdf, snakemake.wildcards.model,
         runtime.as_dict(snakemake.params))
