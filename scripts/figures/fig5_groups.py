"""Fig 5 (one GAN): reconstruction error per image group, and projections of the other image groups."""

import matplotlib

matplotlib.use("Agg")

from ganaudit import plots, runtime  # noqa: E402


def main(inversions: list[str], data: str, samples: str, png: str, pdf: str, model: str, params: dict) -> None:
    inv = plots.read_inversions(inversions, data, {model: samples}).get(model, {})
    notes = plots.absent_groups(params["expected"], list(inv))
    fig = plots.fig5_groups(model, inv, params["n_examples"], notes)
    plots.save(fig, png, pdf, params["dpi"])


if "snakemake" in globals():
    log = runtime.setup(snakemake.log[0])
    main(list(snakemake.input.inversions), snakemake.input.data, snakemake.input.samples, snakemake.output.png,
         snakemake.output.pdf, snakemake.wildcards.model, runtime.as_dict(snakemake.params))
