"""The smoke workflow audits a user's own PyTorch generator (`kind: torch_module`): a class imported
from a folder that is not a package on the path, weights nested in a training checkpoint, 4-D latents,
one-hot labels and outputs on [0, 1] — every stage runs and the tables name the model."""

import textwrap

import pandas as pd
import pytest
import torch
import yaml
from conftest import copy_workflow, snakemake

pytestmark = [pytest.mark.workflow, pytest.mark.slow]

USER_NET = '''
import torch
from torch import nn


class CondGenerator(nn.Module):
    """z [B, nz, 1, 1] and one-hot labels [B, n_classes] -> sigmoid images [B, 1, 28, 28] on [0, 1]."""

    def __init__(self, nz=8, n_classes=2, hidden=64):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(nz + n_classes, hidden), nn.ReLU(), nn.Linear(hidden, 28 * 28))

    def forward(self, z, onehot):
        assert z.ndim == 4 and onehot.ndim == 2
        return torch.sigmoid(self.net(torch.cat([z.flatten(1), onehot], 1))).view(-1, 1, 28, 28)
'''


def test_smoke_workflow_runs_with_a_torch_module_generator(tmp_path):
    wd = copy_workflow(tmp_path / "wf")
    code = tmp_path / "user_code"
    (code / "usernets").mkdir(parents=True)
    (code / "usernets" / "__init__.py").write_text("")
    (code / "usernets" / "gen.py").write_text(textwrap.dedent(USER_NET))
    # a training checkpoint as users have them: the generator's weights nested next to other state
    import sys
    sys.path.insert(0, str(code))
    try:
        from usernets.gen import CondGenerator
    finally:
        sys.path.remove(str(code))
    torch.manual_seed(0)
    net = CondGenerator(nz=8, n_classes=2, hidden=64)
    ckpt = tmp_path / "ckpt" / "step_1000.pth"
    ckpt.parent.mkdir()
    torch.save({"step": 1000, "models": {"netG": net.state_dict()}, "optim": {}}, ckpt)

    cfg = yaml.safe_load((wd / "configs" / "smoke.yaml").read_text())
    cfg["models"] = {"mine": {
        "kind": "torch_module", "class_path": "usernets.gen:CondGenerator", "repo_path": str(code),
        "kwargs": {"nz": 8, "n_classes": 2, "hidden": 64}, "checkpoint": str(ckpt),
        "state_dict_key": "models.netG", "latent_dim": 8, "latent_shape": [8, 1, 1], "n_classes": 2,
        "label_format": "onehot", "output_range": "[0,1]"}}
    (wd / "user.yaml").write_text(yaml.safe_dump(cfg))
    snakemake(wd, "--configfile", "user.yaml")

    results = wd / "results"
    table1 = pd.read_csv(results / "tables" / "table1.csv")
    assert table1.model.tolist() == ["mine"] and table1.kind.tolist() == ["torch_module"]
    assert table1.test_ll_bits_per_dim.notna().all() and table1.n_test.gt(0).all()
    groups = pd.read_csv(results / "tables" / "ll_per_group.csv")
    assert set(groups.group) >= {"train", "test", "generated", "animals"}
    assert groups.mean_log_px.notna().all()
    manifold = pd.read_csv(results / "tables" / "manifold_inference.csv")
    assert manifold.method.str.contains(r"manifold \(mine\)").any()
    assert pd.read_csv(results / "tables" / "table2.csv").model.unique().tolist() == ["mine"]
    # the adapter's provenance (class path, checkpoint and its hash) is in the model reference
    meta = torch.load(results / "models" / "mine" / "generator.pt", weights_only=False)
    assert meta["adapter"]["class_path"] == "usernets.gen:CondGenerator"
    described = meta["meta"]["generator"]
    assert described["checkpoint"] == str(ckpt.resolve()) and len(described["checkpoint_sha256"]) == 64
    assert described["image_shape"] == [1, 28, 28] and described["n_classes"] == 2
    assert any(p.name.startswith("fig3_reconstruction_mine") for p in (results / "figures").glob("*.png"))
