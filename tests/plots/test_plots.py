"""ganaudit.plots: what each figure draws for small synthetic inputs — its panels, the groups, models and
methods shown (legends, tick labels, titles), the axis labels and the numbers written on it — and that
`save` writes a valid PNG (+ PDF) of the expected pixel size."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ganaudit import plots
from ganaudit.artifacts import readers
from ganaudit.data import stats

DPI = 40
RNG = np.random.default_rng(0)
RECON_XLABEL = "log10 reconstruction error (per-pixel MSE on [-1, 1]; lower is better)"
LL_XLABEL = "log-likelihood (bits/dim; higher is more likely)"


# ---------------------------------------------------------------------------------------------- reading a figure


def png_size(path: Path) -> tuple[int, int]:
    """(width, height) from the PNG header; fails on anything that is not a PNG."""
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", head[16:24])


def panels(fig: Figure) -> list[Axes]:
    """The axes that are drawn (grid cells left over are switched off)."""
    return [ax for ax in fig.axes if ax.axison]


def legend(where: Axes | Figure) -> list[str]:
    leg = where.get_legend() if isinstance(where, Axes) else where.legends[0]
    return [t.get_text() for t in leg.get_texts()]


def yticks(ax: Axes) -> list[str]:
    return [t.get_text() for t in ax.get_yticklabels()]


def xticks(ax: Axes) -> list[str]:
    return [t.get_text() for t in ax.get_xticklabels()]


def texts(ax: Axes) -> list[str]:
    """The texts written in a panel, line breaks (wrapping) as spaces."""
    return [" ".join(t.get_text().split()) for t in ax.texts]


def dashed_x(ax: Axes) -> list[float]:
    """x of the dashed vertical lines (the medians of the histograms)."""
    return [float(ln.get_xdata()[0]) for ln in ax.lines if ln.get_linestyle() == "--"]


def log10(x: np.ndarray) -> np.ndarray:
    return np.log10(np.clip(x, 1e-12, None))


# ---------------------------------------------------------------------------------------------- inputs


def u8(n: int, c: int = 1, s: int = 8) -> np.ndarray:
    return RNG.integers(0, 256, size=(n, c, s, s), dtype=np.uint8)


def inversion(group: str, n: int, shift: float = 0.0, k: int = 2, own_class: bool = False) -> readers.Inversion:
    mse = np.exp(RNG.normal(-3 + shift, 0.3, size=(n, k)))
    if own_class:  # train/generated: only the own class is evaluated
        mse[np.arange(n), (np.arange(n) + 1) % k] = np.nan
    recon = RNG.uniform(-1, 1, size=(n, k, 1, 8, 8)).astype(np.float32)
    return readers.reduce_inversion(group, mse, mse * 2, recon, u8(n), "toy-LPIPS")


def inversions() -> dict[str, readers.Inversion]:
    return {"train": inversion("train", 6, own_class=True), "generated": inversion("generated", 6, -1, own_class=True),
            "test": inversion("test", 5), "animals": inversion("animals", 4, 0.5), "empty": inversion("empty", 0)}


def per_image(models=("gan", "vae"), groups=("train", "test", "generated", "constant_colour"), n=6) -> pd.DataFrame:
    rows = []
    for m in models:
        for j, g in enumerate(groups):
            for i in range(n):
                rows.append({"model": m, "group": g, "index": i, "log_px": -100.0 * (j + 1) + i,
                             "bits_per_dim": -5.0 + j + 0.1 * i, "patch_cv": 0.2 * j + 0.01 * i})
    return pd.DataFrame(rows)


def inference_table() -> pd.DataFrame:
    rows = []
    for method, dists in (("manifold (gan)", ["L2", "LPIPS"]), ("density (vae)", ["log-likelihood"]),
                          ("1NN (training images)", ["L2", "LPIPS"])):
        for d in dists:
            rows.append([method, d, "classification", "all", "accuracy", 0.8, 20])
            rows += [[method, d, "outlier_detection", str(c), "auroc", 0.6 + 0.1 * c, 40] for c in range(2)]
            rows.append([method, d, "outlier_detection", "mean", "auroc", 0.65, 40])
    return pd.DataFrame(rows, columns=["method", "distance", "task", "class", "metric", "value", "n_images"])


# ---------------------------------------------------------------------------------------------- helpers


def test_as_uint8_and_mosaic_pixels():
    np.testing.assert_array_equal(plots.as_uint8(np.array([[-1.0, 0.0, 1.0, 2.0]])), [[0, 128, 255, 255]])
    u = np.array([[3, 200]], np.uint8)
    assert plots.as_uint8(u) is u                                           # stored images pass unchanged
    with pytest.raises(ValueError, match="NaN"):                            # one conversion: data.to_uint8's
        plots.as_uint8(np.array([[np.nan, 0.0]]))
    a = np.full((2, 1, 3, 3), 10, np.uint8)
    b = np.full((1, 1, 3, 3), 0.0, np.float32)                              # 0 on [-1, 1] -> 128
    m = plots.mosaic([a, b], pad=1)
    assert m.shape == (2 * 4 + 1, 2 * 4 + 1, 3)
    assert (m[1:4, 1:4] == 10).all() and (m[1:4, 5:8] == 10).all()
    assert (m[5:8, 1:4] == 128).all()
    assert tuple(m[5, 6]) == plots.GRID_PAD_COLOUR                          # short row padded with background
    assert tuple(m[0, 0]) == plots.GRID_PAD_COLOUR


def test_group_colours_stable_and_absent_note():
    c1 = plots.group_colours(["animals", "train"])
    c2 = plots.group_colours(["train", "test", "generated", "animals", "mystery"])
    assert c1["train"] == c2["train"] and c1["animals"] == c2["animals"]
    assert len(set(c2.values())) == 5
    assert plots.group_order(["animals", "zz", "train", "generated"]) == ["train", "generated", "animals", "zz"]
    assert plots.absent_groups(["train", "generated"], ["generated"], "why") == ["omitted train: why"]
    assert plots.absent_groups(["generated"], ["generated"]) == []


def test_save_writes_png_and_pdf_of_the_figure_size(tmp_path):
    fig = plots.fig3_reconstruction("gan", inversions(), 3)
    png, pdf = tmp_path / "out" / "fig3.png", tmp_path / "out" / "fig3.pdf"
    plots.save(fig, png, pdf, dpi=DPI)
    w, h = fig.get_size_inches()
    assert png_size(png) == (round(w * DPI), round(h * DPI)) and png.stat().st_size > 2000
    assert pdf.read_bytes()[:5] == b"%PDF-"
    with pytest.raises(ValueError, match="dpi"):
        plots.save(fig, png, dpi=0)


# ---------------------------------------------------------------------------------------------- Fig 3, 5, 10, 11


def test_fig3_train_vs_generated_histogram_medians_and_projections():
    inv = inversions()
    fig = plots.fig3_reconstruction("gan", inv, 3, ["omitted x: test"])
    assert fig.get_suptitle() == "Fig 3 — gan: are training images on the manifold?"
    assert "omitted x: test" in fig.get_supxlabel()
    hist, grid = panels(fig)
    assert legend(hist) == ["train (n=6)", "generated (n=6)"]              # test/animals are not in Fig 3
    assert (hist.get_xlabel(), hist.get_ylabel()) == (RECON_XLABEL, "density")
    np.testing.assert_allclose(dashed_x(hist), [np.median(log10(inv[g].error)) for g in ("train", "generated")])
    assert yticks(grid) == ["train\noriginal", "train\nreconstruction", "generated\noriginal", "generated\nreconstruction"]
    assert grid.get_title() == "Projections onto the gan manifold (first 3)"
    pic = grid.images[0].get_array()
    assert pic.shape[:2] == (4 * 10 + 2, 3 * 10 + 2)                        # 4 rows of 3 images of 8 px, pad 2
    np.testing.assert_array_equal(pic[2:10, 2:10, 0], inv["train"].originals[0, 0])
    np.testing.assert_array_equal(pic[12:20, 2:10, 0], plots.as_uint8(inv["train"].recon[:1])[0, 0])

    only_gen = plots.fig3_reconstruction("gan", {"generated": inv["generated"], "train": inv["empty"]}, 3)
    assert legend(panels(only_gen)[0]) == ["generated (n=6)"]
    assert "train: no images" in only_gen.get_supxlabel()


def test_fig5_every_group_in_the_boxes_ood_groups_in_the_grid():
    inv = inversions()
    fig = plots.fig5_groups("gan", inv, 3)
    boxes, grid = panels(fig)
    assert yticks(boxes) == ["train\n(n=6)", "test\n(n=5)", "generated\n(n=6)", "animals\n(n=4)"]
    assert boxes.get_xlabel() == RECON_XLABEL and legend(boxes) == ["train median"]
    assert dashed_x(boxes) == pytest.approx([np.median(log10(inv["train"].error))])
    assert yticks(grid) == ["animals\noriginal", "animals\nreconstruction"]   # only out-of-distribution groups
    assert "empty: no images" in fig.get_supxlabel()
    state = np.random.get_state()[1].copy()
    again = plots.fig5_groups("gan", inv, 3)                                   # the jitter is seeded: same points
    for a, b in zip(boxes.collections, panels(again)[0].collections, strict=True):
        np.testing.assert_array_equal(a.get_offsets(), b.get_offsets())
    assert (np.random.get_state()[1] == state).all()                           # and the global RNG is left alone

    empty = plots.fig5_groups("gan", {}, 3)
    assert [texts(ax) for ax in empty.axes] == [["no images to show"], ["no out-of-distribution groups in this run"]]


def test_fig10_one_panel_per_model_on_a_three_column_grid():
    inv = inversions()
    errors = {"gan": {g: inv[g].error for g in ("train", "generated", "test")}, "vae": {"generated": inv["generated"].error}}
    fig = plots.fig10_reconstruction_all_models(errors)
    assert [ax.get_title() for ax in panels(fig)] == ["gan", "vae"]
    assert legend(panels(fig)[0]) == ["train (n=6)", "generated (n=6)"] and legend(panels(fig)[1]) == ["generated (n=6)"]
    four = plots.fig10_reconstruction_all_models({m: errors["vae"] for m in "abcd"})
    assert len(four.axes) == 6 and [ax.get_title() for ax in panels(four)] == ["a", "b", "c", "d"]


def test_fig11_models_by_groups_with_median_errors():
    inv = inversions()
    fig = plots.fig11_inversions_all_models({"gan": inv, "vae": {"test": inv["test"]}}, 3)
    assert len(fig.axes) == 2 * 3
    titles = [ax.get_title() for ax in fig.axes]
    assert titles[:3] == [f"gan — {g}\nmedian MSE {np.median(inv[g].error):.3g}" for g in ("train", "test", "generated")]
    assert titles[4] == f"vae — test\nmedian MSE {np.median(inv['test'].error):.3g}"
    assert texts(fig.axes[3]) == ["vae: no train images"] and texts(fig.axes[5]) == ["vae: no generated images"]
    assert yticks(fig.axes[0]) == ["original", "reconstr."]


# ---------------------------------------------------------------------------------------------- Fig 4, 7


def test_fig4_bars_per_method_and_distance_with_chance_and_legend():
    fig = plots.fig4_manifold_inference(inference_table(), 2, {"gan": "gan", "vae": "baseline"})
    assert fig.get_suptitle() == "Fig 4 — manifold inference: GAN projections vs 1-nearest-neighbour"
    cls, out = panels(fig)
    assert cls.get_title() == "Classification\n(test images)"
    assert out.get_title() == "Outlier detection (per-class, mean)\ninliers: test images"
    assert xticks(cls) == ["gan\n(GAN)\n20 images", "vae\n(baseline)\n20 images", "1NN\n(training images)\n20 images"]
    assert xticks(out) == [t.replace("20 images", "40 images") for t in xticks(cls)]
    assert [p.get_height() for p in cls.patches] == pytest.approx([0.8] * 5)   # 2 + 1 + 2 distances
    assert [p.get_height() for p in out.patches] == pytest.approx([0.65] * 5)
    assert texts(out) == ["0.65"] * 5 and (cls.get_ylabel(), out.get_ylabel()) == ("accuracy", "mean AUROC over classes")
    assert dashed_y(cls) == [0.5] and dashed_y(out) == [0.5]                    # chance: 1/K and AUROC 0.5
    assert legend(fig) == ["L2", "LPIPS (perceptual)", "log-likelihood", "chance (1/K = 0.5, AUROC 0.5)"]
    with pytest.raises(ValueError, match="missing"):
        plots.fig4_manifold_inference(inference_table().drop(columns="value"))


def dashed_y(ax: Axes) -> list[float]:
    return [float(ln.get_ydata()[0]) for ln in ax.lines if ln.get_linestyle() == "--"]


def test_fig7_without_classification_says_so_and_infers_the_classes():
    t = inference_table()
    fig = plots.fig7_density_inference(t[t.task != "classification"], inliers="the GAN's own samples")
    cls, out = fig.axes
    assert texts(cls) == ["not evaluated: classification needs test images and at least 2 classes"]
    assert out.get_title().endswith("inliers: the GAN's own samples") and len(out.patches) == 5
    assert legend(fig)[-1] == "chance (AUROC 0.5)"


# ---------------------------------------------------------------------------------------------- Fig 8, 9, 12


def test_fig8_groups_extremes_and_correlation():
    df = per_image(groups=("train", "test", "generated", "generated_calibration", "constant_colour"))
    gan = df[df.model == "gan"].reset_index(drop=True)
    images = u8(len(gan))
    fig = plots.fig8_likelihood("gan", gan, images, k=3)
    (hist,), grid, (scatter,) = (sub.axes for sub in fig.subfigs)      # left, middle, right
    assert len(grid) == 2 * 3
    assert legend(hist) == ["train (n=6)", "test (n=6)", "generated (n=6)", "constant_colour (n=6)"]
    assert hist.get_xlabel() == LL_XLABEL
    with_bars = plots.fig8_likelihood("gan", gan, images, k=3, error_bars={"test": 12.5, "train": float("nan")})
    assert legend(with_bars.subfigs[0].axes[0])[:2] == ["train (n=6)", "test (n=6, ±12.5 nats)"]
    kept = gan[gan.group != "generated_calibration"]
    best = kept.sort_values("bits_per_dim", ascending=False, kind="stable")
    assert [ax.get_title() for ax in grid[:3]] == [f"constant\ncolour\n{v:.2f}" for v in best.bits_per_dim[:3]]
    assert [ax.get_title() for ax in grid[3:]] == [f"train\n{v:.2f}" for v in kept.bits_per_dim[:3]]
    np.testing.assert_array_equal(grid[0].images[0].get_array()[..., 0], images[best.index[0], 0])
    c = stats.correlation(kept.patch_cv.to_numpy(), kept.bits_per_dim.to_numpy())
    assert scatter.get_title() == f"Pearson r = {c['pearson_r']:.2f}, Spearman ρ = {c['spearman_rho']:.2f} (n = 24)"
    assert (scatter.get_xlabel(), scatter.get_ylabel()) == ("mean coefficient of variation of patches (std/mean)", LL_XLABEL)
    assert "left out: generated_calibration" in fig.get_supxlabel()

    tiny = plots.fig8_likelihood("gan", gan.iloc[:2], None, k=3)
    assert [texts(ax) for sub in tiny.subfigs[1:] for ax in sub.axes] == [["no images to show"],
                                                                         ["fewer than 3 images: no correlation"]]


def test_fig9_a_panel_per_group_lines_per_image_and_the_check_change_in_the_title():
    factors = np.array([0.25, 0.5, 1.0, 2.0, 4.0])
    ll = -1000 + np.cumsum(RNG.random((5, 4)), axis=0)
    other = -50 + np.cumsum(RNG.random((5, 2)), axis=0)
    fig = plots.fig9_ais_convergence({"gan": {"test": (factors, ll), "photos": (factors, other),
                                              "animals": (factors, np.empty((5, 0)))}}, check_factor=4)
    test, photos, animals = fig.axes[:3]
    change = np.max(np.abs(ll[4] - ll[2]))
    assert test.get_title() == f"gan — test (n=4)\nlargest change 1× → 4×: {change:.3g} nats"
    assert photos.get_title().startswith("gan — photos (n=2)")
    assert len(test.lines) == 4 + 1 and legend(test) == [f"image {i}" for i in range(4)]   # + the 1x marker
    np.testing.assert_allclose(test.lines[2].get_ydata(), ll[:, 2] - ll[:, 2].max())       # relative to its best
    assert xticks(test) == ["0.25×", "0.5×", "1×", "2×", "4×"] and test.get_xscale() == "log"
    assert test.get_xlabel() == "budget (multiple of the run's)"
    assert texts(animals) == ["gan, animals: no images"]
    with pytest.raises(ValueError, match="log_px must have shape"):
        plots.fig9_ais_convergence({"gan": {"test": (factors, np.zeros((2, 4)))}})


def test_fig12_one_histogram_per_model():
    fig = plots.fig12_likelihood_all_models(per_image(), notes=["omitted animals: none"])
    assert [ax.get_title() for ax in panels(fig)] == ["gan", "vae"]
    assert legend(panels(fig)[1]) == ["train (n=6)", "test (n=6)", "generated (n=6)", "constant_colour (n=6)"]
    assert panels(fig)[0].get_xlabel() == LL_XLABEL
    assert "omitted animals: none" in fig.get_supxlabel() and "left out: generated_calibration" in fig.get_supxlabel()


# ---------------------------------------------------------------------------------------------- Table 2, training


def test_table2_fraction_typical_per_group_and_model():
    t2 = pd.DataFrame([{"model": m, "group": g, "n": n, "fraction_typical": f + 0.01 * n, "n_images": 6}
                       for m in ("gan", "vae") for g, f in (("train", 0.0), ("generated", 0.9)) for n in (2, 4)])
    fig = plots.table2_typicality(t2, 0.95)
    gan, vae = panels(fig)
    assert (gan.get_title(), vae.get_title()) == ("gan", "vae")
    assert legend(fig) == ["train (6 images)", "generated (6 images)", "confidence level 0.95"]
    assert [ln.get_label() for ln in gan.lines[:2]] == ["train (6 images)", "generated (6 images)"]
    np.testing.assert_allclose(gan.lines[1].get_ydata(), [0.92, 0.94])
    assert dashed_y(gan) == [0.95] and xticks(gan) == ["2", "4"] and gan.get_xlabel() == "N (images per set)"
    with pytest.raises(ValueError, match="confidence"):
        plots.table2_typicality(t2, 1.5)


def test_training_curves_and_samples_one_row_per_class():
    losses = pd.DataFrame({"step": [0, 10, 0, 10], "series": ["generator", "generator", "discriminator", "discriminator"],
                           "value": [1.0, 0.5, 0.7, 0.6]})
    samples = u8(6).reshape(2, 3, 1, 8, 8)
    fig = plots.training_figure("gan", losses, samples, ["0", "1"])
    gen, disc, grid = fig.axes
    assert (gen.get_ylabel(), disc.get_ylabel(), disc.get_xlabel()) == ("generator", "discriminator", "training step")
    np.testing.assert_array_equal(gen.lines[0].get_ydata(), [1.0, 0.5])
    assert yticks(grid) == ["class 0", "class 1"] and grid.get_title() == "Samples (one row per class)"
    np.testing.assert_array_equal(grid.images[0].get_array()[12:20, 2:10, 0], samples[1, 0, 0])
    assert fig.get_suptitle() == "Training — gan"

    closed = pd.DataFrame({"step": [0], "series": ["closed form (no training)"], "value": [np.nan]})
    ppca = plots.training_figure("ppca", closed, u8(3).reshape(1, 3, 1, 8, 8))
    assert texts(ppca.axes[0]) == ["no training curve: closed form (no training)"]
    assert yticks(ppca.axes[1]) == ["samples"] and ppca.axes[1].get_title() == "Samples (unconditional)"


# ---------------------------------------------------------------------------------------------- beyond the paper


def support_inputs():
    curves = pd.DataFrame([{"group": g, "s": s, "p_collision": p, "p_low": max(p - 0.05, 0), "p_high": min(p + 0.05, 1)}
                           for g, ps in (("samples", [0.1, 0.5, 0.9]), ("reference", [0.0, 0.0, 0.02]))
                           for s, p in zip((10, 20, 40), ps)])
    est = pd.DataFrame([{"group": "samples", "k_hat": 400.0, "k_low": 300.0, "k_high": 550.0, "confidence": 0.95, "n_pool": 100},
                        {"group": "reference", "k_hat": np.inf, "k_low": 9000.0, "k_high": np.inf, "confidence": 0.95,
                         "n_pool": 120}])
    pairs = pd.DataFrame({"i": [0, 1, 2], "j": [5, 6, 7], "distance": [0.001, 0.002, 0.03], "collision": [True, True, False]})
    thr = {"tau": 0.0123, "alpha": 0.05, "s": 40, "n_calibration": 500, "heldout_rate": 0.06, "heldout_low": 0.03,
           "heldout_high": 0.1, "n_heldout": 400}
    return curves, est, pairs, thr, u8(6).reshape(3, 2, 1, 8, 8)


def test_support_collisions_curves_fit_threshold_and_pairs():
    curves, est, pairs, thr, images = support_inputs()
    fig = plots.support_collisions("gan", {"L2": curves}, {"L2": est}, {"L2": thr}, {"L2": pairs}, {"L2": images}, 2)
    ax, grid = fig.axes
    assert fig.get_suptitle() == "Birthday paradox — gan: how many distinct images does the GAN produce?"
    assert ax.get_title() == "L2\nτ = 0.0123; samples K̂ = 400 [300, 550] (95 %)\nheld-out real K̂ = ∞ [9e+03, ∞]"
    assert legend(ax) == ["fit P_K(s), K̂ = 400", "α = 0.05 (τ set at s = 40)", "model samples (pool 100)",
                          "held-out real images (pool 120)", "false collisions, 400 held-out real images: 0.060"]
    (fit,) = [ln for ln in ax.lines if ln.get_label().startswith("fit")]
    s = np.asarray(fit.get_xdata())
    np.testing.assert_allclose(fit.get_ydata(), 1 - np.array([np.prod(1 - np.arange(1, v) / 400) for v in s]), rtol=1e-9)
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("batch size s", "fraction of batches with a pair closer than τ")
    assert dashed_y(ax) == [] and [ln.get_ydata()[0] for ln in ax.lines if ln.get_linestyle() == ":"] == [0.05]
    assert grid.get_title() == "closest sample pairs: 2 of 3 closer than τ (*)"
    assert yticks(grid) == ["first", "second"] and xticks(grid) == ["0.001*", "0.002*"]   # n_examples = 2
    np.testing.assert_array_equal(grid.images[0].get_array()[12:20, 2:10, 0], images[0, 1, 0])


def test_memorisation_distances_histograms_threshold_and_pairs():
    d = pd.DataFrame({"group": ["samples"] * 4 + ["test"] * 5, "distance": [0.01, 0.02, 0.04, 0.08, 0.001, 0.02, 0.03, 0.05, 0.1]})
    summary = {"threshold": 0.002, "quantile": 0.01, "n_flagged": 0, "n_samples": 4, "rank_p": 1.0, "n_train": 50,
               "n_copies": 0}
    pairs = pd.DataFrame({"index": [0, 1], "nn_index": [3, 4], "distance": [0.01, 0.02], "flagged": [False, False]})
    fig = plots.memorisation_distances("gan", {"L2": d}, {"L2": summary}, {"L2": pairs}, {"L2": u8(4).reshape(2, 2, 1, 8, 8)}, 4)
    hist, grid = fig.axes
    assert legend(hist) == ["test (n=5)", "generated (n=4)", "0.01-quantile of test"]
    assert dashed_x(hist) == pytest.approx([np.median(np.log10(d.distance[4:])), np.median(np.log10(d.distance[:4]))])
    assert [ln.get_xdata()[0] for ln in hist.lines if ln.get_linestyle() == ":"] == pytest.approx([np.log10(0.002)])
    assert hist.get_title() == ("L2\n0 of 4 samples below the 0.01-quantile of test\n(expected 0; p = 1); "
                                "0 exact copies")
    assert hist.get_xlabel() == "log10 distance to the nearest training image\n(MSE on [-1, 1]; 50 searched)"
    assert yticks(grid) == ["sample", "nearest\ntraining"] and xticks(grid) == ["0.01", "0.02"]


def test_coverage_histograms_bars_agreement_and_spectra():
    classes = pd.DataFrame([{"class": "0", "p_samples": 0.6, "p_data": 0.5, "agreement": 0.95},
                            {"class": "1", "p_samples": 0.4, "p_data": 0.5, "agreement": 0.8},
                            {"class": "all", "p_samples": 1.0, "p_data": 1.0, "agreement": 0.875, "total_variation": 0.1,
                             "chi2_p": 0.03, "n_missing": 0}])
    spectrum = pd.DataFrame({"group": ["generated", "train"], "n_images": [30, 40], "n_directions": [5, 9], "fraction": 0.99})
    spectra = pd.DataFrame([{"group": g, "rank": r, "explained": 0.5 ** r} for g in ("generated", "train") for r in range(1, 12)])
    fig = plots.coverage_histograms("gan", classes, spectrum, spectra, ["a note"])
    hist, spec = fig.axes
    assert [p.get_height() for p in hist.patches] == pytest.approx([0.6, 0.4, 0.5, 0.5])
    assert texts(hist) == ["0.95", "0.80"] and xticks(hist) == ["0", "1"] and legend(hist) == ["generated", "test images"]
    assert hist.get_title() == ("Label histogram: TV = 0.100, χ² p = 0.03, 0 classes missing\n"
                                "(numbers: agreement with the requested class)")
    assert legend(spec) == ["generated (N = 30): 5 directions", "train (N = 40): 9 directions"]
    assert dashed_x(spec) == [5.0, 9.0] and spec.get_yscale() == "log"
    assert spec.get_xlabel() == "direction (rank of the eigenvalue)" and "a note" in fig.get_supxlabel()
    none = plots.coverage_histograms("gan", pd.DataFrame({"class": []}), spectrum.iloc[:1], spectra, [])
    assert texts(none.axes[0]) == ["no label histogram: the run has no classifier (see the notes)"]


def test_tgtr_accuracy_curve_real_curve_levels_and_their_worth():
    curve = pd.DataFrame([{"classifier": c, "source": "real", "n": n, "accuracy_mean": a, "accuracy_min": a - 0.01,
                           "accuracy_max": a + 0.01} for c in ("cnn", "linear") for n, a in ((10, 0.6), (100, 0.7), (1000, 0.8))]
                         + [{"classifier": c, "source": "generated", "n": 1000, "accuracy_mean": 0.75, "accuracy_min": 0.74,
                             "accuracy_max": 0.76} for c in ("cnn", "linear")])
    worth = pd.DataFrame([{"classifier": c, "n_generated": 1000, "accuracy_generated": 0.75, "real_equivalent": e,
                           "worth": w} for c, e, w in (("cnn", 316.2, "≈ 316 [300, 330]"), ("linear", np.nan, "< 10 [0, 10]"))])
    fig = plots.tgtr_accuracy_curve("gan", curve, worth, ["a note"])
    cnn, lin = fig.axes
    assert (cnn.get_title(), lin.get_title()) == ("CNN (the pipeline's classifier)", "linear classifier on pixels")
    assert cnn.get_xscale() == "log" and "a note" in fig.get_supxlabel()
    np.testing.assert_allclose(cnn.lines[0].get_ydata(), [0.6, 0.7, 0.8])
    assert legend(cnn) == ["real training images (mean)", "range over repeats", "1,000 generated: worth ≈ 316 [300, 330] real"]
    assert [tuple(ln.get_xydata()[0]) for ln in cnn.lines if ln.get_marker() == "v"] == [(316.2, 0.75)]
    assert not [ln for ln in lin.lines if ln.get_marker() == "v"]            # off the curve: no marker


def test_latent_sweep_psnr_lines_bands_reference_and_effort_ticks():
    rows = [{"kind": k, "model": f"{k}_{d}", "latent_dim": d, "group": g, "median_psnr_db": p + (5 if g == "generated" else 0),
             "median_worst_psnr_db": p - 1, "n_restarts": 8 if d == 64 else 4, "n_steps": 300 if d == 64 else 150,
             "nn_test_psnr_db": 14.5} for k in ("dcgan", "vae") for d, p in ((2, 10.0), (16, 14.0), (64, 16.0))
            for g in ("train", "generated")]
    fig = plots.latent_sweep_psnr(pd.DataFrame(rows))
    gan, vae = fig.axes
    assert (gan.get_title(), vae.get_title()) == ("dcgan", "vae") and gan.get_xscale() == "log"
    assert legend(gan) == ["train (best restart)", "train: down to the worst restart", "generated (best restart)",
                           "generated: down to the worst restart", "test image's nearest training image (1NN)"]
    np.testing.assert_allclose(gan.lines[0].get_ydata(), [10.0, 14.0, 16.0])
    np.testing.assert_allclose(gan.lines[1].get_ydata(), [15.0, 19.0, 21.0])
    assert dashed_y(gan) == [14.5] and xticks(gan) == ["2\n4×150", "16\n4×150", "64\n8×300"]
    assert gan.get_ylabel() == "inversion PSNR (dB, [0, 1] scale; median over images)"
