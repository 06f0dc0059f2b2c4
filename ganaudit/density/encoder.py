"""An amortised start for the posterior's mode search: an encoder ``E: x → z`` trained on the generator's own samples.

The search (`ganaudit.density.posterior.find_modes`) starts from latents whose images are near ``x`` in pixels
(the inversion's restarts, the nearest of a shared pool). On a real GAN at a large σ² that misses basins: an image's
main basin can hold latents whose images are not the nearest of any pool. An encoder regressed on pairs
``(z, G(z) + σ ε)``, ``z ~ N(0, I)``, ``ε ~ N(0, I)``, predicts ``E[z | x]`` under the model itself, so its output lies
near the posterior's mass, not near the pool's best pixel match. It is trained once per model and σ²
(``steps · batch_size`` forward passes, no gradient through the generator) and is one more start per image.

The estimator stays exactly unbiased: ``E(x)`` depends on ``x`` and on random numbers drawn from ``seed`` alone,
never on the chains (as the inversion's latents do).

``EncoderConfig.steps = 0`` turns it off (no training, no start). `train_encoder` returns the encoder and its mean
squared latent error on ``holdout`` fresh samples of the model, beside the prior's (``d``, what predicting 0 scores):
how much of the latent the encoder recovers, measured in the run.
"""

from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import Tensor, nn

from ganaudit.artifacts.store import ArtifactError, atomic
from ganaudit.models.base import Generator, device_of

if TYPE_CHECKING:   # not imported at run time: rule train_encoder's code inputs stay this module's own
    from ganaudit.density.ais import AISConfig

FORMAT = "ganaudit-encoder/1"


@dataclass(frozen=True)
class EncoderConfig:
    """``steps`` Adam steps (0: no encoder) of ``batch_size`` fresh samples each at learning rate ``lr`` (cosine
    decay to 0); ``width``: channels of the first convolution (doubling at every halving of the image, at most
    ``8 · width``); ``holdout``: fresh samples the trained encoder's error is measured on."""

    steps: int = 0
    batch_size: int = 64
    lr: float = 1e-3
    width: int = 32
    holdout: int = 256

    def __post_init__(self) -> None:
        if self.steps < 0:
            raise ValueError(f"EncoderConfig.steps must be >= 0 (got {self.steps})")
        for name in ("batch_size", "width", "holdout"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"EncoderConfig.{name} must be >= 1 (got {getattr(self, name)})")
        if not self.lr > 0:
            raise ValueError(f"EncoderConfig.lr must be > 0 (got {self.lr})")


class Encoder(nn.Module):
    """Strided 4×4 convolutions halving the image down to at most 4×4 (batch norm, leaky ReLU), an adaptive average
    pool to 4×4, then a linear map to the latent."""

    def __init__(self, image_shape: tuple[int, ...], latent_dim: int, width: int = 32) -> None:
        super().__init__()
        c, h, w = image_shape
        layers: list[nn.Module] = []
        ch, size = c, max(h, w)
        out = width
        while size > 4:
            layers += [nn.Conv2d(ch, out, 4, 2, 1)]
            if ch != c:
                layers += [nn.BatchNorm2d(out)]
            layers += [nn.LeakyReLU(0.2)]
            ch, size, out = out, (size + 1) // 2, min(out * 2, 8 * width)
        layers += [nn.AdaptiveAvgPool2d(4), nn.Flatten(), nn.Linear(ch * 16, latent_dim)]
        self.net = nn.Sequential(*layers)
        self.image_shape, self.latent_dim, self.width = tuple(image_shape), int(latent_dim), int(width)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


def _samples(generator: Generator, n: int, sigma2: float, g: torch.Generator, device: torch.device
             ) -> tuple[Tensor, Tensor]:
    """``(x [n, C, H, W], z [n, d])``: latents from the prior, classes uniform, images with the observation noise."""
    z = torch.randn(n, generator.latent_dim, generator=g)
    labels = None if not generator.n_classes else torch.randint(generator.n_classes, (n,), generator=g)
    noise = torch.randn(n, *generator.image_shape, generator=g)
    with torch.no_grad():
        mean = generator(z.to(device), None if labels is None else labels.to(device))
    return mean.float() + math.sqrt(sigma2) * noise.to(device), z.to(device)


