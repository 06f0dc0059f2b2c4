"""ganaudit.density.bdmc and the reverse paths it runs: unbiasedness of the reverse (1/p(x)) and of the multi-stratum
forward posterior start on a model with two posterior modes and an exact likelihood, annealing in every reverse
stratum, step sizes that do not depend on the exact sample, per-image streams, and the degenerate verdict."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import torch
from scipy.stats import norm

from ganaudit.density import annealing
from ganaudit.density.ais import PRESETS, ais_log_likelihood
from ganaudit.density.bdmc import DEGENERATE_FRACTION, ReverseResult, ais_upper_bound, bdmc, simulate, summary
from ganaudit.density.posterior_ais import posterior_reverse_batch

SIGMA2 = 0.05


class Folded(torch.nn.Module):
    """``G(z) = b + W [|z_1|, z_2]``: a piecewise-linear generator whose posterior has two mirror-image modes
    (``z_1`` and ``−z_1``), with the exact ``log p(x) = log 2 + log N(x; b, WWᵀ + σ²I) + log Φ(m_1 / s_1)``, where
    ``N(m, S)`` is the linear model's posterior of ``y = [|z_1|, z_2]`` (the prior is symmetric in ``z_1``)."""

    def __init__(self) -> None:
        super().__init__()
        self.latent_dim, self.image_shape, self.n_classes = 2, (1, 2, 2), None
        self.w = torch.nn.Parameter(torch.tensor([[1.2, 0.3], [-0.5, 1.0], [0.8, -0.6], [0.4, 0.9]],
                                                 dtype=torch.float64), requires_grad=False)
        self.b = torch.nn.Parameter(torch.tensor([0.1, -0.2, 0.0, 0.3], dtype=torch.float64), requires_grad=False)

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        y = torch.stack([z[:, 0].abs(), z[:, 1]], 1).to(self.w.dtype)
        return (self.b + y @ self.w.T).view(-1, *self.image_shape)

    def exact(self, x: torch.Tensor, sigma2: float) -> np.ndarray:
        w, b = self.w.detach(), self.b.detach()
        r = x.reshape(len(x), -1).double() - b
        cov = w @ w.T + sigma2 * torch.eye(4, dtype=torch.float64)
        lin = torch.distributions.MultivariateNormal(torch.zeros(4, dtype=torch.float64), cov).log_prob(r)
        m_inv = torch.linalg.inv(w.T @ w + sigma2 * torch.eye(2, dtype=torch.float64))
        mean = r @ (m_inv @ w.T).T                                       # [N, 2], the linear posterior's mean
        sd1 = math.sqrt(sigma2 * float(m_inv[0, 0]))
        return (math.log(2) + lin.numpy() + norm.logcdf(mean[:, 0].numpy() / sd1))


def _config(n_steps=30, n_chains=3, n_modes=2, prior_weight=0.2):
    post = PRESETS["posterior"]
    return dataclasses.replace(post, n_steps=n_steps, n_chains=n_chains, progress=False,
                               search=dataclasses.replace(post.search, n_modes=n_modes, prior_weight=prior_weight))


def test_folded_model_exact_likelihood_integrates():
    """The closed form against a quadrature over the latent plane (a wrong log 2 or Φ costs ≥ 0.1 nat)."""
    model = Folded()
    x, _ = simulate(model, 3, SIGMA2, seed=2)
    g = torch.linspace(-6, 6, 801, dtype=torch.float64)
    z = torch.cartesian_prod(g, g)
    img = model(z).reshape(len(z), -1)
    log_prior = -0.5 * z.pow(2).sum(1) - math.log(2 * math.pi)
    area = float(g[1] - g[0]) ** 2
    for i in range(3):
        ll = -0.5 * (x[i].reshape(-1) - img).pow(2).sum(1) / SIGMA2 - 2 * math.log(2 * math.pi * SIGMA2)
        quad = torch.logsumexp(ll + log_prior, 0).item() + math.log(area)
        assert abs(quad - model.exact(x[i:i + 1], SIGMA2)[0]) < 1e-3


