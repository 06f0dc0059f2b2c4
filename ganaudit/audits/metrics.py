"""The metrics audit: the numbers GAN papers report (`ganaudit.metrics`), for one model, in every feature space the
run has offline, next to the same numbers for two references that bracket them: the training images themselves
(a memorising generator) and held-out images (fresh data from the training distribution).

The model's samples come from the pool every audit draws (`ganaudit.audits.stage.StageInputs.pool`, classes in the
training images' proportions). The reference training images are the first ``n_train`` of the run's training
group; held-out images are the test group's: the first ``n_test`` are C_T's and FLD's test set, the next
``n_samples`` the fresh-data reference. The perceptual space, whose embedding is wide (≈ 31 000 numbers per MNIST
image at 32 px), uses the first ``n_perceptual`` images of each set. Perceptual path length needs the generator's
latent space; a model without one gets the row with the reason.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ganaudit.audits.common import write_frames
from ganaudit.audits.stage import StageInputs, StageOutput
from ganaudit.metrics.features import SPACE_DESCRIPTIONS, FeatureCache, feature_function
from ganaudit.metrics.flat import SAMPLES
from ganaudit.metrics.registry import METRICS, compute_metrics, row

if TYPE_CHECKING:
    from torch import Tensor

__all__ = ["SAMPLES", "COLUMNS", "metrics_audit", "ppl_rows", "stage"]

COLUMNS = ["samples", "metric", "feature_space", "class", "value", "low", "high", "n", "n_reference", "reference",
           "settings"]
"""The table's columns (the gathered table adds ``model`` first)."""

_METRIC_KEYS = {"fd": ["fd"], "kd": ["kd_mean", "kd_std"], "prdc": ["precision", "recall", "density", "coverage"],
                "ct": ["ct"], "authpct": ["authpct"], "fld": ["fld", "fld_gap"], "vendi": ["vendi"]}


def _skipped(keys: Sequence[str], space: str, reason: str, who: str = "model") -> list[dict[str, Any]]:
    return [{"samples": who, **row(k, space, float("nan"), 0, 0, "none", f"skipped: {reason}")} for k in keys]


