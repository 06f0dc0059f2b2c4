"""Every shipped config is valid against the schema (with defaults filled in) and passes the
workflow's own checks."""

from pathlib import Path

import pytest
import yaml
from snakemake.utils import validate

from ganaudit.workflow.plan import ConfigError, check_config, group_names

REPO = Path(__file__).resolve().parents[2]
CONFIGS = [REPO / "config.yaml", *sorted((REPO / "configs").glob("*.yaml"))]


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_config_is_valid(path, tmp_path, monkeypatch):
    cfg = yaml.safe_load(path.read_text())
    validate(cfg, str(REPO / "schemas" / "config.schema.yaml"), set_default=True)
    for spec in cfg["models"].values():
        if spec["kind"] == "samples":      # the folder a user makes first, relative to the run's working directory
            (tmp_path / spec["path"]).mkdir(parents=True)
            monkeypatch.chdir(tmp_path)
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

    from ganaudit.workflow.plan import normalise_config

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


def _config(name="config.yaml"):
    from ganaudit.workflow.plan import normalise_config

    cfg = yaml.safe_load(((REPO / name) if name == "config.yaml" else (REPO / "configs" / name)).read_text())
    validate(cfg, str(REPO / "schemas" / "config.schema.yaml"), set_default=True)
    return normalise_config(cfg)


def test_beyond_plan_says_which_tests_run_and_why_not():
    from ganaudit.workflow.plan import beyond_plan

    assert beyond_plan(_config()) == {"support": None, "memorisation": None, "coverage": None, "tgtr": None,
                                      "metrics": None}
    faces = beyond_plan(_config("faces.yaml"))
    assert faces["coverage"] is None                                   # the samples' own spectrum needs no data
    assert faces["metrics"] is None                                    # Vendi and PPL need no data
    assert faces["support"] == faces["memorisation"] == faces["tgtr"] == (
        "no training images in this run: dataset.source.kind is none")
    cfg = _config()
    cfg["beyond"]["tgtr"]["enabled"] = False
    assert beyond_plan(cfg)["tgtr"] == "disabled in the config: beyond.tgtr.enabled is false"
    for spec in cfg["models"].values():
        spec["role"] = "baseline"
    plan = beyond_plan(cfg)
    assert plan.pop("metrics") is None                                 # the metrics audit every model, baselines too
    assert set(plan.values()) == {"no model has role gan", "disabled in the config: beyond.tgtr.enabled is false"}


def test_latent_sweep_needs_one_kind_at_several_latent_sizes():
    from ganaudit.workflow.plan import latent_sweep_models

    assert latent_sweep_models(_config()) == {}                         # gan, vae, ppca all at 16
    sweep = latent_sweep_models(_config("latent_sweep.yaml"))
    assert sweep == {"dcgan": ["gan_z2", "gan_z8", "gan_z16", "gan_z32", "gan_z64", "gan_z128"],
                     "vae": ["vae_z2", "vae_z16", "vae_z128"]}
    cfg = _config()
    cfg["beyond"]["latent_sweep"]["enabled"] = True
    with pytest.raises(ConfigError, match="beyond.latent_sweep.enabled: true, but no model kind"):
        latent_sweep_models(cfg)
    cfg = _config("latent_sweep.yaml")
    cfg["beyond"]["latent_sweep"]["enabled"] = False
    assert latent_sweep_models(cfg) == {}


def test_a_model_s_inversion_settings_merge_over_the_section_and_never_reach_its_training():
    from ganaudit.workflow.plan import inversion_params, model_spec

    cfg = _config("latent_sweep.yaml")
    base = inversion_params(cfg)
    big = inversion_params(cfg, "gan_z128")
    assert (big["n_restarts"], big["n_steps"]) == (8, 300) and (base["n_restarts"], base["n_steps"]) == (4, 150)
    assert {k: v for k, v in big.items() if k not in ("n_restarts", "n_steps")} == {
        k: v for k, v in base.items() if k not in ("n_restarts", "n_steps")}
    assert inversion_params(cfg, "gan_z2") == base and "groups" not in big
    assert "inversion" not in model_spec(cfg, "gan_z128") and model_spec(cfg, "gan_z2") == cfg["models"]["gan_z2"]
    cfg["models"]["gan_z2"]["inversion"] = {"n_images": 5}
    with pytest.raises(ConfigError, match=r"models.gan_z2.inversion: unknown key\(s\) \['n_images'\]"):
        check_config(cfg)


def test_a_samples_model_runs_only_the_audits_that_need_samples(tmp_path, monkeypatch):
    from ganaudit.workflow.plan import beyond_plan, generator_models, paper_plan, sample_models

    cfg = _config("samples.yaml")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match="config: models.perfect.path: mnist_pngs not found"):
        check_config(cfg)
    (tmp_path / "mnist_pngs").mkdir()
    check_config(cfg)
    assert sample_models(cfg) == ["perfect"] and generator_models(cfg) == []
    assert paper_plan(cfg).startswith("every model of this run is given as stored samples (kind samples: perfect)")
    assert beyond_plan(cfg) == {"support": None, "memorisation": None, "coverage": None, "tgtr": None, "metrics": None}
    assert paper_plan(_config()) is None
    cfg["models"]["perfect"]["latent_dim"] = 8
    with pytest.raises(ConfigError, match=r"models.perfect: unknown key\(s\) \['latent_dim'\] for kind 'samples'"):
        check_config(cfg)


def test_real_feature_spaces_are_those_the_running_audits_read():
    from ganaudit.workflow.plan import real_feature_spaces

    cfg = _config()
    assert real_feature_spaces(cfg) == ["perceptual", "classifier"]       # the metrics' pixels are the images
    assert real_feature_spaces(_config("faces.yaml")) == []                # no training images: no cache
    cfg["beyond"]["metrics"]["weights"]["inception"] = "inception.pt"
    assert real_feature_spaces(cfg) == ["perceptual", "classifier", "inception"]
    cfg["beyond"]["metrics"]["enabled"] = False
    assert real_feature_spaces(cfg) == ["perceptual"]                      # support and memorisation
    cfg["beyond"]["support"]["enabled"] = cfg["beyond"]["memorisation"]["enabled"] = False
    assert real_feature_spaces(cfg) == []
    cfg = _config()
    cfg["classifier"]["enabled"] = False
    assert real_feature_spaces(cfg) == ["perceptual"]
