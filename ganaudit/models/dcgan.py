"""A small class-conditional DCGAN (generator + projection discriminator) for 28/32/64-pixel images.

The generator is also the decoder of the VAE baseline (`ganaudit.models.vae`), so the GAN and the
MLE baseline share an architecture and differ only in how they were trained.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn.utils.parametrizations import spectral_norm

from ganaudit.models.base import check_labels


class ConditionalGenerator(nn.Module):
    """z [B, latent_dim] (+ labels [B]) → images [B, C, H, W] on [-1, 1].

    Architecture: [z, embed(label)] → Linear → (2·width, H/4, W/4) → BN-ReLU → ConvT(4, 2, 1) →
    (width, H/2, W/2) → BN-ReLU → ConvT(4, 2, 1) → (C, H, W) → tanh. BatchNorm runs in eval mode
    (running statistics) whenever the model is audited, so G is a deterministic function of z.
    """

    def __init__(self, latent_dim: int = 16, image_shape: tuple[int, int, int] = (1, 28, 28),
                 n_classes: int | None = None, width: int = 64, embed_dim: int = 16) -> None:
        super().__init__()
        c, h, w = image_shape
        if h % 4 or w % 4:
            raise ValueError(f"image_shape height/width must be divisible by 4, got {image_shape}")
        self.latent_dim, self.image_shape, self.n_classes = int(latent_dim), (int(c), int(h), int(w)), n_classes
        self.width = width
        self.embed = nn.Embedding(n_classes, embed_dim) if n_classes else None
        in_dim = latent_dim + (embed_dim if n_classes else 0)
        self.fc = nn.Linear(in_dim, 2 * width * (h // 4) * (w // 4))
        self.net = nn.Sequential(
            nn.BatchNorm2d(2 * width), nn.ReLU(inplace=True),
            nn.ConvTranspose2d(2 * width, width, 4, 2, 1, bias=False),
            nn.BatchNorm2d(width), nn.ReLU(inplace=True),
            nn.ConvTranspose2d(width, c, 4, 2, 1),
            nn.Tanh(),
        )

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        labels = check_labels(self, labels, z.shape[0])
        h = z if labels is None else torch.cat([z, self.embed(labels.to(z.device))], dim=1)
        c, hh, ww = self.image_shape
        return self.net(self.fc(h).view(-1, 2 * self.width, hh // 4, ww // 4))


class ProjectionDiscriminator(nn.Module):
    """Spectrally normalised conv net with a class projection head (Miyato & Koyama, 2018)."""

    def __init__(self, image_shape: tuple[int, int, int] = (1, 28, 28), n_classes: int | None = None, width: int = 64) -> None:
        super().__init__()
        c, h, w = image_shape
        self.features = nn.Sequential(
            spectral_norm(nn.Conv2d(c, width, 4, 2, 1)), nn.LeakyReLU(0.2, inplace=True),
            spectral_norm(nn.Conv2d(width, 2 * width, 4, 2, 1)), nn.LeakyReLU(0.2, inplace=True),
            nn.Flatten(),
        )
        feat = 2 * width * (h // 4) * (w // 4)
        self.out = spectral_norm(nn.Linear(feat, 1))
        self.proj = spectral_norm(nn.Embedding(n_classes, feat)) if n_classes else None

    def forward(self, x: Tensor, labels: Tensor | None = None) -> Tensor:
        f = self.features(x)
        out = self.out(f).squeeze(1)
        if self.proj is not None:
            out = out + (self.proj(labels) * f).sum(dim=1)
        return out
