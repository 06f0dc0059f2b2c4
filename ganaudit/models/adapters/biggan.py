"""Adapter for BigGAN-deep from the ``pytorch-pretrained-biggan`` package (ImageNet). Weights come from a
folder or the package's cache; nothing is downloaded unless the spec allows it and the machine is online."""

from __future__ import annotations

import hashlib
import importlib
import importlib.metadata
import shutil
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganaudit.data.sources import is_online
from ganaudit.models.adapters.wrapper import AdaptedGenerator, _common


def _biggan_cached_dir(pkg: Any, model_name: str, cache_dir: str | None) -> Path | None:
    """A temporary folder with ``pytorch_model.bin`` / ``config.json`` links to the package's cached files
    for ``model_name`` (the cache names a file by the SHA-256 of its URL), or None if not cached."""
    model_mod = getattr(pkg, "model", None)
    urls = (getattr(model_mod, "PRETRAINED_MODEL_ARCHIVE_MAP", {}).get(model_name),
            getattr(model_mod, "PRETRAINED_CONFIG_ARCHIVE_MAP", {}).get(model_name))
    cache = Path(cache_dir or getattr(pkg, "PYTORCH_PRETRAINED_BIGGAN_CACHE", "") or "")
    if None in urls or not str(cache) or not cache.is_dir():
        return None
    found = []
    for url in urls:
        h = hashlib.sha256(url.encode("utf-8")).hexdigest()
        hits = sorted(p for p in cache.iterdir()
                      if (p.name == h or p.name.startswith(h + ".")) and not p.name.endswith(".json") and p.is_file())
        if not hits:
            return None
        found.append(hits[-1])
    tmp = Path(tempfile.mkdtemp(prefix="ganaudit-biggan-"))
    (tmp / "pytorch_model.bin").symlink_to(found[0].resolve())
    (tmp / "config.json").symlink_to(found[1].resolve())
    return tmp


def load_biggan(spec: dict[str, Any], device: str | torch.device) -> AdaptedGenerator:
    """BigGAN-deep from ``pytorch-pretrained-biggan`` (ImageNet, 1000 classes, z ∈ R^128).

    Called as ``model(z, one_hot(labels), truncation=1.0)``. BigGAN was trained with truncated-normal
    latents, but, as the paper does, we use the N(0, I) prior at truncation 1 (no truncation trick).
    Weights come from ``weights_dir`` or the package's cache; nothing is downloaded unless
    ``allow_download: true`` and the machine is online.
    """
    model_name = spec.get("model_name", "biggan-deep-256")
    try:
        pkg = importlib.import_module("pytorch_pretrained_biggan")
    except ImportError as e:
        raise ValueError("biggan: the package pytorch-pretrained-biggan is not installed; "
                         "pip install pytorch-pretrained-biggan") from e
    try:
        importlib.import_module("pytorch_pretrained_biggan.model")
    except ImportError:
        pass
    source: str
    weights_dir = spec.get("weights_dir")
    if weights_dir is not None:
        wd = Path(weights_dir)
        missing = [n for n in ("pytorch_model.bin", "config.json") if not (wd / n).is_file()]
        if missing:
            raise ValueError(f"biggan: weights_dir {wd} lacks {', '.join(missing)} (download "
                             f"{model_name}-pytorch_model.bin and {model_name}-config.json from "
                             f"https://s3.amazonaws.com/models.huggingface.co/biggan/ and rename them)")
        source = str(wd.resolve())
        net = pkg.BigGAN.from_pretrained(source)
    else:
        cached = _biggan_cached_dir(pkg, model_name, spec.get("cache_dir"))
        if cached is not None:
            source = f"cache:{model_name}"
            try:
                net = pkg.BigGAN.from_pretrained(str(cached))
            finally:
                shutil.rmtree(cached, ignore_errors=True)
        else:
            url = f"https://s3.amazonaws.com/models.huggingface.co/biggan/{model_name}-pytorch_model.bin"
            if not spec.get("allow_download", False):
                raise ValueError(f"biggan: weights for {model_name!r} are not cached; set weights_dir to a folder "
                                 f"with pytorch_model.bin + config.json (from {url} and its -config.json), "
                                 f"or set allow_download: true")
            if not is_online(url):
                raise ValueError(f"biggan: allow_download is true but {urlparse(url).hostname} cannot be reached; "
                                 f"download {url} by hand and set weights_dir")
            source = f"download:{model_name}"
            net = pkg.BigGAN.from_pretrained(model_name, cache_dir=spec.get("cache_dir"))
    cfg = net.config
    n_classes, latent_dim = int(cfg.num_classes), int(cfg.z_dim)

    def raw_call(m: nn.Module, z: Tensor, labels: Tensor | None) -> Tensor:
        assert labels is not None
        return m(z, F.one_hot(labels, n_classes).to(z.dtype), 1.0)

    info = {**_common(spec), "model_name": model_name, "weights": source, "truncation": 1.0,
            "note": "N(0, I) prior at truncation 1 (BigGAN trained with truncated-normal latents)"}
    try:
        info["package_version"] = importlib.metadata.version("pytorch-pretrained-biggan")
    except importlib.metadata.PackageNotFoundError:
        pass
    return AdaptedGenerator(net, raw_call, latent_dim=latent_dim, n_classes=n_classes, output_range="[-1,1]",
                            clamp=bool(spec.get("clamp", False)), info=info, device=device)
