"""Shared fixtures: a copy of the workflow in a temporary directory and one smoke run of it."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
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


def snakemake(workdir: Path, *args: str, check: bool = True, timeout: int = 900) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.run([*SNAKEMAKE, "--cores", "2", *args], cwd=workdir, capture_output=True, text=True,
                          timeout=timeout, env=env)
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-6000:]}")
    return proc


def h5_datasets(path: Path) -> dict[str, np.ndarray]:
    """Every dataset of a complete artifact (an incomplete one fails the test)."""
    out = {}
    with h5py.File(path, "r") as f:
        assert f.attrs.get("complete"), f"{path}: incomplete artifact accepted"
        f.visititems(lambda n, o: out.__setitem__(n, o[()]) if isinstance(o, h5py.Dataset) else None)
    return out


def assert_same_artifacts(reference: Path, run: Path) -> None:
    """The same HDF5 files under results/, dataset by dataset and bit for bit."""
    ref = sorted(p.relative_to(reference) for p in (reference / "results").rglob("*.h5"))
    assert sorted(p.relative_to(run) for p in (run / "results").rglob("*.h5")) == ref
    for rel in ref:
        a, b = h5_datasets(reference / rel), h5_datasets(run / rel)
        assert sorted(a) == sorted(b), rel
        for name in a:
            np.testing.assert_array_equal(a[name], b[name], err_msg=f"{rel}:{name}")


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory) -> Path:
    """The smoke config run to completion once per test session (workflow tests share it)."""
    wd = copy_workflow(tmp_path_factory.mktemp("smoke"))
    snakemake(wd, "--configfile", "configs/smoke.yaml")
    return wd
