"""Exact rerun semantics, from `snakemake -n` job summaries after a complete smoke run: a change to one
stage's config reruns that stage and what reads it, nothing upstream."""

import pytest
import yaml

from conftest import snakemake
from test_workflow import planned_jobs

pytestmark = pytest.mark.workflow

FIGURE_PREFIXES = ("fig", "table2_fig", "training_fig", "plot_")


def dry_run_with(workdir, edit) -> dict[str, int]:
    cfg = yaml.safe_load((workdir / "configs" / "smoke.yaml").read_text())
    edit(cfg)
    (workdir / "edited.yaml").write_text(yaml.safe_dump(cfg))
    return planned_jobs(snakemake(workdir, "--configfile", "edited.yaml", "-n"))


def test_ais_change_reruns_only_ais_and_consumers(smoke_run):
    jobs = dry_run_with(smoke_run, lambda c: c["ais"]["overrides"].update(n_steps=11))
    assert jobs.get("ais", 0) > 0
    upstream = {"prepare_data", "train_model", "sample_model", "invert", "gather_inversion", "fit_sigma",
                "nn_baseline", "manifold_inference", "inversion_validation", "train_classifier", "sample_quality"}
    assert not upstream & set(jobs), jobs


def test_inversion_change_reruns_inversion_sigma_ais(smoke_run):
    jobs = dry_run_with(smoke_run, lambda c: c["inversion"].update(n_steps=21))
    for rule in ("invert", "fit_sigma", "ais", "density_inference"):
        assert jobs.get(rule, 0) > 0, (rule, jobs)
    assert not {"prepare_data", "train_model", "sample_model", "nn_baseline"} & set(jobs), jobs


def test_figure_change_reruns_only_figures(smoke_run):
    jobs = dry_run_with(smoke_run, lambda c: c["figures"].update(dpi=61))
    assert jobs, "a figure setting must rerun the figures"
    others = {r for r in jobs if r != "all" and not r.startswith(("fig", "plot", "table2_typicality", "training"))}
    assert not others, jobs


def _copy_run(src, dest):
    """A copy of a finished run (results, metadata, mtimes) whose library is a real copy, not the symlink."""
    import shutil

    shutil.copytree(src, dest, symlinks=True)
    (dest / "ganaudit").unlink()
    shutil.copytree(src / "ganaudit", dest / "ganaudit", ignore=shutil.ignore_patterns("__pycache__"))
    return dest


def test_code_change_in_a_library_module_reruns_the_stages_that_use_it(smoke_run, tmp_path):
    wd = _copy_run(smoke_run, tmp_path / "wf")
    assert planned_jobs(snakemake(wd, "--configfile", "configs/smoke.yaml", "-n")) == {}
    with open(wd / "ganaudit" / "hmc.py", "a") as f:
        f.write("\n# an edit\n")
    jobs = planned_jobs(snakemake(wd, "--configfile", "configs/smoke.yaml", "-n"))
    assert jobs.get("ais", 0) > 0 and "validate_ais" in jobs and "density_inference" in jobs, jobs
    assert not {"prepare_data", "train_model", "invert", "fit_sigma", "nn_baseline"} & set(jobs), jobs


def test_code_change_in_a_script_reruns_its_rule(smoke_run, tmp_path):
    wd = _copy_run(smoke_run, tmp_path / "wf")
    script = wd / "scripts" / "typicality.py"
    script.unlink()  # the copy is a real file; edit it without touching the repository
    script.write_text((smoke_run / "scripts" / "typicality.py").read_text() + "\n# an edit\n")
    jobs = planned_jobs(snakemake(wd, "--configfile", "configs/smoke.yaml", "-n"))
    assert jobs.get("typicality", 0) > 0, jobs
    assert not {"prepare_data", "train_model", "invert", "ais", "fit_sigma"} & set(jobs), jobs
