"""Posterior-started AIS (`ganaudit.density.posterior` + ``AISConfig(start="posterior")``): unbiasedness where the
likelihood is known, a bimodal posterior that a single Gaussian start gets wrong, and the search's parts."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import torch
from torch import nn

from ganaudit.density.ais import PRESETS, AISConfig, ais_log_likelihood, cost
from ganaudit.density.bdmc import simulate
from ganaudit.density.posterior import SearchConfig, allocate, find_modes, jacobian
from ganaudit.models.ppca import exact_log_likelihood, random_linear_gaussian

POSTERIOR = dataclasses.replace(PRESETS["posterior"], progress=False)


class Parabola(nn.Module):
    """One latent, four pixels: ``G(z) = (z − 1/2)² · v``. Every image ``G(z*)`` has two preimages,
    ``z*`` and ``1 − z*``, of equal likelihood and curvature, so their posterior masses differ by the prior alone."""

    latent_dim, image_shape, n_classes = 1, (1, 1, 4), None

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("v", torch.tensor([1.0, 0.5, -0.5, 0.25]))

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return ((z - 0.5) ** 2 * self.v).view(-1, 1, 1, 4)


def quadrature_log_px(G: nn.Module, x: torch.Tensor, sigma2: float) -> float:
    """``log ∫ N(x; G(z), σ² I) N(z; 0, 1) dz`` on a fine grid (exact to far below the tolerances here)."""
    z = torch.linspace(-12, 12, 400_001, dtype=torch.float64)[:, None]
    r = (G(z).double() - x.double()).flatten(1)
    d = r.shape[1]
    log_f = -0.5 * z[:, 0] ** 2 - 0.5 * math.log(2 * math.pi) - r.pow(2).sum(1) / (2 * sigma2) \
        - 0.5 * d * math.log(2 * math.pi * sigma2)
    return float(torch.logsumexp(log_f, 0) + math.log(float(z[1, 0] - z[0, 0])))


def test_bimodal_posterior_single_gaussian_fails_search_recovers() -> None:
    G, sigma2 = Parabola(), 0.01
    x = G(torch.tensor([[3.5]]))                       # preimages 3.5 (minor: prior e^-6.1) and -2.5 (major: e^-3.1)
    exact = quadrature_log_px(G, x, sigma2)
    # a single Gaussian at the minor mode, no search of its own: misses the major mode's mass (log(1 + e^3) ≈ 3 nats)
    single = dataclasses.replace(POSTERIOR, search=SearchConfig(search_restarts=0, extra_restarts=0, n_modes=1))
    lone = ais_log_likelihood(G, x.repeat(8, 1, 1, 1), sigma2, config=single, seed=np.arange(8),
                              latents=torch.full((8, 1, 1), 3.5))
    assert np.mean(lone.log_px) < exact - 2.0
    # the default search finds both modes (and the estimate is then the exact value)
    found = ais_log_likelihood(G, x.repeat(8, 1, 1, 1), sigma2, config=POSTERIOR, seed=np.arange(8),
                               latents=torch.full((8, 1, 1), 3.5))
    np.testing.assert_allclose(found.log_px, exact, atol=0.15)
    assert set(np.unique(found.mode)) >= {0, 1}           # chains on both modes


@pytest.mark.parametrize("config", [
    # a deliberately poor proposal (inflated 1.6x) and a short anneal: the weights vary, the mean must not
    dataclasses.replace(POSTERIOR, n_steps=4, n_chains=2, search=dataclasses.replace(POSTERIOR.search, proposal_scale=1.6)),
    # prior-started with a frozen, pilot-tuned kernel
    AISConfig(n_steps=40, n_leapfrog=2, n_chains=2, schedule="geometric", step_tuning="pilot", progress=False),
], ids=["posterior", "prior-pilot"])
def test_unbiased_where_the_likelihood_is_known(config: AISConfig) -> None:
    """E[p̂(x) / p(x)] = 1: the mean of exp(estimate − exact) over independent runs is 1 within 4 standard errors."""
    model = random_linear_gaussian((1, 4, 4), 2, seed=3, scale=0.6)
    sigma2 = 0.05
    x, _ = simulate(model, 1, sigma2, seed=4)
    exact = float(exact_log_likelihood(model, x, sigma2)[0])
    n = 400
    res = ais_log_likelihood(model, x.repeat(n, 1, 1, 1), sigma2, config=config, seed=np.arange(n) * 7919)
    ratio = np.exp(res.log_px - exact)
    se = ratio.std(ddof=1) / math.sqrt(n)
    assert ratio.std() > 0.02, "the test needs estimates that vary"
    assert abs(ratio.mean() - 1.0) < 4 * se + 1e-3, (ratio.mean(), se)


def test_linear_gaussian_is_exact_with_few_evaluations() -> None:
    """On PPCA the Laplace approximation is the posterior: the estimate is exact up to a few hundredths of a nat."""
    model = random_linear_gaussian((1, 8, 8), 4, seed=0, scale=0.5)
    x, _ = simulate(model, 6, 0.01, seed=1)
    res = ais_log_likelihood(model, x, 0.01, config=POSTERIOR, seed=0)
    err = res.log_px - exact_log_likelihood(model, x, 0.01)
    assert np.max(np.abs(err)) < 0.1
    assert np.all(res.evaluations <= cost(POSTERIOR, 4)["total"])


def test_batching_and_seeds() -> None:
    model = random_linear_gaussian((1, 6, 6), 3, seed=2, scale=0.5)
    x, _ = simulate(model, 5, 0.02, seed=3)
    cfg = dataclasses.replace(POSTERIOR, n_steps=20)
    together = ais_log_likelihood(model, x, 0.02, config=dataclasses.replace(cfg, batch_size=5), seed=10)
    split = ais_log_likelihood(model, x, 0.02, config=dataclasses.replace(cfg, batch_size=2), seed=10)
    np.testing.assert_allclose(split.log_w, together.log_w, rtol=0, atol=1e-5)
    np.testing.assert_allclose(split.log_px, together.log_px, rtol=0, atol=1e-5)


def test_jacobian_matches_finite_differences() -> None:
    G = Parabola()
    z = torch.tensor([[0.3], [2.0]])
    j = jacobian(G, z, None)                               # [2, 4, 1]
    expected = (2 * (z - 0.5) * G.v)[..., None]
    torch.testing.assert_close(j, expected)


def test_modes_weights_and_allocation() -> None:
    G, sigma2 = Parabola(), 0.01
    x = G(torch.tensor([[3.5]]))
    modes = find_modes(G, x, None, sigma2, POSTERIOR.search, latents=torch.tensor([[[3.5]]]))
    mus = sorted(float(m) for m, ok in zip(modes.mu[0, :, 0], torch.isfinite(modes.log_weight[0])) if ok)
    assert mus == pytest.approx([-2.5, 3.5], abs=1e-3)
    w = torch.exp(modes.log_weight[0]).sum() + math.exp(modes.log_prior_weight)
    assert float(w) == pytest.approx(1.0)
    # the major mode (nearer the prior's centre) has the larger Laplace evidence, by e^3
    lap = {round(float(m), 1): float(l) for m, l in zip(modes.mu[0, :, 0], modes.laplace[0]) if math.isfinite(float(l))}
    assert lap[-2.5] - lap[3.5] == pytest.approx(3.0, abs=0.05)
    alloc = allocate(torch.log(torch.tensor([[0.7, 0.2, 0.1, 0.0]], dtype=torch.float64)), 4)
    assert sorted(alloc[0].tolist()) == [0, 0, 1, 2]       # every chain on a mode of weight > 0, most on the best
    alloc2 = allocate(torch.log(torch.tensor([[0.5, 0.3, 0.2]], dtype=torch.float64)), 2)
    assert sorted(alloc2[0].tolist()) == [0, 1]            # more modes than chains: the best ones


def test_config_errors() -> None:
    with pytest.raises(ValueError, match="start must be one of"):
        AISConfig(start="middle")
    with pytest.raises(ValueError, match="prior_weight"):
        SearchConfig(prior_weight=0.0)
    with pytest.raises(ValueError, match="latents are used by the posterior start only"):
        model = random_linear_gaussian((1, 4, 4), 2, seed=0)
        ais_log_likelihood(model, torch.zeros(1, 1, 4, 4), 0.1, config=AISConfig(progress=False), latents=torch.zeros(1, 1, 2))
    with pytest.raises(ValueError, match="latents are used by the posterior start only"):   # the reverse alike
        from ganaudit.density.bdmc import ais_upper_bound
        ais_upper_bound(model, torch.zeros(1, 1, 4, 4), torch.zeros(1, 2), 0.1, config=AISConfig(progress=False),
                        latents=torch.zeros(1, 1, 2))


def test_bdmc_sandwich_with_the_posterior_start() -> None:
    """Forward (lower) and reverse (upper) posterior-started AIS bracket the exact log-likelihood on simulated data,
    the reverse chains drawing their strata from the proposal's responsibilities."""
    from ganaudit.density.bdmc import bdmc

    model = random_linear_gaussian((1, 4, 4), 2, seed=5, scale=0.6)
    short = dataclasses.replace(POSTERIOR, n_steps=3, n_chains=2,
                                search=dataclasses.replace(POSTERIOR.search, proposal_scale=1.5))
    out = bdmc(model, 64, 0.05, config=short, seed=3)
    exact = exact_log_likelihood(model, out["x"], 0.05)
    assert np.mean(out["lower"]) < np.mean(exact) < np.mean(out["upper"])
    assert 0 < out["gap"] < 2.0


