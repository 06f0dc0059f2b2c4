"""Adapters from users' pretrained generators to the `Generator` protocol.

One entry point, `load_generator(spec, device)`, where ``spec`` is the config dict of one model: a
``kind`` plus kind-specific keys (an unknown key is a one-line ``ValueError`` naming it). Every adapter
returns an `AdaptedGenerator`: a ``torch.nn.Module`` in eval mode whose parameters do not require
gradients (we differentiate w.r.t. ``z`` only), with ``latent_dim``, ``image_shape`` ``(C, H, W)``,
``n_classes`` (``None`` when unconditional), ``__call__(z [B, latent_dim], labels [B] | None)`` →
images ``[B, C, H, W]`` on the model scale ``[-1, 1]``, and ``describe()`` → a provenance dict.

Kinds (keys marked * are required):

``torch_module``   any ``nn.Module``: ``class_path``* (``"package.module:ClassName"``, or a factory function
                   returning the module), ``kwargs`` (constructor arguments), ``checkpoint`` (a ``torch.save``
                   file), ``state_dict_key`` (``"netG_state_dict"``; nested as ``"a.b"`` or ``["a", "b"]``),
                   ``map_location`` (``"cpu"``), ``latent_dim``*, ``latent_shape`` (e.g. ``[100, 1, 1]``: ``z``
                   is reshaped to ``[B, *latent_shape]``), ``n_classes``, ``label_format`` (``"index"`` or
                   ``"onehot"``), ``output_range`` (``"[-1,1]"`` or ``"[0,1]"``, the latter rescaled by
                   ``2x - 1``), ``forward_kwargs`` (extra keyword arguments of every call), ``repo_path``
                   (a folder put on ``sys.path`` first), ``strict`` (state-dict loading, default true),
                   ``weights_only`` (``torch.load``; default true, set false only for a file you trust).
``torchscript``    ``path``* to a scripted generator, ``latent_dim``*, ``latent_shape``, ``n_classes``,
                   ``label_format``, ``output_range``, ``map_location``.
``stylegan2_ada``, ``stylegan3``, ``stylegan_xl``
                   NVIDIA network pickles: ``pickle``* (the ``.pkl``), ``repo_path``* (the authors' checkout
                   holding ``dnnlib/`` and ``torch_utils/``, put on ``sys.path`` before unpickling),
                   ``network_key`` (default ``"G_ema"``). Z-space as in the paper (appendix B.2): the call is
                   ``G(z, c, truncation_psi=1, noise_mode="const")``, deterministic in ``z``; ``c`` is one-hot
                   ``[B, c_dim]`` for conditional models, else ``[B, 0]``.
``biggan``         the ``pytorch-pretrained-biggan`` package: ``model_name`` (default ``"biggan-deep-256"``),
                   ``weights_dir`` (a folder with ``pytorch_model.bin`` and ``config.json``), ``cache_dir``,
                   ``allow_download`` (default false). Truncation 1 and the N(0, I) prior, as the paper does.
``studiogan``      a thin wrapper over ``torch_module`` (StudioGAN checkpoints hold only a state dict; the
                   generator class needs StudioGAN's own ``src`` tree): ``repo_path``* (StudioGAN's ``src``),
                   ``class_path``*, ``checkpoint``*, ``latent_dim``*, ``state_dict_key`` default ``"state_dict"``,
                   ``label_format`` default ``"index"``; other ``torch_module`` keys as above.
``gan_face_generate``
                   the DCGAN that ships (with weights) in the PyPI package ``gan-face-generate``:
                   z ∈ R^100 → 3×64×64 faces (DigiFace-1M). Optional ``checkpoint`` to override the weights.

Every kind also accepts ``clamp`` (default false): clip outputs to ``[-1, 1]`` (this zeroes the gradient
where a pixel saturates, so inversion and AIS usually leave it off; NVIDIA generators overshoot
``[-1, 1]`` slightly) and ``name`` / ``description`` (free text, kept in ``describe()``).
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.metadata
import importlib.util
import os
import pickle
import shutil
import sys
import tempfile
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganaudit.models.base import check_labels
from ganaudit.sources import is_online

KINDS = ("torch_module", "torchscript", "stylegan2_ada", "stylegan3", "stylegan_xl", "biggan", "studiogan",
         "gan_face_generate")
OUTPUT_RANGES = ("[-1,1]", "[0,1]")
LABEL_FORMATS = ("index", "onehot")

_COMMON_KEYS = {"kind", "clamp", "name", "description", "role"}
_MODULE_KEYS = {"class_path", "kwargs", "checkpoint", "state_dict_key", "map_location", "latent_dim", "latent_shape",
                "n_classes", "label_format", "output_range", "forward_kwargs", "repo_path", "strict", "weights_only"}
_KEYS: dict[str, set[str]] = {
    "torch_module": _MODULE_KEYS,
    "studiogan": _MODULE_KEYS,
    "torchscript": {"path", "latent_dim", "latent_shape", "n_classes", "label_format", "output_range", "map_location"},
    "stylegan2_ada": {"pickle", "repo_path", "network_key"},
    "stylegan3": {"pickle", "repo_path", "network_key"},
    "stylegan_xl": {"pickle", "repo_path", "network_key"},
    "biggan": {"model_name", "weights_dir", "cache_dir", "allow_download"},
    "gan_face_generate": {"checkpoint"},
}
# Keys naming local files, checked by `check_spec` before any job runs.
_FILE_KEYS = {
    "checkpoint": "a torch.save file with the generator's weights",
    "path": "a torch.jit.save file of the generator",
    "pickle": "a network pickle (.pkl) holding G_ema",
}
_REQUIRED: dict[str, tuple[str, ...]] = {
    "torch_module": ("class_path", "latent_dim"),
    "studiogan": ("repo_path", "class_path", "checkpoint", "latent_dim"),
    "torchscript": ("path", "latent_dim"),
    "stylegan2_ada": ("pickle", "repo_path"),
    "stylegan3": ("pickle", "repo_path"),
    "stylegan_xl": ("pickle", "repo_path"),
    "biggan": (),
    "gan_face_generate": (),
}
NVIDIA_REPOS = {
    "stylegan2_ada": "https://github.com/NVlabs/stylegan2-ada-pytorch",
    "stylegan3": "https://github.com/NVlabs/stylegan3",
    "stylegan_xl": "https://github.com/autonomousvision/stylegan-xl",
}
GAN_FACE_CLASS = "gan_face_generate.models:Generator"
GAN_FACE_KWARGS = {"ngpu": 0, "nc": 3, "nz": 100, "ngf": 64}


# ---------------------------------------------------------------------------------------------- the wrapper

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


# ---------------------------------------------------------------------------------------------- entry point

def check_spec(spec: Mapping[str, Any]) -> None:
    """Check a spec's kind and keys without loading anything (the workflow calls this before any job)."""
    if not isinstance(spec, Mapping):
        raise ValueError(f"spec must be a dict with a 'kind' key, got {type(spec).__name__}")
    kind = spec.get("kind")
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {list(KINDS)}, got {kind!r}")
    allowed = _KEYS[kind] | _COMMON_KEYS
    for key in spec:
        if key not in allowed:
            raise ValueError(f"{kind}: unknown key {key!r} (allowed: {', '.join(sorted(allowed))})")
    for key in _REQUIRED[kind]:
        if spec.get(key) is None:
            raise ValueError(f"{kind}: missing required key {key!r}")
    _check_files(spec)


