"""Adapters for pretrained generators: each tested on a tiny stand-in written in the exact on-disk
format of the real thing, and the real DCGAN that ships in ``gan-face-generate``."""

from __future__ import annotations

import hashlib
import json
import pickle
import sys
import textwrap
import types
import uuid
import warnings
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from ganaudit.models import adapters
from ganaudit.models.adapters import AdaptedGenerator, load_generator
from ganaudit.models.base import Generator

TINY_NETS = '''
import torch
from torch import nn


class TinyDCGAN(nn.Module):
    """DCGAN-like: z [B, nz, 1, 1] -> [B, 3, 4, 4]."""

    def __init__(self, nz: int = 6, out: str = "tanh"):
        super().__init__()
        self.main = nn.Sequential(nn.ConvTranspose2d(nz, 3, 4, 1, 0, bias=False), nn.BatchNorm2d(3))
        self.out = out

    def forward(self, z):
        assert z.ndim == 4, "DCGANs take 4-D latents"
        h = self.main(z)
        return torch.tanh(h) if self.out == "tanh" else torch.sigmoid(h)


class TinyCond(nn.Module):
    """x = tanh(W z + E[y]) as [B, 1, 2, 2]; y integer [B] or one-hot float [B, K]."""

    def __init__(self, nz: int = 4, n_classes: int = 3, onehot: bool = False):
        super().__init__()
        self.lin = nn.Linear(nz, 4)
        self.emb = nn.Parameter(torch.randn(n_classes, 4))
        self.onehot = onehot

    def forward(self, z, y):
        if self.onehot:
            assert y.dtype == torch.float32 and y.shape[1] == self.emb.shape[0]
            e = y @ self.emb
        else:
            assert y.dtype == torch.int64 and y.ndim == 1
            e = self.emb[y]
        return torch.tanh(self.lin(z) + e).view(-1, 1, 2, 2)


class StudioLike(nn.Module):
    """StudioGAN's signature: forward(z, label, shared_label=None, eval=False)."""

    def __init__(self, z_dim: int = 4, num_classes: int = 3):
        super().__init__()
        self.linear0 = nn.Linear(z_dim, 12)
        self.shared = nn.Embedding(num_classes, 12)

    def forward(self, z, label, shared_label=None, eval=False):
        assert eval is True
        return torch.tanh(self.linear0(z) + self.shared(label)).view(-1, 3, 2, 2)


def make_studio(z_dim: int, num_classes: int):
    return StudioLike(z_dim, num_classes)
'''

FAKE_NVIDIA_NETS = '''
import torch
from torch import nn


class Generator(nn.Module):
    """Stand-in for an NVIDIA generator: same attributes and call signature."""

    def __init__(self, z_dim, c_dim, img_resolution, img_channels):
        super().__init__()
        self.z_dim, self.c_dim = z_dim, c_dim
        self.img_resolution, self.img_channels = img_resolution, img_channels
        self.fc = nn.Linear(z_dim + c_dim, img_channels * img_resolution * img_resolution)

    def forward(self, z, c, truncation_psi=1, truncation_cutoff=None, noise_mode="random", **synthesis_kwargs):
        assert c.shape == (z.shape[0], self.c_dim), c.shape
        x = self.fc(torch.cat([z, c], dim=1)).view(-1, self.img_channels, self.img_resolution, self.img_resolution)
        x = x + (1.0 - truncation_psi) * 100.0
        if noise_mode == "random":
            x = x + torch.randn_like(x)
        return x
'''


@pytest.fixture
def clean_imports(monkeypatch):
    """Undo sys.path insertions and forget modules imported during the test."""
    monkeypatch.setattr(sys, "path", list(sys.path))
    before = set(sys.modules)
    yield
    for name in set(sys.modules) - before:
        if name.split(".")[0] in ("dnnlib", "torch_utils") or name.startswith("userpkg_"):
            del sys.modules[name]


