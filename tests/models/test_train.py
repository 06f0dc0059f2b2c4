import math

import pytest
import torch

from ganaudit.models import train
from ganaudit.models.base import Generator
from ganaudit.models.registry import load_generator, save_generator


def _data(n=64):
    g = torch.Generator().manual_seed(0)
    x = torch.rand(n, 1, 8, 8, generator=g) * 2 - 1
    return x, torch.arange(n) % 2


def test_gan_trains_and_round_trips(tmp_path):
    x, y = _data()
    G, hist = train.train_gan(x, y, latent_dim=4, width=4, config=train.TrainConfig(steps=5, batch_size=16, progress=False), seed=0)
    assert isinstance(G, Generator) and G.n_classes == 2 and not G.training
    assert set(hist.series) == {"discriminator", "generator"} and hist.value.notna().all()
    save_generator(tmp_path / "g.pt", G, dict(latent_dim=4, image_shape=(1, 8, 8), n_classes=2, width=4))
    G2 = load_generator(tmp_path / "g.pt")
    z = torch.randn(3, 4)
    torch.testing.assert_close(G(z, torch.tensor([0, 1, 0])), G2(z, torch.tensor([0, 1, 0])))


def test_batchnorm_calibration_makes_eval_match_population():
    x, y = _data()
    G, _ = train.train_gan(x, y, 4, 4, train.TrainConfig(steps=3, batch_size=16, progress=False), seed=1)
    bn = [m for m in G.modules() if isinstance(m, torch.nn.BatchNorm2d)][0]
    assert bn.momentum is None and int(bn.num_batches_tracked) == 20  # exact average over 20 prior batches


def test_ema_generator_is_the_weight_average_and_training_is_unchanged():
    x, y = _data()
    cfg = dict(steps=6, batch_size=16, progress=False)
    d = 0.75
    G, G_ema, _ = train.train_gan_pair(x, y, 4, 4, train.TrainConfig(**cfg, ema_decay=d, ema_start=5), seed=0)
    G5, _ = train.train_gan(x, y, 4, 4, train.TrainConfig(**{**cfg, "steps": 5}), seed=0)  # weights after 5 steps
    for pe, p6, p5 in zip(G_ema.parameters(), G.parameters(), G5.parameters(), strict=True):
        # the EMA copies θ until step 5, then averages once: d·θ₅ + (1 − d)·θ₆
        assert (p6 - p5).abs().max() > 1e-5                         # one Adam step moves each tensor ≈ lr
        torch.testing.assert_close(pe, d * p5 + (1 - d) * p6, rtol=0, atol=1e-6)
    G_only, _ = train.train_gan(x, y, 4, 4, train.TrainConfig(**cfg, ema_decay=d, ema_start=5), seed=0)
    assert all(torch.equal(a, b) for a, b in zip(G_only.state_dict().values(), G_ema.state_dict().values()))
    bn = [m for m in G_only.modules() if isinstance(m, torch.nn.BatchNorm2d)][0]
    assert not G_only.training and bn.momentum is None and int(bn.num_batches_tracked) == 20


def test_update_ema_and_its_settings():
    a, b = torch.nn.Linear(1, 1), torch.nn.Linear(1, 1)
    with torch.no_grad():
        a.weight.fill_(1.0), b.weight.fill_(3.0)
    train.update_ema(a, b, 0.75)
    assert a.weight.item() == 1.5
    train.update_ema(a, b, 0.0)
    assert a.weight.item() == 3.0
    with pytest.raises(ValueError, match=r"train.ema_decay must lie in \[0, 1\)"):
        train.TrainConfig(ema_decay=1.0)
    with pytest.raises(ValueError, match=r"train.ema_start must lie in \[0, steps = 10\)"):
        train.TrainConfig(steps=10, ema_decay=0.9, ema_start=10)
    x, y = _data()
    with pytest.raises(ValueError, match="ema_decay applies to the GAN only; train_vae got 0.9"):
        train.train_vae(x, y, 4, 4, train.TrainConfig(steps=2, ema_decay=0.9, progress=False), seed=0)


def test_vae_learns_and_reports_sigma2():
    x, y = _data()
    dec, s2, hist = train.train_vae(x, y, 4, 4, train.TrainConfig(steps=30, batch_size=32, progress=False), seed=0)
    nelbo = hist[hist.series == "negative ELBO (nats/image)"].value.to_numpy()
    assert nelbo[-1] < nelbo[0]          # the ELBO improves
    assert 0 < s2 < 1 and math.isfinite(s2)
    assert dec(torch.randn(2, 4), torch.tensor([0, 1])).shape == (2, 1, 8, 8)


def test_classifier_fits_separable_classes():
    g = torch.Generator().manual_seed(0)
    x = torch.cat([torch.full((32, 1, 8, 8), -0.8), torch.full((32, 1, 8, 8), 0.8)]) + 0.05 * torch.randn(64, 1, 8, 8, generator=g)
    y = torch.cat([torch.zeros(32), torch.ones(32)]).long()
    clf, _ = train.train_classifier(x, y, 2, train.TrainConfig(steps=40, batch_size=32, progress=False), seed=0)
    assert (clf(x).argmax(1) == y).float().mean() == 1.0


def test_a_diverged_generator_is_refused_at_load(tmp_path):
    from ganaudit.artifacts.store import ArtifactError
    from ganaudit.models import dcgan, registry

    kwargs = {"latent_dim": 4, "n_classes": 2, "width": 4, "image_shape": (1, 28, 28)}
    g = dcgan.ConditionalGenerator(**kwargs)
    registry.save_generator(tmp_path / "ok.pt", g, kwargs)
    assert registry.load_generator(tmp_path / "ok.pt").latent_dim == 4
    with torch.no_grad():
        next(g.parameters()).fill_(float("nan"))
    registry.save_generator(tmp_path / "nan.pt", g, kwargs)
    with pytest.raises(ArtifactError, match=r"nan\.pt: the generator's output for a zero latent contains NaN"):
        registry.load_generator(tmp_path / "nan.pt")