def _check_files(spec: Mapping[str, Any]) -> None:
    """The local files and folders a spec names exist (NVIDIA kinds: say what to download)."""
    kind = spec["kind"]
    url = NVIDIA_REPOS.get(kind)
    if spec.get("repo_path") is not None:
        repo = Path(spec["repo_path"]).expanduser()
        if url and not ((repo / "dnnlib").is_dir() and (repo / "torch_utils").is_dir()):
            raise ValueError(f"{kind}: repo_path {repo} must hold dnnlib/ and torch_utils/; git clone {url} {repo}")
        if not repo.is_dir():
            raise ValueError(f"{kind}: repo_path {repo} is not a folder")
    for key, what in _FILE_KEYS.items():
        if spec.get(key) is None or Path(spec[key]).expanduser().is_file():
            continue
        if url and key == "pickle":
            raise ValueError(f"{kind}: network pickle {spec[key]} not found; download the .pkl from {url} "
                             f"(README, pretrained networks) and put it at {spec[key]}")
        raise ValueError(f"{kind}: {key} {spec[key]} not found (expected {what})")


def load_generator(spec: Mapping[str, Any], device: str | torch.device = "cpu") -> AdaptedGenerator:
    """Load the pretrained generator described by ``spec`` (``kind`` + kind-specific keys, see the
    module docstring) onto ``device`` and wrap it in the `Generator` protocol."""
    check_spec(spec)
    kind = spec["kind"]
    loader = {
        "torch_module": _load_torch_module,
        "studiogan": _load_studiogan,
        "torchscript": _load_torchscript,
        "stylegan2_ada": _load_nvidia,
        "stylegan3": _load_nvidia,
        "stylegan_xl": _load_nvidia,
        "biggan": _load_biggan,
        "gan_face_generate": _load_gan_face_generate,
    }[kind]
    return loader(dict(spec), device)


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


# ---------------------------------------------------------------------------------------------- torch_module