@pytest.fixture
def user_pkg(tmp_path, clean_imports):
    """A folder with a uniquely named package ``userpkg_<hex>.nets`` holding the tiny networks."""
    name = f"userpkg_{uuid.uuid4().hex[:8]}"
    pkg = tmp_path / "code" / name
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "nets.py").write_text(textwrap.dedent(TINY_NETS))
    sys.path.insert(0, str(tmp_path / "code"))
    nets = __import__(f"{name}.nets", fromlist=["nets"])
    return types.SimpleNamespace(name=name, nets=nets, repo=tmp_path / "code")


def _z(n: int, d: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(n, d, generator=torch.Generator().manual_seed(seed))


# ---------------------------------------------------------------------------------------------- torch_module

@pytest.mark.parametrize("out, output_range", [("tanh", "[-1,1]"), ("sigmoid", "[0, 1]")])
def test_torch_module_nested_checkpoint_matches_reference(tmp_path, user_pkg, out, output_range):
    torch.manual_seed(1)
    ref = user_pkg.nets.TinyDCGAN(6, out)
    bn = ref.main[1]
    bn.running_mean.copy_(torch.tensor([0.3, -0.2, 0.1]))
    bn.running_var.copy_(torch.tensor([2.0, 0.5, 1.5]))
    ckpt = tmp_path / "gen.pth"
    torch.save({"epoch": 7, "models": {"netG": ref.state_dict()}}, ckpt)
    spec = {"kind": "torch_module", "class_path": f"{user_pkg.name}.nets:TinyDCGAN", "kwargs": {"nz": 6, "out": out},
            "checkpoint": str(ckpt), "state_dict_key": "models.netG", "latent_dim": 6, "latent_shape": [6, 1, 1],
            "output_range": output_range}
    g = load_generator(spec)
    assert isinstance(g, Generator) and isinstance(g, nn.Module)
    assert (g.latent_dim, g.image_shape, g.n_classes, g.training) == (6, (3, 4, 4), None, False)
    assert not any(p.requires_grad for p in g.parameters())
    g.train()
    assert not g.training and not g.net.training  # batch-norm statistics stay frozen
    z = _z(5, 6)
    ref.eval()
    with torch.no_grad():
        expect = ref(z.view(5, 6, 1, 1))
    if out == "sigmoid":
        expect = 2 * expect - 1
    got = g(z)
    torch.testing.assert_close(got, expect, rtol=0, atol=1e-6)
    assert got.min() >= -1 and got.max() <= 1
    # gradients reach z although the parameters are frozen
    z.requires_grad_(True)
    g(z).square().sum().backward()
    assert z.grad is not None and z.grad.abs().sum() > 0
    d = g.describe()
    assert d["checkpoint_sha256"] == hashlib.sha256(ckpt.read_bytes()).hexdigest()
    assert d["image_shape"] == [3, 4, 4] and d["state_dict_key"] == "models.netG"


def test_torch_module_strips_dataparallel_prefix_and_list_key(tmp_path, user_pkg):
    torch.manual_seed(2)
    ref = user_pkg.nets.TinyDCGAN(6)
    ckpt = tmp_path / "dp.pth"
    torch.save({"G": {"ema": {f"module.{k}": v for k, v in ref.state_dict().items()}}}, ckpt)
    g = load_generator({"kind": "torch_module", "class_path": f"{user_pkg.name}.nets:TinyDCGAN", "checkpoint": str(ckpt),
                        "state_dict_key": ["G", "ema"], "latent_dim": 6, "latent_shape": [6, 1, 1]})
    z = _z(3, 6, seed=4)
    torch.testing.assert_close(g(z), ref.eval()(z.view(3, 6, 1, 1)), rtol=0, atol=1e-6)


@pytest.mark.parametrize("label_format", ["index", "onehot"])
def test_torch_module_conditional_labels(tmp_path, user_pkg, label_format):
    torch.manual_seed(3)
    onehot = label_format == "onehot"
    ref = user_pkg.nets.TinyCond(4, 3, onehot)
    ckpt = tmp_path / "c.pt"
    torch.save(ref.state_dict(), ckpt)
    g = load_generator({"kind": "torch_module", "class_path": f"{user_pkg.name}.nets:TinyCond",
                        "kwargs": {"nz": 4, "n_classes": 3, "onehot": onehot}, "checkpoint": str(ckpt),
                        "latent_dim": 4, "n_classes": 3, "label_format": label_format})
    assert g.n_classes == 3 and g.image_shape == (1, 2, 2)
    z, y = _z(6, 4), torch.tensor([0, 1, 2, 2, 1, 0])
    expect = torch.tanh(z @ ref.lin.weight.T + ref.lin.bias + ref.emb[y]).view(6, 1, 2, 2)
    torch.testing.assert_close(g(z, y), expect.detach(), rtol=0, atol=1e-6)
    with pytest.raises(ValueError, match="labels are required"):
        g(z)
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 3\)"):
        g(z, torch.full((6,), 3))


