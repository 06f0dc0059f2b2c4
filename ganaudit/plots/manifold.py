"""Figures of paper section 3, "is the training data on the manifold?": reconstruction errors of
projections onto the GAN's manifold (Fig 3, 5, 10) and the projections themselves (Fig 11).

Reconstruction error is the per-pixel MSE on the model scale ``[-1, 1]``, plotted as ``log10``; the
inputs are `ganaudit.artifacts.readers.Inversion` records (`ganaudit.artifacts.readers.read_inversions`).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib import MatplotlibDeprecationWarning
from matplotlib.figure import Figure

from ganaudit.artifacts.readers import Inversion
from ganaudit.plots.style import (apply_style, check_n_examples, finish, finite_log10, group_colours, group_hist,
                                  group_order, mark_empty, new_figure, panel_grid, show_rows)

#: Seed of the vertical jitter of Fig 5's points (fixed: a rerun draws the same figure).
JITTER_SEED = 0
_RECON_XLABEL = "log10 reconstruction error (per-pixel MSE on [-1, 1]; lower is better)"


def fig3_reconstruction(model: str, inversions: Mapping[str, Inversion], n_examples: int = 8,
                        notes: Sequence[str] = ()) -> Figure:
    """Paper Fig 3: reconstruction errors of train vs generated images, and example projections.

    Args:
        inversions: group → `Inversion` (with originals/recon for the grid); ``train`` and
            ``generated`` are used, either may be missing.
        n_examples: images per grid row.
    """
    check_n_examples(n_examples)
    use = {g: inv for g, inv in inversions.items() if g in ("train", "generated") and len(inv)}
    notes = list(notes) + [f"{g}: no images" for g, inv in inversions.items()
                           if g in ("train", "generated") and not len(inv)]
    with apply_style():
        grid_w = max(3.5, 0.75 * n_examples + 1.3)
        fig = new_figure(5.8 + grid_w, 4.6)
        ax_h, ax_g = fig.subplots(1, 2, width_ratios=[5.8, grid_w])
        group_hist(ax_h, {g: finite_log10(inv.error) for g, inv in use.items()}, _RECON_XLABEL,
                    "Reconstruction error (dashed: medians)")
        rows, labels = _recon_rows(use, ("train", "generated"), n_examples)
        if rows:
            show_rows(ax_g, rows, labels, n_examples, f"Projections onto the {model} manifold (first {n_examples})")
        else:
            mark_empty(ax_g, "no images to show")
        return finish(fig, f"Fig 3 — {model}: are training images on the manifold?", notes)


def _recon_rows(inversions: Mapping[str, Inversion], groups: Sequence[str], n: int) -> tuple[list, list]:
    rows, labels = [], []
    for g in groups:
        inv = inversions.get(g)
        if inv is None or not len(inv) or inv.originals is None or inv.recon is None:
            continue
        rows += [inv.originals[:n], inv.recon[:n]]
        labels += [f"{g}\noriginal", f"{g}\nreconstruction"]
    return rows, labels


def fig5_groups(model: str, inversions: Mapping[str, Inversion], n_examples: int = 8,
                notes: Sequence[str] = ()) -> Figure:
    """Paper Fig 5: reconstruction error per image group, and projections of out-of-distribution images.

    Args:
        inversions: group → `Inversion`; every non-empty group is in the error panel, the groups
            other than train/test/generated in the projection grid.
    """
    check_n_examples(n_examples)
    use = {g: inv for g, inv in inversions.items() if len(inv)}
    notes = list(notes) + [f"{g}: no images" for g, inv in inversions.items() if not len(inv)]
    order = group_order(list(use))
    ood = [g for g in order if g not in ("train", "test") and not g.startswith("generated")]
    with apply_style():
        grid_w = max(3.5, 0.75 * n_examples + 1.6)
        fig = new_figure(6.5 + grid_w, max(4.5, 1.0 + 1.5 * max(1, len(ood)), 0.55 * len(use) + 1.5))
        ax_b, ax_g = fig.subplots(1, 2, width_ratios=[6.5, grid_w])
        if use:
            df = pd.DataFrame([{"group": f"{g}\n(n={len(use[g])})", "log10 error": e}
                               for g in order for e in finite_log10(use[g].error)])
            labels = {g: f"{g}\n(n={len(use[g])})" for g in order}
            pal = {labels[g]: c for g, c in group_colours(order).items()}
            with warnings.catch_warnings():   # seaborn 0.13 passes matplotlib's deprecated `vert` to bxp
                warnings.simplefilter("ignore", MatplotlibDeprecationWarning)
                sns.boxplot(data=df, y="group", x="log10 error", hue="group", palette=pal,
                            order=[labels[g] for g in order], showfliers=False, width=0.6, legend=False, ax=ax_b,
                            boxprops={"alpha": 0.45})
            state = np.random.get_state()   # seaborn jitters with numpy's global RNG: seed it so the figure is
            np.random.seed(JITTER_SEED)      # the same in every run, and leave the caller's state as it was
            try:
                sns.stripplot(data=df, y="group", x="log10 error", hue="group", palette=pal,
                              order=[labels[g] for g in order], size=3, jitter=0.2, legend=False, ax=ax_b)
            finally:
                np.random.set_state(state)
            if "train" in use:
                ax_b.axvline(np.median(finite_log10(use["train"].error)), color="0.3", ls="--", lw=1, label="train median")
                ax_b.legend(loc="lower right")
            ax_b.set_xlabel(_RECON_XLABEL)
            ax_b.set_ylabel("")
            ax_b.set_title("Reconstruction error per group (best class)")
        else:
            mark_empty(ax_b, "no images to show")
        rows, labels = _recon_rows(use, ood, n_examples)
        if rows:
            show_rows(ax_g, rows, labels, n_examples, f"Projections of other images onto the {model} manifold")
        else:
            mark_empty(ax_g, "no out-of-distribution groups in this run")
        return finish(fig, f"Fig 5 — {model}: reconstruction error by image group", notes)


def fig10_reconstruction_all_models(errors: Mapping[str, Mapping[str, np.ndarray]], notes: Sequence[str] = ()) -> Figure:
    """Paper Fig 10: the Fig 3 histograms (train vs generated) for every model, one panel each.

    Args:
        errors: model → group → ``[N]`` per-pixel MSE (``train``/``generated`` are plotted).
    """
    models = list(errors)
    with apply_style():
        nrows, ncols = panel_grid(len(models))
        fig = new_figure(max(7.0, 4.4 * ncols), 3.6 * nrows)
        axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
        for ax, m in zip(axes, models):
            vals = {g: finite_log10(v) for g, v in errors[m].items() if g in ("train", "generated")}
            group_hist(ax, vals, "log10 per-pixel MSE on [-1, 1]", m)
        for ax in axes[len(models):]:
            ax.set_axis_off()
        if not models:
            mark_empty(axes[0], "no models")
        return finish(fig, "Fig 10 — reconstruction error of train vs generated images, every model", notes)


def fig11_inversions_all_models(inversions: Mapping[str, Mapping[str, Inversion]], n_examples: int = 8,
                                groups: Sequence[str] = ("train", "test", "generated"),
                                notes: Sequence[str] = ()) -> Figure:
    """Paper Fig 11: originals (top) and reconstructions (bottom) of train, test and generated
    images for every model (rows: models; columns: groups)."""
    check_n_examples(n_examples)
    models = list(inversions)
    present = [g for g in groups if any(g in inversions[m] and len(inversions[m][g]) for m in models)]
    with apply_style():
        ncols = max(1, len(present))
        fig = new_figure(min(4.8, 0.55 * n_examples + 1.4) * ncols + 0.4, 1.9 * max(1, len(models)) + 0.6)
        axes = fig.subplots(max(1, len(models)), ncols, squeeze=False)
        for i, m in enumerate(models):
            for j, g in enumerate(present):
                ax = axes[i, j]
                inv = inversions[m].get(g)
                if inv is None or not len(inv) or inv.originals is None:
                    mark_empty(ax, f"{m}: no {g} images")
                    continue
                show_rows(ax, [inv.originals[:n_examples], inv.recon[:n_examples]],
                           ["original", "reconstr."], n_examples,
                           f"{m} — {g}\nmedian MSE {np.median(inv.error):.3g}")
        if not models or not present:
            mark_empty(axes[0, 0], "no inversions to show")
        return finish(fig, "Fig 11 — more inversions: originals and their reconstructions", notes)
