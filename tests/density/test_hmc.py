"""ganaudit.density.hmc: the kernel leaves its target invariant, costs n_leapfrog evaluations, and freezes what
diverges."""

from __future__ import annotations

import math

import pytest
import torch

from ganaudit.density.hmc import hmc_transition, init_state, sanitize


def quadratic(m: float, s2: float, calls: list | None = None):
    def f(z):
        if calls is not None:
            calls.append(1)
        r = (z - m).double()
        return -0.5 * r.pow(2).sum(1) / s2, (-(z - m) / s2).to(z.dtype)

    return f


@pytest.mark.parametrize("beta", [0.3, 1.0])
def test_exact_samples_stay_exact(beta):
    """π_β ∝ N(z; 0, I) · N(z; m, s²)^β is Gaussian with precision 1 + β/s² and mean β m / s² / precision; chains
    started at exact draws keep its mean and variance after 20 transitions (within 5 standard errors)."""
    torch.manual_seed(0)
    n, d, m, s2 = 20000, 2, 1.0, 0.5
    prec = 1 + beta / s2
    mean, var = beta * m / s2 / prec, 1 / prec
    f = quadratic(m, s2)
    state = init_state(mean + torch.randn(n, d, dtype=torch.float64) * math.sqrt(var), f, 0.4, 0.65)
    for _ in range(20):
        state, _, bad = hmc_transition(state, beta, f, torch.randn(n, d, dtype=torch.float64),
                                       torch.rand(n, dtype=torch.float64).log(), 3)
        assert not bad.any()
    z = state.z
    assert (z.mean(0) - mean).abs().max() < 5 * math.sqrt(var / n)
    assert (z.var(0) - var).abs().max() < 5 * var * math.sqrt(2 / n)


def test_a_transition_costs_n_leapfrog_evaluations_and_adapts_the_step():
    calls = []
    f = quadratic(0.0, 1.0, calls)
    state = init_state(torch.zeros(4, 3, dtype=torch.float64), f, 0.1, 0.65)
    calls.clear()
    new, acc, _ = hmc_transition(state, 1.0, f, torch.randn(4, 3, dtype=torch.float64),
                                 torch.full((4,), -1e9, dtype=torch.float64), 7)
    assert len(calls) == 7 and acc.all()
    assert torch.allclose(new.step_size, torch.full((4,), 0.1 * 1.02, dtype=torch.float64))


def test_divergent_chains_are_rejected_frozen_and_counted():
    def f(z):
        ll, g = quadratic(0.0, 1.0)(z)
        nan = z[:, 0] > 0.5       # a likelihood that breaks down past z₀ = 0.5
        return torch.where(nan, torch.full_like(ll, float("nan")), ll), g

    z0 = torch.tensor([[0.4, 0.0], [-2.0, 0.0]], dtype=torch.float64)
    state = init_state(z0, f, 0.3, 0.65)
    p = torch.tensor([[5.0, 0.0], [0.1, 0.0]], dtype=torch.float64)   # chain 0 is pushed across the break
    new, acc, bad = hmc_transition(state, 1.0, f, p, torch.full((2,), -1e9, dtype=torch.float64), 3)
    assert bad.tolist() == [True, False] and acc.tolist() == [False, True]
    torch.testing.assert_close(new.z[0], z0[0])
    assert torch.isfinite(new.z).all() and torch.isfinite(new.loglik).all()


def test_sanitize():
    ll, g, ok = sanitize(torch.tensor([0.0, float("nan")], dtype=torch.float64), torch.tensor([[1.0], [2.0]]))
    assert ok.tolist() == [True, False] and ll[1] == -math.inf and g[1, 0] == 0.0