def test_gn_candidates_polish_a_start_into_the_heavier_basin() -> None:
    """Two starts, no descent: 3.5 sits at the minor preimage (U ≈ 6.1) and −1.0 on the slope of the major one
    (−2.5, U ≈ 3.1) far above it. Polishing only the lowest start keeps the minor mode; polishing both
    (``gn_candidates=2``) takes −1.0 down to −2.5, which then wins."""
    G, sigma2 = Parabola(), 0.01
    x = G(torch.tensor([[3.5]]))
    starts = torch.tensor([[[3.5], [-1.0]]])
    base = SearchConfig(search_restarts=0, extra_restarts=0, search_steps=0, n_modes=1, gn_steps=30)
    lone = find_modes(G, x, None, sigma2, base, starts)
    both = find_modes(G, x, None, sigma2, dataclasses.replace(base, gn_candidates=2), starts)
    assert abs(float(lone.mu[0, 0, 0]) - 3.5) < 0.01
    assert abs(float(both.mu[0, 0, 0]) + 2.5) < 0.01
    assert float(lone.energy[0, 0]) - float(both.energy[0, 0]) == pytest.approx(3.0, abs=2e-3)
    assert int(both.n_passes[0]) > int(lone.n_passes[0])


def test_gn_tol_stops_converged_rows() -> None:
    """On a linear-Gaussian model one Gauss–Newton step is exact: with ``gn_tol`` the rows stop after the next
    (gainless) step instead of running all ``gn_steps``, at the same modes."""
    model = random_linear_gaussian((1, 6, 6), 3, seed=1, scale=0.5)
    x, _ = simulate(model, 3, 0.02, seed=2)
    cfg = dataclasses.replace(POSTERIOR.search, search_steps=5, gn_steps=8)
    full = find_modes(model, x, None, 0.02, cfg)
    short = find_modes(model, x, None, 0.02, dataclasses.replace(cfg, gn_tol=1e-3))
    torch.testing.assert_close(short.energy, full.energy, rtol=0, atol=1e-6)
    k, d = cfg.n_modes, 3
    # the full run spends gn_steps · (d + 2) per polished row; the short one at most 3 steps
    assert np.all(full.n_passes.numpy() - short.n_passes.numpy() >= k * (8 - 3) * (d + 2))
    with pytest.raises(ValueError, match="gn_tol"):
        SearchConfig(gn_tol=-1.0)


