"""Perceptual path length (Karras et al. 2019): the perceptual distance between images of two latents ε apart
along a line between random latent pairs, over ε², trimmed of its extremes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from torch import Tensor

    from ganaudit.models.base import Generator

__all__ = ["PPLResult", "perceptual_path_length"]


@dataclass(frozen=True)
class PPLResult:
    """`perceptual_path_length` output: ``mean`` and ``std`` of the kept per-pair lengths, ``n_pairs`` drawn,
    ``n_kept`` after trimming, the settings (``epsilon``, ``trim`` as the (low, high) percentiles kept between),
    and ``evaluations`` (generator passes: 2 per pair)."""

    mean: float
    std: float
    n_pairs: int
    n_kept: int
    epsilon: float
    trim: tuple[float, float]
    evaluations: int


def perceptual_path_length(generator: Generator, distance: Callable[[Tensor, Tensor], Tensor], n_pairs: int = 500,
                           epsilon: float = 1e-4, trim: tuple[float, float] = (1.0, 99.0), seed: int = 0,
                           batch_size: int = 250, labels: Tensor | None = None) -> PPLResult:
    """PPL in Z space with linear interpolation: for ``z₀, z₁ ~ N(0, I)`` and ``t ~ U(0, 1)``, the length
    ``distance(G(lerp(z₀, z₁, t)), G(lerp(z₀, z₁, t + ε))) / ε²``; the mean of the lengths between the ``trim``
    percentiles (StyleGAN: 1 and 99). A class-conditional generator keeps one class per pair (``labels [n_pairs]``;
    default: classes cycling ``0, 1, …``). ``distance`` maps two image batches to ``[n]`` distances (the run's
    perceptual distance). Latents come from a private generator seeded ``seed``."""
    import torch

    from ganaudit.models.base import device_of

    if n_pairs < 2 or epsilon <= 0 or not 0 <= trim[0] < trim[1] <= 100:
        raise ValueError(f"need n_pairs ≥ 2, epsilon > 0, 0 ≤ trim low < high ≤ 100; got {n_pairs}, {epsilon}, {trim}")
    g = torch.Generator().manual_seed(int(seed))
    d = int(generator.latent_dim)
    z0, z1 = torch.randn(n_pairs, d, generator=g), torch.randn(n_pairs, d, generator=g)
    t = torch.rand(n_pairs, 1, generator=g)
    if generator.n_classes:
        labels = labels if labels is not None else torch.arange(n_pairs) % int(generator.n_classes)
    else:
        labels = None
    lengths = []
    with torch.no_grad():
        for i in range(0, n_pairs, batch_size):
            sl = slice(i, i + batch_size)
            za = torch.lerp(z0[sl], z1[sl], t[sl])
            zb = torch.lerp(z0[sl], z1[sl], t[sl] + epsilon)
            lab = labels[sl] if labels is not None else None
            dev = device_of(generator)
            lab = lab.to(dev) if lab is not None else None
            xa, xb = generator(za.to(dev), lab).float(), generator(zb.to(dev), lab).float()
            lengths.append((distance(xa, xb).double() / epsilon ** 2).cpu().numpy())
    ell = np.concatenate(lengths)
    lo, hi = np.percentile(ell, trim[0], method="lower"), np.percentile(ell, trim[1], method="higher")
    kept = ell[(ell >= lo) & (ell <= hi)]
    return PPLResult(float(kept.mean()), float(kept.std()), int(n_pairs), int(len(kept)), float(epsilon),
                     (float(trim[0]), float(trim[1])), 2 * int(n_pairs))
