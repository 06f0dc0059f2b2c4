"""Batched image distances on the model scale ``[-1, 1]``: L2 (`mse`) and a learned perceptual distance.

`mse` is the "L2" reconstruction error used throughout the paper: the mean over pixels and channels of
the squared difference, on the model scale. The MLE of the observation variance σ² (paper appendix B.3)
is its mean over training images; on the ``[0, 1]`` scale divide by 4 (see `psnr_db`).

The perceptual distance is LPIPS (Zhang et al. 2018), which the paper uses with an AlexNet trunk. Two
backends, both built offline (nothing here ever downloads):

``"lpips-alex"``
    The ``lpips`` package, v0.1 linear layers (shipped inside the package) on the torchvision AlexNet
    ImageNet trunk. The trunk weights are *not* shipped with any package: they are read from
    ``weights_path`` or from torch hub's checkpoint cache
    (``torch.hub.get_dir()/checkpoints/alexnet-owt-7be5be79.pth``). This is the paper's metric.
``"stlpips"``
    The ``stlpips-pytorch`` package's shift-tolerant LPIPS, AlexNet variant, trunk *and* linear
    layers trained from scratch on BAPPS (Ghildyal & Liu 2022); every weight ships in the package.
    A different (if closely related) metric: name it as such in every table and figure.
``"auto"``
    ``"lpips-alex"`` when the AlexNet checkpoint is found, otherwise ``"stlpips"``; the choice and the
    reason are logged (logger ``ganaudit.manifold.distances``) and exposed as `Perceptual.name`.

Both are LPIPS-structured: ``d(x, y) = Σ_l (1/(H_l W_l)) Σ_{h,w} Σ_c w_{l,c} (f̂_l(x) − f̂_l(y))²`` with
``f̂_l`` the channel-unit-normalised activations of layer ``l`` and ``w_{l,c} ≥ 0``. Hence
``d(x, y) = ||e(x) − e(y)||²`` exactly, with ``e(x) = concat_l sqrt(w_l / (H_l W_l)) · f̂_l(x)``
(`Perceptual.embed`); only float rounding separates the two. Channels with ``w = 0`` are dropped from
the embedding (exact), which shrinks it.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import logging
import math
import sys
import types
import warnings
from collections.abc import Iterator
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganaudit.data import stats

log = logging.getLogger("ganaudit.manifold.distances")

ALEXNET_CHECKPOINT = "alexnet-owt-7be5be79.pth"
BACKENDS = ("auto", "lpips-alex", "stlpips")
NAMES = {
    "lpips-alex": "LPIPS v0.1 (AlexNet, ImageNet trunk)",
    "stlpips": "ST-LPIPS (AlexNet, shift-tolerant, trained from scratch on BAPPS)",
}


def mse(x: Tensor, y: Tensor) -> Tensor:
    """Mean squared error per image on the model scale: ``[N, C, H, W] × [N, C, H, W] → [N]``.

    The mean runs over channels and pixels (so it is per pixel-channel, comparable across resolutions).
    Differentiable; broadcasting of ``y`` against ``x`` is allowed (e.g. one target for many images).
    """
    if x.dim() != 4:
        raise ValueError(f"x must have shape [N, C, H, W], got {tuple(x.shape)}")
    diff = x - y
    return diff.pow(2).flatten(1).mean(1)


def psnr_db(mse_model_scale: Tensor | float) -> Tensor:
    """PSNR in dB on the ``[0, 1]`` scale from an MSE on the model scale ``[-1, 1]``.

    ``x01 = (x + 1) / 2`` so ``MSE_01 = MSE_model / 4`` and ``PSNR = −10 log10(MSE_01)`` (peak 1):
    `ganaudit.data.stats.psnr` of `ganaudit.data.stats.to_unit_scale_variance`, as a float64 tensor (on the CPU).
    A negative or NaN error is a ``ValueError``.
    """
    m = torch.as_tensor(mse_model_scale, dtype=torch.float64).detach().cpu().numpy()
    return torch.as_tensor(stats.psnr(stats.to_unit_scale_variance(m)), dtype=torch.float64)


def alexnet_checkpoint_path() -> Path:
    """Where torch hub caches the torchvision AlexNet ImageNet weights (the file may not exist)."""
    return Path(torch.hub.get_dir()) / "checkpoints" / ALEXNET_CHECKPOINT


@contextlib.contextmanager
def _shim_unused_imports() -> Iterator[None]:
    """stlpips-pytorch 0.0.2 imports ``IPython.embed`` and ``torchsummary.summary`` at module level but
    uses neither for the metric (only a debugging helper). Where they are not installed, provide empty
    placeholder modules for the duration of the import only, then remove them again."""
    added = []
    for name, attr in (("IPython", "embed"), ("torchsummary", "summary")):
        if name in sys.modules or importlib.util.find_spec(name) is not None:
            continue
        mod = types.ModuleType(name)

        def _unavailable(*args: object, _n: str = name, **kwargs: object) -> None:
            raise ImportError(f"{_n} is not installed (placeholder provided by ganaudit.manifold.distances)")

        setattr(mod, attr, _unavailable)
        sys.modules[name] = mod
        added.append(name)
    if added:
        log.debug("stlpips-pytorch import: placeholder modules for unused imports %s", added)
    try:
        yield
    finally:
        for name in added:
            sys.modules.pop(name, None)


def _build_lpips_alex(weights_path: Path) -> nn.Module:
    """The ``lpips`` package's LPIPS v0.1 (AlexNet) with the trunk loaded from a local torchvision file."""
    import lpips

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torchvision's 'pretrained' deprecation, raised inside lpips
        # pnet_rand=True: build the trunk with random weights (no download); lins load from the package.
        metric = lpips.LPIPS(pretrained=True, net="alex", version="0.1", pnet_rand=True, verbose=False)
    try:
        state = torch.load(weights_path, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - reported with the path
        raise ValueError(f"weights_path {weights_path}: not a readable torch checkpoint ({e})") from None
    # torchvision keys 'features.{i}.{weight,bias}' → lpips slices 'slice{k}.{i}.{weight,bias}'
    slice_of = {0: 1, 3: 2, 6: 3, 8: 4, 10: 5}
    trunk = {}
    for key, value in state.items():
        parts = key.split(".")
        if parts[0] == "features" and int(parts[1]) in slice_of:
            trunk[f"slice{slice_of[int(parts[1])]}.{parts[1]}.{parts[2]}"] = value
    expected = set(metric.net.state_dict())
    if set(trunk) != expected:
        raise ValueError(f"weights_path {weights_path}: not a torchvision AlexNet checkpoint "
                         f"(missing {sorted(expected - set(trunk))[:3]})")
    try:
        metric.net.load_state_dict(trunk, strict=True)
    except RuntimeError as e:
        raise ValueError(f"weights_path {weights_path}: AlexNet weights of the wrong shape ({str(e).splitlines()[0]})") from None
    return metric


def _build_stlpips() -> nn.Module:
    """stlpips-pytorch's shift-tolerant LPIPS (AlexNet); trunk and lins load from the package's file."""
    with _shim_unused_imports():
        stlpips = importlib.import_module("stlpips_pytorch.stlpips")
    metric = stlpips.LPIPS(pretrained=True, net="alex", variant="shift_tolerant", version="0.1", verbose=False)
    return metric


class Perceptual(nn.Module):
    """An LPIPS-structured perceptual distance on model-scale images, with its exact Euclidean embedding.

    Input images are ``[N, C, H, W]`` on ``[-1, 1]`` with ``C`` in {1, 3}. Before the network:
    grey images are repeated to 3 channels, and, when ``resize_to`` is set and the images are not
    already ``resize_to × resize_to``, they are resized bilinearly (``align_corners=False``, no
    antialias) to ``resize_to × resize_to`` — e.g. MNIST 1×28×28 → 3×64×64 with the default 64, so
    AlexNet's stride-4 11×11 first layer sees more than a few pixels. ``resize_to=None`` keeps the size.

    Attributes: ``name`` (human-readable metric name for tables/figures), ``backend``
    (``"lpips-alex"`` or ``"stlpips"``), ``resize_to``, ``reason`` (why this backend was chosen).
    """

    def __init__(self, metric: nn.Module, backend: str, resize_to: int | None = 64, reason: str = "") -> None:
        super().__init__()
        if backend not in NAMES:
            raise ValueError(f"backend must be one of {sorted(NAMES)}, got {backend!r}")
        if resize_to is not None and resize_to < 16:
            raise ValueError(f"resize_to must be ≥ 16 or None, got {resize_to}")
        self.metric = metric.eval()
        for p in self.metric.parameters():
            p.requires_grad_(False)
        self.backend = backend
        self.name = NAMES[backend]
        self.resize_to = resize_to
        self.reason = reason
        weights = [lin.model[-1].weight.detach().flatten() for lin in self.metric.lins]
        if any(bool((w < 0).any()) for w in weights):
            raise ValueError(f"{self.name}: negative linear-layer weights; the metric is not a squared distance")
        # sqrt of the channel weights, and the channels kept in the embedding (w > 0)
        for i, w in enumerate(weights):
            self.register_buffer(f"_sqrt_w{i}", w.sqrt(), persistent=False)
            self.register_buffer(f"_keep{i}", torch.nonzero(w > 0).flatten(), persistent=False)
        self.n_layers = len(weights)

    @property
    def device(self) -> torch.device:
        return self.metric.scaling_layer.shift.device

    def prepare(self, x: Tensor) -> Tensor:
        """Model-scale ``[N, C, H, W]`` (C in {1, 3}) → the network input ``[N, 3, R, R]`` (see class doc)."""
        if x.dim() != 4 or x.shape[1] not in (1, 3):
            raise ValueError(f"x must have shape [N, 1 or 3, H, W], got {tuple(x.shape)}")
        x = x.to(self.device, torch.float32)
        if x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)
        if self.resize_to is not None and tuple(x.shape[-2:]) != (self.resize_to, self.resize_to):
            x = F.interpolate(x, size=(self.resize_to, self.resize_to), mode="bilinear", align_corners=False)
        return x

    def distance(self, x: Tensor, y: Tensor, batch_size: int = 256) -> Tensor:
        """Perceptual distance ``[N]`` between ``x`` and ``y`` (both ``[N, C, H, W]`` on ``[-1, 1]``).

        Computed by the backend's own forward pass, in chunks of ``batch_size``; differentiable with
        respect to ``x`` and ``y`` (the network's weights are frozen).
        """
        if x.shape != y.shape:
            raise ValueError(f"x and y must have the same shape, got {tuple(x.shape)} and {tuple(y.shape)}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be ≥ 1, got {batch_size}")
        out = [self.metric(self.prepare(x[i:i + batch_size]), self.prepare(y[i:i + batch_size])).flatten()
               for i in range(0, x.shape[0], batch_size)]
        return torch.cat(out) if out else x.new_zeros(0)

    forward = distance

    def _features(self, x: Tensor) -> Tensor:
        """Differentiable embedding of one chunk: ``[n, C, H, W] → [n, F]``."""
        outs = self.metric.net(self.metric.scaling_layer(self.prepare(x)))
        parts = []
        for i, f in enumerate(outs):
            keep = getattr(self, f"_keep{i}")
            sqrt_w = getattr(self, f"_sqrt_w{i}")[keep]
            f_hat = _normalize_channels(f)[:, keep]
            scale = sqrt_w[None, :, None, None] / math.sqrt(f.shape[-2] * f.shape[-1])
            parts.append((f_hat * scale).flatten(1))
        return torch.cat(parts, dim=1)

    @torch.no_grad()
    def embed(self, x: Tensor, batch_size: int = 256) -> Tensor:
        """Embedding ``[N, F]`` (float32, on the metric's device) with ``||e(x) − e(y)||² = distance(x, y)``.

        ``F`` depends on the backend and the network input size (`embed_dim`). No gradients.
        """
        if batch_size < 1:
            raise ValueError(f"batch_size must be ≥ 1, got {batch_size}")
        out = [self._features(x[i:i + batch_size]) for i in range(0, x.shape[0], batch_size)]
        return torch.cat(out) if out else torch.zeros(0, self.embed_dim(tuple(x.shape[1:])), device=self.device)

    def embed_dim(self, image_shape: tuple[int, int, int]) -> int:
        """Length ``F`` of the embedding of one image of shape ``(C, H, W)``."""
        with torch.no_grad():
            return int(self._features(torch.zeros(1, *image_shape, device=self.device)).shape[1])