def test_torch_module_errors(tmp_path, user_pkg):
    torch.manual_seed(0)
    ckpt = tmp_path / "g.pth"
    torch.save({"netG_state_dict": user_pkg.nets.TinyDCGAN(6).state_dict()}, ckpt)
    base = {"kind": "torch_module", "class_path": f"{user_pkg.name}.nets:TinyDCGAN", "checkpoint": str(ckpt),
            "state_dict_key": "netG_state_dict", "latent_dim": 6, "latent_shape": [6, 1, 1]}
    with pytest.raises(ValueError, match="unknown key 'trunc'"):
        load_generator({**base, "trunc": 0.7})
    with pytest.raises(ValueError, match="missing required key 'latent_dim'"):
        load_generator({k: v for k, v in base.items() if k != "latent_dim"})
    with pytest.raises(ValueError, match=r"state_dict_key 'netD' not found \(available: \['netG_state_dict'\]\)"):
        load_generator({**base, "state_dict_key": "netD"})
    with pytest.raises(ValueError, match="checkpoint .*nope.pth not found"):
        load_generator({**base, "checkpoint": str(tmp_path / "nope.pth")})
    with pytest.raises(ValueError, match="state dict does not fit"):
        load_generator({**base, "kwargs": {"nz": 7}, "latent_dim": 7, "latent_shape": [7, 1, 1]})
    with pytest.raises(ValueError, match=r"latent_shape \[5, 1, 1\] has 5 elements; latent_dim is 6"):
        load_generator({**base, "latent_shape": [5, 1, 1]})
    with pytest.raises(ValueError, match="output_range must be one of"):
        load_generator({**base, "output_range": "[0,255]"})
    with pytest.raises(ValueError, match="cannot import module"):
        load_generator({**base, "class_path": "no_such_pkg_xyz.nets:G"})
    with pytest.raises(ValueError, match="kind must be one of"):
        load_generator({"kind": "vqgan"})
    g = load_generator(base)
    with pytest.raises(ValueError, match=r"z must have shape \[B, 6\]"):
        g(torch.zeros(2, 6, 1, 1))


def test_missing_files_and_nan_weights_fail_before_any_work(tmp_path, user_pkg):
    # check_spec (run by the workflow before any job) names a missing file without loading anything
    base = {"kind": "torch_module", "class_path": f"{user_pkg.name}.nets:TinyDCGAN", "latent_dim": 6,
            "latent_shape": [6, 1, 1]}
    with pytest.raises(ValueError, match=r"^torch_module: checkpoint .*missing\.pth not found \(expected a torch.save"):
        adapters.check_spec({**base, "checkpoint": str(tmp_path / "missing.pth")})
    with pytest.raises(ValueError, match=r"^torchscript: path .*g\.pt not found"):
        adapters.check_spec({"kind": "torchscript", "path": str(tmp_path / "g.pt"), "latent_dim": 6})
    with pytest.raises(ValueError, match=r"^stylegan2_ada: repo_path .*nowhere must hold dnnlib/ and torch_utils/"):
        adapters.check_spec({"kind": "stylegan2_ada", "pickle": __file__, "repo_path": str(tmp_path / "nowhere")})
    # weights with a NaN: the probe call at load time refuses them, naming the checkpoint
    net = user_pkg.nets.TinyDCGAN(6)
    with torch.no_grad():
        net.main[0].weight[0, 0, 0, 0] = float("nan")
    ckpt = tmp_path / "nan.pth"
    torch.save(net.state_dict(), ckpt)
    with pytest.raises(ValueError, match=r"torch_module \(.*nan\.pth\): the generator's output for a zero latent contains NaN"):
        load_generator({**base, "checkpoint": str(ckpt)})


