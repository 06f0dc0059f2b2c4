"""Every shipped config is valid against the schema (with defaults filled in) and passes the
workflow's own checks."""

from pathlib import Path

import pytest
import yaml
from snakemake.utils import validate

from ganaudit.workflow import ConfigError, check_config, group_names

REPO = Path(__file__).resolve().parents[1]
CONFIGS = [REPO / "config.yaml", *sorted((REPO / "configs").glob("*.yaml"))]


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_config_is_valid(path):
    cfg = yaml.safe_load(path.read_text())
    validate(cfg, str(REPO / "schemas" / "config.schema.yaml"), set_default=True)
    check_config(cfg)
    assert "generated_calibration" in group_names(cfg)


def test_schema_describes_every_key_with_a_default_or_requirement():
    schema = yaml.safe_load((REPO / "schemas" / "config.schema.yaml").read_text())

    def walk(node, path):
        for key, sub in (node.get("properties") or {}).items():
            assert "description" in sub or "$ref" in sub, f"{path}.{key} has no description"
            walk(sub, f"{path}.{key}")

    walk(schema, "config")


def test_missing_sigma_without_training_data_is_named():
    cfg = yaml.safe_load((REPO / "configs" / "faces.yaml").read_text())
    validate(cfg, str(REPO / "schemas" / "config.schema.yaml"), set_default=True)
    cfg["sigma"]["value"] = None
    with pytest.raises(ConfigError, match="sigma.value"):
        check_config(cfg)


def test_one_spelling_for_sources_in_both_places():
    """`dataset.source` and `groups.<name>.source` take the same spelling: a mapping {kind, path, ...} or the bare
    kind; the old group spelling (`source: image_folder` with `path` beside it) is refused with the new one named."""
    import copy

    from ganaudit.workflow import normalise_config

    base = yaml.safe_load((REPO / "config.yaml").read_text())
    cfg = copy.deepcopy(base)
    cfg["groups"]["svhn"] = {"source": {"kind": "image_folder", "path": "/data/svhn_png"}, "n": 10}
    cfg["dataset"]["source"] = "mnist"
    normalise_config(cfg)
    check_config(cfg)
    assert cfg["groups"]["svhn"]["source"] == {"kind": "image_folder", "path": "/data/svhn_png"}
    assert cfg["dataset"]["source"] == {"kind": "mnist"} and cfg["groups"]["animals"]["source"] == {"kind": "animal_silhouettes"}
    old = copy.deepcopy(base)
    old["groups"]["svhn"] = {"source": "image_folder", "n": 10}
    with pytest.raises(ConfigError, match=r"groups.svhn.source: kind 'image_folder' needs a path: `source: \{kind: image_folder, path: DIR\}`"):
        check_config(normalise_config(old))
    with pytest.raises(ConfigError, match="dataset.source: kind 'noise' is not a class-labelled dataset"):
        check_config(normalise_config({**copy.deepcopy(base), "dataset": {**base["dataset"], "source": "noise"}}))


def test_the_report_command_has_what_it_needs_in_the_run_install():
    """`bash run.sh` installs the `workflow` extra only; `snakemake --report` needs pygments (the test extras bring
    it through pytest, which hid its absence)."""
    import tomllib

    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert any(d.lower().startswith("pygments") for d in extras["workflow"])


def test_captions_name_the_run_s_dataset_not_mnist():
    for rst in (REPO / "report").glob("*.rst"):
        assert "MNIST classifier" not in rst.read_text(), rst
