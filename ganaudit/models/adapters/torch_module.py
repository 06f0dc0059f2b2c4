"""Adapters for generators that are plain PyTorch code: any ``nn.Module`` (``torch_module``), StudioGAN
checkpoints (``studiogan``), the DCGAN shipped in ``gan-face-generate`` and TorchScript files
(``torchscript``). The files a spec names are checked by `ganaudit.models.adapters.check_spec` before
these loaders run."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from ganaudit.models.adapters.wrapper import (
    AdaptedGenerator,
    _add_sys_path,
    _common,
    _dig,
    _label_encoder,
    _latent_reshaper,
    _norm_range,
    _positive_int,
    _strip_prefix,
    _torch_load,
    import_object,
)

GAN_FACE_CLASS = "gan_face_generate.models:Generator"
GAN_FACE_KWARGS = {"ngpu": 0, "nc": 3, "nz": 100, "ngf": 64}


def load_torch_module(spec: dict[str, Any], device: str | torch.device,
                      defaults: Mapping[str, Any] | None = None) -> AdaptedGenerator:
    """Instantiate ``class_path(**kwargs)``, load ``checkpoint[state_dict_key]`` into it, and wrap it."""
    spec = {**(defaults or {}), **spec}
    kind = spec["kind"]
    latent_dim = _positive_int(spec, "latent_dim", kind)
    n_classes = _positive_int(spec, "n_classes", kind, optional=True)
    if spec.get("repo_path") is not None:
        _add_sys_path(Path(spec["repo_path"]).expanduser())
    factory = import_object(spec["class_path"])
    kwargs = spec.get("kwargs") or {}
    if not isinstance(kwargs, Mapping):
        raise ValueError(f"{kind}: kwargs must be a mapping, got {type(kwargs).__name__}")
    net = factory(**kwargs)
    if not isinstance(net, nn.Module):
        raise ValueError(f"{kind}: class_path {spec['class_path']!r} returned {type(net).__name__}, not a torch.nn.Module")
    if spec.get("checkpoint") is not None:
        path = Path(spec["checkpoint"]).expanduser()
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
            "checkpoint": None if spec.get("checkpoint") is None else str(Path(spec["checkpoint"]).expanduser().resolve()),
            "state_dict_key": spec.get("state_dict_key"), "latent_shape": spec.get("latent_shape"),
            "label_format": spec.get("label_format", "index"), "forward_kwargs": fkw}
    if spec.get("repo_path") is not None:
        info["repo_path"] = str(Path(spec["repo_path"]).expanduser().resolve())
    return AdaptedGenerator(net, raw_call, latent_dim=latent_dim, n_classes=n_classes,
                            output_range=_norm_range(spec.get("output_range", "[-1,1]"), kind),
                            clamp=bool(spec.get("clamp", False)), info=info, device=device)


def load_studiogan(spec: dict[str, Any], device: str | torch.device) -> AdaptedGenerator:
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
    return load_torch_module(spec, device, defaults={"state_dict_key": "state_dict", "label_format": "index"})


def load_gan_face_generate(spec: dict[str, Any], device: str | torch.device) -> AdaptedGenerator:
    """The DCGAN of ``gan-face-generate`` (PyTorch DCGAN tutorial architecture, nz=100, ngf=64, tanh output).

    The package's ``models`` module imports only torch, so its ``Generator`` class is used as is; the
    weights are ``weights.tar`` next to it (``{"netG_state_dict": ...}``, saved on CUDA, loaded on CPU).
    """
    found = importlib.util.find_spec("gan_face_generate")
    if found is None or not found.submodule_search_locations:
        raise ValueError("gan_face_generate: package not installed; run `pip install --no-deps gan-face-generate`")
    pkg_dir = Path(list(found.submodule_search_locations)[0])
    if spec.get("checkpoint"):   # checked by check_spec
        checkpoint = Path(spec["checkpoint"]).expanduser()
    else:
        checkpoint = pkg_dir / "weights.tar"
        if not checkpoint.is_file():
            raise ValueError(f"gan_face_generate: weights {checkpoint} not found (reinstall gan-face-generate, "
                             f"which ships weights.tar)")
    sub = {"kind": "gan_face_generate", "class_path": GAN_FACE_CLASS, "kwargs": dict(GAN_FACE_KWARGS),
           "checkpoint": str(checkpoint), "state_dict_key": "netG_state_dict", "map_location": "cpu",
           "latent_dim": 100, "latent_shape": [100, 1, 1], "output_range": "[-1,1]",
           "clamp": spec.get("clamp", False), **{k: spec[k] for k in ("name", "description") if k in spec}}
    g = load_torch_module(sub, device)
    try:
        g._info["package_version"] = importlib.metadata.version("gan-face-generate")
    except importlib.metadata.PackageNotFoundError:
        pass
    g._info["training_data"] = "DigiFace-1M (synthetic faces), 64x64"
    return g


# ---------------------------------------------------------------------------------------------- torchscript

def load_torchscript(spec: dict[str, Any], device: str | torch.device) -> AdaptedGenerator:
    """A ``torch.jit.save``'d generator: ``forward(z)`` or ``forward(z, labels)``."""
    kind = "torchscript"
    path = Path(spec["path"]).expanduser()
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
