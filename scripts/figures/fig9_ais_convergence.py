"""Fig 9: each group's AIS log-likelihoods against the estimator's budget, from the error-bar re-estimates."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402

from ganaudit.artifacts import readers, store  # noqa: E402
from ganaudit.plots import density, style  # noqa: E402
from ganaudit.workflow import runtime


def main(checks: list[str], png: str, pdf: str, params: dict) -> None:
    curves: dict = {}
    for p in checks:
        model, group = readers.model_and_group(p)
        d = store.read(p, ["factors", "log_px", "run_log_px"])
        factors = np.concatenate([d["factors"], [1.0]])          # the run's own estimate is the 1x point
        curves.setdefault(model, {})[group] = (factors, np.concatenate([d["log_px"], d["run_log_px"][None]]))
    fig = density.fig9_ais_convergence(curves, params["check_factor"])
    style.save(fig, png, pdf, params["dpi"])


if "snakemake" in globals():
    log = runtime.setup(snakemake.log[0])
    main(list(snakemake.input.checks), snakemake.output.png, snakemake.output.pdf, runtime.as_dict(snakemake.params))
