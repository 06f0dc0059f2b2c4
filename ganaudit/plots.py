"""Seaborn figures of the paper, one function per figure (paper sections 3-4, appendices A/B).

Every figure function takes plain arrays / data frames and returns a `matplotlib.figure.Figure`;
`save` writes it as PNG and PDF. Figures are built on `Figure` objects directly (no ``pyplot``
state), so this module works under any backend and never leaks open figures; the pipeline's
scripts select the Agg backend anyway.

Units used throughout:

* reconstruction error: per-pixel MSE on the model scale ``[-1, 1]``, plotted as ``log10``;
* log-likelihood: bits/dim (``ganaudit.stats.bits_per_dim``, higher is better) or nats;
* images: uint8 ``[N, C, H, W]`` (stored format) or float ``[N, C, H, W]`` on ``[-1, 1]``
  (reconstructions).

Groups that are absent or empty are left out of a figure and named in its bottom note (the
``notes`` argument of each function), never an error.

The small readers at the end (`read_inversion`, `read_inversions`, `align_images`) turn the
pipeline's HDF5 artifacts into the inputs of the figure functions.
"""

from __future__ import annotations

import re
import textwrap
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib import MatplotlibDeprecationWarning, rc_context
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import NullFormatter

__all__ = [
    "Inversion",
    "save",
    "fig3_reconstruction",
    "fig4_manifold_inference",
    "fig5_groups",
    "fig7_density_inference",
    "fig8_likelihood",
    "fig9_ais_convergence",
    "fig10_reconstruction_all_models",
    "fig11_inversions_all_models",
    "fig12_likelihood_all_models",
    "table2_typicality",
    "training_figure",
    "reduce_inversion",
    "read_inversion",
    "read_inversions",
    "align_images",
    "group_colours",
    "absent_groups",
    "mosaic",
]

# ----------------------------------------------------------------------------------------------
# Style

#: Canonical order of the image groups; unknown groups follow in order of appearance.
GROUP_ORDER = ("train", "test", "generated", "generated_calibration", "other_classes", "constant_colour",
               "animals", "photos", "noise")
_PALETTE = sns.color_palette("colorblind", 10)
_FIXED_COLOUR = {"train": 0, "test": 2, "generated": 1, "generated_calibration": 3, "other_classes": 4,
                 "constant_colour": 7, "animals": 6, "photos": 5, "noise": 8}
DISTANCE_COLOUR = {"L2": _PALETTE[0], "log-likelihood": _PALETTE[2]}
PERCEPTUAL_COLOUR = _PALETTE[1]
GRID_PAD_COLOUR = (176, 196, 222)   # light steel blue: visible against black, white and grey images

_RC = {"figure.facecolor": "white", "savefig.facecolor": "white", "axes.titlesize": 10, "axes.labelsize": 9,
       "xtick.labelsize": 8, "ytick.labelsize": 8, "legend.fontsize": 8, "legend.title_fontsize": 8,
       "figure.titlesize": 12, "font.size": 9}


def _style():
    """Context manager: seaborn's whitegrid style with our font sizes (nothing global is changed)."""
    rc = {**sns.axes_style("whitegrid"), **_RC}
    return rc_context(rc)


def _figure(width: float, height: float) -> Figure:
    return Figure(figsize=(width, height), layout="constrained")


def group_order(groups: Sequence[str]) -> list[str]:
    """Groups sorted by `GROUP_ORDER`, unknown ones after, in their given order."""
    uniq = list(dict.fromkeys(groups))
    rank = {g: i for i, g in enumerate(GROUP_ORDER)}
    return sorted(uniq, key=lambda g: (rank.get(g, len(rank)), uniq.index(g)))


def group_colours(groups: Sequence[str]) -> dict[str, tuple[float, float, float]]:
    """A colour per group, the same for a group name in every figure."""
    out, spare = {}, [i for i in range(len(_PALETTE)) if i not in _FIXED_COLOUR.values()]
    k = 0
    for g in group_order(groups):
        if g in _FIXED_COLOUR:
            out[g] = _PALETTE[_FIXED_COLOUR[g]]
        else:
            out[g] = _PALETTE[spare[k % len(spare)]] if spare else _PALETTE[k % len(_PALETTE)]
            k += 1
    return out


