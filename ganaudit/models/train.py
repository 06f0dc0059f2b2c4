"""Training loops for the built-in models: class-conditional DCGAN (hinge loss), conditional VAE (ELBO,
the MLE baseline) and the source-dataset classifier. Each returns the trained model and a tidy loss
history (``pandas.DataFrame`` with columns ``step``, ``series``, ``value``).

The GAN may keep an exponential moving average (EMA) of its generator's weights (``ema_decay``), as
StyleGAN and BigGAN do: the averaged generator is the one returned and audited. Averaging smooths the
oscillation of simultaneous gradient play without changing the training itself (the discriminator
never sees the averaged generator).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd
import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from ganaudit.models.classifier import Classifier
from ganaudit.models.dcgan import ConditionalGenerator, ProjectionDiscriminator
from ganaudit.models.vae import VAE


@dataclass(frozen=True)
class TrainConfig:
    steps: int = 3000
    batch_size: int = 64
    lr: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)
    log_every: int = 50
    progress: bool = True
    ema_decay: float | None = None
    """GAN only: after each step past ``ema_start``, ``θ_ema ← d·θ_ema + (1 − d)·θ``; None: no average."""
    ema_start: int = 0
    """GAN only: the step from which the average runs; before it ``θ_ema`` is a copy of ``θ``."""

    def __post_init__(self) -> None:
        if self.ema_decay is not None and not 0 <= self.ema_decay < 1:
            raise ValueError(f"train.ema_decay must lie in [0, 1) or be null, got {self.ema_decay}")
        if not 0 <= self.ema_start < max(self.steps, 1):
            raise ValueError(f"train.ema_start must lie in [0, steps = {self.steps}), got {self.ema_start}")

    def _no_ema(self, what: str) -> None:
        if self.ema_decay is not None:
            raise ValueError(f"train.ema_decay applies to the GAN only; {what} got {self.ema_decay} (set it to null)")


def _batches(n: int, batch_size: int, steps: int, gen: torch.Generator):
    perm, pos = torch.randperm(n, generator=gen), 0
    for _ in range(steps):
        if pos + batch_size > n:
            perm, pos = torch.randperm(n, generator=gen), 0
        yield perm[pos:pos + batch_size]
        pos += batch_size


def train_gan(x: Tensor, labels: Tensor | None, latent_dim: int, width: int, config: TrainConfig,
              seed: int) -> tuple[ConditionalGenerator, pd.DataFrame]:
    """Train a class-conditional DCGAN with the hinge loss on model-scale images ``x`` ``[N, C, H, W]``
    (labels ``[N]`` in ``[0, K)`` or None). Returns the generator to audit — the weight average when
    ``config.ema_decay`` is set — with BatchNorm statistics recalibrated (`calibrate_batchnorm`), in
    eval mode, and the loss history."""
    G, G_ema, history = train_gan_pair(x, labels, latent_dim, width, config, seed, calibrate_raw=False)
    return (G if G_ema is None else G_ema), history


def train_gan_pair(x: Tensor, labels: Tensor | None, latent_dim: int, width: int, config: TrainConfig, seed: int,
                   calibrate_raw: bool = True, on_step: Callable[[int, nn.Module], None] | None = None,
                   ) -> tuple[ConditionalGenerator, ConditionalGenerator | None, pd.DataFrame]:
    """`train_gan`, returning the last-step generator and the EMA generator (None without ``ema_decay``).

    The EMA generator is calibrated first, so it is the same whether or not the raw one is also
    calibrated (``calibrate_raw``; without it the raw generator keeps its training-time running statistics).
    ``on_step(step, G)`` runs after every optimiser step (e.g. extra weight averages in a benchmark).
    """
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    n_classes = None if labels is None else int(labels.max()) + 1
    G = ConditionalGenerator(latent_dim, tuple(x.shape[1:]), n_classes, width)
    D = ProjectionDiscriminator(tuple(x.shape[1:]), n_classes, width)
    opt_g = torch.optim.Adam(G.parameters(), lr=config.lr, betas=config.betas)
    opt_d = torch.optim.Adam(D.parameters(), lr=config.lr, betas=config.betas)
    G_ema = None if config.ema_decay is None else copy.deepcopy(G).requires_grad_(False)
    history = []
    bar = tqdm(_batches(len(x), config.batch_size, config.steps, gen), total=config.steps, desc="train GAN",
               disable=not config.progress, mininterval=5)
    for step, idx in enumerate(bar):
        real = x[idx]
        y = None if labels is None else labels[idx]
        z = torch.randn(len(idx), latent_dim, generator=gen)
        fake = G(z, y)
        loss_d = torch.relu(1 - D(real, y)).mean() + torch.relu(1 + D(fake.detach(), y)).mean()
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()
        loss_g = -D(fake, y).mean()
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
        if G_ema is not None:
            update_ema(G_ema, G, config.ema_decay if step >= config.ema_start else 0.0)
        if on_step is not None:
            on_step(step, G)
        if step % config.log_every == 0 or step == config.steps - 1:
            history += [(step, "discriminator", loss_d.item()), (step, "generator", loss_g.item())]
            bar.set_postfix(d=f"{loss_d.item():.3f}", g=f"{loss_g.item():.3f}")
    if G_ema is not None:
        calibrate_batchnorm(G_ema, n_classes, latent_dim, gen)
        G_ema.eval().requires_grad_(False)
    if G_ema is None or calibrate_raw:
        calibrate_batchnorm(G, n_classes, latent_dim, gen)
    G.eval().requires_grad_(False)
    return G, G_ema, pd.DataFrame(history, columns=["step", "series", "value"])


@torch.no_grad()
def update_ema(ema: nn.Module, model: nn.Module, decay: float) -> None:
    """``θ_ema ← decay·θ_ema + (1 − decay)·θ`` for every parameter (``decay = 0`` copies). Buffers are
    not averaged: BatchNorm statistics of the averaged weights are recomputed afterwards."""
    for pe, p in zip(ema.parameters(), model.parameters(), strict=True):
        if decay == 0.0:
            pe.copy_(p)
        else:
            pe.lerp_(p, 1.0 - decay)


@torch.no_grad()
def calibrate_batchnorm(G: nn.Module, n_classes: int | None, latent_dim: int, gen: torch.Generator,
                        n_batches: int = 20, batch_size: int = 256) -> None:
    """Recompute BatchNorm running statistics as exact averages over fresh prior samples, so the
    eval-mode generator (the one audited) matches the training-mode one."""
    bns = [m for m in G.modules() if isinstance(m, nn.BatchNorm2d)]
    for m in bns:
        m.reset_running_stats()
        m.momentum = None
    G.train()
    for _ in range(n_batches):
        z = torch.randn(batch_size, latent_dim, generator=gen)
        y = None if n_classes is None else torch.randint(n_classes, (batch_size,), generator=gen)
        G(z, y)
    G.eval()


def train_vae(x: Tensor, labels: Tensor | None, latent_dim: int, width: int, config: TrainConfig,
              seed: int) -> tuple[ConditionalGenerator, float, pd.DataFrame]:
    """Train a conditional VAE by maximising the ELBO; returns its decoder (a Generator), the learned
    observation variance (model scale) and the history (negative ELBO in nats/image)."""
    config._no_ema("train_vae")
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    n_classes = None if labels is None else int(labels.max()) + 1
    vae = VAE(latent_dim, tuple(x.shape[1:]), n_classes, width)
    opt = torch.optim.Adam(vae.parameters(), lr=config.lr * 5, betas=(0.9, 0.999))
    history = []
    bar = tqdm(_batches(len(x), config.batch_size, config.steps, gen), total=config.steps, desc="train VAE",
               disable=not config.progress, mininterval=5)
    for step, idx in enumerate(bar):
        y = None if labels is None else labels[idx]
        loss = -vae.elbo(x[idx], y).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if step % config.log_every == 0 or step == config.steps - 1:
            history += [(step, "negative ELBO (nats/image)", loss.item()),
                        (step, "decoder sigma2", vae.log_sigma2.exp().item())]
            bar.set_postfix(nelbo=f"{loss.item():.1f}")
    calibrate_batchnorm(vae.decoder, n_classes, latent_dim, gen)
    dec = vae.decoder.eval().requires_grad_(False)
    return dec, float(vae.log_sigma2.detach().exp()), pd.DataFrame(history, columns=["step", "series", "value"])


def train_classifier(x: Tensor, labels: Tensor, n_classes: int, config: TrainConfig,
                     seed: int) -> tuple[Classifier, pd.DataFrame]:
    """Train the source-dataset classifier (cross-entropy, Adam)."""
    config._no_ema("train_classifier")
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    clf = Classifier(tuple(x.shape[1:]), n_classes)
    opt = torch.optim.Adam(clf.parameters(), lr=config.lr)
    history = []
    bar = tqdm(_batches(len(x), config.batch_size, config.steps, gen), total=config.steps, desc="train classifier",
               disable=not config.progress, mininterval=5)
    for step, idx in enumerate(bar):
        loss = nn.functional.cross_entropy(clf(x[idx]), labels[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if step % config.log_every == 0 or step == config.steps - 1:
            history.append((step, "cross-entropy", loss.item()))
    clf.eval().requires_grad_(False)
    return clf, pd.DataFrame(history, columns=["step", "series", "value"])