def test_forward_posterior_start_is_unbiased_over_strata():
    """Two modes with unequal chain counts (2 and 1 of 3 chains) and a defensive component of weight 0.2: the mean
    of p̂/p over 240 independent runs (8 images × 30 seeds) lies within 4 standard errors of 1."""
    model = Folded()
    x, _ = simulate(model, 8, SIGMA2, seed=11)
    reps = 30
    xr = x.repeat_interleave(reps, 0)
    res = ais_log_likelihood(model, xr, SIGMA2, config=_config(n_steps=20), seed=np.arange(len(xr)) * 7 + 1)
    counts = np.array([np.bincount(m, minlength=2) for m in res.mode])
    assert (np.sort(counts, 1) == [1, 2]).all(1).mean() > 0.5   # most runs: two strata, 2 chains and 1
    ratio = np.exp(res.log_px - model.exact(xr, SIGMA2))
    se = ratio.std(ddof=1) / math.sqrt(len(ratio))
    assert abs(ratio.mean() - 1) < 4 * se and se < 0.05


def test_reverse_estimates_one_over_p_even_where_the_proposal_misses():
    """One mode in the proposal, so a third of the exact samples lie in the missed mirror basin and their chains
    anneal in the defensive stratum: exp(exact − upper) = p(x) · mean W has mean 1 within 2 standard errors over 120
    simulated images (σ² = 0.2 and 400 temperatures keep the reverse weights' tail light: at 20 temperatures and
    σ² = 0.05 the sample mean is 0.85 ± 0.04, the heavy tail of an unbiased estimate, not a bias)."""
    model = Folded()
    x, z = simulate(model, 120, 0.2, seed=21)
    up = ais_upper_bound(model, x, z, 0.2, config=_config(n_steps=400, n_chains=2, n_modes=1), seed=5)
    assert isinstance(up, ReverseResult) and up.log_w.shape == (120, 2)
    assert 0.2 < np.mean(up.defensive_fraction) < 0.8
    ratio = np.exp(model.exact(x, 0.2) - up.log_px)
    se = ratio.std(ddof=1) / math.sqrt(len(ratio))
    assert abs(ratio.mean() - 1) < 2 * se and se < 0.08
    assert np.all(up.degenerate_fraction == 0)   # every chain moved, the defensive ones too


def test_reverse_estimate_changes_with_the_temperatures_in_the_defensive_stratum():
    """A chain that takes the one-sample weight gives the same number at any schedule; an annealed one does not."""
    model = Folded()
    x, z = simulate(model, 12, SIGMA2, seed=31)
    cfg = _config(n_steps=10, n_modes=1)
    a = ais_upper_bound(model, x, z, SIGMA2, config=cfg, seed=3)
    b = ais_upper_bound(model, x, z, SIGMA2, config=dataclasses.replace(cfg, n_steps=40), seed=3)
    np.testing.assert_array_equal(a.defensive, b.defensive)   # the picks do not depend on the schedule
    only_defensive = a.defensive_fraction == 1
    assert only_defensive.any()
    assert np.all(np.abs(a.log_px - b.log_px)[only_defensive] > 1e-6)


