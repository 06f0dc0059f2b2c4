"""Perceptual path length on generators with a known answer, and the feature spaces (a TorchScript file on disk)."""

import numpy as np
import pytest
import torch

from ganaudit.metrics.features import FeatureCache, feature_function, torchscript_features
from ganaudit.metrics.ppl import perceptual_path_length


class Linear(torch.nn.Module):
    """G(z) = A z as a 1×2×2 image; with the squared L2 distance each length is ‖A(z₁ − z₀)‖² exactly."""

    latent_dim, image_shape, n_classes = 3, (1, 2, 2), None

    def __init__(self, scale=1.0):
        super().__init__()
        self.A = torch.nn.Parameter(scale * torch.arange(12.0).view(4, 3) / 10, requires_grad=False)

    def forward(self, z, labels=None):
        return (z @ self.A.T).view(-1, *self.image_shape)


def sq_l2(a, b):
    return (a.double() - b.double()).flatten(1).pow(2).sum(1)


def test_ppl_of_a_linear_generator_is_its_squared_stretch():
    G = Linear()
    r = perceptual_path_length(G, sq_l2, n_pairs=400, epsilon=1e-2, trim=(0, 100), seed=1)
    g = torch.Generator().manual_seed(1)
    z0, z1 = torch.randn(400, 3, generator=g), torch.randn(400, 3, generator=g)
    expect = ((z1 - z0).double() @ G.A.double().T).pow(2).sum(1)
    assert r.mean == pytest.approx(expect.mean().item(), rel=1e-3) and r.n_kept == 400 and r.evaluations == 800
    trimmed = perceptual_path_length(G, sq_l2, n_pairs=400, epsilon=1e-2, seed=1)
    assert trimmed.n_kept == 394                                      # sorted lengths 3 … 396 of 0 … 399 kept
    assert trimmed.mean < r.mean                                     # the largest 1 % weigh most
    twice = perceptual_path_length(Linear(2.0), sq_l2, n_pairs=400, epsilon=1e-2, trim=(0, 100), seed=1)
    assert twice.mean == pytest.approx(4 * r.mean, rel=1e-4)         # squared distance: 2² ×


def test_ppl_of_a_constant_generator_is_zero():
    class Const(Linear):
        def forward(self, z, labels=None):
            return torch.zeros(len(z), *self.image_shape)

    assert perceptual_path_length(Const(), sq_l2, n_pairs=10, trim=(0, 100)).mean == 0.0


def test_torchscript_feature_space_and_cache(tmp_path):
    class Net(torch.nn.Module):
        def forward(self, x):
            return x.mean(dim=(2, 3))

    path = tmp_path / "dinov2.pt"
    torch.jit.script(Net()).save(str(path))
    f = torchscript_features(str(path), "dinov2")
    x = torch.zeros(3, 1, 4, 4)                                       # mid grey on [-1, 1] → 0.5 on [0, 1]
    np.testing.assert_allclose(f(x), ((0.5 - np.array([0.485, 0.456, 0.406])) / [0.229, 0.224, 0.225])[None].repeat(3, 0),
                               rtol=1e-5)
    assert feature_function("dinov2", weights={"dinov2": None}) is None
    assert feature_function("classifier", classifier=None) is None
    calls = []
    cache = FeatureCache({"pixels": lambda t: calls.append(1) or t.flatten(1).numpy()}, {"samples": x})
    cache.get("pixels", "samples"), cache.get("pixels", "samples")
    assert len(calls) == 1
    np.testing.assert_allclose(feature_function("pixels")(torch.ones(2, 1, 2, 2)), 0.5)   # x / √(C·H·W)
