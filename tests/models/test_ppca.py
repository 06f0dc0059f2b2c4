"""PPCA: exact log-likelihood against a dense Gaussian, and the closed-form fit against known models."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from ganaudit.models import Generator
from ganaudit.models.ppca import PPCA, exact_log_likelihood, fit_ppca, random_linear_gaussian

SHAPE = (1, 3, 4)  # D = 12


def _dense_log_prob(model: PPCA, x: torch.Tensor, sigma2: float, k: int = 0) -> np.ndarray:
    w, mu = model.weight[k], model.mean[k]
    cov = w @ w.T + sigma2 * torch.eye(w.shape[0], dtype=torch.float64)
    mvn = torch.distributions.MultivariateNormal(mu, covariance_matrix=cov)
    return mvn.log_prob(x.reshape(x.shape[0], -1).double()).numpy()


def test_protocol_and_shapes() -> None:
    m = random_linear_gaussian(SHAPE, 3, seed=0)
    assert isinstance(m, Generator)
    assert (m.latent_dim, m.image_shape, m.n_classes) == (3, SHAPE, None)
    z = torch.randn(5, 3)
    out = m(z)
    assert out.shape == (5, *SHAPE) and out.dtype == torch.float32
    expected = (z.double() @ m.weight[0].T + m.mean[0]).reshape(5, *SHAPE)
    torch.testing.assert_close(out.double(), expected, rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="z must have shape"):
        m(torch.randn(5, 4))


@pytest.mark.parametrize("sigma2", [1e-3, 0.01, 0.3])
def test_exact_log_likelihood_matches_dense_gaussian(sigma2: float) -> None:
    m = random_linear_gaussian(SHAPE, 3, seed=1)
    x = torch.randn(7, *SHAPE) * 0.5
    np.testing.assert_allclose(exact_log_likelihood(m, x, sigma2), _dense_log_prob(m, x, sigma2), rtol=1e-10, atol=1e-8)


def test_exact_log_likelihood_conditional() -> None:
    m = random_linear_gaussian(SHAPE, 2, seed=2, n_classes=3)
    x = torch.randn(9, *SHAPE) * 0.5
    labels = torch.tensor([0, 1, 2, 2, 1, 0, 0, 2, 1])
    got = exact_log_likelihood(m, x, 0.05, labels)
    want = np.array([_dense_log_prob(m, x[i : i + 1], 0.05, int(labels[i]))[0] for i in range(9)])
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-8)
    out = m(torch.zeros(3, 2), torch.tensor([2, 0, 1]))
    torch.testing.assert_close(out.reshape(3, -1).double(), m.mean[[2, 0, 1]], rtol=1e-6, atol=1e-6)
    with pytest.raises(ValueError, match="labels are required"):
        m(torch.zeros(3, 2))


def test_fit_recovers_known_model() -> None:
    true = random_linear_gaussian(SHAPE, 3, seed=3, scale=0.6)
    sigma2 = 0.02
    g = torch.Generator().manual_seed(0)
    n = 40_000
    x = true(torch.randn(n, 3, generator=g)).double() + math.sqrt(sigma2) * torch.randn(n, *SHAPE, generator=g, dtype=torch.float64)
    fit = fit_ppca(x, None, 3, None)
    # sampling error of a variance estimate from ~n*(D-d) squares: relative sd ≈ sqrt(2 / (n (D-d))) ≈ 0.2 %
    assert abs(fit.sigma2_mle - sigma2) / sigma2 < 0.03
    c_true = true.weight[0] @ true.weight[0].T
    c_fit = fit.weight[0] @ fit.weight[0].T
    assert torch.linalg.norm(c_fit - c_true) / torch.linalg.norm(c_true) < 0.05
    torch.testing.assert_close(fit.mean[0], true.mean[0], atol=0.01, rtol=0)


def test_fit_with_fewer_images_than_pixels_matches_eigendecomposition() -> None:
    g = torch.Generator().manual_seed(4)
    x = torch.rand(6, 1, 4, 5, generator=g) * 2 - 1   # N = 6 < D = 20
    fit = fit_ppca(x, None, 3, None)
    flat = x.reshape(6, -1).double()
    cov = torch.cov(flat.T, correction=0)
    lam = torch.linalg.eigvalsh(cov).flip(0)
    assert fit.sigma2_mle == pytest.approx(float(lam[3:].mean()), rel=1e-9)
    # W^T W has eigenvalues Λ_d − σ²
    got = torch.linalg.eigvalsh(fit.weight[0].T @ fit.weight[0]).flip(0)
    torch.testing.assert_close(got, lam[:3] - fit.sigma2_mle, rtol=1e-8, atol=1e-10)
    # more latents than the data's rank (5 after centring): extra loadings vanish, no error
    fit7 = fit_ppca(x, None, 7, None)
    assert fit7.weight[0][:, 5:].abs().max() < 1e-12 and fit7.weight[0][:, :5].abs().max() > 0.1


def test_fit_conditional_per_class() -> None:
    g = torch.Generator().manual_seed(5)
    x = torch.randn(60, *SHAPE, generator=g) * 0.3
    labels = torch.arange(60) % 3
    x[labels == 1] += 0.5
    fit = fit_ppca(x, labels, 2, 3)
    assert fit.n_classes == 3 and fit.sigma2_mle.shape == (3,)
    for k in range(3):
        one = fit_ppca(x[labels == k], None, 2, None)
        assert fit.sigma2_mle[k] == pytest.approx(one.sigma2_mle, rel=1e-12)
        torch.testing.assert_close(fit.mean[k], one.mean[0])
    with pytest.raises(ValueError, match="class 3 has no images"):
        fit_ppca(x, labels, 2, 4)
    with pytest.raises(ValueError, match="latent_dim"):
        fit_ppca(x, None, 12, None)
