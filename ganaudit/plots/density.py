"""Figures of paper section 4, "what does the model find likely?": log-likelihoods per image group
(Fig 8 for one GAN, Fig 12 for every model), the images it finds most and least likely, and the
convergence of the AIS estimates with the number of steps (Fig 9).

Log-likelihoods are in bits/dim (`ganaudit.data.stats.bits_per_dim`, higher is better) or, for Fig 9, nats.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter

from ganaudit.plots.style import (apply_style, check_n_examples, finish, group_colours, group_hist, group_order,
                                  mark_empty, new_figure, panel_grid, to_rgb)

_LL_XLABEL = "log-likelihood (bits/dim; higher is more likely)"


def _ll_values(per_image: pd.DataFrame, exclude: Sequence[str]) -> dict[str, np.ndarray]:
    vals = {}
    for g, sub in per_image.groupby("group", sort=False):
        if g in exclude:
            continue
        vals[str(g)] = sub["bits_per_dim"].to_numpy(dtype=np.float64)
    return vals


def fig8_likelihood(model: str, per_image: pd.DataFrame, images: np.ndarray | None = None, k: int = 8,
                    exclude: Sequence[str] = ("generated_calibration",), notes: Sequence[str] = (),
                    error_bars: Mapping[str, float] | None = None) -> Figure:
    """Paper Fig 8: log-likelihood per image group; the top-k and bottom-k images by likelihood
    (over all groups); likelihood vs the average 8×8-patch coefficient of variation.

    Args:
        per_image: one model's rows of ``results/density/per_image.csv`` (columns group,
            bits_per_dim, patch_cv; ``log_px`` in nats is not needed).
        images: uint8 ``[len(per_image), C, H, W]`` aligned with the rows (`align_images`), or None
            to skip the top/bottom panel.
        k: images in each of the top and bottom rows.
        exclude: groups left out (by default the calibration samples, which duplicate ``generated``).
        error_bars: group → its error bar in nats (the largest change at a larger AIS budget), shown in the legend.
    """
    from ganaudit.data.stats import correlation

    check_n_examples(k)
    need = {"group", "bits_per_dim", "patch_cv"}
    if not need <= set(per_image.columns):
        raise ValueError(f"per_image must have columns {sorted(need)}; got {list(per_image.columns)}")
    if images is not None and len(images) != len(per_image):
        raise ValueError(f"images has {len(images)} rows for {len(per_image)} table rows")
    keep = ~per_image["group"].isin(list(exclude)) & np.isfinite(per_image["bits_per_dim"].to_numpy(dtype=float))
    df = per_image[keep].reset_index(drop=True)
    imgs = images[keep.to_numpy()] if images is not None else None
    with apply_style():
        mid = max(4.0, 0.75 * k + 0.8)
        fig = new_figure(11 + mid, 4.8)
        ax_h, sub, ax_s = fig.subfigures(1, 3, width_ratios=[5.5, mid, 5.5])
        ax_h = ax_h.subplots()
        ax_s = ax_s.subplots()
        bars = {g: f", ±{v:.3g} nats" for g, v in (error_bars or {}).items() if np.isfinite(v)}
        group_hist(ax_h, _ll_values(df, ()), _LL_XLABEL, "Log-likelihood per group (dashed: medians)", extra=bars)
        if imgs is not None and len(df):
            kk = min(k, len(df))
            order = np.argsort(-df["bits_per_dim"].to_numpy(), kind="stable")
            grid = sub.subplots(2, kk, squeeze=False)
            for r, (name, idx) in enumerate((("highest", order[:kk]), ("lowest", order[::-1][:kk]))):
                for c, i in enumerate(idx):
                    ax = grid[r, c]
                    ax.imshow(to_rgb(imgs[i:i + 1])[0], interpolation="nearest")
                    ax.set_xticks([])
                    ax.set_yticks([])
                    ax.grid(False)
                    name_g = textwrap.fill(str(df["group"].iloc[i]).replace("_", " "), 10)
                    ax.set_title(f"{name_g}\n{df['bits_per_dim'].iloc[i]:.2f}", fontsize=7.5)
                grid[r, 0].set_ylabel(f"{name}\nlikelihood", fontsize=8)
            sub.suptitle(f"Top and bottom {kk} images by log-likelihood (bits/dim)", fontsize=10)
        else:
            mark_empty(sub.subplots(), "no images to show")
        if len(df) >= 3:
            colours = group_colours(list(df["group"]))
            for g in group_order(list(df["group"])):
                s = df[df["group"] == g]
                ax_s.scatter(s["patch_cv"], s["bits_per_dim"], s=22, alpha=0.8, color=colours[g],
                             label=f"{g} (n={len(s)})", edgecolor="none")
            c = correlation(df["patch_cv"].to_numpy(), df["bits_per_dim"].to_numpy())
            ax_s.set_title(f"Pearson r = {c['pearson_r']:.2f}, Spearman ρ = {c['spearman_rho']:.2f} (n = {len(df)})")
            ax_s.set_xlabel("mean coefficient of variation of patches (std/mean)")
            ax_s.set_ylabel(_LL_XLABEL)
            ax_s.legend(loc="best")
        else:
            mark_empty(ax_s, "fewer than 3 images: no correlation")
        notes = list(notes) + ([f"left out: {', '.join(exclude)}"] if exclude else [])
        return finish(fig, f"Fig 8 — {model}: which images does the model find likely?", notes)


def fig12_likelihood_all_models(per_image: pd.DataFrame, exclude: Sequence[str] = ("generated_calibration",),
                                notes: Sequence[str] = ()) -> Figure:
    """Paper Fig 12: log-likelihood histograms (bits/dim) per image group, one panel per model.

    Args:
        per_image: ``results/density/per_image.csv`` (columns model, group, bits_per_dim).
    """
    if not {"model", "group", "bits_per_dim"} <= set(per_image.columns):
        raise ValueError("per_image must have columns model, group, bits_per_dim")
    models = list(dict.fromkeys(per_image["model"]))
    nrows, ncols = panel_grid(len(models))
    with apply_style():
        fig = new_figure(max(7.5, 5.2 * ncols), 3.9 * nrows)
        axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
        for ax, m in zip(axes, models):
            group_hist(ax, _ll_values(per_image[per_image["model"] == m], exclude), _LL_XLABEL, m)
        for ax in axes[len(models):]:
            ax.set_axis_off()
        if not models:
            mark_empty(axes[0], "no log-likelihoods")
        notes = list(notes) + ([f"left out: {', '.join(exclude)}"] if exclude else [])
        return finish(fig, "Fig 12 — log-likelihood per image group, every model", notes)


def fig9_ais_convergence(curves: Mapping[str, Mapping[str, tuple[np.ndarray, np.ndarray]]], check_factor: float = 4.0,
                         notes: Sequence[str] = ()) -> Figure:
    """Paper Fig 9, for every image group: each image's AIS log-likelihood against the estimator's budget
    (a multiple of the run's, log scale; the run's own estimate is the point at 1), one line per image, drawn
    relative to that image's highest estimate so that images thousands of nats apart share an axis.

    Args:
        curves: model → group → (budget multiples ``[F]``, log_px ``[F, n_images]`` in nats).
        check_factor: the multiple whose change from the run's estimate is the group's error bar (in the title).
    """
    panels = [(m, g) for m in curves for g in curves[m]]
    nrows, ncols = panel_grid(len(panels))
    with apply_style():
        fig = new_figure(max(7.0, 3.6 * ncols), 3.2 * nrows)
        axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
        for ax, (m, g) in zip(axes, panels):
            factors, ll = (np.asarray(a, dtype=np.float64) for a in curves[m][g])
            if ll.ndim != 2 or ll.shape[0] != factors.size:
                raise ValueError(f"curves[{m!r}][{g!r}]: log_px must have shape [F={factors.size}, n_images], got {ll.shape}")
            if ll.shape[1] == 0:
                mark_empty(ax, f"{m}, {g}: no images")
                continue
            order = np.argsort(factors)
            factors, ll = factors[order], ll[order]
            rel = ll - np.nanmax(ll, axis=0, keepdims=True)
            pal = sns.color_palette("viridis", ll.shape[1])
            for i in range(ll.shape[1]):
                ax.plot(factors, rel[:, i], marker="o", ms=3, color=pal[i], label=f"image {i}")
            ax.axvline(1.0, color="0.5", lw=0.8, ls="--")
            ax.set_xscale("log", base=2)
            ax.set_xticks(factors, [f"{v:g}×" for v in factors])
            ax.xaxis.set_minor_formatter(NullFormatter())
            ax.set_xlabel("budget (multiple of the run's)")
            ax.set_ylabel("log p(x) − its highest estimate (nats)")
            run = np.flatnonzero(np.isclose(factors, 1.0))
            top = np.flatnonzero(np.isclose(factors, check_factor))
            delta = (float(np.nanmax(np.abs(ll[top[0]] - ll[run[0]]))) if len(run) and len(top) else float("nan"))
            ax.set_title(f"{m} — {g} (n={ll.shape[1]})\nlargest change 1× → {check_factor:g}×: {delta:.3g} nats",
                         fontsize=9)
            if ll.shape[1] <= 8 and ax is axes[0]:
                ax.legend(loc="lower right", fontsize=7)
        for ax in axes[len(panels):]:
            ax.set_axis_off()
        if not panels:
            mark_empty(axes[0], "no convergence curves")
        return finish(fig, "Fig 9 — AIS log-likelihood vs the estimator's budget, every group", notes)