def _normalize_channels(f: Tensor, eps: float = 1e-10) -> Tensor:
    """Unit-normalise over channels exactly as both packages do: ``f / (||f||_2 + eps)``."""
    return f / (f.pow(2).sum(dim=1, keepdim=True).sqrt() + eps)


@torch.no_grad()
def nearest(queries: Tensor, references: Tensor, perceptual: Perceptual | None = None,
            batch_size: int = 1024) -> tuple[Tensor, Tensor]:
    """Nearest reference of each query: ``(distance [Nq], index [Nq])`` on the CPU.

    The distance is `mse` (``perceptual=None``) or ``perceptual.distance``; images ``[N, C, H, W]`` on
    ``[-1, 1]``. References are streamed in chunks of ``batch_size`` (embedded on the fly for the
    perceptual distance), so 30k training images never sit in memory as features at once. The ranking
    uses ``||a||² + ||b||² − 2 a·b`` in float32; the returned distance of the winner is recomputed
    exactly (direct difference).
    """
    if queries.dim() != 4 or references.dim() != 4 or queries.shape[1:] != references.shape[1:]:
        raise ValueError(f"queries and references must be [N, C, H, W] of one image shape, got "
                         f"{tuple(queries.shape)} and {tuple(references.shape)}")
    if references.shape[0] == 0:
        raise ValueError("references must contain at least one image")
    if batch_size < 1:
        raise ValueError(f"batch_size must be ≥ 1, got {batch_size}")

    def feats(x: Tensor) -> Tensor:
        if perceptual is None:
            return x.flatten(1).float()
        return perceptual.embed(x, batch_size=min(batch_size, 256))

    q = feats(queries)
    q_sq = q.pow(2).sum(1)
    best = torch.full((q.shape[0],), math.inf, device=q.device)
    arg = torch.zeros(q.shape[0], dtype=torch.long, device=q.device)
    for start in range(0, references.shape[0], batch_size):
        r = feats(references[start:start + batch_size]).to(q.device)
        d = q_sq[:, None] + r.pow(2).sum(1)[None, :] - 2.0 * (q @ r.T)
        val, j = d.min(1)
        better = val < best
        best = torch.where(better, val, best)
        arg = torch.where(better, j + start, arg)
    arg = arg.cpu()
    matched = references[arg]
    exact = mse(queries.float(), matched.float()) if perceptual is None else perceptual.distance(queries, matched)
    return exact.detach().cpu(), arg


