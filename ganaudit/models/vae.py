"""Class-conditional VAE with a Gaussian decoder, trained by maximum likelihood (ELBO): the MLE
baseline of the paper's Table 1. Its decoder is a `ConditionalGenerator`, so the audited model is a
`Generator` with the same architecture as the GAN's."""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from ganaudit.models.dcgan import ConditionalGenerator


class Encoder(nn.Module):
    """x [B, C, H, W] (+ labels) → (mu, logvar) [B, latent_dim]."""

    def __init__(self, latent_dim: int, image_shape: tuple[int, int, int], n_classes: int | None, width: int = 64) -> None:
        super().__init__()
        c, h, w = image_shape
        self.conv = nn.Sequential(
            nn.Conv2d(c, width, 4, 2, 1), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(width, 2 * width, 4, 2, 1), nn.LeakyReLU(0.2, inplace=True), nn.Flatten(),
        )
        self.n_classes = n_classes
        feat = 2 * width * (h // 4) * (w // 4) + (n_classes or 0)
        self.head = nn.Linear(feat, 2 * latent_dim)

    def forward(self, x: Tensor, labels: Tensor | None = None) -> tuple[Tensor, Tensor]:
        f = self.conv(x)
        if self.n_classes:
            f = torch.cat([f, nn.functional.one_hot(labels, self.n_classes).to(f.dtype)], dim=1)
        mu, logvar = self.head(f).chunk(2, dim=1)
        return mu, logvar.clamp(-12, 6)


class VAE(nn.Module):
    """Encoder + `ConditionalGenerator` decoder + a learned scalar observation log-variance."""

    def __init__(self, latent_dim: int = 16, image_shape: tuple[int, int, int] = (1, 28, 28),
                 n_classes: int | None = None, width: int = 64) -> None:
        super().__init__()
        self.encoder = Encoder(latent_dim, image_shape, n_classes, width)
        self.decoder = ConditionalGenerator(latent_dim, image_shape, n_classes, width)
        self.log_sigma2 = nn.Parameter(torch.tensor(math.log(0.1)))

    def elbo(self, x: Tensor, labels: Tensor | None = None) -> Tensor:
        """Per-image ELBO in nats (Gaussian decoder with variance exp(log_sigma2), x on [-1, 1])."""
        mu, logvar = self.encoder(x, labels)
        z = mu + torch.randn_like(mu) * (0.5 * logvar).exp()
        xhat = self.decoder(z, labels)
        d = x[0].numel()
        s2 = self.log_sigma2.exp()
        rec = -0.5 * ((x - xhat) ** 2).flatten(1).sum(1) / s2 - 0.5 * d * (math.log(2 * math.pi) + self.log_sigma2)
        kl = 0.5 * (mu ** 2 + logvar.exp() - 1 - logvar).sum(1)
        return rec - kl
