"""Training curves of one model and a grid of its class-conditional samples."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import torch  # noqa: E402

from ganaudit.data import images  # noqa: E402
from ganaudit.models import registry  # noqa: E402
from ganaudit.models.base import Generator, sample  # noqa: E402
from ganaudit.plots import style  # noqa: E402
from ganaudit.plots import training as training_plots
from ganaudit.workflow import runtime


def class_conditional_samples(G: Generator, n_per_class: int, seed: int) -> np.ndarray:
    """uint8 ``[K, n_per_class, C, H, W]``: one row of samples per class (``K = 1`` if unconditional)."""
    k = G.n_classes or 1
    s = sample(G, k * n_per_class, seed, labels=torch.arange(k).repeat_interleave(n_per_class))
    return images.to_uint8(s.images).reshape(k, n_per_class, *s.images.shape[1:])


def main(losses: str, generator: str, png: str, pdf: str, model: str, params: dict) -> None:
    G = registry.load_generator(generator, "cpu")
    samples = class_conditional_samples(G, params["n_examples"], runtime.seed_for(params["seed"], "generated"))
    classes = params.get("classes") or []
    names = [str(c) for c in classes] if len(classes) == samples.shape[0] else None
    fig = training_plots.training_figure(model, pd.read_csv(losses), samples, names)
    style.save(fig, png, pdf, params["dpi"])


if "snakemake" in globals():
    log = runtime.setup(snakemake.log[0], snakemake.threads)
    main(snakemake.input.losses, snakemake.input.generator, snakemake.output.png, snakemake.output.pdf,
         snakemake.wildcards.model, runtime.as_dict(snakemake.params))
