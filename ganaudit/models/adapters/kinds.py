"""The registry of adapter kinds: one `Kind` per kind says which spec keys it allows and requires, which
of them name local files, which code a user must clone, and which function loads it. `check_spec`,
`load_generator` and the list of kinds (`KINDS`, the config schema's enum together with the built-ins
of `ganaudit.workflow.plan.BUILTIN_KINDS`) all read it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from ganaudit.models.adapters.biggan import load_biggan
from ganaudit.models.adapters.nvidia import load_nvidia
from ganaudit.models.adapters.torch_module import (
    load_gan_face_generate,
    load_studiogan,
    load_torch_module,
    load_torchscript,
)
from ganaudit.models.adapters.stylegan_like import SPEC_DEFAULTS as _STYLEGAN_LIKE
from ganaudit.models.adapters.stylegan_like import load_stylegan_like
from ganaudit.models.adapters.wrapper import AdaptedGenerator

#: Keys every kind accepts: ``clamp`` (clip outputs to ``[-1, 1]``), free-text ``name``/``description``
#: and the workflow's ``role`` and per-model ``inversion`` settings (`ganaudit.workflow.plan.inversion_params`).
COMMON_KEYS = frozenset({"kind", "clamp", "name", "description", "role", "inversion"})

Loader = Callable[[dict[str, Any], str | torch.device], AdaptedGenerator]


@dataclass(frozen=True)
class Kind:
    """One kind of pretrained generator.

    Attributes:
        name: the config's ``kind``.
        loader: ``loader(spec, device)`` → `AdaptedGenerator`; called after `check_spec`, so the
            files below exist.
        keys: the kind's own spec keys (`COMMON_KEYS` are allowed too).
        required: keys that must be set.
        files: spec keys naming a local file → what that file is, for the message when it is missing.
        repo: the code a user must clone into ``repo_path`` to load the kind (NVIDIA's repositories,
            which also publish the network pickles); None if none.
        repo_holds: folders ``repo_path`` must hold when ``repo`` is set.
    """

    name: str
    loader: Loader
    keys: frozenset[str]
    required: tuple[str, ...] = ()
    files: Mapping[str, str] = field(default_factory=dict)
    repo: str | None = None
    repo_holds: tuple[str, ...] = ()


_MODULE_KEYS = frozenset({"class_path", "kwargs", "checkpoint", "state_dict_key", "map_location", "latent_dim",
                          "latent_shape", "n_classes", "label_format", "output_range", "forward_kwargs", "repo_path",
                          "strict", "weights_only"})
_CHECKPOINT = {"checkpoint": "a torch.save file with the generator's weights"}


def _nvidia(name: str, repo: str) -> Kind:
    return Kind(name, load_nvidia, frozenset({"pickle", "repo_path", "network_key"}), ("pickle", "repo_path"),
                {"pickle": "network pickle"}, repo, ("dnnlib", "torch_utils"))


#: Every adapter kind by name, in the order error messages list them.
REGISTRY: dict[str, Kind] = {k.name: k for k in (
    Kind("torch_module", load_torch_module, _MODULE_KEYS, ("class_path", "latent_dim"), _CHECKPOINT),
    Kind("torchscript", load_torchscript,
         frozenset({"path", "latent_dim", "latent_shape", "n_classes", "label_format", "output_range", "map_location"}),
         ("path", "latent_dim"), {"path": "a torch.jit.save file of the generator"}),
    _nvidia("stylegan2_ada", "https://github.com/NVlabs/stylegan2-ada-pytorch"),
    _nvidia("stylegan3", "https://github.com/NVlabs/stylegan3"),
    _nvidia("stylegan_xl", "https://github.com/autonomousvision/stylegan-xl"),
    Kind("biggan", load_biggan, frozenset({"model_name", "weights_dir", "cache_dir", "allow_download"})),
    Kind("studiogan", load_studiogan, _MODULE_KEYS, ("repo_path", "class_path", "checkpoint", "latent_dim"), _CHECKPOINT),
    Kind("gan_face_generate", load_gan_face_generate, frozenset({"checkpoint"}), (), _CHECKPOINT),
    Kind("stylegan_like", load_stylegan_like, frozenset(_STYLEGAN_LIKE)),
)}
KINDS = tuple(REGISTRY)


def check_spec(spec: Mapping[str, Any]) -> None:
    """Check a spec's kind, keys and the local files it names, without loading anything (the workflow
    calls this before any job); a problem is a one-line ``ValueError`` naming the kind and key."""
    if not isinstance(spec, Mapping):
        raise ValueError(f"spec must be a dict with a 'kind' key, got {type(spec).__name__}")
    kind = REGISTRY.get(spec.get("kind"))  # type: ignore[arg-type]
    if kind is None:
        raise ValueError(f"kind must be one of {list(KINDS)}, got {spec.get('kind')!r}")
    allowed = kind.keys | COMMON_KEYS
    for key in spec:
        if key not in allowed:
            raise ValueError(f"{kind.name}: unknown key {key!r} (allowed: {', '.join(sorted(allowed))})")
    for key in kind.required:
        if spec.get(key) is None:
            raise ValueError(f"{kind.name}: missing required key {key!r}")
    _check_files(spec, kind)


def _check_files(spec: Mapping[str, Any], kind: Kind) -> None:
    """The local files and folders a spec names exist (kinds with a ``repo``: say what to clone/download)."""
    if spec.get("repo_path") is not None:
        repo = Path(spec["repo_path"]).expanduser()
        if kind.repo and not all((repo / d).is_dir() for d in kind.repo_holds):
            holds = " and ".join(f"{d}/" for d in kind.repo_holds)
            raise ValueError(f"{kind.name}: repo_path {repo} must hold {holds}; git clone {kind.repo} {repo}")
        if not repo.is_dir():
            raise ValueError(f"{kind.name}: repo_path {repo} is not a folder")
    for key, what in kind.files.items():
        if spec.get(key) is None or Path(spec[key]).expanduser().is_file():
            continue
        if kind.repo:
            raise ValueError(f"{kind.name}: {what} {spec[key]} not found; download the .pkl from {kind.repo} "
                             f"(README, pretrained networks) and put it at {spec[key]}")
        raise ValueError(f"{kind.name}: {key} {spec[key]} not found (expected {what})")


def load_generator(spec: Mapping[str, Any], device: str | torch.device = "cpu") -> AdaptedGenerator:
    """Load the pretrained generator described by ``spec`` (``kind`` + kind-specific keys, see
    `ganaudit.models.adapters`) onto ``device`` and wrap it in the `Generator` protocol."""
    check_spec(spec)
    return REGISTRY[spec["kind"]].loader(dict(spec), device)
