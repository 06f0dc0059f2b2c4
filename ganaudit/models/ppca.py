"""Probabilistic PCA: a linear-Gaussian generator whose log-likelihood is known exactly.

``G(z, c) = W_c z + mu_c`` reshaped to ``image_shape`` with ``z ~ N(0, I_d)``. Under the paper's
Gaussian observation model ``x ~ N(G(z), sigma2 I)`` the marginal is
``p(x | c) = N(x; mu_c, W_c W_c^T + sigma2 I)``, so it validates AIS (`ganaudit.density.bdmc.validate_on_ppca`)
and serves as a closed-form baseline. Outputs are not clamped to ``[-1, 1]`` (a clamp would break
the closed form); on data of that scale they stay close to it.

Shapes: ``D = C * H * W`` pixels, ``d = latent_dim``, ``K`` classes (``K = 1`` when unconditional).
``weight`` is ``[K, D, d]``, ``mean`` is ``[K, D]``, both float64 buffers.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor, nn

from ganaudit.models.base import check_labels


class PPCA(nn.Module):
    """Linear-Gaussian generator satisfying the `Generator` protocol.

    Args:
        weight: ``[D, d]`` (unconditional) or ``[K, D, d]`` (class-conditional) loading matrices.
        mean: ``[D]`` or ``[K, D]`` offsets, on the model scale ``[-1, 1]``.
        image_shape: ``(C, H, W)`` with ``C * H * W == D``.
        n_classes: ``None`` for one ``W``/``mu``; else ``K``.
        sigma2_mle: the maximum-likelihood noise variance from `fit_ppca` (float, or ``[K]`` array when
            conditional), model scale; ``None`` for models not fitted to data.
    """

    def __init__(
        self,
        weight: Tensor,
        mean: Tensor,
        image_shape: tuple[int, int, int],
        n_classes: int | None = None,
        sigma2_mle: float | np.ndarray | None = None,
    ) -> None:
        super().__init__()
        weight = torch.as_tensor(weight, dtype=torch.float64)
        mean = torch.as_tensor(mean, dtype=torch.float64)
        if n_classes is None:
            weight, mean = weight.unsqueeze(0), mean.unsqueeze(0)
        if weight.dim() != 3 or mean.dim() != 2:
            raise ValueError(f"weight must be [K, D, d] and mean [K, D], got {tuple(weight.shape)} and {tuple(mean.shape)}")
        k, dim, latent = weight.shape
        if mean.shape != (k, dim):
            raise ValueError(f"mean must have shape {(k, dim)}, got {tuple(mean.shape)}")
        if len(image_shape) != 3 or math.prod(image_shape) != dim:
            raise ValueError(f"image_shape must be (C, H, W) with C*H*W = {dim}, got {tuple(image_shape)}")
        if n_classes is not None and n_classes != k:
            raise ValueError(f"n_classes must equal weight.shape[0] = {k}, got {n_classes}")
        self.register_buffer("weight", weight)
        self.register_buffer("mean", mean)
        self.latent_dim: int = int(latent)
        self.image_shape: tuple[int, int, int] = tuple(int(s) for s in image_shape)  # type: ignore[assignment]
        self.n_classes: int | None = n_classes
        self.sigma2_mle = sigma2_mle
        self._cast: tuple[torch.dtype, torch.device, Tensor, Tensor] | None = None

    def _params(self, dtype: torch.dtype, device: torch.device) -> tuple[Tensor, Tensor]:
        """``weight``/``mean`` cast to ``dtype``/``device``, cached (casting per call would dominate AIS)."""
        c = self._cast
        if c is None or c[0] != dtype or c[1] != device or c[2].shape != self.weight.shape:
            c = (dtype, device, self.weight.to(device, dtype), self.mean.to(device, dtype))
            self._cast = c
        return c[2], c[3]

    def log_likelihood(self, x: Tensor, sigma2: float, labels: Tensor | None = None) -> np.ndarray:
        """The exact ``log p(x)`` (nats, float64 ``[N]``) under the Gaussian observation model: `exact_log_likelihood`.
        A generator with this method needs no estimator (`ganaudit.density.ais.ais_group` uses it when asked to)."""
        return exact_log_likelihood(self, x, sigma2, labels)

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        """Images ``[B, C, H, W]`` from latents ``z [B, d]`` (and labels ``[B]`` when conditional)."""
        if z.dim() != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"z must have shape [B, {self.latent_dim}], got {tuple(z.shape)}")
        labels = check_labels(self, labels, z.shape[0])
        w, mu = self._params(z.dtype, z.device)
        if labels is None:
            out = torch.addmm(mu[0], z, w[0].T)
        else:
            labels = labels.to(z.device)
            out = z.new_zeros(z.shape[0], w.shape[1])
            for k in torch.unique(labels).tolist():
                idx = (labels == k).nonzero().squeeze(1)
                out = out.index_copy(0, idx, torch.addmm(mu[k], z[idx], w[k].T))
        return out.view(z.shape[0], *self.image_shape)


def _groups(n: int, labels: Tensor | None, n_classes: int | None) -> list[tuple[int, Tensor]]:
    """(class index, row indices) per class; one group of all rows when unconditional."""
    if n_classes is None:
        return [(0, torch.arange(n))]
    assert labels is not None
    return [(k, (labels == k).nonzero().squeeze(1).cpu()) for k in range(n_classes)]


def fit_ppca(x: Tensor, labels: Tensor | None, latent_dim: int, n_classes: int | None) -> PPCA:
    """Closed-form maximum-likelihood PPCA (Tipping & Bishop 1999), per class when conditional.

    ``W = U_d (Λ_d − σ² I)^{1/2}`` with ``Λ_d`` the top-d eigenvalues of the sample covariance
    (1/N normalisation) and ``σ²_MLE`` the mean of the ``D − d`` discarded ones (zeros included when
    ``N < D``). Uses an SVD of the centred ``[N, D]`` data in float64; the ``D × D`` covariance is never
    formed. Eigen-directions beyond the data's rank get zero loadings.

    Args:
        x: images ``[N, C, H, W]`` on the model scale ``[-1, 1]``.
        labels: ``[N]`` integer classes (required iff ``n_classes`` is not None).
        latent_dim: ``d``, with ``1 <= d < D``.
        n_classes: ``None`` or ``K``; every class needs at least one image.
    """
    if x.dim() != 4:
        raise ValueError(f"x must be [N, C, H, W], got shape {tuple(x.shape)}")
    n, dim = x.shape[0], math.prod(x.shape[1:])
    if not 1 <= latent_dim < dim:
        raise ValueError(f"latent_dim must be in [1, {dim}) for D = {dim}, got {latent_dim}")
    if n_classes is not None:
        if labels is None:
            raise ValueError(f"labels are required when n_classes = {n_classes}")
        labels = torch.as_tensor(labels, dtype=torch.long).cpu()
        if labels.shape != (n,):
            raise ValueError(f"labels must have shape ({n},), got {tuple(labels.shape)}")
    flat = x.detach().reshape(n, dim).to("cpu", torch.float64)
    k_total = 1 if n_classes is None else n_classes
    weight = torch.zeros(k_total, dim, latent_dim, dtype=torch.float64)
    mean = torch.zeros(k_total, dim, dtype=torch.float64)
    sigma2 = np.zeros(k_total)
    for k, idx in _groups(n, labels, n_classes):
        if idx.numel() == 0:
            raise ValueError(f"labels: class {k} has no images; cannot fit its PPCA")
        xk = flat[idx]
        mu = xk.mean(0)
        _, s, vh = torch.linalg.svd(xk - mu, full_matrices=False)
        lam = s.pow(2) / xk.shape[0]                       # nonzero part of the covariance spectrum
        top = min(latent_dim, lam.numel())
        s2 = float((lam.sum() - lam[:top].sum()) / (dim - latent_dim))
        scale = (lam[:top] - s2).clamp_min(0.0).sqrt()
        weight[k, :, :top] = vh[:top].T * scale
        mean[k] = mu
        sigma2[k] = s2
    return PPCA(
        weight if n_classes is not None else weight[0],
        mean if n_classes is not None else mean[0],
        tuple(x.shape[1:]),  # type: ignore[arg-type]
        n_classes,
        sigma2_mle=sigma2 if n_classes is not None else float(sigma2[0]),
    )


def exact_log_likelihood(model: PPCA, x: Tensor, sigma2: float, labels: Tensor | None = None) -> np.ndarray:
    """``log N(x; mu_c, W_c W_c^T + sigma2 I)`` in nats, float64 ``[N]``, for any ``sigma2 > 0``.

    Woodbury identity and the matrix determinant lemma with ``M = W^T W + sigma2 I_d``:
    ``x^T C^{-1} x = (|r|^2 − r^T W M^{-1} W^T r) / sigma2`` and
    ``log|C| = (D − d) log sigma2 + log|M|``, all in float64; cost ``O(N D d)``.

    Args:
        model: a `PPCA`.
        x: images ``[N, C, H, W]`` on the model scale.
        sigma2: observation variance on the model scale.
        labels: ``[N]`` classes when the model is conditional.
    """
    if not sigma2 > 0:
        raise ValueError(f"sigma2 must be > 0, got {sigma2}")
    n = x.shape[0]
    dim = model.weight.shape[1]
    if x.dim() != 4 or math.prod(x.shape[1:]) != dim:
        raise ValueError(f"x must be [N, {', '.join(map(str, model.image_shape))}], got {tuple(x.shape)}")
    labels = check_labels(model, labels, n)
    labels = None if labels is None else labels.cpu()
    flat = x.detach().reshape(n, dim).to("cpu", torch.float64)
    out = np.empty(n, dtype=np.float64)
    d = model.latent_dim
    for k, idx in _groups(n, labels, model.n_classes):
        if idx.numel() == 0:
            continue
        w = model.weight[k].detach().cpu()
        r = flat[idx] - model.mean[k].detach().cpu()
        m = w.T @ w + sigma2 * torch.eye(d, dtype=torch.float64)
        chol = torch.linalg.cholesky(m)
        a = r @ w                                                    # [n_k, d]
        sol = torch.cholesky_solve(a.T, chol).T                      # M^{-1} W^T r
        quad = (r.pow(2).sum(1) - (a * sol).sum(1)) / sigma2
        logdet = (dim - d) * math.log(sigma2) + 2.0 * torch.log(torch.diagonal(chol)).sum()
        out[idx.numpy()] = (-0.5 * (dim * math.log(2 * math.pi) + logdet + quad)).numpy()
    return out


def random_linear_gaussian(
    image_shape: tuple[int, int, int],
    latent_dim: int,
    seed: int,
    scale: float = 0.5,
    n_classes: int | None = None,
    mean_scale: float = 0.3,
) -> PPCA:
    """A PPCA with random loadings, for tests and AIS validation.

    ``W`` entries are N(0, scale² / d), so each generated pixel has standard deviation ≈ ``scale``
    around its mean; means are N(0, mean_scale²) per pixel. With the defaults, samples have a
    spread comparable to real images on the model scale ``[-1, 1]``.
    """
    if latent_dim < 1:
        raise ValueError(f"latent_dim must be >= 1, got {latent_dim}")
    g = torch.Generator().manual_seed(int(seed))
    dim = math.prod(image_shape)
    k = 1 if n_classes is None else n_classes
    w = torch.randn(k, dim, latent_dim, generator=g, dtype=torch.float64) * (scale / math.sqrt(latent_dim))
    mu = torch.randn(k, dim, generator=g, dtype=torch.float64) * mean_scale
    if n_classes is None:
        w, mu = w[0], mu[0]
    return PPCA(w, mu, image_shape, n_classes)
