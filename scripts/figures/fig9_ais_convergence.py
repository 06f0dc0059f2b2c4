"""Fig 9: AIS log-likelihood against the number of AIS steps, one panel per model."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

from ganaudit import runtime, store  # noqa: E402
from ganaudit.plots import density, style  # noqa: E402


def main(curves: list[str], png: str, pdf: str, params: dict) -> None:
    data = {}
    for p in curves:
        d = store.read(p, ["n_steps", "log_px"])
        data[Path(p).stem] = (d["n_steps"], d["log_px"])
    fig = density.fig9_ais_convergence(data, params["group"])
    style.save(fig, png, pdf, params["dpi"])


if "snakemake" in globals():
    log = runtime.setup(snakemake.log[0])
    main(list(snakemake.input.curves), snakemake.output.png, snakemake.output.pdf, runtime.as_dict(snakemake.params))
