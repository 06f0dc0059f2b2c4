"""Helpers shared by the pipeline's stages: which (image, class) pairs a group is evaluated under, placing
per-pair results into ``[N, K]`` arrays, shard ranges, the class-mixture log-likelihood and σ².

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

from ganaudit.data.roles import OWN_CLASS_GROUPS
from ganaudit.data.stats import log_mean_exp

if TYPE_CHECKING:  # torch is imported inside `batched` only: light scripts never load it
    import torch

log = logging.getLogger("ganaudit.data.evaluation")



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


def batched(fn, a: torch.Tensor, b: torch.Tensor, batch: int = 256) -> np.ndarray:
    import torch

    if len(a) == 0:
        return np.empty(0)
    return torch.cat([fn(a[i:i + batch], b[i:i + batch]).detach().cpu() for i in range(0, len(a), batch)]).numpy()


def marginal_log_px(log_px_class: np.ndarray, labels: np.ndarray, group_name: str) -> np.ndarray:
    """log p(x) of each image under the class mixture with a uniform class prior,
    log p(x) = log (1/K) Σ_c p(x | c).

    Groups evaluated under their own class only (`evaluation_pairs`) use the lower bound
    log p(x | c_own) − log K, which is tight when the other classes' likelihoods are negligible (they
    differ by hundreds of nats on the test images, where all K are evaluated; see the density table).
    """
    k = log_px_class.shape[1]
    if k == 1:
        return log_px_class[:, 0]
    if group_name in OWN_CLASS_GROUPS and (labels >= 0).all():
        return log_px_class[np.arange(len(labels)), labels] - np.log(k)
    return log_mean_exp(log_px_class, axis=1, ignore_nan=True)


def sigma2_mle(train_mse_own_class: np.ndarray) -> float:
    """Maximum-likelihood σ² of the Gaussian observation model from the training images' best
    reconstructions: the mean squared error per pixel (model scale). Paper B.3."""
    v = np.asarray(train_mse_own_class, dtype=np.float64)
    v = v[np.isfinite(v)]
    if v.size == 0:
        raise ValueError("no finite training reconstruction errors to estimate sigma2 from")
    return float(v.mean())


def shard_range(shard: int, shard_size: int, n_images: int, n_available: int) -> tuple[int, int]:
    """Image index range ``[start, stop)`` of a shard, clipped to the images that exist."""
    n = min(n_images, n_available)
    start = min(shard * shard_size, n)
    return start, min(start + shard_size, n)