def test_studiogan_wrapper_defaults(tmp_path, user_pkg):
    torch.manual_seed(5)
    ref = user_pkg.nets.make_studio(4, 3)
    ckpt = tmp_path / "model=G_ema-best-weights-step=100.pth"
    torch.save({"state_dict": ref.state_dict(), "seed": 0, "run_name": "x"}, ckpt)
    g = load_generator({"kind": "studiogan", "repo_path": str(user_pkg.repo),
                        "class_path": f"{user_pkg.name}.nets:make_studio", "kwargs": {"z_dim": 4, "num_classes": 3},
                        "checkpoint": str(ckpt), "latent_dim": 4, "n_classes": 3, "forward_kwargs": {"eval": True}})
    z, y = _z(4, 4), torch.tensor([2, 0, 1, 2])
    expect = torch.tanh(ref.linear0(z) + ref.shared(y)).view(4, 3, 2, 2)
    torch.testing.assert_close(g(z, y), expect.detach(), rtol=0, atol=1e-6)
    assert g.describe()["state_dict_key"] == "state_dict"


# ---------------------------------------------------------------------------------------------- torchscript

def test_torchscript_conditional(tmp_path, user_pkg):
    torch.manual_seed(6)
    ref = user_pkg.nets.TinyCond(4, 3, False).eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # torch.jit.script is deprecated but users still ship it
        scripted = torch.jit.script(ref)
    path = tmp_path / "g.torchscript.pt"
    scripted.save(str(path))
    g = load_generator({"kind": "torchscript", "path": str(path), "latent_dim": 4, "n_classes": 3})
    z, y = _z(5, 4), torch.tensor([0, 1, 2, 0, 1])
    torch.testing.assert_close(g(z, y), ref(z, y).detach(), rtol=0, atol=1e-6)
    assert g.image_shape == (1, 2, 2) and not any(p.requires_grad for p in g.parameters())
    with pytest.raises(ValueError, match="torchscript: path .*missing.pt not found"):
        load_generator({"kind": "torchscript", "path": str(tmp_path / "missing.pt"), "latent_dim": 4})



def test_home_relative_paths_are_checked_and_loaded_alike(tmp_path, user_pkg, monkeypatch):
    ref = user_pkg.nets.TinyCond(4, 3, False).eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        torch.jit.script(ref).save(str(tmp_path / "g.pt"))
    monkeypatch.setenv("HOME", str(tmp_path))
    g = load_generator({"kind": "torchscript", "path": "~/g.pt", "latent_dim": 4, "n_classes": 3})
    assert g.describe()["path"] == str((tmp_path / "g.pt").resolve())


# ---------------------------------------------------------------------------------------------- NVIDIA pickles

def _fake_nvidia_repo(root: Path) -> Path:
    (root / "dnnlib").mkdir(parents=True)
    (root / "dnnlib" / "__init__.py").write_text("")
    (root / "torch_utils").mkdir()
    (root / "torch_utils" / "__init__.py").write_text("")
    (root / "torch_utils" / "fake_networks.py").write_text(textwrap.dedent(FAKE_NVIDIA_NETS))
    return root


