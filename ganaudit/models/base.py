"""The `Generator` protocol every model and adapter satisfies (see DESIGN.md), and the few things
done to any generator: `check_labels`, `device_of`, `sample`.

A generator maps latents ``z ~ N(0, I)`` of shape ``[B, latent_dim]`` (and, for class-conditional
models, integer labels ``[B]``) to images ``[B, C, H, W]`` on the model scale ``[-1, 1]``.
The rest of the library knows nothing else about a model.
"""

from __future__ import annotations

import operator
from typing import NamedTuple, Protocol, runtime_checkable

import torch
from torch import Tensor, nn


@runtime_checkable
class Generator(Protocol):
    latent_dim: int
    image_shape: tuple[int, int, int]
    n_classes: int | None

    def __call__(self, z: Tensor, labels: Tensor | None = None) -> Tensor: ...


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


def device_of(generator: Generator, fallback: str | torch.device = "cpu") -> torch.device:
    """The device of a generator: its first parameter's, else its first buffer's (a module without
    weights), else ``fallback`` (a plain callable)."""
    if isinstance(generator, nn.Module):
        for t in generator.parameters():
            return t.device
        for t in generator.buffers():
            return t.device
    return torch.device(fallback)


class Samples(NamedTuple):
    """`sample` output, on the CPU: latents ``z`` float32 ``[n, latent_dim]``, ``labels`` long ``[n]``
    (None for an unconditional generator) and ``images`` ``[n, C, H, W]`` on the model scale, in the
    generator's output dtype."""

    z: Tensor
    labels: Tensor | None
    images: Tensor


@torch.no_grad()
def sample(generator: Generator, n: int, seed: int, labels: Tensor | str = "cycle", batch_size: int | None = None,
           device: str | torch.device | None = None) -> Samples:
    """``n`` images of ``generator`` from latents ``z ~ N(0, I)``.

    The latents are ``torch.randn(n, latent_dim)`` from a private CPU generator seeded with ``seed``
    (no global RNG state is used or changed), so a seed gives the same images on every device.

    Args:
        labels: for a class-conditional generator, ``"cycle"`` (``0, 1, …, K−1, 0, 1, …``: any prefix is
            balanced) or a long tensor ``[n]`` of classes (e.g. ``arange(K).repeat_interleave(m)`` for
            blocks of one class); ignored for an unconditional generator.
        batch_size: images per generator call (None: one call).
        device: where the generator runs (default: `device_of` the generator).
    """
    try:
        n = operator.index(n)
    except TypeError:
        raise ValueError(f"n must be a non-negative integer, got {n!r}") from None
    if n < 0:
        raise ValueError(f"n must be a non-negative integer, got {n!r}")
    if batch_size is not None and batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer or None, got {batch_size!r}")
    g = torch.Generator(device="cpu").manual_seed(int(seed))
    z = torch.randn(n, generator.latent_dim, generator=g)
    if not generator.n_classes:
        y = None
    elif isinstance(labels, str):
        if labels != "cycle":
            raise ValueError(f"labels must be 'cycle' or a tensor of classes, got {labels!r}")
        y = torch.arange(n) % generator.n_classes
    else:
        y = check_labels(generator, labels, n)
    dev = torch.device(device) if device is not None else device_of(generator)
    step = batch_size or max(n, 1)
    parts = [generator(z[i:i + step].to(dev), None if y is None else y[i:i + step].to(dev)).detach().cpu()
             for i in range(0, n, step)]
    images = torch.cat(parts) if parts else torch.empty(0, *generator.image_shape)
    return Samples(z, y, images)
