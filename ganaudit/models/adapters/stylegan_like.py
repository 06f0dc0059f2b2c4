"""The ``stylegan_like`` adapter kind: `ganaudit.models.stylegan.StyleGANLike` with seeded random weights, sized by
the spec (nothing is read from disk)."""

from __future__ import annotations

from typing import Any

import torch

from ganaudit.models.adapters.wrapper import AdaptedGenerator, _common
from ganaudit.models.stylegan import StyleGANLike


#: The ``stylegan_like`` spec keys and their `StyleGANLike` defaults (StyleGAN2 config F at 256×256).
SPEC_DEFAULTS: dict[str, Any] = {"latent_dim": 512, "resolution": 256, "w_dim": 512, "mapping_layers": 8,
                                 "channel_base": 32768, "channel_max": 512, "img_channels": 3, "noise": False,
                                 "output_gain": 0.5, "seed": 0}


def load_stylegan_like(spec: dict[str, Any], device: str | torch.device) -> AdaptedGenerator:
    """The ``stylegan_like`` adapter kind: a `StyleGANLike` built from the spec's size keys (`SPEC_DEFAULTS`) with
    weights drawn from its ``seed`` (nothing read from disk), behind the `ganaudit.models.base.Generator` protocol."""
    kwargs = {k: spec.get(k, v) for k, v in SPEC_DEFAULTS.items()}
    for key in ("latent_dim", "resolution", "w_dim", "mapping_layers", "channel_base", "channel_max", "img_channels",
                "seed"):
        if not isinstance(kwargs[key], int) or isinstance(kwargs[key], bool):
            raise ValueError(f"stylegan_like: {key} must be an integer (got {kwargs[key]!r})")
    net = StyleGANLike(kwargs.pop("latent_dim"), kwargs.pop("resolution"), **kwargs)
    info = {**_common(spec), **{k: spec.get(k, v) for k, v in SPEC_DEFAULTS.items()}, "weights": "random (seeded)"}
    return AdaptedGenerator(net, lambda m, z, labels: m(z), latent_dim=net.latent_dim, n_classes=None,
                            output_range="[-1,1]", clamp=bool(spec.get("clamp", False)), info=info, device=device)
