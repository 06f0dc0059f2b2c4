"""A new audit is one entry in `ganaudit.audits.registry.AUDITS` and one module: a copy of the library with a dummy
entry plans the dummy's rule, table, figure and finding, with no other edit."""

import shutil
import textwrap

import pytest
import yaml
from conftest import REPO, copy_workflow, planned_jobs, snakemake

pytestmark = pytest.mark.workflow

DUMMY_ENTRY = '''
AUDITS["dummy"] = Audit("dummy", "ganaudit.audits.dummy:stage", (("dummy", "table", "A dummy audit"),),
                        "ganaudit.audits.dummy:finding", ("dummy_figure", "dummy"), needs_train=True,
                        seed_offset=99_000_001, inputs=("generator", "train"), config={"seed": "seed"}, gpu=False)
'''
DUMMY_MODULE = '''
"""A dummy audit: one entry in the registry and this module."""
import pandas as pd

from ganaudit.audits.common import write_frames
from ganaudit.audits.stage import StageOutput


def stage(inputs, params):
    tree, attrs = write_frames({"table": pd.DataFrame({"value": [float(inputs.seed)]})})
    return StageOutput(tree, attrs)


def finding(table, gan):
    return {"holds": None, "text": f"{len(table)} rows"}
'''


def test_a_new_audit_is_one_entry_and_one_module(tmp_path):
    wd = copy_workflow(tmp_path / "wf")
    (wd / "ganaudit").unlink()
    shutil.copytree(REPO / "ganaudit", wd / "ganaudit", ignore=shutil.ignore_patterns("__pycache__"))
    reg = wd / "ganaudit" / "audits" / "registry.py"
    reg.write_text(reg.read_text() + DUMMY_ENTRY)
    (wd / "ganaudit" / "audits" / "dummy.py").write_text(textwrap.dedent(DUMMY_MODULE))
    (wd / "scripts" / "figures" / "dummy_figure.py").write_text('"""The dummy audit\'s figure."""\n')
    proc = snakemake(wd, "--configfile", "configs/smoke.yaml", "-n", env={"PYTHONPATH": str(wd)})
    jobs = planned_jobs(proc)
    n_gans = sum(1 for s in yaml.safe_load((REPO / "configs/smoke.yaml").read_text())["models"].values()
                 if s.get("role", "gan") == "gan")
    assert jobs["dummy"] == n_gans and jobs["dummy_table"] == 1 and jobs["plot_dummy_figure"] == n_gans, jobs
    findings_inputs = next(line for line in proc.stdout.split("rule findings:")[1].splitlines() if "input:" in line)
    assert "results/tables/dummy.csv" in findings_inputs and "ganaudit/audits/dummy.py" in findings_inputs
    dummy_inputs = next(line for line in proc.stdout.split("rule dummy:")[1].splitlines() if "input:" in line)
    assert "scripts/audit.py" in dummy_inputs and "ganaudit/audits/dummy.py" in dummy_inputs