def train_encoder(generator: Generator, sigma2: float, config: EncoderConfig, seed: int = 0,
                  log: Any = None) -> tuple[Encoder, dict[str, float]]:
    """An `Encoder` regressed on ``config.steps`` batches of the model's own noisy samples (module doc), in eval
    mode; and its check on ``config.holdout`` fresh samples: ``holdout_mse`` (mean ``|E(x) − z|²``), ``prior_mse``
    (mean ``|z|²``, what predicting the prior mean scores, about ``d``), ``final_train_mse``."""
    if config.steps < 1:
        raise ValueError("train_encoder: EncoderConfig.steps is 0 (the encoder is off)")
    if not sigma2 > 0:
        raise ValueError(f"train_encoder: sigma2 must be > 0 (got {sigma2})")
    device = device_of(generator)
    g = torch.Generator().manual_seed(int(seed))
    torch.manual_seed(int(seed))  # the encoder's initial weights
    enc = Encoder(generator.image_shape, generator.latent_dim, config.width).to(device)
    opt = torch.optim.Adam(enc.parameters(), lr=config.lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, config.steps)
    enc.train()
    recent: list[float] = []
    for step in range(config.steps):
        x, z = _samples(generator, config.batch_size, sigma2, g, device)
        loss = (enc(x) - z).pow(2).sum(1).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        recent = (recent + [float(loss.detach())])[-50:]
        if log is not None and (step + 1) % max(1, config.steps // 10) == 0:
            log.info("encoder step %d/%d: train mse %.2f", step + 1, config.steps, float(np.mean(recent)))
    enc.eval()
    for p in enc.parameters():
        p.requires_grad_(False)
    x, z = _samples(generator, config.holdout, sigma2, g, device)
    with torch.no_grad():
        pred = torch.cat([enc(x[i:i + 256]) for i in range(0, len(x), 256)])
    check = {"holdout_mse": float((pred - z).pow(2).sum(1).mean()), "prior_mse": float(z.pow(2).sum(1).mean()),
             "final_train_mse": float(np.mean(recent))}
    return enc, check


def encode(encoder: Encoder, x: Tensor, batch_size: int = 256) -> Tensor:
    """``E(x)`` ``[n, d]`` for images ``x [n, C, H, W]`` on the model scale."""
    if tuple(x.shape[1:]) != encoder.image_shape:
        raise ValueError(f"encode: images of shape {tuple(x.shape[1:])}, the encoder takes {encoder.image_shape}")
    dev = next(encoder.parameters()).device
    with torch.no_grad():
        return torch.cat([encoder(x[i:i + batch_size].to(dev).float()) for i in range(0, len(x), batch_size)])


def with_encoder_starts(latents: np.ndarray | None, encoder: Encoder | None, x: Tensor,
                        n_classes: int | None) -> np.ndarray | None:
    """The search's starts ``[n, K, R, d]`` (the inversion's, or None) with ``E(x)`` as one more start under every
    class, last: ``[n, K, R + 1, d]``; ``latents`` unchanged without an encoder. `add_encoder_start` also tells the
    search to refine it directly."""
    if encoder is None:
        return latents
    k = n_classes or 1
    e = encode(encoder, x).cpu().numpy().astype(np.float32)[:, None, None, :].repeat(k, axis=1)
    if latents is None:
        return e
    lat = np.asarray(latents, dtype=np.float32)
    if lat.shape[:2] != e.shape[:2] or lat.shape[3] != e.shape[3]:
        raise ValueError(f"with_encoder_starts: latents {lat.shape} do not match {len(x)} images × {k} classes × "
                         f"d = {e.shape[3]}")
    return np.concatenate([lat, e], axis=2)


def add_encoder_start(config: AISConfig, latents: np.ndarray | None, encoder: Encoder | None, x: Tensor,
                      n_classes: int | None) -> tuple[AISConfig, np.ndarray | None]:
    """``config`` and ``latents`` of a posterior-started estimate with ``E(x)`` as one more start
    (`with_encoder_starts`) that skips the descent and goes straight to L-BFGS / Levenberg–Marquardt
    (``SearchConfig.direct_starts`` + 1): Adam's first steps, sized to cross the latent space, would leave the basin
    the encoder found. Unchanged without an encoder or for an estimator without a mode search."""
    if encoder is None or config.start != "posterior":
        return config, latents
    search = dataclasses.replace(config.search, direct_starts=config.search.direct_starts + 1)
    return dataclasses.replace(config, search=search), with_encoder_starts(latents, encoder, x, n_classes)


def save_encoder(path: str | os.PathLike, encoder: Encoder, meta: dict[str, Any] | None = None) -> None:
    """Save an encoder (shape, width, weights, ``meta``) atomically."""
    with atomic(path) as tmp:
        torch.save({"format": FORMAT, "image_shape": list(encoder.image_shape), "latent_dim": encoder.latent_dim,
                    "width": encoder.width, "state_dict": encoder.state_dict(), "meta": meta or {}}, tmp)


def load_encoder(path: str | os.PathLike, device: str | torch.device = "cpu") -> Encoder:
    """An encoder saved by `save_encoder`, in eval mode (`ArtifactError` naming ``path`` if it is not one)."""
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as e:  # noqa: BLE001 - any unpickling failure is a corrupt file for the user
        raise ArtifactError(f"{path}: not a readable encoder checkpoint ({type(e).__name__})") from None
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        raise ArtifactError(f"{path}: not a ganaudit encoder checkpoint (expected format {FORMAT!r})")
    enc = Encoder(tuple(ckpt["image_shape"]), int(ckpt["latent_dim"]), int(ckpt["width"]))
    enc.load_state_dict(ckpt["state_dict"])
    enc.eval()
    for p in enc.parameters():
        p.requires_grad_(False)
    return enc.to(device)


__all__ = ["Encoder", "EncoderConfig", "add_encoder_start", "encode", "load_encoder", "save_encoder", "train_encoder",
           "with_encoder_starts"]
