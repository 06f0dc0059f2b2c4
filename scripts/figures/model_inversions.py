"""Fig 3 (train vs generated reconstruction errors, example projections) and Fig 5 (reconstruction
error per image group, projections of the other groups) for one GAN; ``params.figure`` picks which."""

import matplotlib

matplotlib.use("Agg")

from ganaudit.artifacts import readers  # noqa: E402
from ganaudit.plots import manifold, style  # noqa: E402
from ganaudit.workflow import runtime

FIGURES = {"fig3": manifold.fig3_reconstruction, "fig5": manifold.fig5_groups}


def main(inversions: list[str], images: list[str], png: str, pdf: str, model: str, params: dict) -> None:
    inv = readers.read_inversions(inversions, images).get(model, {})
    notes = style.absent_groups(params["expected"], list(inv))
    fig = FIGURES[params["figure"]](model, inv, params["n_examples"], notes)
    style.save(fig, png, pdf, params["dpi"])


if "snakemake" in globals():
    log = runtime.setup(snakemake.log[0])
    main(list(snakemake.input.inversions), list(snakemake.input.images), snakemake.output.png,
         snakemake.output.pdf, snakemake.wildcards.model, runtime.as_dict(snakemake.params))
