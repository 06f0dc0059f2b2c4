"""The model kinds the pipeline trains itself (pure Python: the config check reads it at parse time), the kind
``samples`` (a model given as stored images, `ganaudit.models.samples`); every other kind is a pretrained generator
behind an adapter (`ganaudit.models.adapters.kinds`)."""

from __future__ import annotations

from typing import Any

BUILTIN_KINDS = frozenset({"dcgan", "vae", "ppca"})
"""Trained (dcgan, vae) or fitted (ppca) by the pipeline's train_model rule."""
BUILTIN_KEYS = frozenset({"kind", "latent_dim", "width", "train", "role", "inversion"})
"""The keys a built-in model's config entry may have (``inversion``: the model's own inversion settings,
merged over the ``inversion`` section by `ganaudit.workflow.plan.inversion_params`)."""


def is_builtin(spec: dict[str, Any]) -> bool:
    """True for a config entry the pipeline trains itself."""
    return spec["kind"] in BUILTIN_KINDS


SAMPLES_KIND = "samples"
"""A model given as stored samples (`ganaudit.models.samples`): no generator, only the audits that need samples."""


def is_samples(spec: dict[str, Any]) -> bool:
    """True for a config entry that gives a model as stored samples (no generator)."""
    return spec["kind"] == SAMPLES_KIND
