"""The tests beyond the paper as pipeline stages (rules/beyond.smk): each takes a model's samples and the run's
images, runs one test of the library on them and returns what its artifact holds and its table rows.

=================  ======================================  =============================================
stage              test (library)                          artifact ``results/<stage>/{model}.h5``
=================  ======================================  =============================================
`support_audit`    birthday paradox (`ganaudit.support`)   per distance: curves, estimates, τ, closest pairs
`memorisation_audit` nearest training image                per distance: per-image distances, summary, pairs
                   (`ganaudit.memorisation`)
`coverage_audit`   label histogram, class agreement,       classes, spectra, spectrum summary
                   covariance spectrum (`ganaudit.coverage`)
`tgtr_audit`       train on generated, test on real        per-class accuracies
                   (`ganaudit.tgtr`)
`latent_sweep_rows` inversion PSNR against latent size     (a table only)
=================  ======================================  =============================================

Every artifact holds its table rows as the frame ``table`` (`write_frames` / `read_frame`: one dataset per
column, the column order in the group's ``columns`` attr) and its notes (what was skipped and why) in the
``notes`` attr, so the table rules only gather (`gather_table`). Distances are keyed ``l2`` (MSE per
pixel-channel on the model scale ``[-1, 1]``) and ``perceptual`` (the run's LPIPS; its name in the attr
``perceptual_metric``). Images are uint8 ``[N, C, H, W]`` as stored, or float ``[N, C, H, W]`` on ``[-1, 1]``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ganaudit import store

if TYPE_CHECKING:
    from torch import Tensor

    from ganaudit.distances import Perceptual
    from ganaudit.models.base import Generator, Samples

__all__ = ["model_pool", "frame_tree", "write_frames", "read_frame", "read_notes", "gather_table", "gather_tables", "distance_names",
           "TABLE_TITLES", "THRESHOLD_FIELDS", "support_audit",
           "memorisation_audit", "coverage_audit", "tgtr_audit", "latent_sweep_rows", "DISTANCES"]

DISTANCES = ("l2", "perceptual")
"""Keys of the two distances in the artifacts (L2 = MSE on the model scale; the run's perceptual distance)."""
THRESHOLD_FIELDS = ("tau", "alpha", "s", "achieved", "n_batches", "n_reference")
"""The `ganaudit.support.Threshold` fields, in the order of a support artifact's ``{distance}/threshold``."""


# ---------------------------------------------------------------------------------------------- samples


def model_pool(generator: Generator, n: int, seed: int, class_labels: np.ndarray | None = None,
               batch_size: int = 500) -> Samples:
    """``n`` samples of ``generator`` (`ganaudit.models.base.sample`, latents seeded ``seed``).

    A class-conditional generator gets classes drawn i.i.d. from ``class_labels`` (the training labels, model
    class indices): the pool is then an i.i.d. sample of the model's distribution over the data's class
    proportions, as the birthday test and the label histogram need. Without ``class_labels`` the classes
    cycle ``0, 1, …, K−1``.
    """
    import torch

    from ganaudit.models.base import sample

    if generator.n_classes and class_labels is not None and len(class_labels):
        rng = np.random.default_rng(seed)
        labels: Any = torch.as_tensor(rng.choice(np.asarray(class_labels, dtype=np.int64), size=n))
    else:
        labels = "cycle"
    return sample(generator, n, seed, labels=labels, batch_size=batch_size)


# ---------------------------------------------------------------------------------------------- frames in HDF5


def frame_tree(df: pd.DataFrame) -> dict[str, np.ndarray]:
    """A data frame as ``{column: array}`` for `ganaudit.store.write` (text columns as fixed strings)."""
    out = {}
    for c in df.columns:
        v = df[c].to_numpy()
        out[str(c)] = v.astype(str) if v.dtype == object else v
    return out


def write_frames(frames: Mapping[str, pd.DataFrame]) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """``(tree, group_attrs)`` for `ganaudit.store.write` holding each frame under its path (e.g. ``l2/curves``)."""
    tree: dict[str, Any] = {}
    attrs = {}
    for path, df in frames.items():
        node = tree
        *parents, leaf = path.split("/")
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = frame_tree(df)
        attrs[path] = {"columns": json.dumps([str(c) for c in df.columns])}
    return tree, attrs


def read_frame(path: str | Path, name: str) -> pd.DataFrame:
    """The frame stored under ``name`` by `write_frames` (one-line `ganaudit.store.ArtifactError` if absent)."""
    cols = json.loads(store.read_attrs(path, name)["columns"])
    d = store.read(path, [f"{name}/{c}" for c in cols])
    return pd.DataFrame({c: d[f"{name}/{c}"] for c in cols})


def read_notes(path: str | Path) -> list[str]:
    """The artifact's notes (what was skipped and why)."""
    return list(json.loads(store.read_attrs(path).get("notes", "[]")))


def distance_names(path: str | Path) -> dict[str, str]:
    """``{distance key: its name}`` of a support or memorisation artifact, in the order of `DISTANCES`."""
    return {key: str(store.read_attrs(path, key)["distance"]) for key in DISTANCES}


def gather_table(paths: Iterable[str | Path], name: str = "table") -> tuple[pd.DataFrame, list[str]]:
    """The frames ``name`` of several models' artifacts ``results/<stage>/{model}.h5``, stacked with a first
    column ``model``, and their notes prefixed with the model."""
    frames, notes = [], []
    for p in paths:
        model = Path(p).stem
        df = read_frame(p, name)
        frames.append(df.assign(model=model)[["model", *df.columns]])
        notes += [f"{model}: {n}" for n in read_notes(p)]
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame({"model": []})
    return table, notes


TABLE_TITLES = {
    "support": "Birthday-paradox support estimate: K̂ (equally likely distinct images) of the samples and of the "
               "training images, with its interval; τ calibrated on training images",
    "memorisation": "Memorisation: nearest-training distances of samples vs test images",
    "coverage": "Mode coverage: label histogram of samples (classifier predictions) vs the test images' "
                "(classifier predictions), class-conditional agreement per requested class",
    "coverage_spectrum": "Covariance spectrum: directions holding the given fraction of the pixel variance",
    "tgtr": "Train on generated, test on real: test accuracy of the classifier trained on samples vs on real "
            "training images",
}
"""Titles of the tables of the tests (Markdown headings)."""


def gather_tables(test: str, paths: Sequence[str | Path]) -> dict[str, tuple[pd.DataFrame, str, list[str]]]:
    """The tables of one test over its models' artifacts: ``{name: (table, title, notes)}`` with ``name`` the
    test's name and, for coverage, also ``coverage_spectrum`` (from the frame ``spectrum``)."""
    frames = {"coverage_spectrum": "spectrum"} if test == "coverage" else {}
    out = {}
    for name, frame in {test: "table", **frames}.items():
        table, notes = gather_table(paths, frame)
        out[name] = (table, TABLE_TITLES[name], notes if name == test else [])
    return out


def _pair_images(images: np.ndarray, first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """uint8 ``[k, 2, C, H, W]``: ``images[first]`` beside ``images[second]``."""
    return np.stack([images[np.asarray(first, np.int64)], images[np.asarray(second, np.int64)]], axis=1)


def _u8(x: Tensor | np.ndarray) -> np.ndarray:
    from ganaudit.data import to_uint8

    return x if isinstance(x, np.ndarray) and x.dtype == np.uint8 else to_uint8(x)


# ---------------------------------------------------------------------------------------------- support


def support_audit(samples: Tensor, reference: Tensor, perceptual: Perceptual, params: Mapping[str, Any],
                  seed: int) -> tuple[dict[str, Any], dict[str, dict[str, Any]], pd.DataFrame]:
    """The birthday-paradox test (`ganaudit.support.birthday_paradox_test`) under L2 and ``perceptual``.

    Args:
        samples: ``[N, C, H, W]`` model samples (model scale), the pool batches are drawn from.
        reference: ``[M, C, H, W]`` training images (model scale): τ is calibrated on them and their own curve
            is the reference (what the test resolves; ``K̂ ≈ s_max² / (2 ln(1/(1−α)))`` by construction).
        params: ``beyond.support`` (sizes, alpha, n_batches, confidence, n_bootstrap, n_pairs).

    Returns:
        ``(tree, group_attrs, table)`` for `ganaudit.store.write`. Per distance key: ``curves`` (s,
        n_collisions, p_collision, p_low, p_high, p_model, group ∈ {samples, training}), ``estimates``, ``pairs``
        (i, j, distance, collision) and ``pair_images`` uint8 ``[k, 2, C, H, W]``; ``table``: one row per
        distance and pool with K̂, its interval, s at P = ½ (``s_half``), τ and how it was calibrated.
    """
    from ganaudit import support

    sizes = sorted({int(s) for s in params["sizes"]})
    for what, pool, key in (("model samples", samples, "n_samples"), ("training images", reference, "n_reference")):
        if len(pool) < sizes[-1]:
            raise ValueError(f"config: beyond.support.sizes: the largest batch size {sizes[-1]} exceeds the pool of "
                             f"{len(pool)} {what} (beyond.support.{key}, or the images available)")
    u8 = _u8(samples)
    frames: dict[str, pd.DataFrame] = {}
    tree: dict[str, Any] = {}
    rows = []
    names = {}
    for key, metric in (("l2", None), ("perceptual", perceptual)):
        name = names[key] = "L2" if metric is None else metric.name
        ds = support.pairwise_distances(support.distance_features(samples, metric))
        dr = support.pairwise_distances(support.distance_features(reference, metric))
        res = support.birthday_paradox_test(ds, dr, sizes, alpha=params["alpha"], n_batches=params["n_batches"],
                                            confidence=params["confidence"], n_bootstrap=params["n_bootstrap"],
                                            n_pairs=params["n_pairs"], seed=seed)
        del ds, dr
        thr = res.threshold
        frames[f"{key}/curves"] = res.curves
        frames[f"{key}/estimates"] = res.estimates_frame().assign(
            n_pool=[len(samples) if g == "samples" else len(reference) for g in res.estimates])
        frames[f"{key}/pairs"] = res.pairs
        tree.setdefault(key, {})["pair_images"] = _pair_images(u8, res.pairs.i.to_numpy(), res.pairs.j.to_numpy())
        tree[key]["threshold"] = np.array([getattr(thr, f) for f in THRESHOLD_FIELDS], dtype=np.float64)
        for pool, est in res.estimates.items():
            rows.append({"distance": name, "pool": "samples" if pool == "samples" else "training images",
                         "n_pool": len(samples) if pool == "samples" else len(reference),
                         "k_hat": est.k_hat, "k_low": est.k_low, "k_high": est.k_high, "confidence": est.confidence,
                         "s_half": est.s_half, "s_half_squared": est.s_half_squared, "n_collisions": est.n_collisions,
                         "n_batches": thr.n_batches, "s_max": sizes[-1], "tau": thr.tau, "alpha": thr.alpha,
                         "false_collision_rate": thr.achieved,
                         "calibration": f"{thr.alpha:g}-quantile of the closest pair in {thr.n_batches} batches of "
                                        f"{thr.s} of {thr.n_reference} training images",
                         "interval": est.interval})
    table = pd.DataFrame(rows)
    frames["table"] = table
    ftree, gattrs = write_frames(frames)
    for key in tree:
        ftree[key].update(tree[key])
    gattrs.update({key: {"distance": name} for key, name in names.items()})
    return ftree, gattrs, table


# ---------------------------------------------------------------------------------------------- memorisation


def _embed_chunks(images: Tensor, perceptual: Perceptual, chunk: int = 1000) -> Iterable[np.ndarray]:
    for i in range(0, len(images), chunk):
        yield perceptual.embed(images[i:i + chunk]).cpu().numpy()


def memorisation_audit(samples: Tensor, test: Tensor, train: Tensor, perceptual: Perceptual, params: Mapping[str, Any]
                       ) -> tuple[dict[str, Any], dict[str, dict[str, Any]], pd.DataFrame]:
    """Nearest training image of each sample against the test images' (`ganaudit.memorisation`), L2 and
    perceptual.

    Args:
        samples: ``[Ns, C, H, W]``, test: ``[Nt, C, H, W]``, train: ``[M, C, H, W]`` on the model scale.
        params: ``beyond.memorisation``: ``max_train_perceptual`` caps the training images searched under the
            perceptual distance (the first ones; their embedding is streamed in chunks of 1000, never held at
            once); ``quantile`` and ``n_pairs`` as in `ganaudit.memorisation.memorisation`.

    Returns:
        ``(tree, group_attrs, table)``: per distance key ``distances`` (group ∈ {samples, test}, index,
        nn_index, distance, flagged, exact_copy), ``summary`` and ``pairs`` with ``pair_images`` uint8
        ``[k, 2, C, H, W]`` (sample, its nearest training image); ``table``: the summaries, one row per distance.
    """
    import torch

    from ganaudit import memorisation as mem
    from ganaudit.support import distance_features

    cap = params.get("max_train_perceptual")
    train_p = train if cap is None else train[:int(cap)]
    searched = {"l2": train, "perceptual": train_p}
    frames: dict[str, pd.DataFrame] = {}
    images: dict[str, np.ndarray] = {}
    for key in DISTANCES:
        if key == "l2":
            fs, ft, fr = distance_features(samples), distance_features(test), distance_features(train)
            (s_d, s_i), (t_d, t_i) = mem.nearest_neighbours(fs, fr), mem.nearest_neighbours(ft, fr)
            name = "L2"
            del fr
        else:
            fs, ft = perceptual.embed(samples).cpu().numpy(), perceptual.embed(test).cpu().numpy()
            (s_d, s_i), (t_d, t_i) = mem.nearest_in_chunks([fs, ft], _embed_chunks(train_p, perceptual))
            name = perceptual.name
        del fs, ft
        res = mem.memorisation_from_neighbours(s_d, s_i, t_d, t_i, len(searched[key]), name, params["quantile"],
                                               params["n_pairs"])
        frames[f"{key}/distances"] = res.distances
        frames[f"{key}/summary"] = res.summary
        frames[f"{key}/pairs"] = res.pairs
        idx, nn = (torch.as_tensor(np.array(res.pairs[c], dtype=np.int64)) for c in ("index", "nn_index"))
        images[key] = np.stack([_u8(samples[idx]), _u8(searched[key][nn])], axis=1)
    table = pd.concat([frames[f"{k}/summary"] for k in DISTANCES], ignore_index=True)
    frames["table"] = table
    tree, gattrs = write_frames(frames)
    for key in DISTANCES:
        tree[key]["pair_images"] = images[key]
        gattrs[key] = {"distance": frames[f"{key}/summary"].distance.iloc[0]}
    return tree, gattrs, table


# ---------------------------------------------------------------------------------------------- coverage


def coverage_audit(samples: Samples, params: Mapping[str, Any], classifier: Any | None = None,
                   train: Tensor | None = None, test: Tensor | None = None, test_labels: np.ndarray | None = None,
                   skipped: Sequence[str] = ()) -> tuple[dict[str, Any], dict[str, dict[str, Any]], pd.DataFrame, list[str]]:
    """Label histogram and class agreement under the pipeline's classifier, and the covariance spectrum.

    Args:
        samples: the model's samples (`model_pool`; ``labels`` the requested classes, None if unconditional).
        params: ``beyond.coverage`` (``n_reference``, ``fraction``).
        classifier: the pipeline's classifier (`ganaudit.models.classifier.Classifier`) or None.
        train, test: ``[M, C, H, W]`` real images (model scale), the reference spectra (first ``n_reference``);
            the test images are also what the data's label histogram is measured on: the classifier's
            predictions on them, so its own errors enter both histograms alike. ``test_labels`` are their true
            classes (the classifier's accuracy on them goes in a note).
        skipped: why parts cannot be made (no classifier, no training images), written to the notes.

    Returns:
        ``(tree, group_attrs, table, notes)``: frames ``classes`` (class, n_samples, p_samples, n_data, p_data,
        agreement, n_requested; a last row ``all`` with the total variation distance, the chi-square p-value and
        the classes never produced), ``spectra`` (group, rank, eigenvalue, explained, cumulative), ``spectrum``
        (group, n_images, total_variance, n_directions, fraction, directions_vs_train) and ``table`` (= classes).
    """
    from ganaudit import coverage

    notes = list(skipped)
    frames: dict[str, pd.DataFrame] = {}
    if classifier is not None and test is not None:
        from ganaudit.models.classifier import predict_and_features

        k = int(classifier.n_classes)
        pred, _ = predict_and_features(classifier, samples.images.float())
        pred_data, _ = predict_and_features(classifier, test.float())
        mc = coverage.mode_coverage(pred, pred_data, k)
        classes = mc.table.assign(**{"class": mc.table["class"].astype(str)})
        if samples.labels is not None:
            agree = coverage.conditional_agreement(pred, samples.labels.numpy(), k)
            classes["n_requested"] = agree.n.to_numpy()[:k]
            classes["agreement"] = agree.agreement.to_numpy()[:k]
            overall = float(agree.agreement.iloc[-1])
        else:
            classes["n_requested"] = 0
            classes["agreement"] = np.nan
            overall = float("nan")
            notes.append("class agreement: the generator is unconditional (no requested classes)")
        total = {"class": "all", "n_samples": int(mc.table.n_samples.sum()), "p_samples": 1.0,
                 "n_data": int(mc.table.n_data.sum()), "p_data": 1.0, "n_requested": int(classes.n_requested.sum()),
                 "agreement": overall, "total_variation": mc.total_variation, "chi2_p": mc.p_value,
                 "n_missing": mc.n_missing}
        frames["classes"] = pd.concat([classes, pd.DataFrame([total])], ignore_index=True)
        if test_labels is not None and len(test_labels) == len(pred_data):
            notes.append(f"the classifier labels {np.mean(pred_data == np.asarray(test_labels)):.4f} of the "
                         f"{len(pred_data)} test images correctly (the data histogram is its predictions on them)")
    sets = {"generated": samples.images}
    n_ref = int(params["n_reference"])
    for g, x in (("train", train), ("test", test)):
        if x is not None and len(x) >= 2:
            sets[g] = x[:n_ref]
    spectra, summary = coverage.compare_spectra({g: x.double().numpy() for g, x in sets.items()}, params["fraction"])
    base = summary.set_index("group").n_directions.get("train", np.nan)
    summary["directions_vs_train"] = summary.n_directions / base if base else np.nan
    frames["spectra"] = spectra
    frames["spectrum"] = summary
    table = frames.get("classes", pd.DataFrame({"class": []}))
    frames["table"] = table
    tree, gattrs = write_frames(frames)
    return tree, gattrs, table, notes


# ---------------------------------------------------------------------------------------------- TGTR


def tgtr_audit(generator: Generator, train_x: Tensor, train_labels: np.ndarray, test_x: Tensor,
               test_labels: np.ndarray, n: int, train_config: Mapping[str, Any], seed: int
               ) -> tuple[dict[str, Any], dict[str, dict[str, Any]], pd.DataFrame, list[str]]:
    """Train on generated, test on real (`ganaudit.tgtr.train_generated_test_real`) with the pipeline's
    classifier settings (``classifier.train``).

    Returns ``(tree, group_attrs, table, notes)``: ``table`` has one row per class and a last row ``all``:
    ``class``, ``n_test``, ``accuracy_generated``, ``accuracy_real`` (fractions of the real test images) and
    ``gap_points`` (``100 × (real − generated)``, percentage points). An unconditional generator has no rows and
    a note saying why.
    """
    import torch

    from ganaudit import tgtr
    from ganaudit.train import TrainConfig

    if not generator.n_classes:
        table = pd.DataFrame({"class": [], "n_test": [], "accuracy_generated": [], "accuracy_real": [], "gap_points": []})
        notes = ["skipped: the generator is unconditional (train-on-generated needs a class for each sample)"]
    else:
        cfg = TrainConfig(**{**dict(train_config), "progress": False})
        res = tgtr.train_generated_test_real(generator, train_x, torch.as_tensor(train_labels), test_x,
                                             torch.as_tensor(test_labels), n, cfg, seed)
        table = res.per_class.assign(**{"class": res.per_class["class"].astype(str)})
        table = pd.concat([table, pd.DataFrame([{"class": "all", "n_test": res.n_test,
                                                 "accuracy_generated": res.accuracy_generated,
                                                 "accuracy_real": res.accuracy_real}])], ignore_index=True)
        table["gap_points"] = 100 * (table.accuracy_real - table.accuracy_generated)
        table.insert(1, "n_train", res.n_train)
        notes = []
    tree, gattrs = write_frames({"table": table})
    return tree, gattrs, table, notes


# ---------------------------------------------------------------------------------------------- latent sweep


def latent_sweep_rows(inversions: Mapping[tuple[str, str], Mapping[str, np.ndarray]], models: Mapping[str, Mapping[str, Any]],
                      settings: Mapping[str, Mapping[str, Any]], nn_test: Mapping[str, np.ndarray] | None = None) -> pd.DataFrame:
    """Inversion PSNR against latent size: one row per model and group.

    Args:
        inversions: ``(model, group) → {"restart_mse": [N, K, R], "labels": [N]}`` of the inversion artifacts
            (``restart_mse``: each restart's best MSE on the model scale, NaN for classes not evaluated).
        models: ``models.<name>`` config entries (``kind``, ``latent_dim``).
        settings: each model's inversion settings (`ganaudit.workflow.inversion_params`).
        nn_test: ``{"l2": [Nt, K], "labels": [Nt]}`` of the 1NN baseline of the test images, or None.

    Returns:
        Columns ``kind``, ``model``, ``latent_dim``, ``group``, ``n_images``, ``n_restarts``, ``n_steps``,
        ``median_psnr_db`` (best restart; [0, 1] scale), ``median_worst_psnr_db`` (worst restart),
        ``median_spread_db`` (median over images of best − worst), ``p10_psnr_db``, ``p90_psnr_db`` and
        ``nn_test_psnr_db`` (median PSNR of each test image's nearest training image of its class: how close a
        held-out image lies to the training set, for reference).
    """
    from ganaudit import stats

    def psnr(mse: np.ndarray) -> np.ndarray:
        return stats.psnr(stats.to_unit_scale_variance(np.clip(mse, 1e-12, None)))

    nn_psnr = float("nan")
    if nn_test is not None and len(nn_test["labels"]):
        lab = np.asarray(nn_test["labels"])
        own = np.asarray(nn_test["l2"])[np.arange(len(lab)), np.clip(lab, 0, None)]
        nn_psnr = float(np.median(psnr(own[lab >= 0])))
    rows = []
    for (model, group), d in inversions.items():
        r = np.asarray(d["restart_mse"], dtype=np.float64)
        per_restart = np.nanmin(r, axis=1) if r.ndim == 3 else r        # own class: the only evaluated one
        best, worst = np.nanmin(per_restart, axis=1), np.nanmax(per_restart, axis=1)
        pb, pw = psnr(best), psnr(worst)
        spec = models[model]
        rows.append({"kind": spec["kind"], "model": model, "latent_dim": int(spec["latent_dim"]), "group": group,
                     "n_images": len(best), "n_restarts": int(settings[model]["n_restarts"]),
                     "n_steps": int(settings[model]["n_steps"]), "median_psnr_db": float(np.median(pb)),
                     "median_worst_psnr_db": float(np.median(pw)), "median_spread_db": float(np.median(pb - pw)),
                     "p10_psnr_db": float(np.percentile(pb, 10)), "p90_psnr_db": float(np.percentile(pb, 90)),
                     "nn_test_psnr_db": nn_psnr})
    out = pd.DataFrame(rows)
    return out.sort_values(["kind", "latent_dim", "group"], kind="stable").reset_index(drop=True) if len(out) else out
