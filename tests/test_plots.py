"""ganaudit.plots: every figure function draws small synthetic inputs into a valid PNG (+ PDF) of the
expected pixel size; the data helpers pick the right class, image and pixel."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ganaudit import artifacts, plots

DPI = 40
RNG = np.random.default_rng(0)


def png_size(path: Path) -> tuple[int, int]:
    """(width, height) from the PNG header; fails on anything that is not a PNG."""
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", head[16:24])


def check_saved(fig, tmp_path: Path, name: str) -> None:
    png, pdf = tmp_path / f"{name}.png", tmp_path / f"{name}.pdf"
    plots.save(fig, png, pdf, dpi=DPI)
    w, h = fig.get_size_inches()
    assert png_size(png) == (round(w * DPI), round(h * DPI))
    assert png.stat().st_size > 2000
    assert pdf.read_bytes()[:5] == b"%PDF-"


def u8(n: int, c: int = 1, s: int = 8) -> np.ndarray:
    return RNG.integers(0, 256, size=(n, c, s, s), dtype=np.uint8)


def inversion(group: str, n: int, shift: float = 0.0, k: int = 2, own_class: bool = False) -> artifacts.Inversion:
    mse = np.exp(RNG.normal(-3 + shift, 0.3, size=(n, k)))
    if own_class:  # train/generated: only the own class is evaluated
        mse[np.arange(n), (np.arange(n) + 1) % k] = np.nan
    recon = RNG.uniform(-1, 1, size=(n, k, 1, 8, 8)).astype(np.float32)
    return artifacts.reduce_inversion(group, mse, mse * 2, recon, u8(n), "toy-LPIPS")


def per_image(models=("gan", "vae"), groups=("train", "test", "generated", "constant_colour"), n=6) -> pd.DataFrame:
    rows = []
    for m in models:
        for j, g in enumerate(groups):
            for i in range(n):
                rows.append({"model": m, "group": g, "index": i, "log_px": -100.0 * (j + 1) + i,
                             "bits_per_dim": -5.0 + j + 0.1 * i, "patch_cv": 0.2 * j + 0.01 * i})
    return pd.DataFrame(rows)


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


def test_fig3_fig5_fig10_fig11(tmp_path):
    inv = {"train": inversion("train", 6, own_class=True), "generated": inversion("generated", 6, -1, own_class=True),
           "test": inversion("test", 5), "animals": inversion("animals", 4, 0.5), "empty": inversion("empty", 0)}
    check_saved(plots.fig3_reconstruction("gan", inv, 3, ["omitted x: test"]), tmp_path, "fig3")
    check_saved(plots.fig3_reconstruction("gan", {"generated": inv["generated"]}, 3), tmp_path, "fig3_no_train")
    check_saved(plots.fig5_groups("gan", inv, 3), tmp_path, "fig5")
    check_saved(plots.fig5_groups("gan", {}, 3), tmp_path, "fig5_empty")
    errors = {"gan": {g: inv[g].error for g in ("train", "generated")}, "vae": {"generated": inv["generated"].error}}
    check_saved(plots.fig10_reconstruction_all_models(errors), tmp_path, "fig10")
    check_saved(plots.fig11_inversions_all_models({"gan": inv, "vae": {"test": inv["test"]}}, 3), tmp_path, "fig11")


def inference_table() -> pd.DataFrame:
    rows = []
    for method, dists in (("manifold (gan)", ["L2", "LPIPS"]), ("density (vae)", ["log-likelihood"]),
                          ("1NN (training images)", ["L2", "LPIPS"])):
        for d in dists:
            rows.append([method, d, "classification", "all", "accuracy", 0.8, 20])
            rows += [[method, d, "outlier_detection", str(c), "auroc", 0.6 + 0.1 * c, 40] for c in range(2)]
            rows.append([method, d, "outlier_detection", "mean", "auroc", 0.65, 40])
    return pd.DataFrame(rows, columns=["method", "distance", "task", "class", "metric", "value", "n_images"])


def test_fig4_fig7(tmp_path):
    t = inference_table()
    check_saved(plots.fig4_manifold_inference(t, 2, {"gan": "gan", "vae": "baseline"}), tmp_path, "fig4")
    no_cls = t[t.task != "classification"]
    check_saved(plots.fig7_density_inference(no_cls), tmp_path, "fig7")
    with pytest.raises(ValueError, match="missing"):
        plots.fig4_manifold_inference(t.drop(columns="value"))


def test_fig8_fig12(tmp_path):
    df = per_image()
    gan = df[df.model == "gan"].reset_index(drop=True)
    check_saved(plots.fig8_likelihood("gan", gan, u8(len(gan)), k=3), tmp_path, "fig8")
    check_saved(plots.fig8_likelihood("gan", gan.iloc[:2], None, k=3), tmp_path, "fig8_tiny")
    check_saved(plots.fig12_likelihood_all_models(df, notes=["omitted animals: none"]), tmp_path, "fig12")


def test_fig9_table2_training(tmp_path):
    steps = np.array([5, 10, 50])
    curves = {"gan": (steps, -1000 + np.cumsum(RNG.random((3, 4)), axis=0)), "vae": (steps, np.empty((3, 0)))}
    check_saved(plots.fig9_ais_convergence(curves, "test"), tmp_path, "fig9")
    with pytest.raises(ValueError, match="log_px must have shape"):
        plots.fig9_ais_convergence({"gan": (steps, np.zeros((2, 4)))})

    t2 = pd.DataFrame([{"model": m, "group": g, "n": n, "fraction_typical": f, "n_images": 6}
                       for m in ("gan", "vae") for g, f in (("generated", 0.9), ("train", 0.0)) for n in (2, 4)])
    check_saved(plots.table2_typicality(t2, 0.95), tmp_path, "table2")
    with pytest.raises(ValueError, match="confidence"):
        plots.table2_typicality(t2, 1.5)

    losses = pd.DataFrame({"step": [0, 10, 0, 10], "series": ["generator", "generator", "discriminator", "discriminator"],
                           "value": [1.0, 0.5, 0.7, 0.6]})
    check_saved(plots.training_figure("gan", losses, u8(6).reshape(2, 3, 1, 8, 8), ["0", "1"]), tmp_path, "training")
    closed = pd.DataFrame({"step": [0], "series": ["closed form (no training)"], "value": [np.nan]})
    check_saved(plots.training_figure("ppca", closed, u8(3).reshape(1, 3, 1, 8, 8)), tmp_path, "training_ppca")
