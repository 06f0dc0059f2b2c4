"""ganaudit.density.posterior_ais: one batch of posterior-started AIS, forward and reverse, on a linear-Gaussian
model (the Laplace proposal is its exact posterior, so both directions land on the exact log p(x))."""

from __future__ import annotations

import dataclasses

import numpy as np
import torch

from ganaudit.data.stats import log_mean_exp
from ganaudit.density.ais import PRESETS
from ganaudit.density.bdmc import simulate
from ganaudit.density.posterior_ais import Strata, pilot_evaluations, posterior_batch, posterior_reverse_batch
from ganaudit.models.ppca import exact_log_likelihood, random_linear_gaussian

CFG = dataclasses.replace(PRESETS["posterior"], n_steps=20, progress=False)


def _model():
    model = random_linear_gaussian((1, 6, 6), 3, seed=5, scale=0.5)
    x, z = simulate(model, 3, 0.02, seed=6)
    return model, x, z


def test_forward_batch_is_exact_on_a_linear_gaussian_and_counts_its_passes():
    model, x, _ = _model()
    seeds = np.arange(3) * 101
    log_w, rate, div, defensive, mode, laplace, evals = posterior_batch(model, x, None, 0.02, CFG, seeds, None)
    c = CFG.n_chains
    assert log_w.shape == rate.shape == div.shape == mode.shape == (3, c) and defensive.shape == (3, CFG.prior_draws)
    est = log_mean_exp(np.concatenate([log_w, defensive], 1), axis=-1) + np.log((c + CFG.prior_draws) / c)
    np.testing.assert_allclose(est, exact_log_likelihood(model, x, 0.02), atol=0.05)
    np.testing.assert_allclose(laplace, exact_log_likelihood(model, x, 0.02), atol=0.05)   # the Laplace value is exact
    st = Strata(model, x, None, 0.02, CFG, seeds, None)
    assert np.all(evals == st.modes.n_passes.numpy() + c * (CFG.gradient_evaluations + pilot_evaluations(CFG))
                  + CFG.prior_draws)
    assert all(np.bincount(a, minlength=1).sum() == c for a in st.alloc)   # every chain has a stratum


def test_reverse_batch_bounds_from_the_exact_latent():
    model, x, z = _model()
    log_w, rate, div, defensive = posterior_reverse_batch(model, x, torch.as_tensor(z), None, 0.02, CFG,
                                                          np.arange(3) * 101)
    upper = -log_mean_exp(log_w, axis=-1)   # per chain, log W estimates −log p(x)
    np.testing.assert_allclose(upper, exact_log_likelihood(model, x, 0.02), atol=0.05)
    assert rate.shape == div.shape == defensive.shape == (3, CFG.n_chains) and (rate > 0.5).all() and (div == 0).all()
    assert set(np.unique(defensive)) <= {0.0, 1.0}


def test_pilot_evaluations():
    cfg = dataclasses.replace(CFG, step_tuning="pilot", n_steps=40, pilot_fraction=0.125, n_leapfrog=3)
    assert cfg.pilot_steps == 5 and pilot_evaluations(cfg) == 1 + 4 * 3
    assert pilot_evaluations(dataclasses.replace(CFG, step_tuning="chain")) == 0
