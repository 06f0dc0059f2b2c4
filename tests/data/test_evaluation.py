import numpy as np
import pytest
import torch

from ganaudit.data import evaluation
from ganaudit.data.images import ImageGroup
from ganaudit.density import ais
from ganaudit.manifold import inversion
from ganaudit.models.ppca import random_linear_gaussian
from ganaudit.workflow import plan


def test_evaluation_pairs_own_class_vs_all_classes():
    rows, cols = evaluation.evaluation_pairs("train", np.array([2, 0]), 3)
    assert rows.tolist() == [0, 1] and cols.tolist() == [2, 0]
    rows, cols = evaluation.evaluation_pairs("test", np.array([2, 0]), 3)
    assert rows.tolist() == [0, 0, 0, 1, 1, 1] and cols.tolist() == [0, 1, 2, 0, 1, 2]
    rows, cols = evaluation.evaluation_pairs("animals", np.array([-1]), None)
    assert rows.tolist() == [0] and cols.tolist() == [-1]


def test_marginal_log_px_mixture_and_own_class_bound():
    lpc = np.array([[-10.0, -10.0], [0.0, -1000.0]])
    m = evaluation.marginal_log_px(lpc, np.array([-1, -1]), "test")
    np.testing.assert_allclose(m, [-10.0, np.log(0.5)])
    own = np.array([[np.nan, -5.0]])
    np.testing.assert_allclose(evaluation.marginal_log_px(own, np.array([1]), "train"), [-5.0 - np.log(2)])


def test_ais_group_is_shard_invariant():
    G = random_linear_gaussian((1, 4, 4), 2, seed=0, n_classes=2)
    rng = np.random.default_rng(0)
    imgs = rng.integers(0, 256, (4, 1, 4, 4), dtype=np.uint8)
    g = ImageGroup(imgs, np.array([0, 1, 0, 1]), np.array([0, 1, 0, 1]), "test")
    cfg = ais.config_from_params({"preset": "paper", "overrides": {"n_steps": 20, "n_leapfrog": 2, "n_chains": 2},
                               "batch_size": 8}, progress=False)
    whole = ais.ais_group(G, g, "test", 0.1, cfg, seed=5, first_index=0, device=torch.device("cpu"))
    a = ais.ais_group(G, g.take(2), "test", 0.1, cfg, seed=5, first_index=0, device=torch.device("cpu"))
    rest = ImageGroup(imgs[2:], g.labels[2:], g.source_labels[2:], "test")
    b = ais.ais_group(G, rest, "test", 0.1, cfg, seed=5, first_index=2, device=torch.device("cpu"))
    np.testing.assert_allclose(np.concatenate([a["log_px_class"], b["log_px_class"]]), whole["log_px_class"], rtol=1e-9)


def test_ais_config_overrides_and_unknown_field():
    cfg = ais.config_from_params({"preset": "accurate", "overrides": {"n_steps": 7}, "batch_size": 3})
    assert cfg.n_steps == 7 and cfg.batch_size == 3 and cfg.schedule == "geometric"
    with pytest.raises(ValueError, match=r"ais.overrides: unknown AISConfig field\(s\) \['n_stepz'\]"):
        ais.config_from_params({"preset": "paper", "overrides": {"n_stepz": 7}})


def test_sigma2_mle_is_mean_mse():
    assert evaluation.sigma2_mle(np.array([0.01, 0.03, np.nan])) == pytest.approx(0.02)


def test_shard_range_clips():
    assert evaluation.shard_range(0, 4, 10, 100) == (0, 4)
    assert evaluation.shard_range(2, 4, 10, 100) == (8, 10)
    assert evaluation.shard_range(1, 4, 10, 3) == (3, 3)


def test_group_names_follow_config():
    cfg = {"dataset": {"source": {"kind": "mnist"}, "classes": [0, 1]},
           "groups": {"other_classes": {"n": 5}, "animals": {"source": "animal_silhouettes"}, "off": {"enabled": False}}}
    assert plan.group_names(cfg) == ["train", "test", "other_classes", "generated", "generated_calibration", "animals"]
    cfg["dataset"] = {"source": {"kind": "none"}, "classes": [0]}
    assert plan.group_names(cfg) == ["generated", "generated_calibration", "animals"]


def test_ais_config_extra_wins_over_overrides():
    cfg = ais.config_from_params({"preset": "paper", "overrides": {"n_steps": 10}}, n_steps=25)
    assert cfg.n_steps == 25


def test_invert_group_errors_are_measured_on_the_stored_reconstructions():
    from ganaudit.data.images import to_model_scale
    from ganaudit.manifold.distances import mse

    class L2Perceptual:  # stand-in metric: per-image MSE, so both errors can be checked by hand
        def distance(self, a, b):
            return mse(a, b)

    G = random_linear_gaussian((1, 4, 4), 2, seed=0, n_classes=2)
    imgs = np.random.default_rng(1).integers(0, 256, (3, 1, 4, 4), dtype=np.uint8)
    g = ImageGroup(imgs, np.array([-1, -1, -1]), np.array([-1, -1, -1]), "ood")
    params = {"n_candidates": 8, "n_restarts": 2, "n_steps": 5, "lr": 0.05, "batch_size": 8}
    out = inversion.invert_group(G, g, "animals", params, L2Perceptual(), seed=0, device=torch.device("cpu"))
    assert out["mse"].shape == (3, 2) and out["recon"].shape == (3, 2, 1, 4, 4)  # OOD: every image × every class
    x = to_model_scale(imgs)
    for c in range(2):
        expect = mse(x, torch.as_tensor(out["recon"][:, c])).numpy()
        np.testing.assert_allclose(out["mse"][:, c], expect, rtol=1e-5)
        np.testing.assert_allclose(out["perceptual"][:, c], expect, rtol=1e-5)


def test_a_model_with_a_known_likelihood_is_not_estimated():
    """PPCA's log p(x) is known in closed form: with exact_when_known the stage writes it (no estimator error)."""
    from ganaudit.density.bdmc import simulate
    from ganaudit.models.ppca import exact_log_likelihood

    G = random_linear_gaussian((1, 4, 4), 2, seed=1, scale=0.5, n_classes=2)
    x, _ = simulate(G, 3, 0.05, torch.tensor([0, 1, 0]), seed=2)
    u8 = ((x.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).numpy()
    g = ImageGroup(u8, np.array([-1, -1, -1]), np.array([-1, -1, -1]), "ood")
    cfg = ais.config_from_params({"preset": "posterior", "overrides": {"n_steps": 5}}, progress=False)
    out = ais.ais_group(G, g, "animals", 0.05, cfg, seed=0, first_index=0, device=torch.device("cpu"),
                        exact_when_known=True)
    xm = torch.as_tensor(u8).float() / 127.5 - 1
    for c in range(2):
        np.testing.assert_allclose(out["log_px_class"][:, c], exact_log_likelihood(G, xm, 0.05, torch.full((3,), c)))
    assert out["exact"].all() and (out["evaluations"] == 0).all() and np.isnan(out["log_w"]).all()