def get_perceptual(backend: str = "auto", weights_path: str | Path | None = None, resize_to: int | None = 64,
                   device: str | torch.device = "cpu") -> Perceptual:
    """Build the perceptual distance without network access.

    ``backend``: ``"auto"`` | ``"lpips-alex"`` | ``"stlpips"`` (see the module doc).
    ``weights_path``: the torchvision AlexNet ImageNet checkpoint for ``"lpips-alex"``; default: torch
    hub's cache. An explicitly given path that does not exist is an error for every backend choice.
    ``resize_to``: side length of the network input (see `Perceptual`); ``device``: where it runs.
    Logs (``ganaudit.manifold.distances``) which backend runs and why.
    """
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    if weights_path is not None:
        path = Path(weights_path).expanduser()
        if not path.is_file():
            raise ValueError(f"weights_path {path} does not exist (expected the torchvision AlexNet checkpoint "
                             f"{ALEXNET_CHECKPOINT})")
        found = f"weights_path {path}"
    else:
        path = alexnet_checkpoint_path()
        found = f"torch hub cache {path}"

    if backend == "stlpips":
        chosen, reason = "stlpips", "requested explicitly (backend='stlpips')"
    elif path.is_file():
        chosen, reason = "lpips-alex", f"AlexNet ImageNet weights found at {found}"
    elif backend == "lpips-alex":
        raise ValueError(f"backend='lpips-alex' needs the torchvision AlexNet ImageNet weights, not found at {path}; "
                         f"copy {ALEXNET_CHECKPOINT} there, pass weights_path=..., or use backend='stlpips'")
    else:
        chosen = "stlpips"
        reason = (f"AlexNet ImageNet weights not found at {path} (offline); falling back to the "
                  f"shift-tolerant LPIPS shipped in stlpips-pytorch")

    metric = _build_lpips_alex(path) if chosen == "lpips-alex" else _build_stlpips()
    level = logging.WARNING if backend == "auto" and chosen == "stlpips" else logging.INFO
    log.log(level, "perceptual distance: %s [backend=%s]: %s", NAMES[chosen], chosen, reason)
    return Perceptual(metric, chosen, resize_to=resize_to, reason=reason).to(device)


def perceptual_from_config(params: dict, device: torch.device | str = "cpu") -> Perceptual:
    """The perceptual distance of the ``perceptual`` config section (``backend``, ``weights``, ``resize_to``)."""
    return get_perceptual(params["backend"], params.get("weights"), params["resize_to"], device)
