"""The StyleGAN2-shaped generator (`ganaudit.models.stylegan`): its shape at full size, seeded weights, the
``stylegan_like`` adapter kind, and a small variant through inversion, posterior-started AIS and typicality."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import torch

from ganaudit.density.ais import PRESETS, ais_log_likelihood, cost
from ganaudit.density.typicality import bootstrap_epsilon, entropy_estimate, typical_fraction
from ganaudit.manifold.inversion import InversionConfig, invert
from ganaudit.models.adapters import check_spec, load_generator
from ganaudit.models.stylegan import StyleGANLike, resolutions

SMALL = {"kind": "stylegan_like", "latent_dim": 16, "resolution": 16, "w_dim": 32, "mapping_layers": 2,
         "channel_base": 128, "channel_max": 16, "seed": 3}


def test_full_size_has_stylegan2s_shape() -> None:
    """512-d latent, 8 mapping layers, 512 channels up to 64², 256 at 128², 128 at 256², 3×256×256 images."""
    g = StyleGANLike(seed=0)
    assert resolutions(256) == [4, 8, 16, 32, 64, 128, 256] and resolutions(28) == [7, 14, 28]
    assert g.latent_dim == 512 and g.image_shape == (3, 256, 256) and len(g.mapping) == 8
    out_channels = [c.weight.shape[0] for c in g.convs]
    assert out_channels == [512] * 9 + [256] * 2 + [128] * 2
    assert [r.weight.shape[:2] for r in g.to_rgb][-1] == (3, 128)


def test_weights_follow_the_seed_and_the_kind_loads() -> None:
    z = torch.randn(2, 16, generator=torch.Generator().manual_seed(0))
    a, b = load_generator(SMALL), load_generator(SMALL)
    c = load_generator({**SMALL, "seed": 4})
    assert a.image_shape == (3, 16, 16) and a.latent_dim == 16 and a.n_classes is None
    with torch.no_grad():
        xa, xb, xc = a(z), b(z), c(z)
    assert torch.equal(xa, xb) and not torch.allclose(xa, xc)
    assert 0.05 < float(xa.std()) < 1.0                     # a modest spread around 0 with random weights
    fixed = load_generator({**SMALL, "noise": True})
    with torch.no_grad():
        assert torch.equal(fixed(z), fixed(z))              # fixed noise: still a function of z
    with pytest.raises(ValueError, match="unknown key 'width'"):
        check_spec({**SMALL, "width": 8})
    with pytest.raises(ValueError, match="resolution must be an integer"):
        load_generator({**SMALL, "resolution": 16.0})


def test_small_variant_through_inversion_ais_and_typicality() -> None:
    """Images the model made (plus noise) invert closer than their nearest start, posterior-started AIS spends
    exactly its cost's passes and stays below the likelihood's maximum, and noise images are atypical."""
    torch.set_num_threads(1)
    g, sigma2 = load_generator(SMALL), 0.01
    gen = torch.Generator().manual_seed(1)
    z = torch.randn(6, 16, generator=gen)
    with torch.no_grad():
        x = (g(z) + math.sqrt(sigma2) * torch.randn(6, *g.image_shape, generator=gen))
    inv = invert(g, x, config=InversionConfig(n_candidates=16, n_restarts=2, n_steps=20, lr=0.1, progress=False))
    assert bool((inv.restart_mse <= inv.init_mse).all()) and float(inv.mse.mean()) < float(inv.init_mse.min(1).values.mean())
    search = dataclasses.replace(PRESETS["posterior"].search, search_restarts=1, extra_restarts=0, search_steps=5,
                                 search_candidates=16, screen_steps=0, n_modes=1, gn_steps=1, memory_mb=64)
    cfg = dataclasses.replace(PRESETS["posterior"], n_steps=4, n_chains=1, prior_draws=1, search=search,
                              progress=False)
    noise = torch.rand(2, *g.image_shape, generator=gen) * 2 - 1
    res = ais_log_likelihood(g, torch.cat([x, noise]), sigma2, config=cfg, seed=0,
                             latents=torch.cat([inv.restart_z, torch.zeros(2, 2, 16)]))
    d_pixels = math.prod(g.image_shape)
    ceiling = -0.5 * d_pixels * math.log(2 * math.pi * sigma2)  # log p(x) ≤ max_z log p(x | z) ≤ this
    assert np.isfinite(res.log_px).all() and (res.log_px < ceiling).all()
    # the passes of the estimator's cost (which counts the on-manifold check's forward; without a second stage
    # the search skips it)
    assert res.evaluations is not None and set(res.evaluations.tolist()) == {cost(cfg, 16, n_given=2)["total"] - 1}
    log_px_model, log_px_noise = res.log_px[:6], res.log_px[6:]
    h = entropy_estimate(log_px_model)
    eps = bootstrap_epsilon(log_px_model, n=2, rng=0)
    assert log_px_noise.max() < log_px_model.min() - 1000   # noise is far off the manifold
    assert typical_fraction(log_px_noise, h, eps, n=2, rng=0) == 0.0