def test_tempered_descent_follows_the_heavier_basin() -> None:
    """From 3.4, in the minor preimage's basin, plain descent stops at 3.5; tempered descent starts where the
    prior dominates (``b = 10⁻⁴``: the barrier at z = ½ is a fraction of a nat) and ends in the major basin, −2.5,
    3 nats lower in energy, for the same passes."""
    G, sigma2 = Parabola(), 0.01
    x = G(torch.tensor([[3.5]]))
    cfg = SearchConfig(search_restarts=0, extra_restarts=0, n_modes=1, gn_steps=2, search_steps=100)
    plain = find_modes(G, x, None, sigma2, cfg, torch.tensor([[[3.4]]]))
    tempered = find_modes(G, x, None, sigma2, dataclasses.replace(cfg, descent_beta0=1e-4), torch.tensor([[[3.4]]]))
    assert abs(float(plain.mu[0, 0, 0]) - 3.5) < 0.01
    assert abs(float(tempered.mu[0, 0, 0]) + 2.5) < 0.01
    assert float(plain.energy[0, 0]) - float(tempered.energy[0, 0]) == pytest.approx(3.0, abs=2e-3)
    assert int(plain.n_passes[0]) == int(tempered.n_passes[0])
    with pytest.raises(ValueError, match="descent_beta0"):
        SearchConfig(descent_beta0=0.0)


