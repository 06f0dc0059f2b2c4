"""Tests for ganaudit.manifold.distances: L2/PSNR closed forms, perceptual backends built offline, the embedding identity."""

from __future__ import annotations

import logging

import pytest
import torch
import torchvision

from ganaudit.manifold import distances
from ganaudit.manifold.distances import Perceptual, get_perceptual, mse, nearest, psnr_db


def test_mse_closed_form() -> None:
    x = torch.zeros(2, 1, 4, 4)
    y = torch.full((2, 1, 4, 4), 0.5)
    y[1, 0, 0, 0] = 4.5  # one pixel off by 4.5: (15 · 0.25 + 20.25) / 16
    assert torch.allclose(mse(x, y), torch.tensor([0.25, (15 * 0.25 + 20.25) / 16]))


def test_psnr_on_unit_scale() -> None:
    # MSE 4e-4 on [-1, 1] is 1e-4 on [0, 1] → exactly 40 dB; MSE 4 (x=-1 vs y=1) is 0 dB
    assert torch.allclose(psnr_db(torch.tensor([4e-4, 4.0])), torch.tensor([40.0, 0.0], dtype=torch.float64))


@pytest.fixture(scope="module")
def empty_hub(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(tmp_path_factory.mktemp("hub"))


@pytest.fixture(scope="module")
def st(empty_hub: str) -> Perceptual:
    mp = pytest.MonkeyPatch()
    mp.setattr(torch.hub, "get_dir", lambda: empty_hub)
    try:
        return get_perceptual("auto", resize_to=32)  # small input keeps the tests fast
    finally:
        mp.undo()


@pytest.fixture(scope="module")
def fake_alexnet(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A torchvision AlexNet checkpoint with random weights, standing in for the ImageNet file."""
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("alex") / distances.ALEXNET_CHECKPOINT
    torch.save(torchvision.models.alexnet(weights=None).state_dict(), path)
    return str(path)


def _images(n: int, c: int = 1, s: int = 28, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, c, s, s, generator=g) * 2 - 1


def test_auto_falls_back_to_stlpips_offline_and_logs(empty_hub: str, monkeypatch: pytest.MonkeyPatch,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(torch.hub, "get_dir", lambda: empty_hub)
    with caplog.at_level(logging.INFO, logger="ganaudit.manifold.distances"):
        p = get_perceptual("auto", resize_to=32)
    assert p.backend == "stlpips"
    assert p.name == "ST-LPIPS (AlexNet, shift-tolerant, trained from scratch on BAPPS)"
    rec = [r for r in caplog.records if r.name == "ganaudit.manifold.distances"]
    assert rec and rec[-1].levelno == logging.WARNING
    assert "not found" in rec[-1].getMessage() and "ST-LPIPS" in rec[-1].getMessage()
    assert "not found" in p.reason


def test_lpips_alex_without_weights_fails_fast(empty_hub: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.hub, "get_dir", lambda: empty_hub)
    with pytest.raises(ValueError, match="backend='lpips-alex' needs .*backend='stlpips'"):
        get_perceptual("lpips-alex")
    with pytest.raises(ValueError, match="weights_path .* does not exist"):
        get_perceptual("auto", weights_path=f"{empty_hub}/nope.pth")
    with pytest.raises(ValueError, match="backend must be one of"):
        get_perceptual("vgg")


def test_bad_checkpoint_is_reported(tmp_path) -> None:
    bad = tmp_path / "alex.pth"
    torch.save({"features.0.weight": torch.zeros(3)}, bad)
    with pytest.raises(ValueError, match="not a torchvision AlexNet checkpoint"):
        get_perceptual("lpips-alex", weights_path=bad)


def test_identity_zero_and_symmetric(st: Perceptual) -> None:
    x, y = _images(4, seed=1), _images(4, seed=2)
    assert torch.equal(st.distance(x, x), torch.zeros(4))
    dxy, dyx = st.distance(x, y), st.distance(y, x)
    assert (dxy > 1e-3).all()
    assert torch.allclose(dxy, dyx, rtol=1e-5, atol=0)


def test_embed_identity_stlpips(st: Perceptual) -> None:
    x, y = _images(5, seed=3), _images(5, seed=4)
    y[0] = x[0] + 0.01 * torch.randn_like(x[0], generator=None)  # a near pair, too
    d = st.distance(x, y)
    e = ((st.embed(x).double() - st.embed(y).double()) ** 2).sum(1)
    assert torch.allclose(e, d.double(), rtol=1e-4, atol=0)


def test_embed_identity_lpips_alex_with_local_checkpoint(fake_alexnet: str, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="ganaudit.manifold.distances"):
        p = get_perceptual("auto", weights_path=fake_alexnet, resize_to=64)
    assert p.backend == "lpips-alex" and p.name.startswith("LPIPS v0.1 (AlexNet")
    assert "found at weights_path" in caplog.records[-1].getMessage()
    # the trunk really is the file's weights, not lpips' random init
    want = torch.load(fake_alexnet)["features.3.weight"]
    assert torch.equal(getattr(p.metric.net.slice2, "3").weight, want)
    x, y = _images(3, c=3, s=32, seed=5), _images(3, c=3, s=32, seed=6)
    d = p.distance(x, y)
    e = ((p.embed(x).double() - p.embed(y).double()) ** 2).sum(1)
    assert torch.allclose(e, d.double(), rtol=1e-4, atol=0)


def test_auto_uses_hub_cache_when_present(fake_alexnet: str, monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    ckpt = tmp_path / "checkpoints" / distances.ALEXNET_CHECKPOINT
    ckpt.parent.mkdir()
    ckpt.symlink_to(fake_alexnet)
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    assert get_perceptual("auto").backend == "lpips-alex"
    assert get_perceptual("stlpips").backend == "stlpips"  # explicit choice wins


def test_mnist_resize_and_grey_is_repeated(st: Perceptual) -> None:
    x = _images(2, c=1, s=28, seed=7)
    assert st.prepare(x).shape == (2, 3, 32, 32)
    assert Perceptual(st.metric, "stlpips").prepare(x).shape == (2, 3, 64, 64)  # the default resize_to
    # a grey image and its 3-channel repetition are the same image to the metric
    y = _images(2, c=1, s=28, seed=8)
    assert torch.allclose(st.distance(x, y), st.distance(x.repeat(1, 3, 1, 1), y.repeat(1, 3, 1, 1)), rtol=1e-6)
    st_native = Perceptual(st.metric, "stlpips", resize_to=None)
    assert st_native.prepare(_images(1, c=3, s=40)).shape == (1, 3, 40, 40)
    with pytest.raises(ValueError, match="x must have shape"):
        st.prepare(torch.zeros(1, 2, 28, 28))


def test_distance_is_differentiable_and_batched(st: Perceptual) -> None:
    x, y = _images(3, seed=9), _images(3, seed=10)
    full = st.distance(x, y)
    assert torch.allclose(st.distance(x, y, batch_size=2), full, rtol=1e-5)
    xr = x.clone().requires_grad_(True)
    st.distance(xr, y).sum().backward()
    assert xr.grad is not None and xr.grad.abs().sum() > 0


def test_nearest_l2_and_perceptual(st: Perceptual) -> None:
    refs = _images(5, seed=11)
    q = refs[[4, 2]] + 0.01  # small perturbations of references 4 and 2
    d, idx = nearest(q, refs, batch_size=3)
    assert idx.tolist() == [4, 2]
    assert torch.allclose(d, torch.full((2,), 1e-4), rtol=1e-3)
    d, idx = nearest(q, refs, perceptual=st, batch_size=3)
    assert idx.tolist() == [4, 2]
    brute = torch.stack([st.distance(q[i:i + 1].expand(5, -1, -1, -1), refs) for i in range(2)])
    assert torch.equal(idx, brute.argmin(1))
    assert torch.allclose(d, brute.min(1).values, rtol=1e-5)
