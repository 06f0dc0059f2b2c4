"""AIS: exactness on linear-Gaussian models, BDMC bounds, divergences, seeding, cost."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from ganaudit.density.ais import PRESETS, AISConfig, ais_log_likelihood
from ganaudit.density.bdmc import ais_upper_bound, bdmc, simulate, validate_on_ppca
from ganaudit.models.ppca import exact_log_likelihood, random_linear_gaussian

SHAPE = (1, 8, 8)   # D = 64
SIGMA2 = 0.01
# A small budget that is still accurate here (geometric schedule, 1 leapfrog). With well-mixed chains
# the variance of one chain's log-weight is ≈ Σ_t Δβ_t² Var_t(loglik) ≈ (d/2)·ln(1/β_1)²/T
# = 2 · 9.2² / 800 ≈ 0.21 (sd ≈ 0.46 nat); the 4-chain estimate has sd ≈ 0.25 nat, so 1.5 nats is
# ≈ 6 sd for the worst of a handful of images. A wrong normaliser, weight increment or MH rule costs
# tens of nats here (log|C| and D/2·log 2πσ² are each ≈ 100 nats).
FAST = AISConfig(n_steps=800, n_leapfrog=1, n_chains=4, schedule="geometric", geometric_start=1e-4, progress=False)
TOL = 1.5


@pytest.fixture(scope="module")
def ppca():
    return random_linear_gaussian(SHAPE, 4, seed=0, scale=0.5)


@pytest.fixture(scope="module")
def data(ppca):
    return simulate(ppca, 6, SIGMA2, seed=1)


def test_config_validation_and_presets() -> None:
    with pytest.raises(ValueError, match="n_chains must be >= 1"):
        AISConfig(n_chains=0)
    with pytest.raises(ValueError, match="schedule must be one of"):
        AISConfig(schedule="cosine")
    p, a = PRESETS["paper"], PRESETS["accurate"]
    assert (p.n_steps, p.n_leapfrog, p.n_chains, p.schedule, p.step_size) == (500, 10, 4, "sigmoid", 0.05)
    assert a.n_steps * a.n_leapfrog == p.n_steps * p.n_leapfrog   # same gradient budget


def test_matches_exact_log_likelihood(ppca, data) -> None:
    x, _ = data
    out = validate_on_ppca(ppca, x, SIGMA2, config=FAST, seed=3)
    assert out["max_abs_error"] < TOL   # see FAST for the tolerance
    assert abs(out["mean_error"]) < TOL / 2
    assert np.all(np.isfinite(out["result"].log_w))
    assert 0.3 < out["result"].accept_rate.mean() < 0.95


def test_bdmc_sandwich(ppca) -> None:
    # a short chain: the bias (≈ gap/2 each side) dominates the noise, so the order is certain
    short = bdmc(ppca, 6, SIGMA2, config=dataclasses.replace(FAST, n_steps=60), seed=5)
    exact = exact_log_likelihood(ppca, short["x"], SIGMA2)
    assert np.mean(short["upper"]) > np.mean(exact) > np.mean(short["lower"])
    assert short["gap"] > 2.0
    # the full budget closes the sandwich around the exact value (measured gap ≈ 0.3 nat)
    out = bdmc(ppca, 6, SIGMA2, config=FAST, seed=5)
    assert 0 < out["gap"] < 1.0
    assert np.all(np.abs(out["upper"] - exact) < TOL) and np.all(np.abs(out["lower"] - exact) < TOL)


def test_upper_bound_needs_matching_latents(ppca, data) -> None:
    x, z = data
    with pytest.raises(ValueError, match="z_true must have shape"):
        ais_upper_bound(ppca, x, z[:, :2], SIGMA2, config=FAST)


class _NaNRegion(torch.nn.Module):
    """The PPCA, but NaN wherever z[0] > 1 (a region the chains start in and walk into)."""

    def __init__(self, inner) -> None:
        super().__init__()
        self.inner, self.latent_dim, self.image_shape, self.n_classes = inner, inner.latent_dim, inner.image_shape, None

    def forward(self, z, labels=None):
        out = self.inner(z)
        return torch.where((z[:, 0] > 1.0)[:, None, None, None], torch.full_like(out, float("nan")), out)


def test_nan_generator_never_gives_nan(ppca, data) -> None:
    x, _ = data
    cfg = dataclasses.replace(FAST, n_steps=100, n_leapfrog=3, step_size=0.5, step_size_max=2.0)
    res = ais_log_likelihood(_NaNRegion(ppca), x, SIGMA2, config=cfg, seed=0)
    assert not np.any(np.isnan(res.log_px)) and not np.any(np.isnan(res.log_w))
    assert res.n_divergent.sum() > 0
    assert np.all(np.isfinite(res.log_px))   # at least one chain per image started outside the region


def test_per_image_seeds_do_not_depend_on_batching(ppca, data) -> None:
    x, _ = data
    cfg = dataclasses.replace(FAST, n_steps=60)
    together = ais_log_likelihood(ppca, x, SIGMA2, config=dataclasses.replace(cfg, batch_size=6), seed=10)
    split = ais_log_likelihood(ppca, x, SIGMA2, config=dataclasses.replace(cfg, batch_size=4), seed=10)
    alone = ais_log_likelihood(ppca, x[3:4], SIGMA2, config=cfg, seed=13)   # image 3 has seed 10 + 3
    explicit = ais_log_likelihood(ppca, x[[5, 3]], SIGMA2, config=cfg, seed=np.array([15, 13]))
    np.testing.assert_allclose(split.log_w, together.log_w, rtol=0, atol=1e-6)
    np.testing.assert_allclose(alone.log_w[0], together.log_w[3], rtol=0, atol=1e-6)
    np.testing.assert_allclose(explicit.log_w, together.log_w[[5, 3]], rtol=0, atol=1e-6)
    other = ais_log_likelihood(ppca, x, SIGMA2, config=cfg, seed=11)
    assert np.all(other.log_w[:5] != together.log_w[:5])


def test_class_conditional(data) -> None:
    model = random_linear_gaussian(SHAPE, 3, seed=7, scale=0.5, n_classes=3)
    labels = torch.tensor([0, 2, 1, 2])
    x, _ = simulate(model, 4, SIGMA2, labels, seed=8)
    out = validate_on_ppca(model, x, SIGMA2, labels, config=FAST, seed=0)
    assert out["max_abs_error"] < TOL
    # labels matter: under the wrong class the same images are far less likely
    assert np.all(exact_log_likelihood(model, x, SIGMA2, (labels + 1) % 3) < out["exact"] - 50)
    with pytest.raises(ValueError, match="labels are required"):
        ais_log_likelihood(model, x, SIGMA2, config=FAST)


class _Counting(torch.nn.Module):
    def __init__(self, inner) -> None:
        super().__init__()
        self.inner, self.latent_dim, self.image_shape, self.n_classes = inner, inner.latent_dim, inner.image_shape, None
        self.calls = 0

    def forward(self, z, labels=None):
        self.calls += 1
        return self.inner(z)


def test_one_forward_pass_per_leapfrog(ppca, data) -> None:
    x, _ = data
    g = _Counting(ppca)
    cfg = AISConfig(n_steps=7, n_leapfrog=5, batch_size=6, progress=False)
    ais_log_likelihood(g, x, SIGMA2, config=cfg)
    # one initial evaluation, then n_leapfrog per transition; the last step has no transition
    assert g.calls == 1 + (7 - 1) * 5 == cfg.gradient_evaluations


def test_input_errors(ppca, data) -> None:
    x, _ = data
    with pytest.raises(ValueError, match="sigma2 must be"):
        ais_log_likelihood(ppca, x, -1.0, config=FAST)
    with pytest.raises(ValueError, match="x must have shape"):
        ais_log_likelihood(ppca, x[:, :, :4], SIGMA2, config=FAST)
    with pytest.raises(ValueError, match="seed must be"):
        ais_log_likelihood(ppca, x, SIGMA2, config=FAST, seed=np.arange(3))


def test_an_independent_check_searches_with_its_own_pool_and_a_tempered_search():
    from ganaudit.density.ais import PRESETS, independent_check
    from ganaudit.density.posterior import SEARCH_SEED

    cfg = PRESETS["posterior"]
    a, b = independent_check(cfg, 123, smc_scaled=8), independent_check(cfg, 124, smc_scaled=8)
    assert a.search.search_seed != SEARCH_SEED and a.search.search_seed != b.search.search_seed
    assert a == independent_check(cfg, 123, smc_scaled=8)                    # deterministic in its seed
    assert a.search.smc_scaled == 8 and a.scaled(4).search.smc_particles == 32 and a.scaled(0.5).search.smc_particles == 0
    assert dataclasses.replace(a, search=cfg.search) == cfg                  # nothing else changes
