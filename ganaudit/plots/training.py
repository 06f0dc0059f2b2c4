"""The training figure of each audited model: its loss curves and a grid of its samples, one row per
class (the samples come from `ganaudit.models.base.sample`)."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from ganaudit.plots.style import apply_style, finish, mark_empty, new_figure, show_rows


def training_figure(model: str, losses: pd.DataFrame, samples: np.ndarray, class_names: Sequence[str] | None = None,
                    notes: Sequence[str] = ()) -> Figure:
    """Training curves (one panel per loss series, values against step) and a grid of
    class-conditional samples (one row per class).

    Args:
        losses: ``results/models/{model}/losses.csv`` (columns step, series, value); series with no
            finite value (e.g. PPCA's closed form) are named instead of plotted.
        samples: uint8 ``[K, n, C, H, W]``, one row per class (`ganaudit.models.base.sample`).
        class_names: K row labels (default: class indices; "samples" when K = 1).
    """
    if not {"step", "series", "value"} <= set(losses.columns):
        raise ValueError(f"losses must have columns step, series, value; got {list(losses.columns)}")
    samples = np.asarray(samples)
    if samples.ndim != 5:
        raise ValueError(f"samples must have shape [K, n, C, H, W], got {samples.shape}")
    k, n = samples.shape[:2]
    series = list(dict.fromkeys(losses["series"]))
    plotted = [s for s in series if np.isfinite(pd.to_numeric(losses.loc[losses.series == s, "value"],
                                                                errors="coerce")).any()]
    skipped = [s for s in series if s not in plotted]
    if class_names is None or len(class_names) != k:
        class_names = ["samples"] if k == 1 else [str(i) for i in range(k)]
    with apply_style():
        fig = new_figure(5.0 + 0.5 * n, max(3.6, 0.55 * k + 1.6, 1.9 * max(1, len(plotted))))
        left, right = fig.subfigures(1, 2, width_ratios=[1, max(1.0, 0.09 * n)])
        if plotted:
            axes = left.subplots(len(plotted), 1, sharex=True, squeeze=False).ravel()
            for ax, s in zip(axes, plotted):
                d = losses[losses.series == s]
                sns.lineplot(x=d["step"], y=pd.to_numeric(d["value"], errors="coerce"), ax=ax, marker="o", ms=3)
                ax.set_ylabel(textwrap.fill(str(s), 22))
                ax.set_xlabel("")
            axes[-1].set_xlabel("training step")
            left.suptitle("Training curves", fontsize=10)
        else:
            mark_empty(left.subplots(), "no training curve: " + (", ".join(skipped) or "empty losses file"))
        ax = right.subplots()
        show_rows(ax, [samples[i] for i in range(k)], [f"class {c}" if k > 1 else c for c in class_names], n,
                   "Samples (one row per class)" if k > 1 else "Samples (unconditional)")
        return finish(fig, f"Training — {model}", notes)
