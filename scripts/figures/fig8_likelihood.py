"""Fig 8 (one GAN): log-likelihood per group (with each group's error bar), top/bottom images by likelihood,
likelihood vs patch CV."""

import matplotlib

matplotlib.use("Agg")

import pandas as pd  # noqa: E402

from ganaudit.artifacts import readers, store  # noqa: E402
from ganaudit.plots import density, style  # noqa: E402
from ganaudit.workflow import runtime


def main(per_image: str, groups: str, ais: list[str], png: str, pdf: str, model: str, params: dict) -> None:
    df = pd.read_csv(per_image)
    df = df[df["model"] == model].reset_index(drop=True)
    images = {}
    for p in ais:
        d = store.read(p, ["index", "images"])
        images[readers.model_and_group(p)[1]] = (d["index"], d["images"])
    bars = pd.read_csv(groups)
    bars = dict(zip(bars[bars.model == model].group, bars[bars.model == model].error_max_nats))
    notes = style.absent_groups(params["expected"], list(df["group"].unique()),
                                "no log-likelihoods in this run (absent or empty group)")
    fig = density.fig8_likelihood(model, df, readers.align_images(df, images), params["n_examples"], notes=notes,
                                  error_bars=bars)
    style.save(fig, png, pdf, params["dpi"])


if "snakemake" in globals():
    log = runtime.setup(snakemake.log[0])
    main(snakemake.input.per_image, snakemake.input.groups, list(snakemake.input.ais), snakemake.output.png,
         snakemake.output.pdf, snakemake.wildcards.model, runtime.as_dict(snakemake.params))