def _is_perceptual(distance: str) -> bool:
    return distance not in ("L2", "log-likelihood")


def _empty(ax: Axes, message: str) -> None:
    ax.set_axis_off()
    ax.text(0.5, 0.5, textwrap.fill(message, 40), ha="center", va="center", transform=ax.transAxes,
            fontsize=9, color="0.35")


def absent_groups(expected: Sequence[str], present: Sequence[str],
                  why: str = "not in this run (see dataset.source and the inversion/ais groups)") -> list[str]:
    """Notes for the groups a figure would show but has no data for, e.g. ``["train: not in this run …"]``."""
    missing = [g for g in expected if g not in set(present)]
    return [f"omitted {', '.join(missing)}: {why}"] if missing else []


def _finish(fig: Figure, title: str, notes: Sequence[str] = ()) -> Figure:
    fig.suptitle(title, fontweight="bold")
    if notes:
        fig.supxlabel("\n".join(textwrap.fill(n, 150) for n in notes), fontsize=8, color="0.3")
    return fig


def save(fig: Figure, png: str | Path, pdf: str | Path | None = None, dpi: int = 150) -> None:
    """Write ``fig`` to ``png`` (at ``dpi``) and, if given, ``pdf``; creates the folders."""
    if dpi < 1:
        raise ValueError(f"dpi must be a positive integer, got {dpi}")
    for path in (png, pdf):
        if path is None:
            continue
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        with _style():   # tick labels are made at draw time: draw under the same style
            fig.savefig(path, dpi=dpi)


# ----------------------------------------------------------------------------------------------
# Image grids


def as_uint8(images: np.ndarray) -> np.ndarray:
    """uint8 images as they are; float images on the model scale through `ganaudit.data.to_uint8`
    (rounded and clipped; NaN/inf is an error)."""
    images = np.asarray(images)
    if images.dtype == np.uint8:
        return images
    from ganaudit.data import to_uint8   # torch: loaded only by figures that show float images

    return to_uint8(images)


def _rgb(images: np.ndarray) -> np.ndarray:
    """uint8 ``[N, C, H, W]`` (C = 1 or 3), or float on ``[-1, 1]`` → uint8 ``[N, H, W, 3]``."""
    images = as_uint8(images)
    if images.ndim != 4 or images.shape[1] not in (1, 3):
        raise ValueError(f"images must have shape [N, 1 or 3, H, W], got {images.shape}")
    images = np.transpose(images, (0, 2, 3, 1))
    return np.repeat(images, 3, axis=3) if images.shape[3] == 1 else images


def mosaic(rows: Sequence[np.ndarray], ncols: int | None = None, pad: int = 2) -> np.ndarray:
    """Tile rows of images into one RGB uint8 picture ``[H', W', 3]``.

    Args:
        rows: each ``[n_i, C, H, W]`` (uint8, or float on ``[-1, 1]``); all the same ``C, H, W``.
            Row ``i`` holds its first ``ncols`` images; shorter rows are padded with background.
        ncols: images per row (default: the longest row).
        pad: pixels of `GRID_PAD_COLOUR` between images.
    """
    if not rows:
        raise ValueError("rows must contain at least one image row")
    rgb = [_rgb(r) for r in rows]
    shapes = {r.shape[1:] for r in rgb if len(r)}
    if len(shapes) > 1:
        raise ValueError(f"rows must hold images of one shape, got {sorted(shapes)}")
    if not shapes:
        raise ValueError("rows are all empty")
    h, w, _ = shapes.pop()
    ncols = ncols or max(len(r) for r in rgb)
    out = np.empty((len(rgb) * (h + pad) + pad, ncols * (w + pad) + pad, 3), np.uint8)
    out[:] = GRID_PAD_COLOUR
    for i, r in enumerate(rgb):
        for j, img in enumerate(r[:ncols]):
            y, x = pad + i * (h + pad), pad + j * (w + pad)
            out[y:y + h, x:x + w] = img
    return out


def _show_rows(ax: Axes, rows: Sequence[np.ndarray], labels: Sequence[str], ncols: int, title: str = "") -> None:
    """Draw `mosaic(rows)` on ``ax`` with one y-label per row."""
    pic = mosaic(rows, ncols)
    ax.imshow(pic, interpolation="nearest")
    n = len(rows)
    row_h = (pic.shape[0] - 2) / n
    ax.set_yticks([2 + row_h * (i + 0.5) for i in range(n)], labels)
    ax.set_xticks([])
    ax.tick_params(axis="y", length=0)
    ax.grid(False)
    for s in ax.spines.values():
        s.set_visible(False)
    if title:
        ax.set_title(title)


