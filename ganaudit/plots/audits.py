"""Figures of the tests beyond the paper (`ganaudit.audits.common`): the birthday-paradox collision curves with the
closest sample pairs, the memorisation distances with the closest sample/training pairs, the label histogram
and covariance spectrum, the train-on-generated accuracy curve, and the latent-size sweep of the inversion.

Distances are named as in the artifacts' tables (``L2``: MSE per pixel-channel on ``[-1, 1]``; the perceptual
metric's own name). Pair grids show uint8 images ``[k, 2, C, H, W]`` (two rows: the pair's first and second
image), the pair's distance under each column; a person judges whether a "collision" is a duplicate.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ganaudit.plots.style import (apply_style, finish, finite_log10, group_colours, group_hist, mark_empty,
                                  new_figure, show_rows)

__all__ = ["support_collisions", "memorisation_distances", "coverage_histograms", "tgtr_accuracy_curve", "latent_sweep_psnr"]

POOL_NAMES = {"samples": "model samples", "reference": "held-out real images"}


def _fmt_k(k: float) -> str:
    return "∞" if not np.isfinite(k) else f"{k:.3g}"


def _pair_grid(ax: Axes, images: np.ndarray, distances: Sequence[float], marked: Sequence[bool], rows: Sequence[str],
               n: int, title: str) -> None:
    """The first ``n`` pairs of ``images`` ``[k, 2, C, H, W]`` as two rows, each column's distance (``*``: marked)
    as its tick label."""
    k = min(n, len(images))
    if k == 0:
        mark_empty(ax, "no pairs")
        ax.set_title(title)
        return
    show_rows(ax, [images[:k, 0], images[:k, 1]], rows, k, title)
    w = images.shape[-1]
    ax.set_xticks([2 + j * (w + 2) + w / 2 for j in range(k)],
                  [f"{d:.2g}{'*' if m else ''}" for d, m in zip(distances[:k], marked[:k])], rotation=90, fontsize=7)


def support_collisions(model: str, curves: Mapping[str, pd.DataFrame], estimates: Mapping[str, pd.DataFrame],
                       thresholds: Mapping[str, Mapping[str, float]], pairs: Mapping[str, pd.DataFrame],
                       pair_images: Mapping[str, np.ndarray], n_examples: int, notes: Sequence[str] = ()) -> Figure:
    """The birthday-paradox test of one model: per distance (columns), the fraction of random batches of ``s``
    images holding a pair closer than τ against ``s`` for the model's samples and held-out real images (points,
    Wilson intervals), the fitted ``P_K̂(s)`` of the samples (line), α (dotted) and the false-collision rate measured
    at τ on further held-out real images (a cross with its interval, at the calibration size); below, the closest
    sample pairs (``*``: closer than τ).

    Args:
        curves: distance → `ganaudit.audits.support.collision_curve` rows with ``group`` ∈ {samples, reference}.
        estimates: distance → rows ``group``, ``k_hat``, ``k_low``, ``k_high``, ``confidence``.
        thresholds: distance → the `ganaudit.audits.support.Threshold` fields (``tau``, ``alpha``, ``s``,
            ``heldout_rate`` …).
        pairs: distance → ``i``, ``j``, ``distance``, ``collision``; pair_images: distance → uint8 ``[k, 2, C, H, W]``.
    """
    from ganaudit.audits.support import collision_probability

    names = list(curves)
    colours = group_colours(["generated", "train"])
    colour = {"samples": colours["generated"], "reference": colours["train"]}
    with apply_style():
        fig = new_figure(max(7.0, 5.2 * len(names)), 7.4)
        axes = fig.subplots(2, max(1, len(names)), squeeze=False, height_ratios=[3, 1.6])
        for col, name in enumerate(names):
            ax, grid = axes[0, col], axes[1, col]
            cur, est = curves[name], estimates[name].set_index("group")
            thr = thresholds[name]
            for g in ("samples", "reference"):
                sub = cur[cur.group == g].sort_values("s")
                if sub.empty:
                    continue
                n_pool = int(est.loc[g, "n_pool"]) if "n_pool" in est.columns else None
                label = POOL_NAMES[g] + (f" (pool {n_pool})" if n_pool else "")
                err = np.clip([sub.p_collision - sub.p_low, sub.p_high - sub.p_collision], 0, None)  # rounding
                ax.errorbar(sub.s, sub.p_collision, yerr=err,
                            fmt="o", ms=4, capsize=2, color=colour[g], label=label)
            k = float(est.loc["samples", "k_hat"]) if "samples" in est.index else float("inf")
            if np.isfinite(k) and len(cur):
                s = np.arange(2, int(cur.s.max()) + 1)
                ax.plot(s, collision_probability(k, s), color=colour["samples"], lw=1.2,
                        label=f"fit P_K(s), K̂ = {_fmt_k(k)}")
            ax.axhline(thr["alpha"], color="0.3", ls=":", lw=1, label=f"α = {thr['alpha']:g} (τ set at s = {int(thr['s'])})")
            if np.isfinite(thr.get("heldout_rate", np.nan)):
                r = thr["heldout_rate"]
                ax.errorbar([thr["s"]], [r], yerr=[[r - thr["heldout_low"]], [thr["heldout_high"] - r]], fmt="x",
                            ms=7, capsize=3, color="0.2",
                            label=f"false collisions, {int(thr['n_heldout'])} held-out real images: {r:.3f}")
            ax.set_ylim(-0.03, 1.03)
            ax.set_xlabel("batch size s")
            ax.set_ylabel("fraction of batches with a pair closer than τ")
            e = est.loc["samples"] if "samples" in est.index else None
            t = est.loc["reference"] if "reference" in est.index else None
            head = f"{name}\nτ = {thr['tau']:.3g}"
            if e is not None:
                head += (f"; samples K̂ = {_fmt_k(e.k_hat)} [{_fmt_k(e.k_low)}, {_fmt_k(e.k_high)}]"
                         f" ({100 * e.confidence:g} %)")
            if t is not None:
                head += f"\nheld-out real K̂ = {_fmt_k(t.k_hat)} [{_fmt_k(t.k_low)}, {_fmt_k(t.k_high)}]"
            ax.set_title(head)
            ax.legend(loc="upper left", frameon=True)
            p = pairs[name]
            _pair_grid(grid, pair_images[name], p.distance.tolist(), p.collision.tolist(), ["first", "second"],
                       n_examples, f"closest sample pairs: {int(p.collision.sum())} of {len(p)} closer than τ (*)")
        if not names:
            mark_empty(axes[0, 0], "no distances")
            axes[1, 0].set_axis_off()
        return finish(fig, f"Birthday paradox — {model}: how many distinct images does the GAN produce?", notes)


def memorisation_distances(model: str, distances: Mapping[str, pd.DataFrame], summaries: Mapping[str, Mapping],
                           pairs: Mapping[str, pd.DataFrame], pair_images: Mapping[str, np.ndarray], n_examples: int,
                           notes: Sequence[str] = ()) -> Figure:
    """Memorisation of one model: per distance (columns), histograms of log10 of each sample's and each test
    image's distance to its nearest training image (dashed: medians; dotted: the flagging threshold, the
    ``quantile`` of the test images' distances), and below the closest sample/training pairs.

    Args:
        distances: distance → rows ``group`` ∈ {samples, test}, ``distance``.
        summaries: distance → the `ganaudit.audits.memorisation.memorisation` summary row (``threshold``, ``quantile``,
            ``n_flagged``, ``n_samples``, ``rank_p``, ``n_train``, ``n_copies``).
        pairs: distance → ``index``, ``nn_index``, ``distance``, ``flagged``; pair_images: uint8 ``[k, 2, C, H, W]``.
    """
    names = list(distances)
    with apply_style():
        fig = new_figure(max(7.0, 5.2 * len(names)), 7.0)
        axes = fig.subplots(2, max(1, len(names)), squeeze=False, height_ratios=[3, 1.6])
        for col, name in enumerate(names):
            ax, grid = axes[0, col], axes[1, col]
            d, s = distances[name], summaries[name]
            unit = "MSE on [-1, 1]" if name == "L2" else "perceptual"
            group_hist(ax, {"generated": finite_log10(d.distance[d.group == "samples"].to_numpy()),
                             "test": finite_log10(d.distance[d.group == "test"].to_numpy())},
                        f"log10 distance to the nearest training image\n({unit}; {int(s['n_train'])} searched)")
            ax.axvline(np.log10(max(float(s["threshold"]), 1e-12)), color="0.2", ls=":", lw=1.2,
                       label=f"{s['quantile']:g}-quantile of test")
            ax.legend(loc="best", frameon=True)
            ax.set_title(f"{textwrap.shorten(name, 60)}\n{int(s['n_flagged'])} of {int(s['n_samples'])} samples below "
                         f"the {s['quantile']:g}-quantile of test\n(expected {s['quantile'] * s['n_samples']:.0f}; "
                         f"p = {s['rank_p']:.2g}); {int(s['n_copies'])} exact copies")
            p = pairs[name]
            _pair_grid(grid, pair_images[name], p.distance.tolist(), p.flagged.tolist(),
                       ["sample", "nearest\ntraining"], n_examples, "closest samples and their nearest training "
                       "images (*: flagged)")
        if not names:
            mark_empty(axes[0, 0], "no distances")
            axes[1, 0].set_axis_off()
        return finish(fig, f"Memorisation — {model}: are samples closer to the training images than test images are?",
                       notes)


def coverage_histograms(model: str, classes: pd.DataFrame, spectrum: pd.DataFrame, spectra: pd.DataFrame,
                        notes: Sequence[str] = ()) -> Figure:
    """Mode coverage of one model: left, the label histogram of its samples and of the test images (both the
    classifier's predictions), with the class agreement of a class-conditional model over the bars; right, the
    covariance spectra (fraction of the pixel variance per direction, log scale) with the number of directions
    holding the given fraction (dashed).

    Args:
        classes: ``class``, ``p_samples``, ``p_data``, ``agreement`` per class and a row ``all`` (``total_variation``,
            ``chi2_p``, ``n_missing``); empty when the run has no classifier (the panel says so).
        spectrum: ``group``, ``n_images``, ``n_directions``, ``fraction``; spectra: ``group``, ``rank``, ``explained``.
    """
    with apply_style():
        fig = new_figure(11.0, 4.2)
        hist, spec = fig.subplots(1, 2)
        per = classes[classes["class"].astype(str) != "all"] if len(classes) else classes
        if len(per):
            x = np.arange(len(per))
            colours = group_colours(["generated", "test"])
            hist.bar(x - 0.2, per.p_samples, 0.4, color=colours["generated"], label="generated")
            hist.bar(x + 0.2, per.p_data, 0.4, color=colours["test"], label="test images")
            for xi, (ps, a) in enumerate(zip(per.p_samples, per.agreement)):
                if np.isfinite(a):
                    hist.text(xi - 0.2, ps + 0.01, f"{a:.2f}", ha="center", va="bottom", fontsize=7)
            hist.set_xticks(x, [str(c) for c in per["class"]])
            hist.set_xlabel("class (classifier's prediction)")
            hist.set_ylabel("fraction of images")
            tot = classes[classes["class"].astype(str) == "all"].iloc[0]
            hist.set_title(f"Label histogram: TV = {tot.total_variation:.3f}, χ² p = {tot.chi2_p:.2g}, "
                           f"{int(tot.n_missing)} classes missing\n(numbers: agreement with the requested class)")
            hist.legend(loc="best", frameon=True)
        else:
            mark_empty(hist, "no label histogram: the run has no classifier (see the notes)")
        colours = group_colours(list(spectrum.group))
        for _, row in spectrum.iterrows():
            g = row.group
            sub = spectra[spectra.group == g]
            spec.plot(sub["rank"], sub.explained.clip(lower=1e-12), color=colours[g], lw=1.2,
                      label=f"{g} (N = {int(row.n_images)}): {int(row.n_directions)} directions")
            spec.axvline(row.n_directions, color=colours[g], ls="--", lw=1)
        spec.set_yscale("log")
        spec.set_xlabel("direction (rank of the eigenvalue)")
        spec.set_ylabel("fraction of the pixel variance")
        frac = float(spectrum.fraction.iloc[0]) if len(spectrum) else 0.99
        spec.set_title(f"Covariance spectrum\n(dashed: directions holding {100 * frac:g} % of the variance)")
        if len(spectrum):
            spec.legend(loc="upper right", frameon=True)
        return finish(fig, f"Mode coverage — {model}: which classes and directions does the GAN produce?", notes)


def tgtr_accuracy_curve(model: str, curve: pd.DataFrame, worth: pd.DataFrame, notes: Sequence[str] = ()) -> Figure:
    """Train on generated, test on real: one panel per classifier, the test accuracy against the number of real
    training images (log scale; mean with the range over repeats as a band), and the accuracy of the same classifier
    trained on each generated training set as a horizontal line (band: its range), marked where the real curve
    reaches it (the real-sample size it is worth).

    Args:
        curve: `ganaudit.audits.tgtr.curve_summary` (classifier, source, n, accuracy_mean, accuracy_min, accuracy_max).
        worth: `ganaudit.audits.tgtr.real_sample_size` (classifier, n_generated, accuracy_generated, real_equivalent,
            worth).
    """
    classifiers = list(dict.fromkeys(curve.classifier)) if len(curve) else []
    titles = {"cnn": "CNN (the pipeline's classifier)", "linear": "linear classifier on pixels"}
    with apply_style():
        fig = new_figure(max(6.0, 5.5 * len(classifiers)), 4.4)
        axes = fig.subplots(1, max(1, len(classifiers)), squeeze=False, sharey=True)[0]
        sizes = sorted(set(worth.n_generated)) if len(worth) else []
        colours = {n: f"C{(2 * i + 1) % 10}" for i, n in enumerate(sizes)}    # distinct colours of the style's cycle
        for ax, clf in zip(axes, classifiers):
            real = curve[(curve.classifier == clf) & (curve.source == "real")].sort_values("n")
            ax.plot(real.n, real.accuracy_mean, marker="o", color="0.15", label="real training images (mean)")
            ax.fill_between(real.n, real.accuracy_min, real.accuracy_max, color="0.15", alpha=0.15,
                            label="range over repeats")
            gen = curve[(curve.classifier == clf) & (curve.source == "generated")]
            for r in worth[worth.classifier == clf].itertuples():
                c = colours[r.n_generated]
                g = gen[gen.n == r.n_generated]
                ax.axhline(r.accuracy_generated, color=c, lw=1.5,
                           label=f"{int(r.n_generated):,} generated: worth {r.worth} real")
                if len(g):
                    ax.axhspan(float(g.accuracy_min.iloc[0]), float(g.accuracy_max.iloc[0]), color=c, alpha=0.12)
                if np.isfinite(r.real_equivalent):
                    ax.plot([r.real_equivalent], [r.accuracy_generated], marker="v", color=c, ms=9)
            ax.set_xscale("log")
            ax.set_xlabel("real training images (class-balanced)")
            ax.set_ylabel("accuracy on the real test images")
            ax.set_title(titles.get(clf, clf))
            ax.legend(loc="lower right", frameon=True, fontsize=7)
        if not classifiers:
            mark_empty(axes[0], "no curve: see the notes")
        return finish(fig, f"Train on generated, test on real — {model}: how many real images are its samples worth?",
                      notes)


def latent_sweep_psnr(table: pd.DataFrame, notes: Sequence[str] = ()) -> Figure:
    """Inversion PSNR against latent size, one panel per model kind: the median PSNR of the best restart of
    training and generated images (lines), the band down to the median of the worst restart (the restarts'
    spread), and the test images' nearest training image (dashed, 1NN) for reference. Ticks: latent size and
    the inversion effort (restarts × steps).

    Args:
        table: `ganaudit.audits.common.latent_sweep_rows` (kind, latent_dim, group, median_psnr_db,
            median_worst_psnr_db, n_restarts, n_steps, nn_test_psnr_db).
    """
    kinds = list(dict.fromkeys(table.kind)) if len(table) else []
    colours = group_colours(["train", "generated"])
    with apply_style():
        fig = new_figure(max(6.0, 5.0 * len(kinds)), 4.4)
        axes = fig.subplots(1, max(1, len(kinds)), squeeze=False)[0]
        for ax, kind in zip(axes, kinds):
            sub = table[table.kind == kind]
            for g in ("train", "generated"):
                s = sub[sub.group == g].sort_values("latent_dim")
                if s.empty:
                    continue
                ax.plot(s.latent_dim, s.median_psnr_db, marker="o", color=colours[g], label=f"{g} (best restart)")
                ax.fill_between(s.latent_dim, s.median_worst_psnr_db, s.median_psnr_db, color=colours[g], alpha=0.2,
                                label=f"{g}: down to the worst restart")
            nn = sub.nn_test_psnr_db.dropna()
            if len(nn):
                ax.axhline(float(nn.iloc[0]), color="0.3", ls="--", lw=1, label="test image's nearest training image (1NN)")
            ax.set_xscale("log", base=2)
            dims = sub.drop_duplicates("latent_dim").sort_values("latent_dim")
            ax.set_xticks(dims.latent_dim, [f"{d}\n{r}×{n}" for d, r, n in zip(dims.latent_dim, dims.n_restarts, dims.n_steps)])
            ax.minorticks_off()
            ax.set_xlabel("latent size (restarts × steps)")
            ax.set_ylabel("inversion PSNR (dB, [0, 1] scale; median over images)")
            ax.set_title(kind)
            ax.legend(loc="best", frameon=True)
        if not kinds:
            mark_empty(axes[0], "no latent-size sweep in this run")
        return finish(fig, "Latent-size sweep: do larger latent spaces reach the training images?", notes)


#: The metrics of the metrics figure, in its panel order (`ganaudit.audits.metrics`).
METRIC_PANELS = ("fd", "kd_mean", "precision", "recall", "density", "coverage", "ct", "authpct", "fld", "fld_gap",
                 "vendi")


def metrics_summary(model: str, table: pd.DataFrame, notes: Sequence[str] = ()) -> Figure:
    """The metrics of one model beside its references: one panel per metric of `METRIC_PANELS`, bars per feature
    space for the model's samples, the training images (a memorising generator) and held-out images (fresh
    data); the Fréchet distance with its bootstrap interval. PPL (the model's only) goes in the title.

    Args:
        table: the metrics artifact's table (`ganaudit.audits.metrics.COLUMNS`).
    """
    from ganaudit.metrics.flat import SAMPLES
    from ganaudit.plots.style import PALETTE, panel_grid

    t = table[(table["class"].astype(str) == "all") & table.value.notna()]
    who = [w for w in SAMPLES if w in set(t.samples)]
    colours = dict(zip(SAMPLES, (PALETTE[1], PALETTE[0], PALETTE[2])))
    with apply_style():
        nrow, ncol = panel_grid(len(METRIC_PANELS))
        fig = new_figure(3.2 * ncol, 2.6 * nrow)
        axes = np.atleast_1d(fig.subplots(nrow, ncol)).ravel()
        for ax, metric in zip(axes, METRIC_PANELS):
            sub = t[t.metric == metric]
            spaces = list(dict.fromkeys(sub.feature_space))
            if not spaces:
                mark_empty(ax, f"{metric}: not measured")
                continue
            x = np.arange(len(spaces))
            width = 0.8 / max(len(who), 1)
            for i, w in enumerate(who):
                s = sub[sub.samples == w].set_index("feature_space").reindex(spaces)
                err = None
                if metric == "fd" and s.low.notna().any():
                    err = np.stack([(s.value - s.low).clip(lower=0).to_numpy(), (s.high - s.value).clip(lower=0).to_numpy()])
                ax.bar(x + (i - (len(who) - 1) / 2) * width, s.value, width, yerr=err, color=colours[w],
                       label=SAMPLES[w], capsize=2)
            ax.set_xticks(x, spaces)
            ax.set_title(metric)
            if metric == "fd":
                ax.set_yscale("log")
        for ax in axes[len(METRIC_PANELS):]:
            ax.set_visible(False)
        axes[0].legend(loc="best", frameon=True, fontsize=7)
        ppl = t[(t.metric == "ppl_mean") & (t.samples == "model")]
        extra = f"; PPL {ppl.value.iloc[0]:.3g}" if len(ppl) else ""
        return finish(fig, f"Metrics — {model} against training images (memorising) and held-out images{extra}", notes)