def test_reverse_step_sizes_do_not_depend_on_the_start():
    """The pilot tunes from the base, forward: two different exact samples get the same frozen step sizes, those of
    the forward run reversed (the old pilot started at u0 and gave 0.61 and 0.41 vs 0.61 and 0.61 here)."""
    from ganaudit.density.target import make_loglik

    model = Folded()
    x, _ = simulate(model, 1, SIGMA2, seed=4)
    cfg = _config(n_steps=80, n_chains=2)
    g = make_loglik(model, x.repeat_interleave(2, 0), None, SIGMA2)
    betas, seeds, cpu = annealing.betas_of(cfg), np.array([9]), torch.device("cpu")
    runs = [annealing.run_chains(g, cfg, betas[::-1].copy(), seeds, 2, cpu, torch.float64, "r", u0=u0)
            for u0 in (torch.zeros(2, 2, dtype=torch.float64), torch.full((2, 2), 3.0, dtype=torch.float64))]
    torch.testing.assert_close(runs[0].step_trace, runs[1].step_trace, rtol=0, atol=0)
    # the reverse pilot is a forward one from the base, with a rate that can reach step_size_min (0.5 → 1e-4 in 9
    # transitions: (5000)^(1/9) − 1), its trace reversed
    rate = annealing.reverse_pilot_rate(cfg)
    assert cfg.pilot_steps == 10 and rate == pytest.approx(5000 ** (1 / 9) - 1)
    kernel = annealing.kernel_of(cfg)
    pilot = annealing.tune_step_sizes(g, lambda st: st.normal().double(), betas, kernel, seeds, 2, 2, cpu, 10,
                                      lambda n: annealing.betas_of(cfg, n), rate)
    torch.testing.assert_close(runs[0].step_trace, pilot.flip(0).to(runs[0].step_trace.dtype), rtol=0, atol=0)
    assert not torch.equal(pilot[0], pilot[-1])   # the steps do vary along the path


def test_reverse_picks_use_each_images_own_stream():
    """An image's strata and weights do not depend on the other images of its batch (the old picks all came from
    the first image's stream)."""
    model = Folded()
    x, z = simulate(model, 3, 0.5, seed=41)
    cfg = _config(n_steps=10, n_modes=1, prior_weight=0.5)
    seeds = np.array([100, 200, 300])
    whole = posterior_reverse_batch(model, x, z, None, 0.5, cfg, seeds)
    part = posterior_reverse_batch(model, x[1:], z[1:], None, 0.5, cfg, seeds[1:])
    for a, b in zip(whole, part):
        np.testing.assert_array_equal(a[1:], b)


def test_bdmc_reports_strata_and_flags_a_degenerate_run():
    model = Folded()
    cfg = _config(n_steps=20, n_modes=1)
    out = bdmc(model, 6, SIGMA2, config=cfg, seed=1)
    assert not out["degenerate"] and np.isfinite(out["gap"]) and out["gap"] == out["gap_unchecked"]
    assert out["defensive_fraction"].shape == out["degenerate_fraction"].shape == (6,)
    # chains that can never move (step sizes of 1e4 latent units: every proposal lands where G is 10^4 away)
    stuck = dataclasses.replace(cfg, step_size=1e4, step_size_min=1e4, step_size_max=1e4, step_tuning="chain")
    bad = bdmc(model, 6, SIGMA2, config=stuck, seed=1)
    assert bad["degenerate"] and math.isnan(bad["gap"]) and np.isfinite(bad["gap_unchecked"])
    assert np.mean(bad["degenerate_fraction"]) >= DEGENERATE_FRACTION


def test_summary_states_no_gap_when_degenerate():
    ok = {"degenerate": False, "gap": 3.0, "upper": np.array([1.0, 5.0]), "lower": np.array([0.0, 0.0]),
          "defensive_fraction": np.array([1.0, 0.5]), "degenerate_fraction": np.array([0.0, 0.5]),
          "upper_accept_rate": np.array([0.6, 0.4])}
    s = summary(ok)
    assert s["bdmc_status"] == "bounds" and s["gap_mean_nats"] == 3.0 and s["gap_max_nats"] == 5.0
    assert s["reverse_defensive_per_image"] == "1.00 0.50" and s["reverse_defensive_fraction"] == 0.75
    assert s["reverse_degenerate_per_image"] == "0.00 0.50" and abs(s["reverse_accept_rate"] - 0.5) < 1e-12
    bad = summary({**ok, "degenerate": True, "degenerate_fraction": np.array([1.0, 0.5])})
    assert bad["bdmc_status"].startswith("degenerate: 75 %") and math.isnan(bad["gap_mean_nats"])
    assert math.isnan(bad["gap_max_nats"])