# ----------------------------------------------------------------------------------------------
# Inversion data


@dataclass(frozen=True)
class Inversion:
    """One model's inversion of one image group, reduced to one reconstruction per image.

    Attributes:
        group: image group name.
        error: float64 ``[N]`` per-pixel MSE on ``[-1, 1]`` under the best evaluated class (the own
            class for train/generated, which are evaluated under it only; the minimum over classes
            for every other group).
        perceptual: float64 ``[N]`` perceptual distance under the same class.
        best_class: int ``[N]`` the class of that reconstruction (0 for unconditional models).
        originals: uint8 ``[N, C, H, W]`` or None when not read.
        recon: float32 ``[N, C, H, W]`` on ``[-1, 1]`` or None when not read.
        metric: the perceptual distance's name (artifact attr ``perceptual_metric``).
    """

    group: str
    error: np.ndarray
    perceptual: np.ndarray
    best_class: np.ndarray
    originals: np.ndarray | None = None
    recon: np.ndarray | None = None
    metric: str = "perceptual"

    def __len__(self) -> int:
        return len(self.error)


def reduce_inversion(group: str, mse: np.ndarray, perceptual: np.ndarray | None = None,
                     recon: np.ndarray | None = None, originals: np.ndarray | None = None,
                     metric: str = "perceptual") -> Inversion:
    """Keep each image's best class: ``argmin_c mse[i, c]`` over the evaluated (non-NaN) classes.

    Args:
        mse: ``[N, K]`` per-pixel MSE, NaN where a class was not evaluated.
        perceptual: ``[N, K]`` (same NaN pattern) or None.
        recon: ``[N, K, C, H, W]`` or None.
        originals: uint8 ``[N, C, H, W]`` or None.

    Images with no evaluated class are dropped.
    """
    mse = np.asarray(mse, dtype=np.float64)
    if mse.ndim != 2:
        raise ValueError(f"mse must have shape [N, K], got {mse.shape}")
    ok = np.isfinite(mse).any(axis=1)
    filled = np.where(np.isfinite(mse), mse, np.inf)
    best = filled.argmin(axis=1)
    rows = np.flatnonzero(ok)
    b = best[rows]
    err = mse[rows, b]
    per = np.asarray(perceptual, dtype=np.float64)[rows, b] if perceptual is not None else np.full(len(rows), np.nan)
    rec = np.asarray(recon)[rows, b] if recon is not None else None
    org = np.asarray(originals)[rows] if originals is not None else None
    if org is not None and len(org) != len(err):
        raise ValueError(f"originals has {len(org)} images for {len(err)} inverted images")
    return Inversion(group, err, per, b, org, rec, metric)


def read_inversion(inversion_path: str | Path, images_path: str | Path | None = None) -> Inversion:
    """Read ``results/inversion/{model}/{group}.h5`` (+ the originals from ``images_path``, the data
    or samples file holding the group) and reduce it with `reduce_inversion`."""
    from ganaudit import store

    group = Path(inversion_path).stem
    names = ["mse", "perceptual", "index"] + (["recon"] if images_path is not None else [])
    d = store.read(inversion_path, names)
    metric = str(store.read_attrs(inversion_path).get("perceptual_metric", "perceptual"))
    originals = None
    if images_path is not None:
        with store.open_checked(images_path) as f:
            key = f"groups/{group}/images"
            if key not in f:
                raise store.ArtifactError(f"{images_path}: no image group '{group}'")
            idx = np.asarray(d["index"], dtype=np.int64)
            uniq, inv = np.unique(idx, return_inverse=True)
            originals = f[key][uniq][inv] if len(idx) else np.empty((0, *f[key].shape[1:]), np.uint8)
    return reduce_inversion(group, d["mse"], d["perceptual"], d.get("recon"), originals, metric)


