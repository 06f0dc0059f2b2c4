"""`AdaptedGenerator`, the wrapper every adapter returns, and the helpers the loaders share (importing a
class by path, reading a checkpoint, reshaping latents, encoding labels, checking spec values)."""

from __future__ import annotations

import hashlib
import importlib
import os
import pickle
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganaudit.models.base import check_labels

OUTPUT_RANGES = ("[-1,1]", "[0,1]")
LABEL_FORMATS = ("index", "onehot")


class AdaptedGenerator(nn.Module):
    """A pretrained network behind the `Generator` protocol.

    ``net`` is the wrapped module; ``raw_call(net, z, labels)`` maps latents ``[B, latent_dim]`` (and long
    labels ``[B]`` or ``None``) to the network's raw output ``[B, C, H, W]`` on ``output_range``. The
    image shape is found by one probe call on a zero latent, whose output must be finite. The module is put in eval mode and its
    parameters stop requiring gradients; gradients flow to ``z``.
    """

    def __init__(self, net: nn.Module, raw_call: Callable[[nn.Module, Tensor, Tensor | None], Tensor], *,
                 latent_dim: int, n_classes: int | None, output_range: str = "[-1,1]", clamp: bool = False,
                 info: Mapping[str, Any] | None = None, device: str | torch.device = "cpu") -> None:
        super().__init__()
        if output_range not in OUTPUT_RANGES:
            raise ValueError(f"output_range must be one of {list(OUTPUT_RANGES)}, got {output_range!r}")
        self.net = net.to(device)
        self._raw_call = raw_call
        self.latent_dim = int(latent_dim)
        self.n_classes = None if n_classes is None else int(n_classes)
        self.output_range = output_range
        self.clamp = bool(clamp)
        self.device = torch.device(device)
        self._info = dict(info or {})
        self._sha256: dict[str, str] = {}
        self.eval()
        self.requires_grad_(False)
        with torch.no_grad():
            probe_labels = None if self.n_classes is None else torch.zeros(1, dtype=torch.long, device=self.device)
            out = self._raw(torch.zeros(1, self.latent_dim, device=self.device), probe_labels)
        where = self._info.get("checkpoint") or self._info.get("pickle") or self._info.get("path") or ""
        where = f"{self._info.get('kind', 'generator')}{f' ({where})' if where else ''}"
        if out.ndim != 4 or out.shape[0] != 1:
            raise ValueError(f"{where}: expected output [B, C, H, W], got shape {tuple(out.shape)} for one latent")
        if not torch.isfinite(out).all():
            raise ValueError(f"{where}: the generator's output for a zero latent contains NaN/inf "
                             "(broken or mismatched weights?)")
        self.image_shape: tuple[int, int, int] = (int(out.shape[1]), int(out.shape[2]), int(out.shape[3]))

    def _raw(self, z: Tensor, labels: Tensor | None) -> Tensor:
        return self._raw_call(self.net, z, labels)

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        """Images ``[B, C, H, W]`` on ``[-1, 1]`` for latents ``z`` ``[B, latent_dim]`` (and labels ``[B]``)."""
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"z must have shape [B, {self.latent_dim}], got {tuple(z.shape)}")
        labels = check_labels(self, labels, z.shape[0])
        if labels is not None:
            labels = labels.to(z.device)
        x = self._raw(z, labels)
        if self.output_range == "[0,1]":
            x = 2.0 * x - 1.0
        if self.clamp:
            x = x.clamp(-1.0, 1.0)
        return x

    def train(self, mode: bool = True) -> "AdaptedGenerator":
        """Always eval: a pretrained generator's batch-norm statistics and noise must not change."""
        return super().train(False)

    def describe(self) -> dict[str, Any]:
        """Provenance: kind, files (with SHA-256), shapes, output range and package versions."""
        d = dict(self._info)
        for key in ("checkpoint", "pickle", "path"):
            p = d.get(key)
            if p and Path(p).is_file():
                if p not in self._sha256:
                    self._sha256[p] = _sha256(Path(p))
                d[f"{key}_sha256"] = self._sha256[p]
        d.update(latent_dim=self.latent_dim, image_shape=list(self.image_shape), n_classes=self.n_classes,
                 output_range=self.output_range, clamp=self.clamp, latent_prior="N(0, I)",
                 torch_version=torch.__version__)
        return d


# ---------------------------------------------------------------------------------------------- helpers

