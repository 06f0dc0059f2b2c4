"""Workflow tests on the smoke config: every target is made, nothing is left to do afterwards, bad
configs stop before any job, and the report renders."""

import re
from pathlib import Path

import pytest
import yaml
from conftest import copy_workflow, planned_jobs, snakemake

pytestmark = pytest.mark.workflow


def test_smoke_targets_exist_and_are_non_empty(smoke_run: Path):
    proc = snakemake(smoke_run, "--configfile", "configs/smoke.yaml", "--list-target-rules")
    results = smoke_run / "results"
    expected = [
        "tables/manifold_inference.csv", "tables/manifold_inference.md", "tables/table1.csv", "tables/table1.md",
        "tables/table2.csv", "tables/table2.md", "tables/table3.csv", "tables/density_inference.csv",
        "tables/ais_validation.csv", "tables/inversion_validation.csv", "tables/ll_per_group.md",
        "data/mnist/train.h5", "data/mnist/animals.h5", "samples/gan/generated_calibration.h5",
        "models/gan/generator.pt", "models/ppca/generator.pt", "inversion/gan/train.h5", "ais/gan/test.h5",
        "ais_check/gan/test.h5", "baseline/test.h5", "sigma/gan.json", "typicality/gan.csv",
    ]
    for rel in expected:
        p = results / rel
        assert p.exists() and p.stat().st_size > 0, rel
    figures = list((results / "figures").glob("*.png"))
    assert figures, "no figures were made"
    for f in figures:
        assert f.stat().st_size > 5000, f
    assert proc.returncode == 0


def test_nothing_to_do_after_a_complete_run(smoke_run: Path):
    proc = snakemake(smoke_run, "--configfile", "configs/smoke.yaml", "-n")
    assert "Nothing to be done" in proc.stdout + proc.stderr, proc.stdout[-3000:]


@pytest.mark.parametrize("edit, message", [
    ("bogus_key: 1\n", "bogus_key"),
    ("ais:\n  preset: paper\n  n_images: -3\n", "n_images"),
    ("inversion:\n  n_steps: many\n", "n_steps"),
])
def test_bad_config_stops_before_any_job(tmp_path, edit, message):
    wd = copy_workflow(tmp_path / "wf")
    cfg = (wd / "configs" / "smoke.yaml").read_text()
    top = edit.split(":")[0]
    if top in ("ais", "inversion"):
        # replace the whole section with the bad one
        cfg = re.sub(rf"^{top}:\n(?:  .*\n|\n)*", "", cfg, flags=re.M)
    (wd / "bad.yaml").write_text(cfg + edit)
    proc = snakemake(wd, "--configfile", "bad.yaml", "-n", check=False)
    assert proc.returncode != 0
    out = proc.stdout + proc.stderr
    assert message in out, out[-3000:]
    assert not (wd / "results").exists()


def test_unknown_model_key_is_named(tmp_path):
    wd = copy_workflow(tmp_path / "wf")
    cfg = (wd / "configs" / "smoke.yaml").read_text().replace("ppca: {kind: ppca, latent_dim: 8, role: baseline}",
                                                           "ppca: {kind: ppca, latent_dim: 8, role: baseline, lattent: 3}")
    (wd / "bad.yaml").write_text(cfg)
    proc = snakemake(wd, "--configfile", "bad.yaml", "-n", check=False)
    assert proc.returncode != 0 and "models.ppca: unknown key(s) ['lattent']" in proc.stdout + proc.stderr


def test_missing_checkpoint_is_named_before_any_job(tmp_path):
    wd = copy_workflow(tmp_path / "wf")
    cfg = yaml.safe_load((wd / "configs" / "smoke.yaml").read_text())
    cfg["models"]["mine"] = {"kind": "torch_module", "class_path": "torch.nn:Identity", "latent_dim": 8,
                             "checkpoint": "weights/netG.pth"}
    (wd / "bad.yaml").write_text(yaml.safe_dump(cfg))
    proc = snakemake(wd, "--configfile", "bad.yaml", "-n", check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "config: models.mine: torch_module: checkpoint weights/netG.pth not found" in out, out[-3000:]
    assert not (wd / "results").exists()


def test_lint_is_clean():
    from conftest import REPO

    proc = snakemake(REPO, "--lint", check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]


def test_report_contains_every_figure_and_the_findings(smoke_run: Path):
    snakemake(smoke_run, "--configfile", "configs/smoke.yaml", "--report", "results/report.html")
    html = (smoke_run / "results" / "report.html").read_text(errors="replace")
    figures = sorted(p.name for p in (smoke_run / "results" / "figures").glob("*.png"))
    assert figures
    missing = [f for f in figures if f not in html]
    assert not missing, f"figures missing from the report: {missing}"
    # the front page is the findings template filled with this run's numbers, not the raw template
    filled = "$v1" not in html and "reproduced" in html
    assert filled, "the report's front page was not filled with this run's findings"


def test_results_can_live_outside_the_checkout_with_directory(tmp_path):
    """`snakemake --directory /scratch/run1` (a common habit on clusters): the code inputs are the workflow's own
    files, wherever the results go."""
    wd = copy_workflow(tmp_path / "wf")
    run = tmp_path / "scratch" / "run1"
    snakemake(wd, "results/data/mnist/test.h5", "--directory", str(run), "--configfile", "configs/smoke.yaml")
    assert (run / "results" / "data" / "mnist" / "test.h5").exists() and (run / "logs").is_dir()
    assert not (wd / "results").exists()
    proc = snakemake(wd, "--directory", str(run), "--configfile", "configs/smoke.yaml", "-n")   # the whole DAG builds there
    assert "prepare_data" in planned_jobs(proc)


def test_a_config_keeps_its_audit_in_its_own_folder(tmp_path):
    """Two configs in one checkout must not overwrite each other: `workdir:` puts a config's results, logs and
    benchmarks under its own folder."""
    wd = copy_workflow(tmp_path / "wf")
    cfg = yaml.safe_load((wd / "configs" / "smoke.yaml").read_text())
    cfg["workdir"] = "audits/smoke"
    (wd / "own.yaml").write_text(yaml.safe_dump(cfg))
    snakemake(wd, "results/data/mnist/test.h5", "--configfile", "own.yaml")
    assert (wd / "audits" / "smoke" / "results" / "data" / "mnist" / "test.h5").exists()
    assert not (wd / "results").exists()
