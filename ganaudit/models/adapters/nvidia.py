"""Adapter for NVIDIA network pickles: StyleGAN2-ADA, StyleGAN3 and StyleGAN-XL (``G_ema``). Unpickling
needs the authors' code (``dnnlib/``, ``torch_utils/``) in ``repo_path``; `check_spec` checks it and
the pickle exist and says what to clone or download."""

from __future__ import annotations

import pickle
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganaudit.models.adapters.wrapper import AdaptedGenerator, _add_sys_path, _common


def load_nvidia(spec: dict[str, Any], device: str | torch.device) -> AdaptedGenerator:
    """StyleGAN2-ADA / StyleGAN3 / StyleGAN-XL network pickles (``G_ema`` of the pickled dict).

    The generator is used in Z-space (paper, appendix B.2): ``G(z, c, truncation_psi=1, noise_mode="const")``
    so that the image is a deterministic function of ``z``; ``c`` is one-hot ``[B, c_dim]`` when
    ``c_dim > 0``, else an empty ``[B, 0]``. Outputs are on roughly ``[-1, 1]`` (not clipped unless ``clamp``).
    """
    kind = spec["kind"]
    repo = Path(spec["repo_path"]).expanduser()
    pkl = Path(spec["pickle"]).expanduser()
    _add_sys_path(repo)
    key = spec.get("network_key", "G_ema")
    try:
        with open(pkl, "rb") as f:
            data = pickle.load(f)
    except (pickle.UnpicklingError, EOFError, ImportError, AttributeError) as e:
        raise ValueError(f"{kind}: cannot unpickle {pkl} with the code in {repo} ({type(e).__name__}: {e})") from e
    if not isinstance(data, Mapping) or key not in data:
        have = list(data.keys()) if isinstance(data, Mapping) else type(data).__name__
        raise ValueError(f"{pkl}: expected a dict with {key!r} (got {have})")
    net = data[key]
    for attr in ("z_dim", "c_dim", "img_resolution", "img_channels"):
        if not hasattr(net, attr):
            raise ValueError(f"{pkl}: {key} has no attribute {attr!r}; not an NVIDIA StyleGAN generator")
    c_dim = int(net.c_dim)

    def raw_call(m: nn.Module, z: Tensor, labels: Tensor | None) -> Tensor:
        if labels is None:
            c = torch.zeros(z.shape[0], c_dim, device=z.device, dtype=z.dtype)
        else:
            c = F.one_hot(labels, c_dim).to(z.dtype)
        return m(z, c, truncation_psi=1, noise_mode="const")

    info = {**_common(spec), "pickle": str(pkl.resolve()), "repo_path": str(repo.resolve()), "network_key": key,
            "call": "G(z, c, truncation_psi=1, noise_mode='const')", "space": "Z",
            "img_resolution": int(net.img_resolution), "img_channels": int(net.img_channels), "c_dim": c_dim}
    g = AdaptedGenerator(net, raw_call, latent_dim=int(net.z_dim), n_classes=c_dim if c_dim > 0 else None,
                         output_range="[-1,1]", clamp=bool(spec.get("clamp", False)), info=info, device=device)
    expect = (int(net.img_channels), int(net.img_resolution), int(net.img_resolution))
    if g.image_shape != expect:
        raise ValueError(f"{pkl}: {key} returned images of shape {g.image_shape}, its attributes say {expect}")
    return g