def _write_network_pickle(repo: Path, path: Path, c_dim: int) -> nn.Module:
    sys.path.insert(0, str(repo))
    from torch_utils.fake_networks import Generator as FakeG  # noqa: PLC0415  (only importable from the fake repo)

    torch.manual_seed(7)
    G = FakeG(z_dim=8, c_dim=c_dim, img_resolution=4, img_channels=3).eval().requires_grad_(False)
    with open(path, "wb") as f:
        pickle.dump({"G": G, "D": None, "G_ema": G, "augment_pipe": None, "training_set_kwargs": {}}, f)
    sys.path.remove(str(repo))
    for name in [m for m in sys.modules if m.split(".")[0] in ("dnnlib", "torch_utils")]:
        del sys.modules[name]
    return G


@pytest.mark.parametrize("kind, c_dim", [("stylegan2_ada", 0), ("stylegan3", 5), ("stylegan_xl", 5)])
def test_nvidia_pickle_z_space_deterministic(tmp_path, clean_imports, kind, c_dim):
    repo = _fake_nvidia_repo(tmp_path / "repo")
    pkl = tmp_path / "network-snapshot.pkl"
    G = _write_network_pickle(repo, pkl, c_dim)
    with pytest.raises(ModuleNotFoundError):  # the pickle really needs the authors' code on sys.path
        with open(pkl, "rb") as f:
            pickle.load(f)
    g = load_generator({"kind": kind, "pickle": str(pkl), "repo_path": str(repo)})
    assert (g.latent_dim, g.image_shape, g.n_classes) == (8, (3, 4, 4), c_dim or None)
    z = _z(4, 8)
    y = torch.tensor([0, 4, 2, 1]) if c_dim else None
    c = F.one_hot(y, c_dim).float() if c_dim else torch.zeros(4, 0)
    expect = (z @ G.fc.weight[:, :8].T + c @ G.fc.weight[:, 8:].T + G.fc.bias).view(4, 3, 4, 4)
    out = g(z, y)
    torch.testing.assert_close(out, expect, rtol=0, atol=1e-5)  # truncation_psi=1 and noise_mode="const"
    assert torch.equal(out, g(z, y))
    d = g.describe()
    assert d["space"] == "Z" and d["c_dim"] == c_dim and len(d["pickle_sha256"]) == 64


def test_nvidia_missing_files_say_what_to_download(tmp_path, clean_imports):
    with pytest.raises(ValueError, match="git clone https://github.com/NVlabs/stylegan3"):
        load_generator({"kind": "stylegan3", "pickle": str(tmp_path / "x.pkl"), "repo_path": str(tmp_path / "none")})
    repo = _fake_nvidia_repo(tmp_path / "repo")
    with pytest.raises(ValueError, match=r"afhqcat.pkl not found; download the .pkl from "
                                         r"https://github.com/NVlabs/stylegan2-ada-pytorch"):
        load_generator({"kind": "stylegan2_ada", "pickle": str(tmp_path / "afhqcat.pkl"), "repo_path": str(repo)})
    with pytest.raises(ValueError, match="unknown key 'truncation_psi'"):
        load_generator({"kind": "stylegan_xl", "pickle": "a", "repo_path": "b", "truncation_psi": 0.7})


# ---------------------------------------------------------------------------------------------- BigGAN

