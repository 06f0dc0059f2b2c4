"""Table 2 of the paper (section 4.3, typicality) as a figure: how often random N-image sets fall in
the model's (ε, N)-typical set, per group and model. The input is ``results/tables/table2.csv``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from ganaudit.plots.style import apply_style, finish, group_colours, group_order, mark_empty, new_figure, panel_grid


def table2_typicality(table: pd.DataFrame, confidence: float, notes: Sequence[str] = ()) -> Figure:
    """Table 2 as a figure: fraction of random N-image subsets inside the (ε, N)-typical set,
    against N, one line per group and a panel per model; dashed: the confidence level (the
    fraction expected for samples of the model itself).

    Args:
        table: tidy ``results/tables/table2.csv`` (columns model, group, n, fraction_typical,
            optionally n_images).
        confidence: the bootstrap confidence level of ε (config ``typicality.confidence``).
    """
    need = {"model", "group", "n", "fraction_typical"}
    if not need <= set(table.columns):
        raise ValueError(f"table must have columns {sorted(need)}; got {list(table.columns)}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    models = list(dict.fromkeys(table["model"]))
    nrows, ncols = panel_grid(len(models))
    with apply_style():
        fig = new_figure(max(8.0, 4.8 * ncols + 1.8), 3.6 * nrows)
        axes = fig.subplots(nrows, ncols, squeeze=False, sharey=True).ravel()
        colours = group_colours(list(table["group"]))
        all_groups = group_order(list(table["group"]))
        markers = dict(zip(all_groups, "osD^vP*Xph"))
        handles: dict[str, Any] = {}
        for ax, m in zip(axes, models):
            sub = table[table["model"] == m]
            sizes = np.sort(sub["n"].unique()).astype(float)
            span = (sizes.max() - sizes.min()) if sizes.size > 1 else 1.0
            for i, g in enumerate(all_groups):
                s = sub[sub["group"] == g].sort_values("n")
                if s.empty:
                    continue
                dodge = (i - (len(all_groups) - 1) / 2) * 0.025 * span   # keep equal values visible
                n_img = f" ({int(s['n_images'].iloc[0])} images)" if "n_images" in s else ""
                (h,) = ax.plot(s["n"] + dodge, s["fraction_typical"], marker=markers.get(g, "o"), ms=5,
                               color=colours[g], label=f"{g}{n_img}", alpha=0.9)
                handles.setdefault(g, h)
            ax.axhline(confidence, color="0.2", ls="--", lw=1, zorder=0.5)
            ax.set_ylim(-0.03, 1.03)
            ax.set_xlabel("N (images per set)")
            ax.set_ylabel("fraction of sets typical" if ax is axes[0] or ax.get_subplotspec().is_first_col() else "")
            ax.set_title(m)
            ax.set_xticks(sorted(sub["n"].unique()))
        for ax in axes[len(models):]:
            ax.set_axis_off()
        if not models:
            mark_empty(axes[0], "no typicality results")
        if handles:
            order = group_order(list(handles))
            conf = Line2D([], [], color="0.2", ls="--", lw=1)
            fig.legend(handles=[handles[g] for g in order] + [conf],
                       labels=[handles[g].get_label() for g in order] + [f"confidence level {confidence:g}"],
                       loc="outside right center", title="group (images)")
        return finish(fig, "Table 2 — typicality test: how often are N images (ε, N)-typical?", notes)
