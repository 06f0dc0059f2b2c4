"""Stage functions behind the pipeline's scripts: each takes arrays and configs, returns arrays/tables.

Class-conditional models are evaluated per class: an image of a known modelled class (``train``,
``generated``) is evaluated under its own class only; every other image (test, other classes,
out-of-distribution) under every class, which manifold/generative classification and per-class
outlier detection need. Results are ``[N, K]`` with NaN where a class was not evaluated
(``K = 1`` for unconditional models).
"""

from __future__ import annotations

import logging
from dataclasses import fields
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # torch is imported inside the functions that need it: light scripts never load it
    import torch

    from ganaudit import data
    from ganaudit.models.base import Generator

log = logging.getLogger("ganaudit.pipeline")

OWN_CLASS_GROUPS = ("train", "generated", "generated_calibration")


def evaluation_pairs(group: str, labels: np.ndarray, n_classes: int | None) -> tuple[np.ndarray, np.ndarray]:
    """(image index, class index) pairs to evaluate; class -1 stands for an unconditional model."""
    n = len(labels)
    if not n_classes:
        return np.arange(n), np.full(n, -1)
    if group in OWN_CLASS_GROUPS and (labels >= 0).all():
        return np.arange(n), labels.astype(np.int64)
    return np.repeat(np.arange(n), n_classes), np.tile(np.arange(n_classes), n)


def scatter(values: np.ndarray, rows: np.ndarray, cols: np.ndarray, n: int, k: int) -> np.ndarray:
    """Place per-pair values ``[P, ...]`` into an ``[n, k, ...]`` array (NaN elsewhere)."""
    out = np.full((n, k, *values.shape[1:]), np.nan, dtype=np.float64 if values.dtype.kind == "f" else values.dtype)
    out[rows, np.maximum(cols, 0)] = values
    return out


def config_from(cls: type, params: dict[str, Any], **extra: Any):
    """Build a frozen config dataclass from the keys of ``params`` it knows (others are ignored)."""
    names = {f.name for f in fields(cls)}
    return cls(**{k: (tuple(v) if isinstance(v, list) else v) for k, v in {**params, **extra}.items() if k in names})


def make_perceptual(params: dict[str, Any], device: torch.device | str = "cpu"):
    """The perceptual distance of the ``perceptual`` config section."""
    from ganaudit.distances import get_perceptual

    return get_perceptual(params["backend"], params.get("weights"), params["resize_to"], device)


def invert_group(generator: Generator, group: data.ImageGroup, group_name: str, inversion_params: dict[str, Any],
                 perceptual, seed: int, device: torch.device) -> dict[str, np.ndarray]:
    """Invert every image of ``group`` (under the classes `evaluation_pairs` says) and measure errors."""
    import torch

    from ganaudit import data, inversion

    n, k = len(group), generator.n_classes or 1
    if n == 0:
        c, h, w = generator.image_shape
        empty = np.empty((0, k))
        return {"index": np.arange(0), "labels": group.labels, "source_labels": group.source_labels, "mse": empty,
                "perceptual": empty, "restart_mse": np.empty((0, k, inversion_params["n_restarts"])),
                "init_mse": np.empty((0, k, inversion_params["n_restarts"])),
                "z": np.empty((0, k, generator.latent_dim), np.float32), "recon": np.empty((0, k, c, h, w), np.float32)}
    rows, cols = evaluation_pairs(group_name, group.labels, generator.n_classes)
    x = data.to_model_scale(group.images)
    xs = x[rows]
    labels = None if not generator.n_classes else torch.as_tensor(cols)
    cfg = config_from(inversion.InversionConfig, inversion_params, progress=True)
    res = inversion.invert(generator, xs, labels, cfg, seed=seed, device=device)
    err_l2 = res.mse.numpy()  # the inversion already measured the winner's MSE
    with torch.no_grad():
        err_p = batched(lambda a, b: perceptual.distance(a, b), xs, res.recon)
    return {
        "index": np.arange(n), "labels": group.labels, "source_labels": group.source_labels,
        "mse": scatter(err_l2, rows, cols, n, k),
        "perceptual": scatter(err_p, rows, cols, n, k),
        "restart_mse": scatter(res.restart_mse.numpy(), rows, cols, n, k),
        "init_mse": scatter(res.init_mse.numpy(), rows, cols, n, k),
        "z": scatter(res.z.numpy(), rows, cols, n, k).astype(np.float32),
        "recon": scatter(res.recon.numpy(), rows, cols, n, k).astype(np.float32),
    }


