"""ganaudit.models.base.sample and device_of: the one way the library draws images from a generator."""

import numpy as np
import pytest
import torch
from torch import nn

from ganaudit.models.base import device_of, sample


class Toy:
    """Image value = class index / 2 − 1 (class 0 → −1, 2 → 0), plus 0 · z so z must fit."""

    latent_dim, image_shape, n_classes = 2, (1, 2, 2), 3

    def __call__(self, z, labels=None):
        return (labels.float() / 2 - 1).view(-1, 1, 1, 1).expand(len(z), 1, 2, 2) + 0 * z.sum()


class Linear(nn.Module):
    """A linear map computed element by element: a matrix product's rounding may depend on its batch size (at one
    thread it does), and this test is about `sample`'s batching, not the BLAS's."""

    latent_dim, image_shape, n_classes = 3, (1, 1, 2), None

    def __init__(self):
        super().__init__()
        self.w = nn.Linear(3, 2)

    def forward(self, z, labels=None):
        return ((z[:, None, :] * self.w.weight).sum(-1) + self.w.bias).view(-1, 1, 1, 2)


def test_latents_are_the_seeded_randn_stream_and_labels_cycle():
    s = sample(Toy(), 5, seed=7)
    np.testing.assert_array_equal(s.z, torch.randn(5, 2, generator=torch.Generator().manual_seed(7)))
    assert s.labels.tolist() == [0, 1, 2, 0, 1]
    np.testing.assert_array_equal(s.images[:, 0, 0, 0], [-1.0, -0.5, 0.0, -1.0, -0.5])


def test_blocks_of_one_class_and_bad_labels():
    s = sample(Toy(), 6, seed=1, labels=torch.arange(3).repeat_interleave(2))
    assert s.labels.tolist() == [0, 0, 1, 1, 2, 2]
    np.testing.assert_array_equal(s.images[:, 0, 0, 0], [-1.0, -1.0, -0.5, -0.5, 0.0, 0.0])
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 3\)"):
        sample(Toy(), 2, seed=1, labels=torch.tensor([0, 3]))
    with pytest.raises(ValueError, match="'cycle'"):
        sample(Toy(), 2, seed=1, labels="blocks")


def test_batches_do_not_change_the_images_and_unconditional_has_no_labels():
    g = Linear()
    whole, parts = sample(g, 7, seed=3), sample(g, 7, seed=3, batch_size=3)
    assert whole.labels is None and parts.labels is None
    torch.testing.assert_close(whole.images, parts.images, rtol=0, atol=0)
    assert not whole.images.requires_grad
    assert sample(g, 0, seed=3).images.shape == (0, 1, 1, 2)


def test_device_of():
    assert device_of(Linear()) == torch.device("cpu")
    assert device_of(Toy(), "meta") == torch.device("meta")                 # a plain callable: the fallback
    buffers_only = nn.Module()
    buffers_only.register_buffer("b", torch.zeros(1, device="meta"))
    assert device_of(buffers_only) == torch.device("meta")
