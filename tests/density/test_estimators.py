"""ganaudit.density.estimators: the table AISConfig.start names; every caller goes through it."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from ganaudit.density.ais import PRESETS, STARTS, AISConfig, cost
from ganaudit.density.bdmc import simulate
from ganaudit.density.estimators import ESTIMATORS, chain_evaluations, estimator, image_seeds
from ganaudit.models.ppca import random_linear_gaussian


def test_the_table_is_the_list_of_starts_and_names_unknown_ones():
    assert STARTS == tuple(ESTIMATORS) == ("prior", "posterior")
    assert estimator(PRESETS["paper"]).name == "prior" and estimator(PRESETS["posterior"]).name == "posterior"
    with pytest.raises(ValueError, match="unknown estimator 'nope'"):
        estimator(type("C", (), {"start": "nope"})())


def test_cost_adds_the_entrys_search_to_the_chains():
    cfg = PRESETS["posterior"]
    c = cost(cfg, 8, n_given=2)
    extra = ESTIMATORS["posterior"].search_cost(cfg, 8, 2)
    assert c["gradient"] == chain_evaluations(cfg) + extra["gradient"] and c["jvp"] == extra["jvp"]
    assert c["total"] == c["gradient"] + c["jvp"] + c["forward"]
    assert cost(PRESETS["paper"], 8) == {"gradient": chain_evaluations(PRESETS["paper"]), "jvp": 0, "forward": 0,
                                         "total": chain_evaluations(PRESETS["paper"])}


def test_prior_forward_batch_shapes_and_defaults():
    model = random_linear_gaussian((1, 4, 4), 2, seed=0, scale=0.5)
    x, z = simulate(model, 2, 0.05, seed=1)
    cfg = AISConfig(n_steps=10, n_leapfrog=1, n_chains=3, progress=False)
    b = ESTIMATORS["prior"].forward(model, x, None, 0.05, cfg, image_seeds(0, 2), None)
    assert b.log_w.shape == (2, 3) and b.defensive.shape == (2, 0) and (b.mode == -1).all()
    assert np.isnan(b.laplace).all() and (b.evaluations == chain_evaluations(cfg)).all()
    log_w, rate, div, defensive = ESTIMATORS["prior"].reverse(model, x, torch.as_tensor(z), None, 0.05, cfg,
                                                              image_seeds(0, 2))
    assert log_w.shape == rate.shape == div.shape == defensive.shape == (2, 3) and np.isnan(defensive).all()
    post = dataclasses.replace(PRESETS["posterior"], n_steps=10, progress=False)
    log_w, rate, div, defensive = ESTIMATORS["posterior"].reverse(model, x, torch.as_tensor(z), None, 0.05, post,
                                                                  image_seeds(0, 2))
    assert (rate > 0).all() and (div == 0).all() and np.isfinite(log_w).all()   # every chain anneals
    assert np.isin(defensive, [0.0, 1.0]).all()


def test_image_seeds():
    assert image_seeds(5, 3).tolist() == [5, 6, 7]
    assert image_seeds(np.array([9, 1]), 2).tolist() == [9, 1]
    with pytest.raises(ValueError, match=r"shape \(3,\)"):
        image_seeds(np.array([1, 2]), 3)