def batched(fn, a: torch.Tensor, b: torch.Tensor, batch: int = 256) -> np.ndarray:
    import torch

    if len(a) == 0:
        return np.empty(0)
    return torch.cat([fn(a[i:i + batch], b[i:i + batch]).detach().cpu() for i in range(0, len(a), batch)]).numpy()


def ais_group(generator: Generator, group: data.ImageGroup, group_name: str, sigma2: float, ais_config,
              seed: int, first_index: int, device: torch.device) -> dict[str, np.ndarray]:
    """AIS log-likelihood of every image of ``group`` under the classes `evaluation_pairs` says.

    Image ``i`` of the group (``first_index + i`` in the whole group) with class ``c`` draws its random
    numbers from seed ``seed + (first_index + i) * K + c``: independent of sharding and batching.
    """
    import torch

    from ganaudit import data
    from ganaudit.ais import ais_log_likelihood

    n, k = len(group), generator.n_classes or 1
    if n == 0:
        empty = np.empty((0, k))
        chains = np.empty((0, k, ais_config.n_chains))
        return {"index": np.arange(0), "labels": group.labels, "source_labels": group.source_labels,
                "log_px_class": empty, "log_w": chains, "accept_rate": chains, "n_divergent": chains}
    rows, cols = evaluation_pairs(group_name, group.labels, generator.n_classes)
    x = data.to_model_scale(group.images)[rows].to(device)
    labels = None if not generator.n_classes else torch.as_tensor(cols, device=device)
    seeds = seed + (first_index + rows) * k + np.maximum(cols, 0)
    res = ais_log_likelihood(generator, x, sigma2, labels=labels, config=ais_config, seed=seeds)
    return {
        "index": np.arange(first_index, first_index + n), "labels": group.labels, "source_labels": group.source_labels,
        "log_px_class": scatter(np.asarray(res.log_px, dtype=np.float64), rows, cols, n, k),
        "log_w": scatter(np.asarray(res.log_w, dtype=np.float64), rows, cols, n, k),
        "accept_rate": scatter(np.asarray(res.accept_rate, dtype=np.float64), rows, cols, n, k),
        "n_divergent": scatter(np.asarray(res.n_divergent, dtype=np.float64), rows, cols, n, k),
    }


def marginal_log_px(log_px_class: np.ndarray, labels: np.ndarray, group_name: str) -> np.ndarray:
    """log p(x) of each image under the class mixture with a uniform class prior,
    log p(x) = log (1/K) Σ_c p(x | c).

    Groups evaluated under their own class only (`evaluation_pairs`) use the lower bound
    log p(x | c_own) − log K, which is tight when the other classes' likelihoods are negligible (they
    differ by hundreds of nats on the test images, where all K are evaluated; see the density table).
    """
    from ganaudit.stats import log_mean_exp

    k = log_px_class.shape[1]
    if k == 1:
        return log_px_class[:, 0]
    if group_name in OWN_CLASS_GROUPS and (labels >= 0).all():
        return log_px_class[np.arange(len(labels)), labels] - np.log(k)
    return log_mean_exp(log_px_class, axis=1, ignore_nan=True)


def ais_config(params: dict[str, Any], **extra: Any):
    """The `AISConfig` of the ``ais`` config section: the preset with ``overrides`` applied."""
    import dataclasses

    from ganaudit.ais import PRESETS, AISConfig

    names = {f.name for f in fields(AISConfig)}
    overrides = dict(params.get("overrides") or {})
    unknown = sorted(set(overrides) - names)
    if unknown:
        raise ValueError(f"config: ais.overrides: unknown AISConfig field(s) {unknown} (known: {sorted(names)})")
    base = PRESETS[params.get("preset", "paper")]
    extra = {k: v for k, v in extra.items() if k in names}
    if "batch_size" in params:
        extra.setdefault("batch_size", params["batch_size"])
    return dataclasses.replace(base, **{**overrides, **extra})


def sigma2_mle(train_mse_own_class: np.ndarray) -> float:
    """Maximum-likelihood σ² of the Gaussian observation model from the training images' best
    reconstructions: the mean squared error per pixel (model scale). Paper B.3."""
    v = np.asarray(train_mse_own_class, dtype=np.float64)
    v = v[np.isfinite(v)]
    if v.size == 0:
        raise ValueError("no finite training reconstruction errors to estimate sigma2 from")
    return float(v.mean())