def read_inversions(paths: Sequence[str | Path], data_path: str | Path | None = None,
                    samples: Mapping[str, str | Path] | None = None) -> dict[str, dict[str, Inversion]]:
    """``{model: {group: Inversion}}`` from ``results/inversion/{model}/{group}.h5`` paths.

    Originals are read when ``data_path`` (non-generated groups) and ``samples`` (model → samples
    file, for ``generated*`` groups) are given; otherwise only the errors.
    """
    out: dict[str, dict[str, Inversion]] = {}
    for p in paths:
        model, group = Path(p).parent.name, Path(p).stem
        src = None
        if group.startswith("generated"):
            src = (samples or {}).get(model)
        else:
            src = data_path
        out.setdefault(model, {})[group] = read_inversion(p, src)
    return out


def align_images(table: pd.DataFrame, images: Mapping[str, tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """The image of each row of ``table`` (columns ``group``, ``index``).

    Args:
        images: group → (index ``[M]``, uint8 images ``[M, C, H, W]``), e.g. from the AIS files.

    Returns:
        uint8 ``[len(table), C, H, W]``; a ValueError names the first (group, index) not found.
    """
    out = []
    lookup = {g: {int(i): k for k, i in enumerate(idx)} for g, (idx, _) in images.items()}
    for g, i in zip(table["group"], table["index"]):
        k = lookup.get(g, {}).get(int(i))
        if k is None:
            raise ValueError(f"images: no image for group {g!r} index {int(i)}")
        out.append(images[g][1][k])
    if not out:
        shape = next((v[1].shape[1:] for v in images.values()), (1, 1, 1))
        return np.empty((0, *shape), np.uint8)
    return np.stack(out)


# ----------------------------------------------------------------------------------------------
# Histograms shared by several figures


def _log10(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    return np.log10(np.clip(x[np.isfinite(x)], 1e-12, None))


def _bins(values: Sequence[np.ndarray], max_bins: int = 30) -> np.ndarray:
    allv = np.concatenate([np.asarray(v, dtype=np.float64) for v in values]) if values else np.empty(0)
    allv = allv[np.isfinite(allv)]
    if allv.size == 0:
        return np.linspace(0, 1, 2)
    n = int(np.clip(np.sqrt(allv.size) * 2, 6, max_bins))
    lo, hi = allv.min(), allv.max()
    if hi - lo < 1e-9:
        lo, hi = lo - 0.5, hi + 0.5
    return np.linspace(lo, hi, n + 1)


def _group_hist(ax: Axes, values: Mapping[str, np.ndarray], xlabel: str, title: str = "",
                medians: bool = True) -> None:
    """Overlaid density histograms (one step outline + light fill per group), legend with n."""
    values = {g: np.asarray(v, dtype=np.float64)[np.isfinite(v)] for g, v in values.items()}
    values = {g: v for g, v in values.items() if v.size}
    if not values:
        _empty(ax, "no images to show")
        return
    order = group_order(list(values))
    colours = group_colours(order)
    bins = _bins(list(values.values()))
    for g in order:
        v = values[g]
        sns.histplot(x=v, bins=bins, stat="density", element="step", fill=True, alpha=0.25, color=colours[g],
                     linewidth=1.5, ax=ax, label=f"{g} (n={v.size})")
        if medians:
            ax.axvline(np.median(v), color=colours[g], ls="--", lw=1)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("density")
    if title:
        ax.set_title(title)
    ax.legend(loc="best", frameon=True)


# ----------------------------------------------------------------------------------------------
# Figures 3, 5, 10, 11: reconstruction (section 3)

_RECON_XLABEL = "log10 reconstruction error (per-pixel MSE on [-1, 1]; lower is better)"


def fig3_reconstruction(model: str, inversions: Mapping[str, Inversion], n_examples: int = 8,
                        notes: Sequence[str] = ()) -> Figure:
    """Paper Fig 3: reconstruction errors of train vs generated images, and example projections.

    Args:
        inversions: group → `Inversion` (with originals/recon for the grid); ``train`` and
            ``generated`` are used, either may be missing.
        n_examples: images per grid row.
    """
    _check_n(n_examples)
    use = {g: inv for g, inv in inversions.items() if g in ("train", "generated") and len(inv)}
    notes = list(notes) + [f"{g}: no images" for g, inv in inversions.items()
                           if g in ("train", "generated") and not len(inv)]
    with _style():
        grid_w = max(3.5, 0.75 * n_examples + 1.3)
        fig = _figure(5.8 + grid_w, 4.6)
        ax_h, ax_g = fig.subplots(1, 2, width_ratios=[5.8, grid_w])
        _group_hist(ax_h, {g: _log10(inv.error) for g, inv in use.items()}, _RECON_XLABEL,
                    "Reconstruction error (dashed: medians)")
        rows, labels = _recon_rows(use, ("train", "generated"), n_examples)
        if rows:
            _show_rows(ax_g, rows, labels, n_examples, f"Projections onto the {model} manifold (first {n_examples})")
        else:
            _empty(ax_g, "no images to show")
        return _finish(fig, f"Fig 3 — {model}: are training images on the manifold?", notes)


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
    _check_n(n_examples)
    use = {g: inv for g, inv in inversions.items() if len(inv)}
    notes = list(notes) + [f"{g}: no images" for g, inv in inversions.items() if not len(inv)]
    order = group_order(list(use))
    ood = [g for g in order if g not in ("train", "test") and not g.startswith("generated")]
    with _style():
        grid_w = max(3.5, 0.75 * n_examples + 1.6)
        fig = _figure(6.5 + grid_w, max(4.5, 1.0 + 1.5 * max(1, len(ood)), 0.55 * len(use) + 1.5))
        ax_b, ax_g = fig.subplots(1, 2, width_ratios=[6.5, grid_w])
        if use:
            df = pd.DataFrame([{"group": f"{g}\n(n={len(use[g])})", "log10 error": e}
                               for g in order for e in _log10(use[g].error)])
            labels = {g: f"{g}\n(n={len(use[g])})" for g in order}
            pal = {labels[g]: c for g, c in group_colours(order).items()}
            with warnings.catch_warnings():   # seaborn 0.13 passes matplotlib's deprecated `vert` to bxp
                warnings.simplefilter("ignore", MatplotlibDeprecationWarning)
                sns.boxplot(data=df, y="group", x="log10 error", hue="group", palette=pal,
                            order=[labels[g] for g in order], showfliers=False, width=0.6, legend=False, ax=ax_b,
                            boxprops={"alpha": 0.45})
            sns.stripplot(data=df, y="group", x="log10 error", hue="group", palette=pal,
                          order=[labels[g] for g in order], size=3, jitter=0.2, legend=False, ax=ax_b)
            if "train" in use:
                ax_b.axvline(np.median(_log10(use["train"].error)), color="0.3", ls="--", lw=1, label="train median")
                ax_b.legend(loc="lower right")
            ax_b.set_xlabel(_RECON_XLABEL)
            ax_b.set_ylabel("")
            ax_b.set_title("Reconstruction error per group (best class)")
        else:
            _empty(ax_b, "no images to show")
        rows, labels = _recon_rows(use, ood, n_examples)
        if rows:
            _show_rows(ax_g, rows, labels, n_examples, f"Projections of other images onto the {model} manifold")
        else:
            _empty(ax_g, "no out-of-distribution groups in this run")
        return _finish(fig, f"Fig 5 — {model}: reconstruction error by image group", notes)


def fig10_reconstruction_all_models(errors: Mapping[str, Mapping[str, np.ndarray]], notes: Sequence[str] = ()) -> Figure:
    """Paper Fig 10: the Fig 3 histograms (train vs generated) for every model, one panel each.

    Args:
        errors: model → group → ``[N]`` per-pixel MSE (``train``/``generated`` are plotted).
    """
    models = list(errors)
    with _style():
        fig = _figure(max(7.0, 4.4 * max(1, min(len(models), 3))), 3.6 * max(1, int(np.ceil(len(models) / 3))))
        axes = np.atleast_1d(fig.subplots(max(1, int(np.ceil(len(models) / 3))), max(1, min(len(models), 3)),
                                          squeeze=False)).ravel()
        for ax, m in zip(axes, models):
            vals = {g: _log10(v) for g, v in errors[m].items() if g in ("train", "generated")}
            _group_hist(ax, vals, "log10 per-pixel MSE on [-1, 1]", m)
        for ax in axes[len(models):]:
            ax.set_axis_off()
        if not models:
            _empty(axes[0], "no models")
        return _finish(fig, "Fig 10 — reconstruction error of train vs generated images, every model", notes)


def fig11_inversions_all_models(inversions: Mapping[str, Mapping[str, Inversion]], n_examples: int = 8,
                                groups: Sequence[str] = ("train", "test", "generated"),
                                notes: Sequence[str] = ()) -> Figure:
    """Paper Fig 11: originals (top) and reconstructions (bottom) of train, test and generated
    images for every model (rows: models; columns: groups)."""
    _check_n(n_examples)
    models = list(inversions)
    present = [g for g in groups if any(g in inversions[m] and len(inversions[m][g]) for m in models)]
    with _style():
        ncols = max(1, len(present))
        fig = _figure(min(4.8, 0.55 * n_examples + 1.4) * ncols + 0.4, 1.9 * max(1, len(models)) + 0.6)
        axes = fig.subplots(max(1, len(models)), ncols, squeeze=False)
        for i, m in enumerate(models):
            for j, g in enumerate(present):
                ax = axes[i, j]
                inv = inversions[m].get(g)
                if inv is None or not len(inv) or inv.originals is None:
                    _empty(ax, f"{m}: no {g} images")
                    continue
                _show_rows(ax, [inv.originals[:n_examples], inv.recon[:n_examples]],
                           ["original", "reconstr."], n_examples,
                           f"{m} — {g}\nmedian MSE {np.median(inv.error):.3g}")
        if not models or not present:
            _empty(axes[0, 0], "no inversions to show")
        return _finish(fig, "Fig 11 — more inversions: originals and their reconstructions", notes)


# ----------------------------------------------------------------------------------------------
# Figures 4, 7: inference bars


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
        _empty(ax, empty)
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
            perceptual = _is_perceptual(r["distance"])
            colour = PERCEPTUAL_COLOUR if perceptual else DISTANCE_COLOUR.get(r["distance"], _PALETTE[4])
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
    with _style():
        fig = _figure(max(7.0, 1.3 * max(cls.method.nunique(), out.method.nunique()) * 2 + 1.5), 4.6)
        ax_c, ax_o = fig.subplots(1, 2)
        d1 = _inference_panel(ax_c, cls, "accuracy", 1.0 / n_classes if n_classes else None, roles,
                              "not evaluated: classification needs test images and at least 2 classes")
        ax_c.set_title("Classification\n(test images)")
        d2 = _inference_panel(ax_o, out, "mean AUROC over classes", 0.5, roles)
        ax_o.set_title(f"Outlier detection (per-class, mean)\ninliers: {inliers}")
        dists = list(dict.fromkeys(d1 + d2))
        handles = [Patch(facecolor=PERCEPTUAL_COLOUR if _is_perceptual(d) else DISTANCE_COLOUR.get(d, _PALETTE[4]),
                         edgecolor="0.2", hatch="///" if _is_perceptual(d) else None,
                         label=textwrap.fill(d + (" (perceptual)" if _is_perceptual(d) else ""), 45))
                   for d in dists]
        if handles:
            chance = [f"1/K = {1 / n_classes:.2g}"] if n_classes and not cls.empty else []
            handles.append(Line2D([], [], color="0.2", ls="--", lw=1,
                                  label="chance (" + ", ".join(chance + ["AUROC 0.5"]) + ")"))
            fig.legend(handles=handles, loc="outside lower center", ncols=len(handles), title="distance / score")
        return _finish(fig, title, notes)


def fig4_manifold_inference(table: pd.DataFrame, n_classes: int | None = None,
                            roles: Mapping[str, str] | None = None, notes: Sequence[str] = (),
                            inliers: str = "test images") -> Figure:
    """Paper Fig 4: manifold classification accuracy and outlier-detection AUROC, per model and
    distance (L2 plain, perceptual hatched), next to the 1NN baseline; dashed: chance.

    Args:
        table: the tidy ``results/tables/manifold_inference.csv`` (`ganaudit.inference.SUMMARY_COLUMNS`).
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


# ----------------------------------------------------------------------------------------------
# Figures 8, 12: likelihoods (section 4)

_LL_XLABEL = "log-likelihood (bits/dim; higher is more likely)"


def _ll_values(per_image: pd.DataFrame, exclude: Sequence[str]) -> dict[str, np.ndarray]:
    vals = {}
    for g, sub in per_image.groupby("group", sort=False):
        if g in exclude:
            continue
        vals[str(g)] = sub["bits_per_dim"].to_numpy(dtype=np.float64)
    return vals


def fig8_likelihood(model: str, per_image: pd.DataFrame, images: np.ndarray | None = None, k: int = 8,
                    exclude: Sequence[str] = ("generated_calibration",), notes: Sequence[str] = ()) -> Figure:
    """Paper Fig 8: log-likelihood per image group; the top-k and bottom-k images by likelihood
    (over all groups); likelihood vs the average 8×8-patch coefficient of variation.

    Args:
        per_image: one model's rows of ``results/density/per_image.csv`` (columns group,
            bits_per_dim, patch_cv; ``log_px`` in nats is not needed).
        images: uint8 ``[len(per_image), C, H, W]`` aligned with the rows (`align_images`), or None
            to skip the top/bottom panel.
        k: images in each of the top and bottom rows.
        exclude: groups left out (by default the calibration samples, which duplicate ``generated``).
    """
    from ganaudit.stats import correlation

    _check_n(k)
    need = {"group", "bits_per_dim", "patch_cv"}
    if not need <= set(per_image.columns):
        raise ValueError(f"per_image must have columns {sorted(need)}; got {list(per_image.columns)}")
    if images is not None and len(images) != len(per_image):
        raise ValueError(f"images has {len(images)} rows for {len(per_image)} table rows")
    keep = ~per_image["group"].isin(list(exclude)) & np.isfinite(per_image["bits_per_dim"].to_numpy(dtype=float))
    df = per_image[keep].reset_index(drop=True)
    imgs = images[keep.to_numpy()] if images is not None else None
    with _style():
        mid = max(4.0, 0.75 * k + 0.8)
        fig = _figure(11 + mid, 4.8)
        ax_h, sub, ax_s = fig.subfigures(1, 3, width_ratios=[5.5, mid, 5.5])
        ax_h = ax_h.subplots()
        ax_s = ax_s.subplots()
        _group_hist(ax_h, _ll_values(df, ()), _LL_XLABEL, "Log-likelihood per group (dashed: medians)")
        if imgs is not None and len(df):
            kk = min(k, len(df))
            order = np.argsort(-df["bits_per_dim"].to_numpy(), kind="stable")
            grid = sub.subplots(2, kk, squeeze=False)
            for r, (name, idx) in enumerate((("highest", order[:kk]), ("lowest", order[::-1][:kk]))):
                for c, i in enumerate(idx):
                    ax = grid[r, c]
                    ax.imshow(_rgb(imgs[i:i + 1])[0], interpolation="nearest")
                    ax.set_xticks([])
                    ax.set_yticks([])
                    ax.grid(False)
                    name_g = textwrap.fill(str(df["group"].iloc[i]).replace("_", " "), 10)
                    ax.set_title(f"{name_g}\n{df['bits_per_dim'].iloc[i]:.2f}", fontsize=7.5)
                grid[r, 0].set_ylabel(f"{name}\nlikelihood", fontsize=8)
            sub.suptitle(f"Top and bottom {kk} images by log-likelihood (bits/dim)", fontsize=10)
        else:
            _empty(sub.subplots(), "no images to show")
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
            _empty(ax_s, "fewer than 3 images: no correlation")
        notes = list(notes) + ([f"left out: {', '.join(exclude)}"] if exclude else [])
        return _finish(fig, f"Fig 8 — {model}: which images does the model find likely?", notes)


def _grid(n_panels: int) -> tuple[int, int]:
    """(rows, columns) of a grid of ``n_panels`` panels, three to a row (at least 1 × 1)."""
    return max(1, -(-n_panels // 3)), max(1, min(n_panels, 3))


def fig12_likelihood_all_models(per_image: pd.DataFrame, exclude: Sequence[str] = ("generated_calibration",),
                                notes: Sequence[str] = ()) -> Figure:
    """Paper Fig 12: log-likelihood histograms (bits/dim) per image group, one panel per model.

    Args:
        per_image: ``results/density/per_image.csv`` (columns model, group, bits_per_dim).
    """
    if not {"model", "group", "bits_per_dim"} <= set(per_image.columns):
        raise ValueError("per_image must have columns model, group, bits_per_dim")
    models = list(dict.fromkeys(per_image["model"]))
    nrows, ncols = _grid(len(models))
    with _style():
        fig = _figure(max(7.5, 5.2 * ncols), 3.9 * nrows)
        axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
        for ax, m in zip(axes, models):
            _group_hist(ax, _ll_values(per_image[per_image["model"] == m], exclude), _LL_XLABEL, m)
        for ax in axes[len(models):]:
            ax.set_axis_off()
        if not models:
            _empty(axes[0], "no log-likelihoods")
        notes = list(notes) + ([f"left out: {', '.join(exclude)}"] if exclude else [])
        return _finish(fig, "Fig 12 — log-likelihood per image group, every model", notes)


# ----------------------------------------------------------------------------------------------
# Figure 9, Table 2, training


def fig9_ais_convergence(curves: Mapping[str, tuple[np.ndarray, np.ndarray]], group: str = "test",
                         notes: Sequence[str] = ()) -> Figure:
    """Paper Fig 9: AIS log-likelihood (nats) against the number of AIS steps, one line per image.

    Args:
        curves: model → (n_steps ``[S]``, log_px ``[S, n_images]`` in nats).
        group: the image group the curves are for (shown in the title).
    """
    models = list(curves)
    nrows, ncols = _grid(len(models))
    with _style():
        fig = _figure(max(7.0, 4.6 * ncols), 3.6 * nrows)
        axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
        for ax, m in zip(axes, models):
            steps, ll = (np.asarray(a, dtype=np.float64) for a in curves[m])
            if ll.ndim != 2 or ll.shape[0] != steps.size:
                raise ValueError(f"curves[{m!r}]: log_px must have shape [S={steps.size}, n_images], got {ll.shape}")
            if ll.shape[1] == 0:
                _empty(ax, f"{m}: no images")
                continue
            pal = sns.color_palette("viridis", ll.shape[1])
            for i in range(ll.shape[1]):
                ax.plot(steps, ll[:, i], marker="o", ms=3, color=pal[i], label=f"image {i}")
            ax.set_xscale("log")
            ax.set_xticks(steps, [f"{int(v)}" for v in steps])
            ax.xaxis.set_minor_formatter(NullFormatter())
            ax.set_xlabel("number of AIS steps (log scale)")
            ax.set_ylabel("log p(x) (nats)")
            last = ll[-1] - ll[-2] if ll.shape[0] > 1 else np.full(ll.shape[1], np.nan)
            delta = np.nanmax(np.abs(last)) if np.isfinite(last).any() else float("nan")
            ax.set_title(f"{m} — {group} images (n={ll.shape[1]})\n"
                         f"max |change| over the last step increase: {delta:.3g} nats")
            if ll.shape[1] <= 8:
                ax.legend(loc="lower right", fontsize=7)
        for ax in axes[len(models):]:
            ax.set_axis_off()
        if not models:
            _empty(axes[0], "no convergence curves")
        return _finish(fig, "Fig 9 — AIS log-likelihood vs the number of AIS steps", notes)


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
    nrows, ncols = _grid(len(models))
    with _style():
        fig = _figure(max(8.0, 4.8 * ncols + 1.8), 3.6 * nrows)
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
            _empty(axes[0], "no typicality results")
        if handles:
            order = group_order(list(handles))
            conf = Line2D([], [], color="0.2", ls="--", lw=1)
            fig.legend(handles=[handles[g] for g in order] + [conf],
                       labels=[handles[g].get_label() for g in order] + [f"confidence level {confidence:g}"],
                       loc="outside right center", title="group (images)")
        return _finish(fig, "Table 2 — typicality test: how often are N images (ε, N)-typical?", notes)


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
    with _style():
        fig = _figure(5.0 + 0.5 * n, max(3.6, 0.55 * k + 1.6, 1.9 * max(1, len(plotted))))
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
            _empty(left.subplots(), "no training curve: " + (", ".join(skipped) or "empty losses file"))
        ax = right.subplots()
        _show_rows(ax, [samples[i] for i in range(k)], [f"class {c}" if k > 1 else c for c in class_names], n,
                   "Samples (one row per class)" if k > 1 else "Samples (unconditional)")
        return _finish(fig, f"Training — {model}", notes)


def _check_n(n: int) -> None:
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n_examples must be a positive integer, got {n!r}")