def _load_torch_module(spec: dict[str, Any], device: str | torch.device,
                       defaults: Mapping[str, Any] | None = None) -> AdaptedGenerator:
    """Instantiate ``class_path(**kwargs)``, load ``checkpoint[state_dict_key]`` into it, and wrap it."""
    spec = {**(defaults or {}), **spec}
    kind = spec["kind"]
    latent_dim = _positive_int(spec, "latent_dim", kind)
    n_classes = _positive_int(spec, "n_classes", kind, optional=True)
    if spec.get("repo_path") is not None:
        repo = Path(spec["repo_path"])
        if not repo.is_dir():
            raise ValueError(f"{kind}: repo_path {repo} is not a folder")
        _add_sys_path(repo)
    factory = import_object(spec["class_path"])
    kwargs = spec.get("kwargs") or {}
    if not isinstance(kwargs, Mapping):
        raise ValueError(f"{kind}: kwargs must be a mapping, got {type(kwargs).__name__}")
    net = factory(**kwargs)
    if not isinstance(net, nn.Module):
        raise ValueError(f"{kind}: class_path {spec['class_path']!r} returned {type(net).__name__}, not a torch.nn.Module")
    if spec.get("checkpoint") is not None:
        path = Path(spec["checkpoint"])
        if not path.is_file():
            raise ValueError(f"{kind}: checkpoint {path} not found (expected a torch.save file with the generator's "
                             f"state dict)")
        obj = _torch_load(path, spec.get("map_location", "cpu"), bool(spec.get("weights_only", True)), kind)
        state = _dig(obj, spec.get("state_dict_key"), str(path))
        if isinstance(state, nn.Module):
            state = state.state_dict()
        if not isinstance(state, Mapping):
            raise ValueError(f"{path}: expected a state dict at state_dict_key {spec.get('state_dict_key')!r}, "
                             f"got {type(state).__name__}")
        state = _strip_prefix(state, set(net.state_dict()))
        try:
            net.load_state_dict(state, strict=bool(spec.get("strict", True)))
        except RuntimeError as e:
            msg = " ".join(str(e).split())
            raise ValueError(f"{path}: state dict does not fit {spec['class_path']} ({msg[:300]})") from e
    reshape = _latent_reshaper(latent_dim, spec.get("latent_shape"), kind)
    encode = _label_encoder(spec.get("label_format", "index"), n_classes, kind)
    fkw = dict(spec.get("forward_kwargs") or {})

    def raw_call(m: nn.Module, z: Tensor, labels: Tensor | None) -> Tensor:
        if labels is None:
            return m(reshape(z), **fkw)
        return m(reshape(z), encode(labels), **fkw)

    info = {**_common(spec), "class_path": spec["class_path"], "kwargs": dict(kwargs),
            "checkpoint": None if spec.get("checkpoint") is None else str(Path(spec["checkpoint"]).resolve()),
            "state_dict_key": spec.get("state_dict_key"), "latent_shape": spec.get("latent_shape"),
            "label_format": spec.get("label_format", "index"), "forward_kwargs": fkw}
    if spec.get("repo_path") is not None:
        info["repo_path"] = str(Path(spec["repo_path"]).resolve())
    return AdaptedGenerator(net, raw_call, latent_dim=latent_dim, n_classes=n_classes,
                            output_range=_norm_range(spec.get("output_range", "[-1,1]"), kind),
                            clamp=bool(spec.get("clamp", False)), info=info, device=device)


def _load_studiogan(spec: dict[str, Any], device: str | torch.device) -> AdaptedGenerator:
    """StudioGAN (POSTECH-CVLab/PyTorch-StudioGAN) generators.

    StudioGAN saves ``{"state_dict": G.state_dict(), ...}`` in ``model=G_ema-best-weights-step=*.pth``; the
    class (e.g. ``models.big_resnet:Generator``) needs StudioGAN's ``src`` tree (``utils.ops``,
    ``utils.misc``) and its ``MODULES``/``MODEL`` config objects, so it cannot be rebuilt from the
    checkpoint alone. Point ``repo_path`` at StudioGAN's ``src`` and ``class_path`` at a small factory of
    yours that builds the generator from the run's YAML (e.g. with ``config.Configurations``), or at the
    class with plain ``kwargs``. BigGAN-style StudioGAN generators take ``forward(z, label)`` with integer
    labels (the default ``label_format: index``); pass ``forward_kwargs: {eval: true}`` to switch off their
    mixed-precision autocast.
    """
    return _load_torch_module(spec, device, defaults={"state_dict_key": "state_dict", "label_format": "index"})


