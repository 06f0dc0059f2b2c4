"""Each metric moves the way its paper says on four broken generators of a small synthetic image distribution:
a memorising one (returns training images), a mode-dropping one (never makes class 2), a noisy one (fresh images +
noise) and a blurred one, against a fair one (fresh images of the same distribution)."""

import numpy as np
import pytest
import torch

from ganaudit.metrics.features import FeatureCache, feature_function
from ganaudit.metrics.registry import compute_metrics

SETTINGS = dict(fd_bootstrap=20, confidence=0.9, kd_subset_size=200, kd_subsets=50, k=5, ct_cells=4,
                ct_min_generated=20, fld_iter=30)


def draw(n, seed, classes=(0, 1, 2)):
    """1×8×8 images on [-1, 1]: a class's bar (horizontal, vertical, diagonal) at a random offset and brightness,
    plus a little noise; returns (images, labels)."""
    rng = np.random.default_rng(seed)
    y = rng.choice(classes, n)
    x = np.full((n, 8, 8), -1.0)
    for i, c in enumerate(y):
        o, a = rng.integers(1, 7), rng.uniform(0.5, 2.0)
        if c == 0:
            x[i, o, :] += a
        elif c == 1:
            x[i, :, o] += a
        else:
            x[i, np.arange(8), (np.arange(8) + o) % 8] += a
    x += rng.normal(0, 0.1, x.shape)
    return torch.tensor(np.clip(x, -1, 1)[:, None], dtype=torch.float32), y


def blur(x):
    return torch.nn.functional.avg_pool2d(torch.nn.functional.pad(x, (1, 1, 1, 1), mode="replicate"), 3, stride=1)


@pytest.fixture(scope="module")
def results():
    train, _ = draw(800, 0)
    test, _ = draw(300, 1)
    fresh, labels = draw(300, 2)
    rng = np.random.default_rng(3)
    gens = {
        "fair": fresh,
        "memorising": train[rng.choice(800, 300, replace=False)],
        "mode_dropping": draw(300, 4, classes=(0, 1))[0],
        "noisy": (fresh + 0.4 * torch.randn(fresh.shape, generator=torch.Generator().manual_seed(5))).clamp(-1, 1),
        "blurred": blur(fresh),
    }
    out = {}
    for name, x in gens.items():
        cache = FeatureCache({"pixels": feature_function("pixels")}, {"samples": x, "train": train, "test": test})
        rows, notes = compute_metrics(cache, ["pixels"], SETTINGS, seed=0, labels=labels)
        out[name] = {r["metric"]: r["value"] for r in rows if r["class"] == "all"}
    return out


def test_memorising_generator(results):
    fair, mem = results["fair"], results["memorising"]
    assert mem["ct"] < -5 < fair["ct"]                       # Meehan et al.: C_T ≪ 0 is data copying
    assert mem["authpct"] < 5 < 30 < fair["authpct"]        # Alaa et al.: copies are not authentic
    assert mem["fld_gap"] > fair["fld_gap"] + 0.1           # Jiralerspong et al.: overfitting widens the gap
    assert mem["precision"] == 1.0 and mem["density"] > fair["density"]


def test_mode_dropping_generator(results):
    fair, drop = results["fair"], results["mode_dropping"]
    assert drop["recall"] < fair["recall"] - 0.15           # a dropped mode is not recalled ...
    assert drop["coverage"] < fair["coverage"] - 0.15       # ... nor covered
    assert drop["precision"] > 0.9 * fair["precision"]      # while what is made stays on the data
    assert drop["fd"] > fair["fd"] and drop["kd_mean"] > fair["kd_mean"]


def test_noisy_generator(results):
    fair, noisy = results["fair"], results["noisy"]
    assert noisy["precision"] < fair["precision"] - 0.3     # off the data manifold
    assert noisy["density"] < 0.5 * fair["density"]
    assert noisy["fd"] > 2 * fair["fd"] and noisy["kd_mean"] > fair["kd_mean"] + 3 * fair["kd_std"]


def test_blurred_generator(results):
    fair, blurred = results["fair"], results["blurred"]
    assert blurred["fd"] > 2 * fair["fd"] and blurred["kd_mean"] > fair["kd_mean"] + fair["kd_std"]
    assert blurred["precision"] < fair["precision"] and blurred["density"] < fair["density"]


def test_fair_generator_is_close_to_the_data(results):
    fair = results["fair"]
    assert abs(fair["ct"]) < 3 and fair["kd_mean"] < 3 * fair["kd_std"] + 1e-3
    assert fair["precision"] > 0.8 and fair["recall"] > 0.8 and 0.7 < fair["density"] < 1.3