class _FakeBigGAN(nn.Module):
    """Mimics pytorch_pretrained_biggan.BigGAN: from_pretrained(name_or_dir), forward(z, class_vector, truncation)."""

    calls: list[str] = []

    def __init__(self, config):
        super().__init__()
        self.config = config
        self.embeddings = nn.Linear(config.num_classes, config.z_dim, bias=False)
        self.gen = nn.Linear(2 * config.z_dim, 3 * config.output_dim ** 2)

    @classmethod
    def from_pretrained(cls, name_or_path, cache_dir=None):
        cls.calls.append(str(name_or_path))
        p = Path(name_or_path)
        if p.is_dir():
            config = types.SimpleNamespace(**json.loads((p / "config.json").read_text()))
            model = cls(config)
            model.load_state_dict(torch.load(p / "pytorch_model.bin", map_location="cpu"))
            return model
        return cls(types.SimpleNamespace(z_dim=4, num_classes=5, output_dim=2))  # "downloaded"

    def forward(self, z, class_label, truncation):
        assert 0 < truncation <= 1 and truncation == 1.0
        assert class_label.dtype == torch.float32 and class_label.shape == (z.shape[0], self.config.num_classes)
        h = torch.cat([z, self.embeddings(class_label)], dim=1)
        return torch.tanh(self.gen(h)).view(-1, 3, self.config.output_dim, self.config.output_dim)


def _fake_biggan_package(monkeypatch, cache: Path) -> types.ModuleType:
    pkg = types.ModuleType("pytorch_pretrained_biggan")
    model_mod = types.ModuleType("pytorch_pretrained_biggan.model")
    base = "https://s3.amazonaws.com/models.huggingface.co/biggan/"
    model_mod.PRETRAINED_MODEL_ARCHIVE_MAP = {"biggan-deep-128": base + "biggan-deep-128-pytorch_model.bin"}
    model_mod.PRETRAINED_CONFIG_ARCHIVE_MAP = {"biggan-deep-128": base + "biggan-deep-128-config.json"}
    pkg.BigGAN, pkg.model, pkg.PYTORCH_PRETRAINED_BIGGAN_CACHE = _FakeBigGAN, model_mod, str(cache)
    monkeypatch.setitem(sys.modules, "pytorch_pretrained_biggan", pkg)
    monkeypatch.setitem(sys.modules, "pytorch_pretrained_biggan.model", model_mod)
    _FakeBigGAN.calls = []
    return pkg


def _biggan_weights(folder: Path) -> _FakeBigGAN:
    torch.manual_seed(8)
    cfg = {"z_dim": 6, "num_classes": 7, "output_dim": 4}
    ref = _FakeBigGAN(types.SimpleNamespace(**cfg))
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps(cfg))
    torch.save(ref.state_dict(), folder / "pytorch_model.bin")
    return ref


