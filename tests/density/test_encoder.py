"""The amortised start (`ganaudit.density.encoder`) where the answer is known: a linear-Gaussian model (the
encoder's latent error against the Bayes floor, the trace of the exact posterior covariance) and the parabola whose
heavier preimage no pixel-near start reaches (the encoder's start finds it; the estimate becomes exact)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from ganaudit.artifacts.store import ArtifactError
from ganaudit.density.ais import PRESETS, ais_log_likelihood
from ganaudit.density.bdmc import simulate
from ganaudit.density.encoder import (Encoder, EncoderConfig, add_encoder_start, encode, load_encoder, save_encoder,
                                      train_encoder, with_encoder_starts)
from ganaudit.density.posterior import SearchConfig
from ganaudit.density.true_latent import search_gap
from ganaudit.models.ppca import random_linear_gaussian
from tests.density.test_posterior import Parabola, quadrature_log_px


def test_linear_gaussian_encoder_approaches_the_bayes_floor() -> None:
    """For ``x = W z + b + σ ε`` the best any encoder can do is ``E[z | x]``, whose mean squared error is
    ``tr (I + WᵀW/σ²)⁻¹``; the trained encoder's held-out error is near that floor and far below the prior's."""
    model = random_linear_gaussian((1, 8, 8), 4, seed=3, scale=0.5)
    sigma2 = 0.05
    enc, check = train_encoder(model, sigma2, EncoderConfig(steps=400, batch_size=64, lr=3e-3, holdout=2048), seed=1)
    w = model.weight[0].double()
    floor = float(torch.linalg.inv(torch.eye(4, dtype=torch.float64) + w.T @ w / sigma2).trace())
    assert check["prior_mse"] == pytest.approx(4.0, rel=0.1)
    assert check["holdout_mse"] < 0.25 * check["prior_mse"]
    assert check["holdout_mse"] < 1.2 * floor + 0.01, (check, floor)   # 0.061 vs 0.058 when written
    assert not enc.training and not any(p.requires_grad for p in enc.parameters())


def test_training_is_seeded_and_saving_round_trips(tmp_path) -> None:
    model = random_linear_gaussian((1, 8, 8), 2, seed=0)
    cfg = EncoderConfig(steps=5, batch_size=8, holdout=16)
    a, check_a = train_encoder(model, 0.1, cfg, seed=4)
    b, check_b = train_encoder(model, 0.1, cfg, seed=4)
    c, _ = train_encoder(model, 0.1, cfg, seed=5)
    x, _ = simulate(model, 3, 0.1, seed=9)
    assert check_a == check_b
    torch.testing.assert_close(encode(a, x), encode(b, x))
    assert not torch.allclose(encode(a, x), encode(c, x))
    save_encoder(tmp_path / "e.pt", a, {"holdout_mse": check_a["holdout_mse"]})
    torch.testing.assert_close(encode(load_encoder(tmp_path / "e.pt"), x), encode(a, x))
    (tmp_path / "bad.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ArtifactError, match="bad.pt"):
        load_encoder(tmp_path / "bad.pt")
    torch.save({"format": "other"}, tmp_path / "other.pt")
    with pytest.raises(ArtifactError, match="encoder checkpoint"):
        load_encoder(tmp_path / "other.pt")


def test_the_encoder_start_finds_the_heavier_preimage() -> None:
    """``G(z) = (z − ½)² v``: the image of 3.5 is also the image of −2.5, which holds e³ ≈ 20 times the mass. A search
    started only at 3.5 (the pixel-nearest start) stays 3 nats short in energy and its estimate falls short; the
    encoder predicts ``E[z | x]``, on the heavier side of ½, so with its start the search reaches the true latent's
    basin (gap 0) and the estimate is the quadrature value."""
    G, sigma2 = Parabola(), 0.01
    enc, check = train_encoder(G, sigma2, EncoderConfig(steps=300, batch_size=256, lr=1e-2), seed=0)
    assert check["holdout_mse"] < check["prior_mse"]
    x = G(torch.tensor([[3.5]])).repeat(6, 1, 1, 1)
    start = encode(enc, x)
    assert torch.all(start < 0.5)                                # the heavier preimage's side
    lone = SearchConfig(search_restarts=0, extra_restarts=0, n_modes=1, polish_steps=20)
    cfg = dataclasses.replace(PRESETS["posterior"], search=lone, progress=False)
    near = np.full((6, 1, 1, 1), 3.5, dtype=np.float32)          # [n, K, R, d]
    cfg_enc, both = add_encoder_start(cfg, near, enc, x, None)
    assert both.shape == (6, 1, 2, 1) and cfg_enc.search.direct_starts == 1
    np.testing.assert_array_equal(both[:, :, 1], with_encoder_starts(None, enc, x, None)[:, :, 0])
    z_true = torch.full((6, 1), -2.5)
    without = search_gap(G, x, z_true, sigma2, lone, latents=torch.as_tensor(near[:, 0]))
    with_enc = search_gap(G, x, z_true, sigma2, cfg_enc.search, latents=torch.as_tensor(both[:, 0]))
    np.testing.assert_allclose(without.gap, 3.0, atol=2e-3)
    np.testing.assert_allclose(with_enc.gap, 0.0, atol=2e-3)
    exact = quadrature_log_px(G, x[:1], sigma2)
    est = ais_log_likelihood(G, x, sigma2, config=cfg_enc, seed=np.arange(6), latents=torch.as_tensor(both[:, 0]))
    np.testing.assert_allclose(est.log_px, exact, atol=0.15)
    assert add_encoder_start(cfg, near, None, x, None) == (cfg, near)                       # no encoder: unchanged
    assert add_encoder_start(PRESETS["paper"], near, enc, x, None) == (PRESETS["paper"], near)   # no mode search


def test_inputs() -> None:
    with pytest.raises(ValueError, match="steps"):
        EncoderConfig(steps=-1)
    with pytest.raises(ValueError, match="lr"):
        EncoderConfig(steps=1, lr=0)
    model = random_linear_gaussian((1, 8, 8), 2, seed=0)
    with pytest.raises(ValueError, match="off"):
        train_encoder(model, 0.1, EncoderConfig())
    enc = Encoder((1, 8, 8), 2)
    with pytest.raises(ValueError, match="shape"):
        encode(enc, torch.zeros(1, 3, 8, 8))
    x = torch.zeros(2, 1, 8, 8)
    assert with_encoder_starts(None, None, x, None) is None
    assert with_encoder_starts(None, enc, x, 3).shape == (2, 3, 1, 2)          # one start under every class
    with pytest.raises(ValueError, match="do not match"):
        with_encoder_starts(np.zeros((2, 1, 4, 5)), enc, x, None)


def test_bdmc_checks_the_search_with_the_encoder_start() -> None:
    """The BDMC's estimator is the run's, encoder start included, in both directions (`ganaudit.density.bdmc.bdmc`),
    so its gap sees what that search misses. On the parabola, a search from one pool latent in the lighter half
    (z > ½) finds only the lighter preimage of every image: where the image was drawn well inside the heavier half
    (z < ¼; nearer ½ the two preimages' bumps overlap) the lower bound falls short and the reverse chains, started at the true latent, anneal to a proposal with no
    mode there, so the gap is nats wide. With the encoder's start the search keeps both preimages and both bounds
    are the quadrature value on every image."""
    from ganaudit.density.bdmc import bdmc

    G, sigma2 = Parabola(), 0.01
    enc, _ = train_encoder(G, sigma2, EncoderConfig(steps=300, batch_size=256, lr=1e-2), seed=0)
    lone = SearchConfig(search_restarts=1, search_candidates=1, search_seed=0, search_steps=0, extra_restarts=0,
                        n_modes=2, polish_steps=20)
    g = torch.Generator().manual_seed(lone.search_seed)
    assert float(torch.randn(1, 1, generator=g)) > 1.0          # the one pool latent: the lighter half
    cfg = dataclasses.replace(PRESETS["posterior"], search=lone, progress=False)
    without = bdmc(G, 8, sigma2, config=cfg, seed=3)
    with_enc = bdmc(G, 8, sigma2, config=cfg, seed=3, encoder=enc)
    torch.testing.assert_close(with_enc["x"], without["x"])     # the same simulated images
    exact = np.array([quadrature_log_px(G, with_enc["x"][i:i + 1], sigma2) for i in range(8)])
    heavy = (without["z"][:, 0] < 0.25).numpy()
    assert 3 <= heavy.sum() <= 6
    gap_without = without["upper"] - without["lower"]
    assert np.all(gap_without[heavy] > 3.0)                     # the missed basin shows as the image's gap
    assert np.all(gap_without[~heavy] < 0.5)
    np.testing.assert_allclose(with_enc["lower"], exact, atol=0.15)   # found: both bounds at the exact value
    np.testing.assert_allclose(with_enc["upper"], exact, atol=0.15)
