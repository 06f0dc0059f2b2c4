"""ganaudit.density.annealing: schedules, the annealing loop's weights against a known normaliser, the cost of a run,
per-image streams, and the pilot pass that freezes the step sizes."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from ganaudit.data.stats import log_mean_exp
from ganaudit.density.ais import AISConfig
from ganaudit.density.annealing import Kernel, Streams, anneal, betas_of, run_chains, schedule


@pytest.mark.parametrize("name", ["sigmoid", "geometric", "linear"])
@pytest.mark.parametrize("n", [1, 2, 7, 500])
def test_schedule_endpoints_and_monotone(name: str, n: int) -> None:
    b = schedule(name, n)
    assert b.shape == (n + 1,) and b.dtype == np.float64
    assert b[0] == 0.0 and b[-1] == 1.0
    assert np.all(np.diff(b) > 0)


def test_schedule_values() -> None:
    # sigmoid is symmetric about its middle (value exactly 1/2) and follows Wu et al.'s formula
    b = schedule("sigmoid", 10, radius=4.0)
    assert b[5] == pytest.approx(0.5, abs=1e-15)
    s = 1 / (1 + np.exp(-np.linspace(-4, 4, 11)))
    np.testing.assert_allclose(b, (s - s[0]) / (s[-1] - s[0]), rtol=1e-12, atol=1e-15)
    g = schedule("geometric", 5, start=1e-4)
    np.testing.assert_allclose(g, [0, 1e-4, 1e-3, 1e-2, 1e-1, 1], rtol=1e-12)
    with pytest.raises(ValueError, match="schedule name"):
        schedule("cosine", 10)


def gaussian_g(m: float, s2: float):
    """``g(u) = −|u − m|² / (2 s²)`` on ``d`` dims: ``log ∫ N(u; 0, I) e^{g(u)} du = d/2 · log(s²/(1+s²)) − d m²/(2(1+s²))``."""
    calls = []

    def g(u):
        calls.append(len(u))
        r = (u - m).double()
        return -0.5 * r.pow(2).sum(1) / s2, (-(u - m) / s2).to(u.dtype)

    return g, calls


def exact_log_z(d: int, m: float, s2: float) -> float:
    return 0.5 * d * math.log(s2 / (1 + s2)) - d * m * m / (2 * (1 + s2))


def test_anneal_weights_estimate_the_known_normaliser_and_cost_one_plus_t_minus_one_l():
    d, m, s2, chains, t, leap = 3, 1.5, 0.05, 400, 200, 3
    g, calls = gaussian_g(m, s2)
    streams = Streams(np.arange(chains), 1, d, torch.device("cpu"))
    run = anneal(g, streams.normal().double(), schedule("sigmoid", t), Kernel(leap, 0.1, adapt=True), streams)
    est = float(log_mean_exp(run.log_w.numpy()))
    # the estimate of Z is unbiased; its log is within a few standard errors of the log of its mean
    se = float(np.std(np.exp(run.log_w.numpy() - est)) / math.sqrt(chains))
    assert abs(est - exact_log_z(d, m, s2)) < max(5 * se, 0.05), (est, exact_log_z(d, m, s2), se)
    assert sum(calls) == chains * (1 + (t - 1) * leap)
    assert run.step_trace.shape == (t - 1, chains) and run.n_divergent.sum() == 0


def test_reversed_betas_give_the_reciprocal():
    """From exact samples of the target, annealing β from 1 to 0 estimates 1 / Z (reverse AIS)."""
    d, m, s2, chains = 2, 0.5, 0.5, 2000
    g, _ = gaussian_g(m, s2)
    prec = 1 + 1 / s2
    streams = Streams(np.arange(chains), 1, d, torch.device("cpu"))
    exact = (m / s2 / prec + streams.normal().double() / math.sqrt(prec))
    run = anneal(g, exact, schedule("linear", 50)[::-1].copy(), Kernel(2, 0.3, adapt=True), streams)
    assert float(-log_mean_exp(run.log_w.numpy())) == pytest.approx(exact_log_z(d, m, s2), abs=0.05)


def test_streams_are_per_image():
    a = Streams(np.array([3, 4]), 2, 5, torch.device("cpu")).normal()
    b = Streams(np.array([4]), 2, 5, torch.device("cpu")).normal()
    torch.testing.assert_close(a[2:], b, rtol=0, atol=0)


def test_pilot_pass_freezes_one_step_size_per_transition_and_changes_nothing_else():
    d, m, s2 = 2, 1.0, 0.1
    g, calls = gaussian_g(m, s2)
    cfg = AISConfig(n_steps=40, n_leapfrog=2, n_chains=8, step_tuning="pilot", pilot_fraction=0.25, progress=False)
    run = run_chains(g, cfg, betas_of(cfg), np.arange(3), d, torch.device("cpu"), torch.float64, "test")
    assert run.log_w.shape == (3 * 8,)
    # frozen: the same step size for a chain whether its image runs alone or in a batch
    alone = run_chains(g, cfg, betas_of(cfg), np.arange(1, 2), d, torch.device("cpu"), torch.float64, "test")
    torch.testing.assert_close(run.step_trace[:, 8:16], alone.step_trace, rtol=0, atol=0)
    torch.testing.assert_close(run.log_w[8:16], alone.log_w, rtol=0, atol=0)
