"""Only stale work reruns: on a finished smoke run, `snakemake -n` after one edit plans exactly the jobs the edit
makes stale (job counts per rule, asserted whole), for the edits users make most; and every rule lists the
library modules its script imports as inputs, so a code edit reruns what runs that code."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pytest
import yaml
from conftest import REPO, copy_workflow, planned_jobs, snakemake

from ganaudit.audits.registry import AUDITS

pytestmark = pytest.mark.workflow

# what any change to the log-likelihoods of a group reruns downstream (smoke config: one GAN, "gan", and PPCA)
# (the flat record of each model, results/metrics/{model}.json, reads every table, so it follows them)
DENSITY_CONSUMERS = {"density_inference": 1, "typicality": 2, "table2": 1, "findings": 1, "plot_fig7_density_inference": 1,
                     "plot_fig8_likelihood": 1, "plot_fig9_ais_convergence": 1, "plot_fig12_likelihood_all_models": 1,
                     "plot_table2_typicality": 1, "metrics_json": 2, "calibration": 1, "all": 1}


def edited(workdir, edit) -> dict[str, int]:
    cfg = yaml.safe_load((workdir / "configs" / "smoke.yaml").read_text())
    edit(cfg)
    (workdir / "edited.yaml").write_text(yaml.safe_dump(cfg))
    return planned_jobs(snakemake(workdir, "--configfile", "edited.yaml", "-n"))


def add_group(cfg):
    cfg["groups"]["noise"] = {"source": "noise", "n": 8}
    cfg["inversion"]["groups"].append("noise")
    cfg["ais"]["groups"].append("noise")


def test_adding_a_group_runs_that_group_and_the_summaries(smoke_run):
    jobs = edited(smoke_run, add_group)
    assert jobs == {"prepare_data": 1, "invert": 2, "gather_inversion": 2, "nn_baseline": 1, "ais": 2, "gather_ais": 2,
                    "ais_check": 2, "manifold_inference": 1, "plot_fig4_manifold_inference": 1, "plot_fig5_groups": 1,
                    **DENSITY_CONSUMERS}, jobs


def test_removing_a_group_runs_no_estimate(smoke_run):
    jobs = edited(smoke_run, lambda c: c["ais"]["groups"].remove("animals"))
    assert jobs == DENSITY_CONSUMERS, jobs


def test_one_groups_image_count_reruns_that_groups_shards(smoke_run):
    jobs = edited(smoke_run, lambda c: c["ais"].update(n_images_by_group={"generated": 8}))
    # generated: 8 images in shards of 6 → 2 shards per model; nothing of any other group
    assert jobs == {"ais": 4, "gather_ais": 2, "ais_check": 2, **DENSITY_CONSUMERS}, jobs


def test_adding_a_model_runs_that_model_and_the_summaries(smoke_run):
    vae = {"kind": "vae", "latent_dim": 8, "width": 8, "role": "baseline", "train": {"steps": 20, "batch_size": 32, "lr": 0.0002}}
    cfg = yaml.safe_load((smoke_run / "configs" / "smoke.yaml").read_text())
    cfg["models"]["vae"] = vae
    (smoke_run / "edited.yaml").write_text(yaml.safe_dump(cfg))
    proc = snakemake(smoke_run, "--configfile", "edited.yaml", "-n")
    jobs = planned_jobs(proc)
    assert jobs == {"train_model": 1, "sample_model": 2, "sample_quality": 1, "plot_training": 1, "invert": 4,
                    "gather_inversion": 4, "fit_sigma": 1, "train_encoder": 1, "ais": 5, "gather_ais": 5, "ais_check": 5, "typicality": 1,
                    "manifold_inference": 1, "inversion_validation": 1, "plot_fig4_manifold_inference": 1,
                    "plot_fig10_reconstruction_all_models": 1, "plot_fig11_inversions_all_models": 1,
                    "metrics": 1, "metrics_table": 1, "plot_metrics_summary": 1,         # the metrics audit every model
                    **{k: v for k, v in DENSITY_CONSUMERS.items() if k not in ("typicality", "plot_fig9_ais_convergence")},
                    "metrics_json": 3}, jobs
    # every per-model job but the GAN's Fig 8 (it reads the per-image table, which gains the new model's rows) and
    # the other models' flat records (they read the tables) is the new model's
    per_model = re.findall(r"^rule (\w+):\n(?:    .*\n)*?    wildcards: model=(\w+)", proc.stdout, re.M)
    assert {m for rule, m in per_model if rule not in ("plot_fig8_likelihood", "metrics_json")} == {"vae"}, per_model


def test_figure_settings_rerun_only_figures(smoke_run):
    jobs = edited(smoke_run, lambda c: c["figures"].update(dpi=61))
    assert set(jobs) - {"all"} == {r for r in jobs if r.startswith("plot_")} and jobs["plot_training"] == 2, jobs
    assert len(jobs) == 17, jobs  # every figure rule (with those of the tests beyond the paper), nothing else


def _copy_run(src, dest):
    """A copy of a finished run (results, metadata, mtimes) whose library is a real copy, not the symlink."""
    shutil.copytree(src, dest, symlinks=True)
    (dest / "ganaudit").unlink()
    shutil.copytree(src / "ganaudit", dest / "ganaudit", ignore=shutil.ignore_patterns("__pycache__"))
    return dest


def test_editing_one_library_module_reruns_exactly_its_users(smoke_run, tmp_path):
    wd = _copy_run(smoke_run, tmp_path / "wf")
    assert planned_jobs(snakemake(wd, "--configfile", "configs/smoke.yaml", "-n")) == {}
    module = wd / "ganaudit" / "density" / "hmc.py"
    assert module.is_file()
    with open(module, "a") as f:
        f.write("\n# an edit\n")
    jobs = planned_jobs(snakemake(wd, "--configfile", "configs/smoke.yaml", "-n"))
    # 2 models × 5 AIS groups, one shard each; the PPCA/BDMC checks; nothing upstream of AIS
    assert jobs == {"ais": 10, "gather_ais": 10, "ais_check": 10, "validate_ais": 1, **DENSITY_CONSUMERS}, jobs


def test_code_change_in_a_script_reruns_its_rule(smoke_run, tmp_path):
    wd = _copy_run(smoke_run, tmp_path / "wf")
    script = wd / "scripts" / "typicality.py"
    script.unlink()  # the copy is a real file; edit it without touching the repository
    script.write_text((smoke_run / "scripts" / "typicality.py").read_text() + "\n# an edit\n")
    jobs = planned_jobs(snakemake(wd, "--configfile", "configs/smoke.yaml", "-n"))
    # table2 feeds the calibration table and each model's flat record too
    assert jobs == {"typicality": 2, "table2": 1, "calibration": 1, "findings": 1, "plot_table2_typicality": 1,
                    "metrics_json": 2, "all": 1}, jobs


def _rule_scripts() -> dict[str, str]:
    """rule name → its script (scripts/...) from the rule files; figure rules are made in a loop and name theirs
    in their inputs."""
    out = {}
    for smk in (REPO / "rules").glob("*.smk"):
        for name, body in re.findall(r"^rule (\w+):\n(.*?)(?=^rule |\Z)", smk.read_text(), re.S | re.M):
            m = re.search(r'script:\n\s+"\.\./(scripts/[\w/]+\.py)"', body)
            if m:
                out[name] = m.group(1)
    return out


def _imported_library_files(script, also: str = "") -> set[str]:
    """The ganaudit files a script has loaded once its imports ran (in a fresh interpreter, without Snakemake), and
    with ``also`` (a module the script imports when it runs, e.g. an audit's stage) those of that module too."""
    code = ("import runpy, sys, importlib; runpy.run_path(sys.argv[1], run_name='imports_only'); "
            + (f"importlib.import_module({also!r}); " if also else "") +
            "print('\\n'.join(sorted({m.__file__ for n, m in list(sys.modules.items()) "
            "if n.split('.')[0] == 'ganaudit' and getattr(m, '__file__', None)})))")
    out = subprocess.run([sys.executable, "-c", code, str(script)], capture_output=True, text=True, check=True,
                         env={**os.environ, "MPLBACKEND": "Agg"})
    return {os.path.realpath(p) for p in out.stdout.split()}


def test_every_library_module_a_script_imports_is_an_input_of_its_rule(tmp_path):
    """The oracle is Python itself: the modules loaded by importing the script must all be among the inputs
    Snakemake plans for the rule's jobs (a dry run lists them), or an edit to them would rerun nothing."""
    wd = copy_workflow(tmp_path / "wf")
    proc = snakemake(wd, "--configfile", "configs/smoke.yaml", "-n")   # a fresh copy: every job is planned
    scripts = _rule_scripts()
    checked, probed = {}, {}
    for rule, listed in re.findall(r"^rule (\w+):\n    input: (.*)$", proc.stdout, re.M):
        inputs = {os.path.realpath(p if os.path.isabs(p) else wd / p) for p in listed.split(", ")}
        also = ""
        if rule.startswith("plot_"):
            script = next(p for p in inputs if "/scripts/figures/" in p)
        elif rule in AUDITS:  # made in a loop over the registry: scripts/audit.py runs the entry's stage
            script = str(wd / "scripts" / "audit.py")
            also = AUDITS[rule].stage.partition(":")[0]
        elif rule in scripts:
            script = str(wd / scripts[rule])
        else:
            continue
        if (script, also) not in probed:
            probed[script, also] = _imported_library_files(script, also)
        checked[rule] = inputs
        missing = probed[script, also] - inputs
        assert not missing, f"rule {rule}: {script} imports {sorted(missing)}, which are not among its inputs"
    assert {"prepare_data", "invert", "ais", "ais_check", "nn_baseline", "density_inference", *AUDITS} <= set(checked), checked.keys()


def test_perceptual_settings_rerun_the_real_features_and_the_audits_that_read_them(smoke_run):
    jobs = edited(smoke_run, lambda c: c["perceptual"].update(resize_to=40))
    # the cache of the real images' features, once, and each audit that reads it (metrics: every model)
    assert {"real_features": 1, "support": 1, "memorisation": 1, "metrics": 2}.items() <= jobs.items(), jobs
    assert "coverage" not in jobs and "tgtr" not in jobs, jobs


def test_an_audits_settings_rerun_that_audit_only(smoke_run):
    jobs = edited(smoke_run, lambda c: c["beyond"]["support"].update(n_batches=40))
    # the real features are not embedded again; the calibration table and the flat records read the support table
    assert jobs == {"support": 1, "support_table": 1, "plot_support_collisions": 1, "calibration": 1, "findings": 1,
                    "metrics_json": 2, "all": 1}, jobs
    jobs = edited(smoke_run, lambda c: c["beyond"]["metrics"].update(n_train=150))
    assert jobs == {"metrics": 2, "metrics_table": 1, "plot_metrics_summary": 2, "findings": 1, "metrics_json": 2,
                    "all": 1}, jobs