def test_biggan_from_weights_dir_and_cache(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    cache.mkdir()
    pkg = _fake_biggan_package(monkeypatch, cache)
    monkeypatch.setattr(adapters.biggan, "is_online", lambda url: pytest.fail("must not touch the network"))
    ref = _biggan_weights(tmp_path / "w")
    g = load_generator({"kind": "biggan", "weights_dir": str(tmp_path / "w")})
    assert (g.latent_dim, g.n_classes, g.image_shape) == (6, 7, (3, 4, 4))
    z, y = _z(3, 6), torch.tensor([6, 0, 3])
    expect = ref(z, F.one_hot(y, 7).float(), 1.0).detach()
    torch.testing.assert_close(g(z, y), expect, rtol=0, atol=1e-6)
    assert "N(0, I)" in g.describe()["note"]
    # the package's cache names files by sha256(url)[.sha256(etag)], with a .json sidecar
    for url, src in [(pkg.model.PRETRAINED_MODEL_ARCHIVE_MAP["biggan-deep-128"], "pytorch_model.bin"),
                     (pkg.model.PRETRAINED_CONFIG_ARCHIVE_MAP["biggan-deep-128"], "config.json")]:
        name = hashlib.sha256(url.encode()).hexdigest() + "." + hashlib.sha256(b'"etag"').hexdigest()
        (cache / name).write_bytes((tmp_path / "w" / src).read_bytes())
        (cache / (name + ".json")).write_text(json.dumps({"url": url}))
    g2 = load_generator({"kind": "biggan", "model_name": "biggan-deep-128"})
    torch.testing.assert_close(g2(z, y), expect, rtol=0, atol=1e-6)
    assert g2.describe()["weights"] == "cache:biggan-deep-128"


def test_biggan_never_downloads_unless_allowed_and_online(tmp_path, monkeypatch):
    _fake_biggan_package(monkeypatch, tmp_path / "empty_cache")
    spec = {"kind": "biggan", "model_name": "biggan-deep-128"}
    with pytest.raises(ValueError, match="not cached; set weights_dir .* or set allow_download: true"):
        load_generator(spec)
    monkeypatch.setattr(adapters.biggan, "is_online", lambda url: False)
    with pytest.raises(ValueError, match="cannot be reached"):
        load_generator({**spec, "allow_download": True})
    assert _FakeBigGAN.calls == []
    monkeypatch.setattr(adapters.biggan, "is_online", lambda url: True)
    g = load_generator({**spec, "allow_download": True})
    assert _FakeBigGAN.calls == ["biggan-deep-128"] and g.n_classes == 5
    with pytest.raises(ValueError, match="lacks pytorch_model.bin, config.json"):
        load_generator({"kind": "biggan", "weights_dir": str(tmp_path)})


def test_biggan_package_missing(monkeypatch):
    monkeypatch.setitem(sys.modules, "pytorch_pretrained_biggan", None)
    with pytest.raises(ValueError, match="pip install pytorch-pretrained-biggan"):
        load_generator({"kind": "biggan"})


# ---------------------------------------------------------------------------------------------- gan-face-generate

@pytest.fixture(scope="module")
def faces() -> AdaptedGenerator:
    pytest.importorskip("gan_face_generate")
    return load_generator({"kind": "gan_face_generate"})


def test_gan_face_generate_real_weights(faces):
    assert (faces.latent_dim, faces.image_shape, faces.n_classes) == (100, (3, 64, 64), None)
    assert not faces.training and not any(p.requires_grad for p in faces.parameters())
    z = _z(8, 100, seed=0)
    x = faces(z)
    assert x.shape == (8, 3, 64, 64) and x.min() >= -1 and x.max() <= 1
    assert torch.equal(x, faces(z))                                            # deterministic
    torch.testing.assert_close(faces(z[:1]), x[:1], rtol=0, atol=1e-5)         # BN in eval mode: no batch coupling
    assert x.std(dim=0).mean() > 0.1                                           # different z, different faces
    # the trained weights are loaded: a freshly initialised DCGAN gives another image
    from gan_face_generate.models import Generator as PackageG

    torch.manual_seed(0)
    fresh = PackageG(0, 3, 100, 64).eval()
    assert (fresh(z.view(8, 100, 1, 1)) - x).abs().mean() > 0.1
    zg = z[:2].clone().requires_grad_(True)
    faces(zg).sum().backward()
    assert zg.grad.abs().sum() > 0
    d = faces.describe()
    assert d["package_version"] and d["state_dict_key"] == "netG_state_dict" and len(d["checkpoint_sha256"]) == 64


# ---------------------------------------------------------------------------------------------- the registry

def test_schema_kind_enum_is_the_registry_plus_the_builtins():
    import yaml

    from ganaudit.workflow.plan import BUILTIN_KINDS, SAMPLES_KIND

    schema = yaml.safe_load((Path(__file__).resolve().parents[2] / "schemas" / "config.schema.yaml").read_text())
    enum = schema["properties"]["models"]["additionalProperties"]["properties"]["kind"]["enum"]
    assert sorted(enum) == sorted([*adapters.KINDS, *BUILTIN_KINDS, SAMPLES_KIND]) and len(enum) == len(set(enum))
    assert not set(adapters.KINDS) & set(BUILTIN_KINDS)


def test_every_kind_requires_and_checks_only_keys_it_allows():
    for name, kind in adapters.REGISTRY.items():
        assert kind.name == name and callable(kind.loader)
        assert set(kind.required) <= kind.keys and set(kind.files) <= kind.keys, name
        assert bool(kind.repo) == bool(kind.repo_holds) and (not kind.repo or "repo_path" in kind.required), name
