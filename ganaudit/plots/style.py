"""What every figure shares: the look (seaborn whitegrid, our font sizes, one colour per image group),
saving, image grids, the panel grid, and the overlaid per-group histograms of Fig 3, 8, 10 and 12.

Figures are built on `Figure` objects directly (no ``pyplot`` state), so the package works under any
backend and never leaks open figures; the pipeline's scripts select the Agg backend anyway.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import seaborn as sns
from matplotlib import rc_context
from matplotlib.axes import Axes
from matplotlib.figure import Figure

# ----------------------------------------------------------------------------------------------
# Style

#: Canonical order of the image groups; unknown groups follow in order of appearance.
GROUP_ORDER = ("train", "test", "generated", "generated_calibration", "other_classes", "constant_colour",
               "animals", "photos", "noise")
PALETTE = sns.color_palette("colorblind", 10)
_FIXED_COLOUR = {"train": 0, "test": 2, "generated": 1, "generated_calibration": 3, "other_classes": 4,
                 "constant_colour": 7, "animals": 6, "photos": 5, "noise": 8}
DISTANCE_COLOUR = {"L2": PALETTE[0], "log-likelihood": PALETTE[2]}
PERCEPTUAL_COLOUR = PALETTE[1]
GRID_PAD_COLOUR = (176, 196, 222)   # light steel blue: visible against black, white and grey images

_RC = {"figure.facecolor": "white", "savefig.facecolor": "white", "axes.titlesize": 10, "axes.labelsize": 9,
       "xtick.labelsize": 8, "ytick.labelsize": 8, "legend.fontsize": 8, "legend.title_fontsize": 8,
       "figure.titlesize": 12, "font.size": 9}


def apply_style():
    """Context manager: seaborn's whitegrid style with our font sizes (nothing global is changed)."""
    rc = {**sns.axes_style("whitegrid"), **_RC}
    return rc_context(rc)


def new_figure(width: float, height: float) -> Figure:
    """A figure of ``width`` × ``height`` inches with constrained layout, outside pyplot's state."""
    return Figure(figsize=(width, height), layout="constrained")


def group_order(groups: Sequence[str]) -> list[str]:
    """Groups sorted by `GROUP_ORDER`, unknown ones after, in their given order."""
    uniq = list(dict.fromkeys(groups))
    rank = {g: i for i, g in enumerate(GROUP_ORDER)}
    return sorted(uniq, key=lambda g: (rank.get(g, len(rank)), uniq.index(g)))


def group_colours(groups: Sequence[str]) -> dict[str, tuple[float, float, float]]:
    """A colour per group, the same for a group name in every figure."""
    out, spare = {}, [i for i in range(len(PALETTE)) if i not in _FIXED_COLOUR.values()]
    k = 0
    for g in group_order(groups):
        if g in _FIXED_COLOUR:
            out[g] = PALETTE[_FIXED_COLOUR[g]]
        else:
            out[g] = PALETTE[spare[k % len(spare)]] if spare else PALETTE[k % len(PALETTE)]
            k += 1
    return out


def is_perceptual(distance: str) -> bool:
    """Whether a distance name is the run's perceptual distance (anything but ``L2`` and the log-likelihood)."""
    return distance not in ("L2", "log-likelihood")


def mark_empty(ax: Axes, message: str) -> None:
    """Turn a panel without data into one that says why, in grey."""
    ax.set_axis_off()
    ax.text(0.5, 0.5, textwrap.fill(message, 40), ha="center", va="center", transform=ax.transAxes,
            fontsize=9, color="0.35")


def absent_groups(expected: Sequence[str], present: Sequence[str],
                  why: str = "not in this run (see dataset.source and the inversion/ais groups)") -> list[str]:
    """Notes for the groups a figure would show but has no data for, e.g. ``["train: not in this run …"]``."""
    missing = [g for g in expected if g not in set(present)]
    return [f"omitted {', '.join(missing)}: {why}"] if missing else []


def finish(fig: Figure, title: str, notes: Sequence[str] = ()) -> Figure:
    """The figure's bold title, and its notes (what was left out and why) along its bottom."""
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
        with apply_style():   # tick labels are made at draw time: draw under the same style
            fig.savefig(path, dpi=dpi)


# ----------------------------------------------------------------------------------------------
# Image grids


def as_uint8(images: np.ndarray) -> np.ndarray:
    """uint8 images as they are; float images on the model scale through `ganaudit.data.images.to_uint8`
    (rounded and clipped; NaN/inf is an error)."""
    images = np.asarray(images)
    if images.dtype == np.uint8:
        return images
    from ganaudit.data.images import to_uint8  # torch: loaded only by figures that show float images

    return to_uint8(images)


def to_rgb(images: np.ndarray) -> np.ndarray:
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
    rgb = [to_rgb(r) for r in rows]
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


def show_rows(ax: Axes, rows: Sequence[np.ndarray], labels: Sequence[str], ncols: int, title: str = "") -> None:
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
# Panels and arguments


def panel_grid(n_panels: int) -> tuple[int, int]:
    """(rows, columns) of a grid of ``n_panels`` panels, three to a row (at least 1 × 1)."""
    return max(1, -(-n_panels // 3)), max(1, min(n_panels, 3))


def check_n_examples(n: int) -> None:
    """A figure's ``n_examples`` must be a positive integer (ValueError naming it, else)."""
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n_examples must be a positive integer, got {n!r}")


# ----------------------------------------------------------------------------------------------
# Histograms shared by several figures


def finite_log10(x: np.ndarray) -> np.ndarray:
    """``log10`` of the finite values of ``x``, clipped at 1e-12 (reconstruction errors may be 0)."""
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


def group_hist(ax: Axes, values: Mapping[str, np.ndarray], xlabel: str, title: str = "",
                medians: bool = True, extra: Mapping[str, str] | None = None) -> None:
    """Overlaid density histograms (one step outline + light fill per group), legend with n (and ``extra[g]``)."""
    values = {g: np.asarray(v, dtype=np.float64)[np.isfinite(v)] for g, v in values.items()}
    values = {g: v for g, v in values.items() if v.size}
    if not values:
        mark_empty(ax, "no images to show")
        return
    order = group_order(list(values))
    colours = group_colours(order)
    bins = _bins(list(values.values()))
    for g in order:
        v = values[g]
        sns.histplot(x=v, bins=bins, stat="density", element="step", fill=True, alpha=0.25, color=colours[g],
                     linewidth=1.5, ax=ax, label=f"{g} (n={v.size}{(extra or {}).get(g, '')})")
        if medians:
            ax.axvline(np.median(v), color=colours[g], ls="--", lw=1)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("density")
    if title:
        ax.set_title(title)
    ax.legend(loc="best", frameon=True)
