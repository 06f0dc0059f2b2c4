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
