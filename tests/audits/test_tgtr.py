"""ganaudit.audits.tgtr: train on generated, test on real, on a two-class problem with known answers."""

import time

import numpy as np
import pytest
import torch
from torch import nn

from ganaudit.audits import tgtr
from ganaudit.models.train import TrainConfig

TEMPLATES = torch.stack([torch.linspace(-0.8, 0.8, 64), torch.linspace(0.8, -0.8, 64)]).view(2, 1, 8, 8)


class TemplateGenerator(nn.Module):
    """Class c → template c (or the other class's template when ``swap``) + noise from z."""

    def __init__(self, swap: bool = False) -> None:
        super().__init__()
        self.latent_dim, self.image_shape, self.n_classes, self.swap = 4, (1, 8, 8), 2, swap
        self.mix = torch.randn(4, 64, generator=torch.Generator().manual_seed(0)) * 0.1

    def forward(self, z, labels=None):
        return TEMPLATES[(1 - labels) if self.swap else labels] + (z @ self.mix).view(-1, 1, 8, 8)


def _real(n, seed):
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 2
    return TEMPLATES[y] + 0.2 * torch.randn(n, 1, 8, 8, generator=g), y


def test_faithful_and_label_swapping_generators():
    torch.set_num_threads(1)
    (xtr, ytr), (xte, yte) = _real(200, 0), _real(100, 1)
    cfg = TrainConfig(steps=30, batch_size=32, progress=False)
    t0 = time.time()
    good = tgtr.train_generated_test_real(TemplateGenerator(), xtr, ytr, xte, yte, n=64, config=cfg, seed=0)
    bad = tgtr.train_generated_test_real(TemplateGenerator(swap=True), xtr, ytr, xte, yte, n=64, config=cfg, seed=0)
    assert time.time() - t0 < 20
    assert good.accuracy_real == 1.0 and good.accuracy_generated == 1.0 and good.gap == 0.0
    assert bad.accuracy_real == 1.0 and bad.accuracy_generated == 0.0   # a classifier of swapped classes
    assert bad.per_class.accuracy_generated.tolist() == [0.0, 0.0] and bad.per_class.n_test.tolist() == [50, 50]
    assert good.n_train == 64 and good.n_test == 100


def test_class_balanced_samples_and_subsets():
    x, y = tgtr.sample_class_balanced(TemplateGenerator(), 7, seed=0, batch_size=3)
    assert x.shape == (7, 1, 8, 8) and y.tolist() == [0, 1, 0, 1, 0, 1, 0]
    labels = np.array([0] * 10 + [1] * 3)
    idx = tgtr.balanced_subset(labels, 5, 2, seed=0)
    assert np.bincount(labels[idx]).tolist() == [3, 2] and len(set(idx)) == 5
    with pytest.raises(ValueError, match="class 1 has 3 training images; a balanced subset of 8 needs 4"):
        tgtr.balanced_subset(labels, 8, 2, seed=0)
