"""Saving and loading audited generators (``results/models/{model}/generator.pt``).

A checkpoint is a dict: ``{"format": "ganaudit-generator/1", "class": "module:Class", "kwargs": {...},
"state_dict": {...}, "meta": {...}}`` for built-in models, or ``{"format": ..., "adapter": spec}`` for a
user's pretrained generator loaded through `ganaudit.models.adapters.load_generator`.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ganaudit.artifacts.store import ArtifactError, atomic
from ganaudit.models.base import Generator

FORMAT = "ganaudit-generator/1"


def _atomic_save(obj: Any, path: str | os.PathLike) -> None:
    with atomic(path) as tmp:
        torch.save(obj, tmp)


def save_generator(path: str | os.PathLike, model: nn.Module, kwargs: dict[str, Any], meta: dict[str, Any] | None = None) -> None:
    """Save a built-in model (its class path, constructor kwargs and weights) atomically."""
    cls = type(model)
    _atomic_save({"format": FORMAT, "class": f"{cls.__module__}:{cls.__qualname__}", "kwargs": kwargs,
                  "state_dict": model.state_dict(), "meta": meta or {}}, path)


def save_adapter(path: str | os.PathLike, spec: dict[str, Any], meta: dict[str, Any] | None = None) -> None:
    """Save a reference to a user's pretrained generator (loaded by its adapter at use)."""
    _atomic_save({"format": FORMAT, "adapter": spec, "meta": meta or {}}, path)


def load_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    path = Path(path)
    if not path.exists():
        raise ArtifactError(f"{path}: checkpoint not found")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as e:  # noqa: BLE001 - any unpickling failure is a corrupt file for the user
        raise ArtifactError(f"{path}: not a readable torch checkpoint ({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''})") from None
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        raise ArtifactError(f"{path}: not a ganaudit generator checkpoint (expected format {FORMAT!r})")
    return ckpt


def load_generator(path: str | os.PathLike, device: str | torch.device = "cpu") -> Generator:
    """Load an audited generator in eval mode with gradients off for its parameters.

    For a generator, one probe call on a zero latent must give finite images (`ArtifactError` naming ``path`` if not),
    so broken weights stop a stage before any expensive work.
    """
    ckpt = load_checkpoint(path)
    if "adapter" in ckpt:
        from ganaudit.models import adapters

        return adapters.load_generator(ckpt["adapter"], device=device)
    module, _, name = ckpt["class"].partition(":")
    cls = getattr(importlib.import_module(module), name)
    model = cls(**ckpt["kwargs"])
    model.load_state_dict(ckpt["state_dict"])
    model = model.to(device).eval().requires_grad_(False)
    if getattr(model, "latent_dim", None) is None:  # not a generator (the sample-quality classifier)
        return model
    with torch.no_grad():
        labels = None if not model.n_classes else torch.zeros(1, dtype=torch.long, device=device)
        if not torch.isfinite(model(torch.zeros(1, model.latent_dim, device=device), labels)).all():
            raise ArtifactError(f"{path}: the generator's output for a zero latent contains NaN/inf "
                                "(training diverged? see its training log)")
    return model
