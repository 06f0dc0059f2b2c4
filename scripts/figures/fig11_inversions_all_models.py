"""Fig 11: originals and reconstructions of train, test and generated images for every model."""

import matplotlib

matplotlib.use("Agg")

from ganaudit.artifacts import readers  # noqa: E402
from ganaudit.plots import manifold, style  # noqa: E402
from ganaudit.workflow import runtime


def main(inversions: list[str], images: list[str], png: str, pdf: str, params: dict) -> None:
    inv = readers.read_inversions(inversions, images)
    inv = {m: inv.get(m, {}) for m in params["models"]}
    present = {g for m in inv for g in inv[m]}
    groups = ["train", "test", "generated"]
    fig = manifold.fig11_inversions_all_models(inv, params["n_examples"], groups, style.absent_groups(groups, present))
    style.save(fig, png, pdf, params["dpi"])


if "snakemake" in globals():
    log = runtime.setup(snakemake.log[0])
    main(list(snakemake.input.inversions), list(snakemake.input.images), snakemake.output.png,
         snakemake.output.pdf, runtime.as_dict(snakemake.params))
