"""A generator with StyleGAN2's shape and seeded random weights (`StyleGANLike`), to measure what the density stage
costs at the sizes the paper audits without NVIDIA's code or weights (those go through
`ganaudit.models.adapters.nvidia`); a config names it as the adapter kind ``stylegan_like``
(`ganaudit.models.adapters.stylegan_like`).

The shape (Karras et al. 2020, config F): ``z`` normalised to unit second moment, a mapping network of
``mapping_layers`` fully connected layers (leaky ReLU) to ``w``; a learned constant at the lowest resolution, then
per resolution two 3×3 modulated and demodulated convolutions (the first followed by a ×2 bilinear upsampling of its
output, where StyleGAN2 has a transposed convolution and a blur filter) and a
1×1 modulated ``toRGB`` whose outputs are summed over resolutions (skip architecture); ``min(channel_base / r,
channel_max)`` channels at resolution ``r`` (32768 and 512: 512 channels up to 64², 256 at 128², 128 at 256²).
Noise is off, or a fixed buffer per layer (``noise=True``), so the image is a deterministic function of ``z``.
Equalised learning rate (weights ``N(0, 1)`` scaled by ``1/√fan_in`` in the forward); the output is scaled by
``output_gain / √(number of toRGB layers)`` so random weights give images of a modest spread around 0.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

SQRT2 = math.sqrt(2.0)


def resolutions(resolution: int) -> list[int]:
    """The synthesis resolutions, lowest first: halve ``resolution`` while it stays even and ≥ 4 (256 → 4, 8, …, 256;
    28 → 7, 14, 28)."""
    if resolution < 4:
        raise ValueError(f"resolution must be >= 4 (got {resolution})")
    out = [resolution]
    while out[0] % 2 == 0 and out[0] // 2 >= 4:
        out.insert(0, out[0] // 2)
    return out


class _FC(nn.Module):
    """A fully connected layer with equalised learning rate (weight ``N(0, 1) / √fan_in``)."""

    def __init__(self, n_in: int, n_out: int, g: torch.Generator, bias_init: float = 0.0) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(n_out, n_in, generator=g))
        self.bias = nn.Parameter(torch.full((n_out,), float(bias_init)))
        self.scale = 1.0 / math.sqrt(n_in)

    def forward(self, x: Tensor) -> Tensor:
        return F.linear(x, self.weight * self.scale, self.bias)


class _ModConv(nn.Module):
    """A modulated convolution: input channels scaled by the style ``s = A(w)``, convolved, and (``demodulate``)
    each output channel divided by its weight norm ``√(Σ (w s)²)`` (the same as modulating the weights, as
    StyleGAN2 does when it does not fuse them); ``up``: the output upsampled ×2 (bilinear)."""

    def __init__(self, n_in: int, n_out: int, kernel: int, w_dim: int, g: torch.Generator, *, demodulate: bool = True,
                 up: bool = False, activate: bool = True, noise_hw: int | None = None) -> None:
        super().__init__()
        self.affine = _FC(w_dim, n_in, g, bias_init=1.0)
        self.weight = nn.Parameter(torch.randn(n_out, n_in, kernel, kernel, generator=g))
        self.bias = nn.Parameter(torch.zeros(n_out))
        self.scale = 1.0 / math.sqrt(n_in * kernel * kernel)
        self.demodulate, self.up, self.activate, self.pad = demodulate, up, activate, kernel // 2
        if noise_hw is not None:
            self.register_buffer("noise", torch.randn(1, 1, noise_hw, noise_hw, generator=g))
            self.noise_strength = nn.Parameter(torch.tensor(0.1))
        else:
            self.noise = None

    def forward(self, x: Tensor, w: Tensor) -> Tensor:
        s = self.affine(w)                                                   # [B, in]
        weight = self.weight * self.scale
        x = F.conv2d(x * s[:, :, None, None], weight, padding=self.pad)
        if self.demodulate:
            norm = s.pow(2) @ weight.pow(2).sum((2, 3)).T                   # [B, out]
            x = x * torch.rsqrt(norm + 1e-8)[:, :, None, None]
        if self.up:  # after the convolution, on the output channels, like StyleGAN2's transposed convolution
            x = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
        if self.noise is not None:
            x = x + self.noise_strength * self.noise
        x = x + self.bias[None, :, None, None]
        return F.leaky_relu(x, 0.2) * SQRT2 if self.activate else x


class StyleGANLike(nn.Module):
    """A StyleGAN2-shaped generator (module doc) with weights drawn from ``seed``: ``z [B, latent_dim]`` →
    images ``[B, img_channels, resolution, resolution]``, unconditional."""

    def __init__(self, latent_dim: int = 512, resolution: int = 256, *, w_dim: int = 512, mapping_layers: int = 8,
                 channel_base: int = 32768, channel_max: int = 512, img_channels: int = 3, noise: bool = False,
                 output_gain: float = 0.5, seed: int = 0) -> None:
        super().__init__()
        if min(latent_dim, w_dim, channel_base, channel_max, img_channels) < 1 or mapping_layers < 0:
            raise ValueError("StyleGANLike: latent_dim, w_dim, channel_base, channel_max and img_channels must be >= 1, "
                             f"mapping_layers >= 0 (got {latent_dim}, {w_dim}, {channel_base}, {channel_max}, "
                             f"{img_channels}, {mapping_layers})")
        g = torch.Generator().manual_seed(int(seed))
        self.latent_dim, self.n_classes = int(latent_dim), None
        self.image_shape = (int(img_channels), int(resolution), int(resolution))
        dims = [latent_dim] + [w_dim] * mapping_layers
        self.mapping = nn.ModuleList(_FC(a, b, g) for a, b in zip(dims[:-1], dims[1:]))
        w_dim = dims[-1]
        res = resolutions(resolution)
        ch = [max(1, min(channel_base // r, channel_max)) for r in res]
        self.const = nn.Parameter(torch.randn(1, ch[0], res[0], res[0], generator=g))
        self.convs = nn.ModuleList()
        self.to_rgb = nn.ModuleList()
        for i, r in enumerate(res):
            hw = r if noise else None
            if i == 0:
                self.convs.append(_ModConv(ch[0], ch[0], 3, w_dim, g, noise_hw=hw))
            else:
                self.convs.append(_ModConv(ch[i - 1], ch[i], 3, w_dim, g, up=True, noise_hw=hw))
                self.convs.append(_ModConv(ch[i], ch[i], 3, w_dim, g, noise_hw=hw))
            self.to_rgb.append(_ModConv(ch[i], img_channels, 1, w_dim, g, demodulate=False, activate=False))
        self.gain = float(output_gain) / math.sqrt(len(res))
        self.eval()

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        """Images ``[B, C, H, W]`` for latents ``z [B, latent_dim]`` (``labels`` ignored: unconditional)."""
        w = z * torch.rsqrt(z.pow(2).mean(1, keepdim=True) + 1e-8)
        for fc in self.mapping:
            w = F.leaky_relu(fc(w), 0.2) * SQRT2
        x = self.const.expand(z.shape[0], -1, -1, -1)
        img = None
        convs = iter(self.convs)
        for i, rgb in enumerate(self.to_rgb):
            x = next(convs)(x, w)
            if i:
                x = next(convs)(x, w)
            y = rgb(x, w)
            img = y if img is None else F.interpolate(img, scale_factor=2, mode="bilinear", align_corners=False) + y
        assert img is not None
        return img * self.gain

