"""Figures of the inference experiments (paper sections 3.2 and 4.1): classification accuracy and
outlier-detection AUROC of the GAN's manifold (Fig 4) and of its AIS log-likelihoods (Fig 7), each
next to the 1-nearest-neighbour baseline. The input is a tidy table of `ganaudit.manifold.classification`."""

from __future__ import annotations

import re
import textwrap
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from ganaudit.plots.style import (DISTANCE_COLOUR, PALETTE, PERCEPTUAL_COLOUR, apply_style, finish, is_perceptual,
                                  mark_empty, new_figure)


def _method_label(method: str, roles: Mapping[str, str] | None) -> str:
    m = re.fullmatch(r"(manifold|density) \((.+)\)", method)
    if m:
        model = m.group(2)
        role = (roles or {}).get(model)
        return model + (f"\n({'GAN' if role == 'gan' else role})" if role else "")
    return method.replace(" (", "\n(", 1)


def _inference_panel(ax: Axes, rows: pd.DataFrame, ylabel: str, chance: float | None, roles,
                     empty: str = "not evaluated in this run") -> list[str]:
    """Bars per method (x) and distance (side by side); returns the distances drawn."""
    if rows.empty:
        mark_empty(ax, empty)
        return []
    methods = list(dict.fromkeys(rows["method"]))
    distances = list(dict.fromkeys(rows["distance"]))
    width = 0.8 / max(1, max(rows.groupby("method")["distance"].nunique()))
    xt, xl = [], []
    for i, meth in enumerate(methods):
        sub = rows[rows["method"] == meth]
        k = len(sub)
        for j, (_, r) in enumerate(sub.iterrows()):
            x = i + (j - (k - 1) / 2) * width
            perceptual = is_perceptual(r["distance"])
            colour = PERCEPTUAL_COLOUR if perceptual else DISTANCE_COLOUR.get(r["distance"], PALETTE[4])
            v = float(r["value"])
            ax.bar(x, v if np.isfinite(v) else 0, width * 0.95, color=colour, edgecolor="0.2",
                   hatch="///" if perceptual else None, linewidth=0.8)
            ax.text(x, (v if np.isfinite(v) else 0) + 0.01, f"{v:.2f}" if np.isfinite(v) else "n/a",
                    ha="center", va="bottom", fontsize=7)
        n = int(sub["n_images"].max()) if "n_images" in sub else 0
        xt.append(i)
        xl.append(f"{_method_label(meth, roles)}\n{n} images")
    ax.set_xticks(xt, xl)
    ax.set_ylim(0, 1.08)
    ax.set_ylabel(ylabel)
    if chance is not None:
        ax.axhline(chance, color="0.2", ls="--", lw=1, zorder=0.5)
    ax.set_xlim(-0.6, len(methods) - 0.4)
    ax.grid(axis="x", visible=False)
    return distances


def _inference_figure(table: pd.DataFrame, title: str, n_classes: int | None, roles: Mapping[str, str] | None,
                      notes: Sequence[str], inliers: str = "test images") -> Figure:
    need = {"method", "distance", "task", "class", "metric", "value"}
    missing = need - set(table.columns)
    if missing:
        raise ValueError(f"table must have columns {sorted(need)}; missing {sorted(missing)}")
    t = table.copy()
    t["class"] = t["class"].astype(str)
    cls = t[(t.task == "classification") & (t["class"] == "all") & (t.metric == "accuracy")]
    out = t[(t.task == "outlier_detection") & (t["class"] == "mean") & (t.metric == "auroc")]
    if n_classes is None:
        per_class = t[(t.task == "outlier_detection") & (t["class"] != "mean")]["class"].nunique()
        n_classes = per_class or None
    with apply_style():
        fig = new_figure(max(7.0, 1.3 * max(cls.method.nunique(), out.method.nunique()) * 2 + 1.5), 4.6)
        ax_c, ax_o = fig.subplots(1, 2)
        d1 = _inference_panel(ax_c, cls, "accuracy", 1.0 / n_classes if n_classes else None, roles,
                              "not evaluated: classification needs test images and at least 2 classes")
        ax_c.set_title("Classification\n(test images)")
        d2 = _inference_panel(ax_o, out, "mean AUROC over classes", 0.5, roles)
        ax_o.set_title(f"Outlier detection (per-class, mean)\ninliers: {inliers}")
        dists = list(dict.fromkeys(d1 + d2))
        handles = [Patch(facecolor=PERCEPTUAL_COLOUR if is_perceptual(d) else DISTANCE_COLOUR.get(d, PALETTE[4]),
                         edgecolor="0.2", hatch="///" if is_perceptual(d) else None,
                         label=textwrap.fill(d + (" (perceptual)" if is_perceptual(d) else ""), 45))
                   for d in dists]
        if handles:
            chance = [f"1/K = {1 / n_classes:.2g}"] if n_classes and not cls.empty else []
            handles.append(Line2D([], [], color="0.2", ls="--", lw=1,
                                  label="chance (" + ", ".join(chance + ["AUROC 0.5"]) + ")"))
            fig.legend(handles=handles, loc="outside lower center", ncols=len(handles), title="distance / score")
        return finish(fig, title, notes)


def fig4_manifold_inference(table: pd.DataFrame, n_classes: int | None = None,
                            roles: Mapping[str, str] | None = None, notes: Sequence[str] = (),
                            inliers: str = "test images") -> Figure:
    """Paper Fig 4: manifold classification accuracy and outlier-detection AUROC, per model and
    distance (L2 plain, perceptual hatched), next to the 1NN baseline; dashed: chance.

    Args:
        table: the tidy ``results/tables/manifold_inference.csv`` (`ganaudit.manifold.classification.SUMMARY_COLUMNS`).
        n_classes: number of modelled classes (chance accuracy 1/K); default: from the table.
        roles: model → "gan" / "baseline", shown under the model name.
        inliers: what the outlier detection's inliers were (the model's own samples without a test group).
    """
    return _inference_figure(table, "Fig 4 — manifold inference: GAN projections vs 1-nearest-neighbour",
                             n_classes, roles, notes, inliers)


def fig7_density_inference(table: pd.DataFrame, n_classes: int | None = None,
                           roles: Mapping[str, str] | None = None, notes: Sequence[str] = (),
                           inliers: str = "test images") -> Figure:
    """Paper Fig 7: generative classification accuracy (argmax_c log p(x|c)) and outlier AUROC
    (score −log p(x|c)) per model, next to the 1NN perceptual baseline; dashed: chance."""
    return _inference_figure(table, "Fig 7 — density inference: AIS log-likelihoods vs 1-nearest-neighbour",
                             n_classes, roles, notes, inliers)
