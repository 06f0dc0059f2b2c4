"""Shared fixtures: a copy of the workflow in a temporary directory and one smoke run of it."""

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
WORKFLOW_FILES = ["Snakefile", "rules", "scripts", "envs", "schemas", "report", "configs", "config.yaml", "profiles"]
SNAKEMAKE = [sys.executable, "-m", "snakemake"]


def copy_workflow(dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    for name in WORKFLOW_FILES:
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, dest / name, dirs_exist_ok=True)
        elif src.exists():
            shutil.copy2(src, dest / name)
    # the library is installed (editable) in the venv; code-change triggers read ganaudit/*.py here
    (dest / "ganaudit").symlink_to(REPO / "ganaudit")
    return dest


def snakemake(workdir: Path, *args: str, check: bool = True, timeout: int = 900,
              env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    proc = subprocess.run([*SNAKEMAKE, "--cores", "2", *args], cwd=workdir, capture_output=True, text=True,
                          timeout=timeout, env=env)
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-6000:]}")
    return proc


def planned_jobs(proc) -> dict[str, int]:
    """Job counts per rule from a dry run's 'Job stats' table."""
    m = re.search(r"Job stats:\n(.*?)\n\n", proc.stdout + "\n\n", re.S)
    counts = {}
    if m:
        for line in m.group(1).splitlines()[2:]:
            parts = line.split()
            if len(parts) == 2 and parts[1].isdigit() and parts[0] != "total":
                counts[parts[0]] = int(parts[1])
    return counts


def _compare_runs():
    """scripts/dev/compare_runs.py, the one home of the artifact comparison (scripts/ is not a package)."""
    spec = importlib.util.spec_from_file_location("compare_runs", REPO / "scripts" / "dev" / "compare_runs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def assert_same_artifacts(reference: Path, run: Path) -> None:
    """The same HDF5 files under results/, complete, dataset by dataset and bit for bit."""
    diffs = _compare_runs().h5_differences(reference, run)
    assert not diffs, "\n".join(diffs)


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory) -> Path:
    """The smoke config run to completion once per test session (workflow tests share it)."""
    wd = copy_workflow(tmp_path_factory.mktemp("smoke"))
    snakemake(wd, "--configfile", "configs/smoke.yaml")
    return wd