def _load_gan_face_generate(spec: dict[str, Any], device: str | torch.device) -> AdaptedGenerator:
    """The DCGAN of ``gan-face-generate`` (PyTorch DCGAN tutorial architecture, nz=100, ngf=64, tanh output).

    The package's ``models`` module imports only torch, so its ``Generator`` class is used as is; the
    weights are ``weights.tar`` next to it (``{"netG_state_dict": ...}``, saved on CUDA, loaded on CPU).
    """
    found = importlib.util.find_spec("gan_face_generate")
    if found is None or not found.submodule_search_locations:
        raise ValueError("gan_face_generate: package not installed; run `pip install --no-deps gan-face-generate`")
    pkg_dir = Path(list(found.submodule_search_locations)[0])
    checkpoint = Path(spec.get("checkpoint") or pkg_dir / "weights.tar")
    if not checkpoint.is_file():
        raise ValueError(f"gan_face_generate: weights {checkpoint} not found (reinstall gan-face-generate, "
                         f"which ships weights.tar)")
    sub = {"kind": "gan_face_generate", "class_path": GAN_FACE_CLASS, "kwargs": dict(GAN_FACE_KWARGS),
           "checkpoint": str(checkpoint), "state_dict_key": "netG_state_dict", "map_location": "cpu",
           "latent_dim": 100, "latent_shape": [100, 1, 1], "output_range": "[-1,1]",
           "clamp": spec.get("clamp", False), **{k: spec[k] for k in ("name", "description") if k in spec}}
    g = _load_torch_module(sub, device)
    try:
        g._info["package_version"] = importlib.metadata.version("gan-face-generate")
    except importlib.metadata.PackageNotFoundError:
        pass
    g._info["training_data"] = "DigiFace-1M (synthetic faces), 64x64"
    return g


# ---------------------------------------------------------------------------------------------- torchscript

def _load_torchscript(spec: dict[str, Any], device: str | torch.device) -> AdaptedGenerator:
    """A ``torch.jit.save``'d generator: ``forward(z)`` or ``forward(z, labels)``."""
    kind = "torchscript"
    path = Path(spec["path"])
    if not path.is_file():
        raise ValueError(f"torchscript: path {path} not found (expected a torch.jit.save file of the generator)")
    latent_dim = _positive_int(spec, "latent_dim", kind)
    n_classes = _positive_int(spec, "n_classes", kind, optional=True)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # torch.jit is deprecated; users still ship scripted models
            net = torch.jit.load(str(path), map_location=spec.get("map_location", "cpu"))
    except (RuntimeError, ValueError) as e:
        raise ValueError(f"torchscript: {path} is not a TorchScript file ({str(e).splitlines()[0]})") from e
    reshape = _latent_reshaper(latent_dim, spec.get("latent_shape"), kind)
    encode = _label_encoder(spec.get("label_format", "index"), n_classes, kind)

    def raw_call(m: nn.Module, z: Tensor, labels: Tensor | None) -> Tensor:
        return m(reshape(z)) if labels is None else m(reshape(z), encode(labels))

    info = {**_common(spec), "path": str(path.resolve()), "latent_shape": spec.get("latent_shape"),
            "label_format": spec.get("label_format", "index")}
    return AdaptedGenerator(net, raw_call, latent_dim=latent_dim, n_classes=n_classes,
                            output_range=_norm_range(spec.get("output_range", "[-1,1]"), kind),
                            clamp=bool(spec.get("clamp", False)), info=info, device=device)


# ---------------------------------------------------------------------------------------------- NVIDIA pickles

def _load_nvidia(spec: dict[str, Any], device: str | torch.device) -> AdaptedGenerator:
    """StyleGAN2-ADA / StyleGAN3 / StyleGAN-XL network pickles (``G_ema`` of the pickled dict).

    The generator is used in Z-space (paper, appendix B.2): ``G(z, c, truncation_psi=1, noise_mode="const")``
    so that the image is a deterministic function of ``z``; ``c`` is one-hot ``[B, c_dim]`` when
    ``c_dim > 0``, else an empty ``[B, 0]``. Outputs are on roughly ``[-1, 1]`` (not clipped unless ``clamp``).
    """
    kind = spec["kind"]
    url = NVIDIA_REPOS[kind]
    repo = Path(spec["repo_path"])
    if not ((repo / "dnnlib").is_dir() and (repo / "torch_utils").is_dir()):
        raise ValueError(f"{kind}: repo_path {repo} must hold dnnlib/ and torch_utils/; "
                         f"git clone {url} {repo}")
    pkl = Path(spec["pickle"])
    if not pkl.is_file():
        raise ValueError(f"{kind}: network pickle {pkl} not found; download the .pkl from {url} "
                         f"(README, pretrained networks) and put it at {pkl}")
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


# ---------------------------------------------------------------------------------------------- BigGAN

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


def _load_biggan(spec: dict[str, Any], device: str | torch.device) -> AdaptedGenerator:
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