def metrics_audit(sets: Mapping[str, Tensor | None], labels: Mapping[str, np.ndarray | None],
                  functions: Mapping[str, Callable[[Tensor], np.ndarray]], params: Mapping[str, Any], seed: int,
                  skipped_spaces: Mapping[str, str] | None = None, references: bool = True,
                  real_features: Callable[[str, str, np.ndarray], np.ndarray | None] | None = None
                  ) -> tuple[pd.DataFrame, list[str]]:
    """Every metric of `ganaudit.metrics.registry.METRICS` in every feature space of ``functions``, for the model's
    samples and (``references``) the memorising and fresh-data references.

    Args:
        sets: model-scale images ``[N, C, H, W]``: ``samples``, ``train`` (the reference training images), ``test``
            (held out: the first ``n_test`` for C_T and FLD, the next ``n_samples`` the fresh-data reference);
            ``train``/``test`` None when the run has none.
        labels: the classes of each set (``samples``: requested or predicted; None: unknown), for Vendi per class.
        functions: ``{feature space: images → features}`` (`ganaudit.metrics.features.feature_function`).
        params: ``beyond.metrics`` (``n_samples``, ``n_test``, ``n_perceptual`` and the metrics' settings).
        skipped_spaces: ``{feature space: why it is not computed}``, written as rows and notes.
        real_features: ``(space, split, rows) → features [len(rows), F]``, or None for a space it lacks: the real
            images' features already computed (the run's cache, `ganaudit.audits.real_features`), rows of the
            ``train``/``test`` data groups (``sets["train"]`` and ``sets["test"]`` are their first images); the
            sets it gives are not embedded here. None: every set is embedded here.

    Returns:
        ``(table, notes)``: columns `COLUMNS`, one row per (samples, metric, feature space, class).
    """
    n_test, n_samples = int(params["n_test"]), int(params["n_samples"])
    train, test = sets.get("train"), sets.get("test")
    available = [n for n, x in (("train", train), ("test", test)) if x is not None and len(x) > 1]
    if test is not None:
        available = [a for a in available if a != "test" or len(test[:n_test]) > 1]
    rows: list[dict[str, Any]] = []
    notes: list[str] = []
    for space, fn in functions.items():
        rng = np.random.default_rng(seed)             # the same memorising rows in every space of one size
        cap = int(params["n_perceptual"]) if space == "perceptual" and params.get("n_perceptual") else None
        images = {"samples": sets["samples"][:cap]}
        subsets: dict[str, tuple[str, np.ndarray]] = {}
        who = {"model": {}}
        lab = {"model": None if labels.get("samples") is None else np.asarray(labels["samples"])[:cap]}
        if "train" in available:
            images["train"] = train[:cap]
            n_mem = min(len(images["samples"]), len(images["train"]) // 2)
            idx = np.sort(rng.choice(len(images["train"]), n_mem, replace=False))
            subsets["memorising"] = ("train", idx)
            if references:
                who["memorising"] = {"samples": "memorising"}
                lab["memorising"] = None if labels.get("train") is None else np.asarray(labels["train"])[idx]
        if "test" in available:
            images["test"] = test[:n_test][:cap]
            fresh = test[n_test:n_test + n_samples][:cap]
            if references and len(fresh) > 1:
                images["fresh"] = fresh
                who["fresh"] = {"samples": "fresh"}
                lab["fresh"] = (None if labels.get("test") is None
                                else np.asarray(labels["test"])[n_test:n_test + n_samples][:cap])
        known = {}
        if real_features is not None:   # rows of the data groups: train[:cap], test[:n_test][:cap], the next ones
            starts = {"train": ("train", 0), "test": ("test", 0), "fresh": ("test", n_test)}
            for name, (split, start) in starts.items():
                if name in images:
                    f = real_features(space, split, np.arange(start, start + len(images[name])))
                    if f is not None:
                        known[space, name] = f
        cache = FeatureCache({space: fn}, images, subsets, known=known)
        for name, view in who.items():
            got, why = compute_metrics(cache.view(**view), [space], params, seed, available, lab[name])
            rows += [{"samples": name, **r} for r in got]
            if name == "model":
                notes += [f"{space}: {w}" for w in why]
                for metric, w in zip([m for m in METRICS if any(n not in available for n in METRICS[m].needs)], why):
                    rows += _skipped(_METRIC_KEYS[metric], space, w.split(": ", 1)[1])
    for space, why in (skipped_spaces or {}).items():
        notes.append(f"feature space {space} not computed: {why}")
        rows += _skipped([k for ks in _METRIC_KEYS.values() for k in ks], space, why)
    return pd.DataFrame(rows, columns=COLUMNS), notes


def ppl_rows(generator: Any, perceptual: Any, params: Mapping[str, Any], seed: int) -> list[dict[str, Any]]:
    """PPL (`ganaudit.metrics.ppl.perceptual_path_length`) of the model under the run's perceptual distance, as
    ``ppl_mean`` and ``ppl_std`` rows; the reason in their ``settings`` when the model has no latent space."""
    from ganaudit.metrics.ppl import perceptual_path_length

    p = params["ppl"]
    if generator is None or not getattr(generator, "latent_dim", None):
        return _skipped(["ppl_mean", "ppl_std"], "perceptual", "the model has no generator with a latent space "
                        "(an audit of samples only)")
    r = perceptual_path_length(generator, perceptual.distance, int(p["n_pairs"]), float(p["epsilon"]),
                               tuple(p["trim"]), seed)
    text = (f"Z space, lerp, eps = {r.epsilon:g}, t ~ U(0, 1), lengths between the {r.trim[0]:g}th and {r.trim[1]:g}th "
            f"percentiles kept ({r.n_kept} of {r.n_pairs} pairs), distance {perceptual.name}; "
            f"{r.evaluations} generator passes")
    return [{"samples": "model", **row("ppl_mean", "perceptual", r.mean, r.n_pairs, 0, "none", text)},
            {"samples": "model", **row("ppl_std", "perceptual", r.std, r.n_pairs, 0, "none", text)}]


def stage(inputs: StageInputs, params: Mapping[str, Any]) -> StageOutput:
    """The metrics audit of one model (registry entry ``metrics``): `metrics_audit` on the model's sample pool and
    the run's training and test images in the feature spaces of ``beyond.metrics.spaces`` (a space whose network
    the run lacks is skipped, with the reason), and `ppl_rows`. The real images' features come from the run's cache
    in the spaces it holds."""
    import torch

    from ganaudit.data.images import to_model_scale
    from ganaudit.manifold.distances import perceptual_from_config

    p = params["metrics"]
    G = None if inputs.is_stored() else inputs.generator()   # stored samples: no generator, no PPL
    train = inputs.group("train", p["n_train"])
    test = inputs.group("test", p["n_test"] + p["n_samples"])
    pool = inputs.pool(p["n_samples"], inputs.seed, train.labels if train is not None else None)
    classifier = inputs.classifier()
    perceptual = perceptual_from_config(params["perceptual"], inputs.device)
    weights = dict(p.get("weights") or {})
    spaces = list(p["spaces"]) + [s for s in ("inception", "dinov2") if weights.get(s)]
    functions, skipped = {}, {}
    for space in spaces:
        fn = feature_function(space, classifier, perceptual, weights)
        if fn is None:
            skipped[space] = "the run has no classifier" if space == "classifier" else "no weights file"
        else:
            functions[space] = fn
    sample_labels = pool.labels.numpy() if pool.labels is not None else None
    if sample_labels is None and classifier is not None:
        from ganaudit.models.classifier import predict_and_features

        sample_labels = predict_and_features(classifier, pool.images.float())[0]
    sets = {"samples": pool.images.float(),
            "train": to_model_scale(train.images) if train is not None else None,
            "test": to_model_scale(test.images) if test is not None else None}
    labels = {"samples": sample_labels, "train": train.labels if train is not None else None,
              "test": test.labels if test is not None else None}

    def cached(space: str, split: str, rows: np.ndarray) -> np.ndarray | None:   # the run's cache of its real images
        return inputs.real_features(space, split, rows, perceptual) if inputs.has_real_features(space) else None

    with torch.no_grad():
        table, notes = metrics_audit(sets, labels, functions, p, inputs.seed, skipped, bool(p["references"]), cached)
    table = pd.concat([table, pd.DataFrame(ppl_rows(G, perceptual, p, inputs.seed), columns=COLUMNS)],
                      ignore_index=True)
    if train is None:
        notes.append("no training images in this run: only the metrics of the samples alone (Vendi, PPL)")
    tree, group_attrs = write_frames({"table": table})
    attrs = dict(perceptual_metric=perceptual.name, perceptual_backend=perceptual.backend,
                 feature_spaces=json.dumps({s: SPACE_DESCRIPTIONS[s] for s in functions}))
    return StageOutput(tree, group_attrs, notes, attrs=attrs, log=table.to_string())
