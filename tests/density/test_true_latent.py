"""The true-latent diagnostic (`ganaudit.density.true_latent`) where the answer is known: a linear-Gaussian model
(one mode, the search finds it exactly) and a parabola whose two preimages differ by a known prior energy."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from ganaudit.density.ais import PRESETS
from ganaudit.density.bdmc import simulate
from ganaudit.density.posterior import SearchConfig
from ganaudit.density.target import energy
from ganaudit.density.true_latent import search_gap, true_latent_check, with_true_latent
from ganaudit.models.ppca import exact_log_likelihood, random_linear_gaussian
from tests.density.test_posterior import Parabola, quadrature_log_px

POSTERIOR = dataclasses.replace(PRESETS["posterior"], progress=False)


def test_linear_gaussian_search_reaches_the_true_latents_mode() -> None:
    """One Gaussian posterior: the search's mode and the refined true latent are the same point (gap 0), and the
    estimates with and without the true latent both equal the exact log-likelihood."""
    model = random_linear_gaussian((1, 6, 6), 3, seed=5, scale=0.5)
    sigma2 = 0.02
    x, z = simulate(model, 4, sigma2, seed=6)
    check = true_latent_check(model, x, z, sigma2, dataclasses.replace(POSTERIOR, n_steps=20), seed=0,
                              factors=(1.0, 2.0))
    np.testing.assert_allclose(check.search.gap, 0.0, atol=1e-3)
    np.testing.assert_allclose(check.search.loglik_search, check.search.loglik_true, atol=1e-3)
    exact = exact_log_likelihood(model, x, sigma2)
    np.testing.assert_allclose(check.log_px, exact, atol=0.1)
    np.testing.assert_allclose(check.log_px_true, np.stack([exact, exact]), atol=0.1)
    assert np.max(np.abs(check.error)) < 0.1
    # U at the mode sits below U at the true latent itself (the mode minimises U)
    assert np.all(check.search.energy_true <= energy(model, z, x, None, sigma2).numpy() + 1e-6)


def test_parabola_gap_is_the_prior_energy_of_the_missed_preimage() -> None:
    """``G(z) = (z − ½)² v``: the image of 3.5 is also the image of −2.5. A search that only descends from 3.5
    misses the heavier preimage by exactly ``(3.5² − 2.5²)/2 = 3`` nats of energy, and its estimate falls short
    of the exact value; started also at the true latent −2.5, the estimate is exact."""
    G, sigma2 = Parabola(), 0.01
    x = G(torch.tensor([[3.5]])).repeat(6, 1, 1, 1)
    z_true = torch.full((6, 1), -2.5)
    lone = SearchConfig(search_restarts=0, extra_restarts=0, n_modes=1)
    latents = torch.full((6, 1, 1), 3.5)
    gap = search_gap(G, x, z_true, sigma2, lone, latents=latents)
    np.testing.assert_allclose(gap.gap, 3.0, atol=2e-3)   # the prior moves each mode a little
    np.testing.assert_allclose(gap.loglik_search, gap.loglik_true, atol=2e-3)   # both preimages fit x
    assert np.all(gap.passes > 0)
    # the true latent refined by L-BFGS first (as the benchmark does) reaches the same bottom of its basin
    polished = search_gap(G, x, z_true, sigma2, lone, latents=latents, refine_steps=0, refine_polish=50)
    np.testing.assert_allclose(polished.energy_true, gap.energy_true, atol=1e-4)
    exact = quadrature_log_px(G, x[:1], sigma2)
    check = true_latent_check(G, x, z_true, sigma2, dataclasses.replace(POSTERIOR, search=lone), latents=latents,
                              seed=np.arange(6), factors=(1.0,))
    assert np.mean(check.log_px) < exact - 2.0
    np.testing.assert_allclose(check.log_px_true[0], exact, atol=0.15)
    np.testing.assert_allclose(check.error, check.log_px - check.log_px_true[0])


def test_inputs() -> None:
    assert with_true_latent(None, torch.zeros(2, 3)).shape == (2, 1, 3)
    assert with_true_latent(torch.ones(2, 4, 3), torch.zeros(2, 3)).shape == (2, 5, 3)
    model = random_linear_gaussian((1, 4, 4), 2, seed=0)
    x, z = simulate(model, 1, 0.05, seed=0)
    with pytest.raises(ValueError, match="posterior-started"):
        true_latent_check(model, x, z, 0.05, PRESETS["paper"])
