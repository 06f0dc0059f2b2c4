"""Fig 10: reconstruction errors of train vs generated images for every model."""

import matplotlib

matplotlib.use("Agg")

from ganaudit.artifacts import readers  # noqa: E402
from ganaudit.plots import manifold, style  # noqa: E402
from ganaudit.workflow import runtime


def main(inversions: list[str], png: str, pdf: str, params: dict) -> None:
    inv = readers.read_inversions(inversions)
    errors = {m: {g: inv[m][g].error for g in inv[m]} for m in params["models"] if m in inv}
    present = {g for m in inv for g in inv[m]}
    fig = manifold.fig10_reconstruction_all_models(errors, style.absent_groups(["train", "generated"], present))
    style.save(fig, png, pdf, params["dpi"])


if "snakemake" in globals():
    log = runtime.setup(snakemake.log[0])
    main(list(snakemake.input.inversions), snakemake.output.png, snakemake.output.pdf, runtime.as_dict(snakemake.params))
