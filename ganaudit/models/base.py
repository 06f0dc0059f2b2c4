"""The `Generator` protocol every model and adapter satisfies (see DESIGN.md).

A generator maps latents ``z ~ N(0, I)`` of shape ``[B, latent_dim]`` (and, for class-conditional
models, integer labels ``[B]``) to images ``[B, C, H, W]`` on the model scale ``[-1, 1]``.
The rest of the library knows nothing else about a model.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import torch
from torch import Tensor


@runtime_checkable
class Generator(Protocol):
    latent_dim: int
    image_shape: tuple[int, int, int]
    n_classes: int | None

    def __call__(self, z: Tensor, labels: Tensor | None = None) -> Tensor: ...


def sample_latents(generator: Generator, n: int, seed: int, device: str | torch.device = "cpu") -> Tensor:
    """Draw ``n`` latents from the N(0, I) prior with a private RNG (reproducible, no global state)."""
    g = torch.Generator(device="cpu").manual_seed(int(seed))
    return torch.randn(n, generator.latent_dim, generator=g).to(device)


def check_labels(generator: Generator, labels: Tensor | None, n: int) -> Tensor | None:
    """Validate labels against the generator: required iff class-conditional, in range, length n."""
    if generator.n_classes is None:
        return None
    if labels is None:
        raise ValueError(f"generator is class-conditional ({generator.n_classes} classes); labels are required")
    labels = torch.as_tensor(labels, dtype=torch.long)
    if labels.shape != (n,):
        raise ValueError(f"labels must have shape ({n},), got {tuple(labels.shape)}")
    if n and (int(labels.min()) < 0 or int(labels.max()) >= generator.n_classes):
        raise ValueError(f"labels must lie in [0, {generator.n_classes}), got [{int(labels.min())}, {int(labels.max())}]")
    return labels