def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _norm_range(value: Any, kind: str) -> str:
    r = str(value).replace(" ", "")
    if r not in OUTPUT_RANGES:
        raise ValueError(f"{kind}: output_range must be one of {list(OUTPUT_RANGES)}, got {value!r}")
    return r


def _common(spec: Mapping[str, Any]) -> dict[str, Any]:
    return {k: spec[k] for k in ("kind", "name", "description") if k in spec}


def _add_sys_path(path: str | os.PathLike) -> None:
    p = str(Path(path).resolve())
    if p not in sys.path:
        sys.path.insert(0, p)


def import_object(class_path: str) -> Any:
    """The object named ``"package.module:Name"`` (``Name`` may be dotted: ``"pkg.mod:Outer.Inner"``)."""
    if not isinstance(class_path, str) or class_path.count(":") != 1:
        raise ValueError(f"class_path must look like 'package.module:ClassName', got {class_path!r}")
    mod_name, attr = class_path.split(":")
    try:
        obj: Any = importlib.import_module(mod_name)
    except ImportError as e:
        raise ValueError(f"class_path {class_path!r}: cannot import module {mod_name!r} ({e})") from e
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise ValueError(f"class_path {class_path!r}: module {mod_name!r} has no attribute {attr!r}")
        obj = getattr(obj, part)
    return obj


def _dig(obj: Any, key: str | Sequence[str] | None, where: str) -> Any:
    """``obj[k1][k2]...`` for ``key`` ``"k1.k2"`` or ``["k1", "k2"]`` (``None``: ``obj`` itself)."""
    if key is None:
        return obj
    parts = key.split(".") if isinstance(key, str) else list(key)
    for i, part in enumerate(parts):
        if not isinstance(obj, Mapping) or part not in obj:
            have = list(obj.keys())[:20] if isinstance(obj, Mapping) else type(obj).__name__
            raise ValueError(f"{where}: state_dict_key {'.'.join(parts[:i + 1])!r} not found (available: {have})")
        obj = obj[part]
    return obj


def _strip_prefix(state: Mapping[str, Any], model_keys: set[str]) -> dict[str, Any]:
    """Drop a ``module.`` prefix (``DataParallel`` / DDP checkpoints) when the model has no such prefix."""
    state = dict(state)
    if state and all(k.startswith("module.") for k in state) and not any(k.startswith("module.") for k in model_keys):
        state = {k[len("module."):]: v for k, v in state.items()}
    return state


def _torch_load(path: Path, map_location: str, weights_only: bool, kind: str) -> Any:
    try:
        return torch.load(path, map_location=map_location, weights_only=weights_only)
    except pickle.UnpicklingError as e:
        if weights_only:
            raise ValueError(f"{kind}: {path} holds more than tensors and plain containers; if you trust the "
                             f"file, set weights_only: false") from e
        raise ValueError(f"{kind}: {path} is not a torch.save checkpoint ({e})") from e
    except (RuntimeError, EOFError, OSError) as e:
        raise ValueError(f"{kind}: cannot read checkpoint {path} ({str(e).splitlines()[0]})") from e


def _latent_reshaper(latent_dim: int, latent_shape: Sequence[int] | None, kind: str) -> Callable[[Tensor], Tensor]:
    if latent_shape is None:
        return lambda z: z
    shape = tuple(int(s) for s in latent_shape)
    n = 1
    for s in shape:
        n *= s
    if n != latent_dim:
        raise ValueError(f"{kind}: latent_shape {list(shape)} has {n} elements; latent_dim is {latent_dim}")
    return lambda z: z.reshape(z.shape[0], *shape)


def _label_encoder(label_format: str, n_classes: int | None, kind: str) -> Callable[[Tensor], Tensor]:
    if label_format not in LABEL_FORMATS:
        raise ValueError(f"{kind}: label_format must be one of {list(LABEL_FORMATS)}, got {label_format!r}")
    if label_format == "onehot":
        if n_classes is None:
            raise ValueError(f"{kind}: label_format 'onehot' needs n_classes")
        return lambda y: F.one_hot(y, n_classes).to(torch.float32)
    return lambda y: y


def _positive_int(spec: Mapping[str, Any], key: str, kind: str, optional: bool = False) -> int | None:
    v = spec.get(key)
    if v is None and optional:
        return None
    if isinstance(v, bool) or not isinstance(v, int) or v < 1:
        raise ValueError(f"{kind}: {key} must be a positive integer, got {v!r}")
    return v
