"""Tests for ganaudit.manifold.inversion: known latents are recovered, batching does not matter, the class-conditional path."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from ganaudit.manifold.distances import mse
from ganaudit.manifold.inversion import InversionConfig, candidate_pool, invert, invert_own_samples, psnr_db


class TinyGenerator(nn.Module):
    """A random MLP generator: z [B, 6] (+ class embedding) → images [B, 1, 8, 8] in [-1, 1]."""

    def __init__(self, n_classes: int | None = None, latent_dim: int = 6, seed: int = 0) -> None:
        super().__init__()
        torch.manual_seed(seed)
        self.latent_dim, self.image_shape, self.n_classes = latent_dim, (1, 8, 8), n_classes
        self.embed = nn.Embedding(n_classes, 32) if n_classes else None
        self.fc1 = nn.Linear(latent_dim, 32)
        self.fc2 = nn.Linear(32, 64)
        self.eval()

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        h = self.fc1(z)
        if self.embed is not None:
            h = h + 2.0 * self.embed(labels)
        return torch.tanh(self.fc2(torch.tanh(h))).view(-1, 1, 8, 8)


FAST = InversionConfig(n_candidates=64, n_restarts=2, n_steps=300, lr=0.05, batch_size=4, progress=False)


def _targets(g: TinyGenerator, n: int, seed: int, labels: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    z = torch.randn(n, g.latent_dim, generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        return z, g(z, labels)


@pytest.fixture(scope="module")
def gen() -> TinyGenerator:
    return TinyGenerator()


@pytest.fixture(scope="module")
def recovered(gen: TinyGenerator):
    z, x = _targets(gen, 6, seed=1)
    return z, x, invert(gen, x, config=FAST, seed=0)


def test_recovers_known_latents(gen: TinyGenerator, recovered) -> None:
    z_true, x, res = recovered
    assert res.z.shape == (6, 6) and res.recon.shape == (6, 1, 8, 8) and res.restart_mse.shape == (6, 2)
    assert (res.psnr_db >= 40).all(), res.psnr_db
    # the generator is injective enough here that the latent itself comes back
    assert (res.z - z_true).norm(dim=1).max() < 0.05
    # recon and mse are consistent: recon = G(z), mse = MSE(recon, x)
    with torch.no_grad():
        assert torch.allclose(res.recon, gen(res.z), atol=1e-6)
    assert torch.allclose(res.mse, mse(res.recon, x), rtol=1e-5, atol=1e-12)


def test_best_restart_is_kept(recovered) -> None:
    _, _, res = recovered
    assert torch.equal(res.mse, res.restart_mse.min(1).values)
    assert (res.mse[:, None] <= res.restart_mse).all()
    assert torch.equal(res.best_restart, res.restart_mse.argmin(1))
    # tracking starts at the initial iterate, so optimisation never ends worse than its start
    assert (res.restart_mse <= res.init_mse * (1 + 1e-4) + 1e-7).all()


def test_init_is_nearest_candidate(gen: TinyGenerator) -> None:
    _, x = _targets(gen, 3, seed=2)
    cfg = InversionConfig(n_candidates=50, n_restarts=3, n_steps=0, progress=False, pool_batch_size=16)
    res = invert(gen, x, config=cfg, seed=7)
    for r in range(3):
        pool = candidate_pool(gen.latent_dim, 50, seed=7, restart=r)
        with torch.no_grad():
            d = ((gen(pool)[None] - x[:, None]) ** 2).flatten(2).mean(2)  # [3, 50]
        assert torch.allclose(res.init_mse[:, r], d.min(1).values, rtol=1e-5)
    # with no steps the result is the best start itself
    assert torch.allclose(res.mse, res.init_mse.min(1).values, rtol=1e-5)
    # pools differ between restarts and depend only on (seed, restart)
    assert not torch.equal(candidate_pool(6, 5, 7, 0), candidate_pool(6, 5, 7, 1))
    assert torch.equal(candidate_pool(6, 5, 7, 1), candidate_pool(6, 5, 7, 1))


def test_batching_invariance(gen: TinyGenerator) -> None:
    _, x = _targets(gen, 5, seed=3)
    cfg = InversionConfig(n_candidates=64, n_restarts=2, n_steps=60, lr=0.05, batch_size=5, progress=False)
    together = invert(gen, x, config=cfg, seed=0)
    alone = invert(gen, x[3:4], config=InversionConfig(**{**cfg.to_dict(), "batch_size": 1}), seed=0)
    shard = invert(gen, x[2:5], config=InversionConfig(**{**cfg.to_dict(), "batch_size": 2}), seed=0)
    assert torch.allclose(alone.z[0], together.z[3], atol=1e-5)
    assert torch.allclose(alone.restart_mse[0], together.restart_mse[3], rtol=1e-4, atol=1e-9)
    assert torch.allclose(shard.z, together.z[2:5], atol=1e-5)
    assert torch.equal(shard.best_restart, together.best_restart[2:5])


def test_class_conditional_path() -> None:
    g = TinyGenerator(n_classes=3, seed=1)
    labels = torch.tensor([0, 2, 1, 2])
    _, x = _targets(g, 4, seed=4, labels=labels)
    with pytest.raises(ValueError, match="labels are required"):
        invert(g, x, config=FAST)
    res = invert(g, x, labels=labels, config=FAST, seed=0)
    assert (res.psnr_db >= 40).all(), res.psnr_db
    with torch.no_grad():
        assert torch.allclose(g(res.z, labels), res.recon, atol=1e-6)
    # the start of each image is the nearest candidate rendered with *its own* class
    pool = candidate_pool(g.latent_dim, FAST.n_candidates, seed=0, restart=1)
    for i, c in enumerate(labels.tolist()):
        with torch.no_grad():
            d = ((g(pool, torch.full((len(pool),), c)) - x[i]) ** 2).flatten(1).mean(1)
        assert math.isclose(float(res.init_mse[i, 1]), float(d.min()), rel_tol=1e-5)


def test_cosine_schedule_and_validation(gen: TinyGenerator) -> None:
    cfg = InversionConfig(lr=0.1, n_steps=100)
    assert cfg.lr_at(0) == pytest.approx(0.1)
    assert cfg.lr_at(50) == pytest.approx(0.05)
    assert cfg.lr_at(100) == pytest.approx(0.0, abs=1e-15)
    assert InversionConfig(lr=0.1, lr_schedule="constant").lr_at(70) == 0.1
    with pytest.raises(ValueError, match="n_restarts must be ≥ 1"):
        InversionConfig(n_restarts=0)
    with pytest.raises(ValueError, match="lr_schedule"):
        InversionConfig(lr_schedule="step")
    with pytest.raises(ValueError, match=r"x must have shape \[N, 1, 8, 8\]"):
        invert(gen, torch.zeros(2, 1, 28, 28), config=FAST)


def test_generator_training_mode_is_restored() -> None:
    g = TinyGenerator(seed=2)
    g.train()
    _, x = _targets(g, 2, seed=5)
    invert(g, x, config=InversionConfig(n_candidates=8, n_restarts=1, n_steps=2, progress=False))
    assert g.training


def test_psnr_convention() -> None:
    assert float(psnr_db(torch.tensor(4e-3))) == pytest.approx(30.0)


def test_invert_own_samples_conditional() -> None:
    g = TinyGenerator(n_classes=3, seed=3)
    own = invert_own_samples(g, 3, config=FAST, seed=1)
    assert own.labels.tolist() == [0, 1, 2]
    with torch.no_grad():
        assert torch.allclose(g(own.z_true, own.labels), own.x)
    assert float(own.result.psnr_db.median()) >= 30