class Bent(nn.Module):
    """A small nonlinear generator, ``G(z) = tanh(A z + b)`` (4 latents, 48 pixels): curved, so at a large residual
    the Gauss–Newton model is not the Hessian."""

    latent_dim, image_shape, n_classes = 4, (3, 4, 4), None

    def __init__(self) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(11)
        self.register_buffer("a", torch.randn(48, 4, generator=g))
        self.register_buffer("b", 0.3 * torch.randn(48, generator=g))

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return torch.tanh(z @ self.a.T.to(z.dtype) + self.b.to(z.dtype)).view(-1, 3, 4, 4)


def test_lbfgs_reaches_the_linear_gaussian_mode_and_rows_are_independent() -> None:
    """On PPCA ``U`` is quadratic and its minimum is one exact Gauss–Newton step away: L-BFGS from far-off starts
    reaches the same point, never raises ``U``, counts one pass per iteration, and a row's result does not depend on
    the rows polished beside it."""
    from ganaudit.density.posterior import _gauss_newton, _lbfgs
    from ganaudit.density.target import energy

    model = random_linear_gaussian((1, 8, 8), 6, seed=7, scale=0.5)
    sigma2 = 0.02
    x, _ = simulate(model, 4, sigma2, seed=8)
    start = 3.0 * torch.randn(4, 6, generator=torch.Generator().manual_seed(9))
    mode, u_mode, _ = _gauss_newton(model, start.clone(), x, None, sigma2, 3, SearchConfig())
    z, u, passes = _lbfgs(model, start, x, None, sigma2, steps=80)
    torch.testing.assert_close(z, mode, rtol=0, atol=1e-3)
    np.testing.assert_allclose(u.numpy(), u_mode.numpy(), rtol=0, atol=1e-4)
    assert np.all(u.numpy() <= energy(model, start, x, None, sigma2).numpy())
    assert np.all(passes.numpy() >= 2) and np.all(passes.numpy() <= 81)
    # polish_tol: a row stops once |∇U|²/2 < tol (here the exact minimum), at the same point, for fewer passes
    z_tol, u_tol, p_tol = _lbfgs(model, start, x, None, sigma2, steps=80, tol=1e-6)
    np.testing.assert_allclose(u_tol.numpy(), u_mode.numpy(), rtol=0, atol=1e-4)
    assert np.all(p_tol.numpy() < 81) and np.all(p_tol.numpy() <= passes.numpy())
    # mid-way (not yet converged, where a shared line search or history would show): alone = together, up to
    # the float32 rounding of a batch of another size
    part = _lbfgs(model, start, x, None, sigma2, steps=12)[0]
    alone = torch.cat([_lbfgs(model, start[i:i + 1], x[i:i + 1], None, sigma2, steps=12)[0] for i in range(4)])
    assert float((part - start).abs().max()) > 0.1
    torch.testing.assert_close(alone, part, rtol=0, atol=1e-4)


