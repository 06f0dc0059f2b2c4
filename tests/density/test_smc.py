"""The tempered SMC of the mode search (`ganaudit.density.smc`): its temperature steps, its particles on a posterior we
know exactly, its independence of batching, and the basin it finds where descent from a near start does not."""

from __future__ import annotations

import dataclasses

import numpy as np
import torch
from test_posterior import Parabola, quadrature_log_px

from ganaudit.density.ais import PRESETS, ais_log_likelihood, cost
from ganaudit.density.posterior import SearchConfig, find_modes, jacobian
from ganaudit.density.smc import best_distinct, next_beta, temper
from ganaudit.models.ppca import random_linear_gaussian


def test_next_beta_keeps_the_effective_sample_size() -> None:
    torch.manual_seed(0)
    ll = -torch.rand(3, 200, dtype=torch.float64) * torch.tensor([[1e4], [10.0], [1e-3]], dtype=torch.float64)
    beta = torch.tensor([0.0, 0.5, 0.2], dtype=torch.float64)
    new = next_beta(ll, beta, 0.5, torch.zeros(3, dtype=torch.bool))
    w = (new - beta)[:, None] * ll
    ess = torch.exp(2 * torch.logsumexp(w, 1) - torch.logsumexp(2 * w, 1))
    assert 0 < new[0] - beta[0] < 1e-2 and abs(ess[0] - 100) < 1            # a sharp likelihood: a small step
    assert abs(ess[1] - 100) < 1 or new[1] == 1.0
    assert new[2] == 1.0                                                       # a flat one: straight to β = 1
    assert torch.all(next_beta(ll, beta, 0.5, torch.ones(3, dtype=torch.bool)) == 1.0)   # the last step


def test_particles_follow_a_known_posterior() -> None:
    """Linear-Gaussian generator: the posterior is N(m, S) exactly; the particles' mean lands within a fraction of
    a posterior standard deviation of m, and their spread matches S's."""
    G = random_linear_gaussian(latent_dim=3, image_shape=(1, 4, 4), seed=1)
    sigma2 = 0.05
    z_true = torch.randn(2, 3, generator=torch.Generator().manual_seed(2))
    x = G(z_true) + 0.2 * torch.randn(2, 1, 4, 4, generator=torch.Generator().manual_seed(3))
    parts, energy, passes = temper(G, x, None, sigma2, 256, 4, np.array([0, 1]))
    assert parts.shape == (2, 256, 3) and energy.shape == (2, 256) and np.all(passes >= 256 * 5)
    j = jacobian(G, torch.zeros(1, 3), None)[0].double()        # [D, 3]: the exact posterior, as G is linear
    b = G(torch.zeros(1, 3)).flatten().double()
    prec = torch.eye(3, dtype=torch.float64) + j.T @ j / sigma2
    cov = torch.linalg.inv(prec)
    for i in range(2):
        mean = cov @ (j.T @ (x[i].flatten().double() - b)) / sigma2
        sd = cov.diagonal().sqrt()
        got = parts[i].double()
        assert torch.all((got.mean(0) - mean).abs() < 0.5 * sd), (got.mean(0), mean, sd)
        assert torch.all((got.std(0) / sd - 1).abs() < 0.5)


def test_an_image_s_particles_do_not_depend_on_its_batch() -> None:
    G = random_linear_gaussian(latent_dim=4, image_shape=(1, 4, 4), seed=0)
    x = G(torch.randn(3, 4, generator=torch.Generator().manual_seed(5)))
    x = x + 0.3 * torch.randn(x.shape, generator=torch.Generator().manual_seed(6))
    together, e_all, p_all = temper(G, x, None, 0.02, 32, 2, np.array([7, 8, 9]))
    alone, e_one, p_one = temper(G, x[1:2], None, 0.02, 32, 2, np.array([8]))
    torch.testing.assert_close(together[1], alone[0], rtol=0, atol=1e-5)
    assert p_all[1] == p_one[0]


def test_tempering_finds_the_heavy_basin_that_descent_from_a_near_start_misses() -> None:
    """An image off the manifold with two preimages: the one we start from carries e^-3 of the other's mass. Descent
    from it (no pool restarts) keeps only that basin; the tempered stage finds the heavy one, and the estimate
    becomes the exact value."""
    G, sigma2 = Parabola(), 0.01
    off = torch.tensor([0.5, -1.0, 0.0, 0.0]).view(1, 1, 1, 4)                 # orthogonal to G's direction
    x = (G(torch.tensor([[3.5]])) + 0.3 * off).repeat(6, 1, 1, 1)
    exact = quadrature_log_px(G, x[:1], sigma2)
    start = torch.full((6, 1, 1), 3.5)
    blind = SearchConfig(search_restarts=0, extra_restarts=0, n_modes=2)
    modes = find_modes(G, x[:1], None, sigma2, blind, start[:1])
    assert float(modes.mu[0, :, 0].min()) > 0                                    # only the basin near 3.5
    tempered = dataclasses.replace(blind, smc_particles=64)
    modes = find_modes(G, x[:1], None, sigma2, tempered, start[:1], np.array([0]))
    assert float(modes.mu[0, :, 0].min()) < -2.0                                  # the heavy one, near -2.5
    config = dataclasses.replace(PRESETS["posterior"], search=tempered, progress=False)
    res = ais_log_likelihood(G, x, sigma2, config=config, seed=np.arange(6), latents=start)
    np.testing.assert_allclose(res.log_px, exact, atol=0.2)
    assert np.all(res.evaluations <= cost(config, 1, n_given=1)["total"])
    lone = ais_log_likelihood(G, x, sigma2, config=dataclasses.replace(config, search=blind), seed=np.arange(6),
                              latents=start)
    assert np.mean(lone.log_px) < exact - 2.0


def test_best_distinct_skips_copies() -> None:
    z = torch.tensor([[[0.0], [0.0], [1.0], [2.0]]])
    e = torch.tensor([[0.0, 0.0, 1.0, 3.0]], dtype=torch.float64)
    assert best_distinct(z, e, 2)[0, :, 0].tolist() == [0.0, 1.0]
    assert best_distinct(z[:, :2], e[:, :2], 2)[0, :, 0].tolist() == [0.0, 0.0]   # too few: the best repeated


def test_a_longer_run_searches_by_tempering_when_asked() -> None:
    base = PRESETS["posterior"]
    assert base.search.smc_particles == 0 and base.scaled(4).search.smc_particles == 0
    asked = dataclasses.replace(base, search=dataclasses.replace(base.search, smc_scaled=16))
    assert asked.scaled(4).search.smc_particles == 64
    assert asked.scaled(0.5).search.smc_particles == 0 and asked.scaled(1).search.smc_particles == 0
    with_smc = dataclasses.replace(base, search=dataclasses.replace(base.search, smc_particles=8))
    assert with_smc.scaled(2).search.smc_particles == 16