def test_lbfgs_polish_reaches_a_stationary_point_and_lowers_the_modes() -> None:
    """A curved generator and a large residual (σ² = 0.5, noisy images): within 60 gradient passes L-BFGS sits at a
    stationary point of ``U`` (gradient ~0), as low as 10 Levenberg–Marquardt steps (60 passes at d + 2 = 6); in
    `find_modes` (``polish_steps``) the modes are no higher than without it, for at most ``n_modes · (polish_steps
    + 1)`` more passes. (Where L-BFGS beats LM, on the face GAN's 100 latents: benchmarks/bench_true_latent.py.)"""
    from ganaudit.density.posterior import _gauss_newton, _lbfgs, _value_grad

    G, sigma2 = Bent(), 0.5
    x, _ = simulate(G, 6, sigma2, seed=3)
    start = torch.randn(6, 4, generator=torch.Generator().manual_seed(4))
    z, u, _ = _lbfgs(G, start, x, None, sigma2, steps=60)
    _, u_lm, _ = _gauss_newton(G, start.clone(), x, None, sigma2, 10, SearchConfig())
    _, g = _value_grad(G, z.double(), x, None, sigma2)
    assert float(g.norm(dim=1).max()) < 1e-2
    assert np.all(u.numpy() <= u_lm.numpy() + 1e-6)
    cfg = SearchConfig(search_restarts=2, extra_restarts=0, search_candidates=32, search_steps=5, n_modes=2, gn_steps=0)
    plain = find_modes(G, x, None, sigma2, cfg)
    polished = find_modes(G, x, None, sigma2, dataclasses.replace(cfg, polish_steps=40))
    assert np.all(polished.energy.min(1).values.numpy() <= plain.energy.min(1).values.numpy() + 1e-6)
    extra = polished.n_passes.numpy() - plain.n_passes.numpy()
    assert np.all(extra > 0) and np.all(extra <= 2 * 41)
    # the estimator's pass count stays within its stated cost with the polish on
    config = dataclasses.replace(POSTERIOR, n_steps=4, search=dataclasses.replace(POSTERIOR.search, polish_steps=40))
    res = ais_log_likelihood(G, x[:2], sigma2, config=config, seed=0)
    assert np.all(res.evaluations <= cost(config, 4)["total"])
    with pytest.raises(ValueError, match="polish_steps"):
        SearchConfig(polish_steps=-1)
    with pytest.raises(ValueError, match="polish_tol"):
        SearchConfig(polish_tol=-1.0)


def test_direct_starts_skip_the_descent_and_join_the_refinement() -> None:
    """``direct_starts``: the last given latents go straight to L-BFGS. Parabola ``G(z) = (z − ½)² v`` at the image
    of 3.5: the descent from 3.5 alone finds the lighter preimage; a direct start at −2.3 is refined to the heavier
    one (−2.5, 3 nats lower) for at most ``polish_steps + 1`` more passes (no descent), and the mode there wins. The
    passes stay within the estimator's stated cost; asking for more direct starts than latents given is an error."""
    G, sigma2 = Parabola(), 0.01
    x = G(torch.tensor([[3.5]])).repeat(2, 1, 1, 1)
    lone = SearchConfig(search_restarts=0, extra_restarts=0, n_modes=1, gn_steps=0, polish_steps=30, search_lr=0.05)
    near = torch.full((2, 1, 1), 3.5)
    both = torch.cat([near, torch.full((2, 1, 1), -2.3)], 1)
    direct = find_modes(G, x, None, sigma2, dataclasses.replace(lone, direct_starts=1), both)
    alone = find_modes(G, x, None, sigma2, lone, near)
    np.testing.assert_allclose(alone.mu[:, 0, 0].numpy(), 3.5, atol=0.05)
    np.testing.assert_allclose(direct.mu[:, 0, 0].numpy(), -2.5, atol=0.05)
    np.testing.assert_allclose((alone.energy[:, 0] - direct.energy[:, 0]).numpy(), 3.0, atol=0.01)
    spent = direct.n_passes.numpy() - alone.n_passes.numpy()
    assert np.all(spent > 0) and np.all(spent <= lone.polish_steps + 1)
    config = dataclasses.replace(POSTERIOR, n_steps=4, search=dataclasses.replace(lone, direct_starts=1))
    res = ais_log_likelihood(G, x, sigma2, config=config, seed=0, latents=both)
    assert np.all(res.evaluations <= cost(config, 1, n_given=2)["total"])
    with pytest.raises(ValueError, match="direct_starts = 2 but only 1"):
        find_modes(G, x, None, sigma2, dataclasses.replace(lone, direct_starts=2), near)
    with pytest.raises(ValueError, match="no latents"):
        find_modes(G, x, None, sigma2, dataclasses.replace(lone, direct_starts=1, search_restarts=1))


def test_basin_hopping_reaches_the_basin_beside_a_refined_start() -> None:
    """``hop_starts``: a direct start refined into the lighter preimage of the parabola (3.5, U ≈ 6.1) stays there;
    points drawn around it from its Laplace approximation widened ``hop_scale`` times cross ½ and L-BFGS takes them
    to the heavier preimage (−2.5, 3 nats lower). With two mode slots both preimages are kept (hops that fall back
    to 3.5 are the same mode, not a second one). An image's hops come from its own seed, whatever its batch; the
    passes stay within the estimator's stated cost, and the estimate is then the quadrature value."""
    G, sigma2 = Parabola(), 0.01
    x = G(torch.tensor([[3.5]])).repeat(3, 1, 1, 1)
    near = torch.full((3, 2, 1), 3.5)                                  # one start descends, one is refined directly
    base = SearchConfig(search_restarts=0, extra_restarts=0, n_modes=1, gn_steps=0, polish_steps=40, direct_starts=1,
                        search_lr=0.05)
    hop = dataclasses.replace(base, hop_starts=16, hop_scale=400.0)   # the Laplace sd at 3.5 is 0.013
    seeds = np.array([3, 4, 5])
    lone = find_modes(G, x, None, sigma2, base, near, seeds)
    hopped = find_modes(G, x, None, sigma2, hop, near, seeds)
    np.testing.assert_allclose(lone.mu[:, 0, 0].numpy(), 3.5, atol=0.01)
    np.testing.assert_allclose(hopped.mu[:, 0, 0].numpy(), -2.5, atol=0.01)
    np.testing.assert_allclose((lone.energy - hopped.energy)[:, 0].numpy(), 3.0, atol=2e-3)
    two = find_modes(G, x, None, sigma2, dataclasses.replace(hop, n_modes=2), near, seeds)
    np.testing.assert_array_equal(two.n_modes.numpy(), 2)
    np.testing.assert_allclose(np.sort(two.mu[:, :, 0].numpy(), axis=1), [[-2.5, 3.5]] * 3, atol=0.01)
    alone = find_modes(G, x[1:2], None, sigma2, hop, near[1:2], seeds[1:2])
    torch.testing.assert_close(alone.mu[0], hopped.mu[1])
    assert int(alone.n_passes[0]) == int(hopped.n_passes[1])
    assert np.all(hopped.n_passes.numpy() - lone.n_passes.numpy() <= 1 + 16 * (40 + 2))   # d + hops (L-BFGS, U)
    config = dataclasses.replace(POSTERIOR, n_steps=4, search=dataclasses.replace(hop, n_modes=2))
    res = ais_log_likelihood(G, x, sigma2, config=config, seed=seeds, latents=near)
    assert np.all(res.evaluations <= cost(config, 1, n_given=2)["total"])
    np.testing.assert_allclose(res.log_px, quadrature_log_px(G, x[:1], sigma2), atol=0.15)
    with pytest.raises(ValueError, match="hop_scale"):
        SearchConfig(hop_scale=0.0)
    with pytest.raises(ValueError, match="hop_starts"):
        SearchConfig(hop_starts=-1)


def test_basin_hopping_keeps_one_mode_of_a_unimodal_posterior_under_its_class() -> None:
    """A class-conditional linear-Gaussian model has one posterior mode per image: hops under each image's class fall
    back into it and count once (one mode, not ``n_modes`` copies), and the estimate stays the exact value."""
    model = random_linear_gaussian((1, 4, 4), 3, seed=7, scale=0.5, n_classes=3)
    labels, sigma2 = torch.tensor([0, 2, 1]), 0.05
    x, _ = simulate(model, 3, sigma2, labels, seed=8)
    search = dataclasses.replace(POSTERIOR.search, hop_starts=3, polish_steps=20)
    modes = find_modes(model, x, labels, sigma2, search, seeds=np.arange(3))
    np.testing.assert_array_equal(modes.n_modes.numpy(), 1)
    res = ais_log_likelihood(model, x, sigma2, labels, config=dataclasses.replace(POSTERIOR, search=search), seed=0)
    np.testing.assert_allclose(res.log_px, exact_log_likelihood(model, x, sigma2, labels), atol=0.1)
