"""SLURM: a real single-node cluster (tests/slurm_cluster.py), sbatch, and Snakemake's SLURM profile.

The `slurm_cluster` fixture installs SLURM (scripts/ci/install_slurm.sh) when missing, starts one
cluster for the whole session and stops it at the end. It skips when this machine cannot run SLURM
(not root, no apt-get), except on CI (CI=true), where it fails instead.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from slurm_cluster import (
    REPO_ROOT,
    SlurmCluster,
    SlurmUnavailable,
    install_slurm,
    skip_or_fail,
    slurm_unavailable_reason,
    write_test_profile,
)

from ganaudit.audits.registry import AUDITS

SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))

# Two independent rules (so both are submitted at once): `make_a` (threads 1, 100 MiB) and one
# named `invert`, so that the profile's set-resources send it to the GPU partition. `invert` fails
# on its first attempt, to check `retries` and the attempt-scaled memory. Each job records its SLURM
# job id and partition; the test reads the rest of the allocation back from `scontrol show job` (the
# jobstep plugin strips SLURM_MEM_* etc. from the step's environment).
TINY_SNAKEFILE = """
rule all:
    input: "a.txt", "b.txt"

rule make_a:
    output: "a.txt"
    threads: 1
    resources: mem_mb=100
    shell: "echo job=${{SLURM_JOB_ID:-}} partition=${{SLURM_JOB_PARTITION:-}} > {output}"

rule invert:
    output: "b.txt"
    shell:
        "if [ ! -e first_attempt_failed ]; then touch first_attempt_failed; exit 3; fi; "
        "echo job=${{SLURM_JOB_ID:-}} partition=${{SLURM_JOB_PARTITION:-}} > {output}"
"""


def _fields(line: str) -> dict[str, str]:
    return dict(kv.split("=", 1) for kv in line.split())


@pytest.fixture(scope="session")
def slurm_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SlurmCluster]:
    """One running single-node cluster for the session (``cluster.env`` points clients at it)."""
    reason = slurm_unavailable_reason()
    if reason is not None:
        skip_or_fail(reason)
    try:
        install_s = install_slurm()
    except SlurmUnavailable as exc:
        skip_or_fail(str(exc))
    t0 = time.monotonic()
    cluster = SlurmCluster(tmp_path_factory.mktemp("slurm")).start()
    print(f"\nSLURM: install {install_s:.1f} s, start {time.monotonic() - t0:.1f} s, conf {cluster.conf_path}")
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.mark.slurm
def test_sbatch_job_runs_and_gets_default_memory(slurm_cluster: SlurmCluster, tmp_path: Path) -> None:
    out = tmp_path / "job.out"
    job_id = slurm_cluster.run(
        ["sbatch", "--parsable", f"--output={out}", "--wrap", "echo job=$SLURM_JOB_ID cpus=$SLURM_CPUS_ON_NODE"],
        cwd=tmp_path,
    ).stdout.strip()
    assert re.fullmatch(r"\d+", job_id), job_id
    assert slurm_cluster.wait_for_job(job_id, timeout=60) == "COMPLETED"
    fields = _fields(out.read_text())
    assert fields["job"] == job_id
    assert fields["cpus"] == "1"
    # No --mem: the job gets DefMemPerCPU per CPU, not the whole node.
    info = slurm_cluster.run(["scontrol", "show", "job", job_id]).stdout
    assert f"MinMemoryCPU={slurm_cluster.def_mem_per_cpu_mb}M" in info
    assert "ExitCode=0:0" in info


@pytest.mark.slurm
def test_second_cluster_starts_beside_the_first_and_stops_its_own_daemons(
    slurm_cluster: SlurmCluster, tmp_path: Path
) -> None:
    with SlurmCluster(tmp_path / "second", partitions=("other",)) as second:
        daemons = dict(second._procs)
        assert sorted(daemons) == ["munged", "slurmctld", "slurmd"]
        assert all(p.poll() is None for p in daemons.values())
        job_id = second.run(["sbatch", "--parsable", "--wrap", "true"], cwd=tmp_path).stdout.strip()
        assert second.wait_for_job(job_id) == "COMPLETED"
        assert second.run(["sinfo", "-h", "-o", "%P"]).stdout.split() == ["other*"]
    # stop() ended (and reaped) exactly the three daemons it started ...
    assert all(p.returncode is not None and not os.path.exists(f"/proc/{p.pid}") for p in daemons.values())
    second.stop()  # ... is idempotent ...
    # ... and left the session cluster running.
    assert slurm_cluster.run(["sinfo", "-h", "-o", "%P"]).stdout.split() == ["debug*", "gpu"]


@pytest.mark.slurm
@pytest.mark.workflow
@pytest.mark.slow  # ~50 s on 2 cores: three SLURM jobs, each starting Snakemake twice, status polled every 5-20 s
def test_snakemake_slurm_profile_runs_jobs_on_the_cluster(slurm_cluster: SlurmCluster, tmp_path: Path) -> None:
    (tmp_path / "Snakefile").write_text(TINY_SNAKEFILE)
    profile = write_test_profile(slurm_cluster, tmp_path / "profile", mem_mb="200 * attempt")
    cfg = yaml.safe_load((profile / "config.yaml").read_text())
    assert cfg["executor"] == "slurm" and cfg["slurm-status-command"] == "squeue"
    assert 3 * cfg["slurm-init-seconds-before-status-checks"] <= slurm_cluster.min_job_age_s

    t0 = time.monotonic()
    proc = subprocess.run(
        [SNAKEMAKE, "--profile", str(profile), "--directory", str(tmp_path)],
        cwd=tmp_path, env=slurm_cluster.env, capture_output=True, text=True, timeout=300,
    )
    elapsed = time.monotonic() - t0
    assert proc.returncode == 0, f"snakemake failed:\n{proc.stderr[-4000:]}\n{slurm_cluster.log_tails()}"
    print(f"\nsnakemake --executor slurm, 2 rules (one retried): {elapsed:.1f} s")

    a = _fields((tmp_path / "a.txt").read_text())
    b = _fields((tmp_path / "b.txt").read_text())
    assert re.fullmatch(r"\d+", a["job"]) and re.fullmatch(r"\d+", b["job"])
    job_a, job_b = (_scontrol_job(slurm_cluster, j) for j in (a["job"], b["job"]))
    # Both were SLURM jobs that completed (MinJobAge keeps them visible to scontrol/squeue).
    assert job_a["JobState"] == job_b["JobState"] == "COMPLETED"
    # make_a: its own resources (1 CPU, 100 MiB) in the default partition.
    assert (a["partition"], job_a["Partition"]) == (slurm_cluster.default_partition,) * 2
    assert (job_a["NumCPUs"], job_a["MinMemoryNode"]) == ("1", "100M")
    # invert: sent to the GPU partition by set-resources; the job that wrote b.txt is attempt 2 (the
    # first one failed), so it asked for 2 × 200 MiB.
    assert (b["partition"], job_b["Partition"]) == ("gpu", "gpu")
    assert job_b["MinMemoryNode"] == "400M"
    assert (tmp_path / "first_attempt_failed").exists()


def _scontrol_job(cluster: SlurmCluster, job_id: str) -> dict[str, str]:
    """``scontrol show job -o`` as a dict (keys such as JobState, Partition, NumCPUs, MinMemoryNode)."""
    line = cluster.run(["scontrol", "show", "job", "-o", job_id]).stdout
    return dict(kv.split("=", 1) for kv in line.split() if "=" in kv)


def test_slurm_profile_sends_every_gpu_capable_rule_to_the_gpu_partition() -> None:
    # Rules whose resources come from torch_resources() ask for `gpu` under device: cuda; in a CPU
    # partition that sbatch would be refused, so the profile must route each of them.
    gpu_rules = set()
    for smk in sorted((REPO_ROOT / "rules").glob("*.smk")):
        rule = None
        for line in smk.read_text().splitlines():
            if m := re.match(r"(?:rule|checkpoint)\s+(\w+)\s*:", line):
                rule = m.group(1)
            elif rule and "torch_resources(" in line:
                gpu_rules.add(rule)
    gpu_rules |= {name for name, audit in AUDITS.items() if audit.gpu}  # made in a loop over the registry
    cfg = yaml.safe_load((REPO_ROOT / "profiles" / "slurm" / "config.yaml").read_text())
    routed = {r for r, res in cfg["set-resources"].items() if res.get("slurm_partition") == "CHANGE_ME_gpu_partition"}
    assert {"train_model", "invert", "ais", "support", "memorisation"} <= gpu_rules
    assert gpu_rules <= routed, f"profiles/slurm: set-resources misses {sorted(gpu_rules - routed)}"


def test_skip_or_fail_skips_locally_and_fails_on_ci() -> None:
    with pytest.raises(pytest.skip.Exception, match="no root"):
        skip_or_fail("no root", environ={})
    with pytest.raises(pytest.fail.Exception, match="cannot run on CI: no root"):
        skip_or_fail("no root", environ={"CI": "true"})


@pytest.mark.workflow
def test_default_profile_runs_locally(tmp_path: Path) -> None:
    (tmp_path / "Snakefile").write_text(TINY_SNAKEFILE)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLURM_")}
    (tmp_path / "first_attempt_failed").touch()  # no retries locally: let `invert` pass at once
    proc = subprocess.run(
        [SNAKEMAKE, "--profile", str(REPO_ROOT / "profiles" / "default"), "--directory", str(tmp_path)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    # Not a SLURM job: the variables are empty.
    assert _fields((tmp_path / "b.txt").read_text()) == {"job": "", "partition": ""}


# Rules the Snakefile runs where Snakemake runs (`localrules:`); every other job is a SLURM job.
def _local_rules() -> set[str]:
    """The rule names of the Snakefile's `localrules:` block, read from the Snakefile itself."""
    text = (REPO_ROOT / "Snakefile").read_text()
    block = re.search(r"^localrules:\n((?:[ \t]+\w+,?[ \t]*\n)+)", text, re.MULTILINE)
    assert block, "Snakefile: no `localrules:` block"
    return {name.strip().rstrip(",") for name in block.group(1).split("\n") if name.strip()}


LOCAL_RULES = _local_rules()


def _last_job_id(cluster: SlurmCluster, cwd: Path) -> int:
    """Submit a no-op job and return its id: ids are sequential, so two of these bracket a run."""
    job_id = cluster.run(["sbatch", "--parsable", "--output=/dev/null", "--wrap", "true"], cwd=cwd).stdout.strip()
    cluster.wait_for_job(job_id)
    return int(job_id)


@pytest.mark.slurm
@pytest.mark.workflow
@pytest.mark.slow  # ~4-5 min on 2 cores: the smoke config's ~60 jobs, each a SLURM job starting Snakemake
def test_smoke_workflow_on_slurm_equals_the_local_run(slurm_cluster: SlurmCluster, smoke_run: Path,
                                                      tmp_path: Path) -> None:
    from conftest import assert_same_artifacts, copy_workflow
    from conftest import planned_jobs

    wd = copy_workflow(tmp_path / "wf")
    profile = write_test_profile(slurm_cluster, tmp_path / "profile")
    args = [SNAKEMAKE, "--profile", str(profile), "--configfile", "configs/smoke.yaml"]
    plan = planned_jobs(subprocess.run([*args, "-n"], cwd=wd, env=slurm_cluster.env, capture_output=True, text=True,
                                       timeout=300))
    remote = sum(n for rule, n in plan.items() if rule not in LOCAL_RULES)
    assert remote > 30, plan

    first = _last_job_id(slurm_cluster, tmp_path)
    t0 = time.monotonic()
    proc = subprocess.run(args, cwd=wd, env=slurm_cluster.env, capture_output=True, text=True, timeout=1500)
    elapsed = time.monotonic() - t0
    assert proc.returncode == 0, f"snakemake on SLURM failed:\n{proc.stderr[-6000:]}\n{slurm_cluster.log_tails()}"
    submitted = _last_job_id(slurm_cluster, tmp_path) - first - 1
    print(f"\nsmoke config on SLURM: {sum(plan.values())} jobs ({submitted} SLURM jobs) in {elapsed:.0f} s")
    # Every non-local job went through sbatch, once (no retries were needed).
    assert submitted == remote, (submitted, remote, plan)

    # The same artifacts as the local run, dataset by dataset and bit for bit, and the same tables.
    assert_same_artifacts(smoke_run, wd)
    tables = sorted(p.relative_to(smoke_run) for p in (smoke_run / "results" / "tables").glob("*.csv"))
    assert tables and sorted(p.relative_to(wd) for p in (wd / "results" / "tables").glob("*.csv")) == tables
    for rel in tables:
        assert (wd / rel).read_text() == (smoke_run / rel).read_text(), rel
    assert sorted(p.name for p in (wd / "results" / "figures").glob("*.png")) == \
        sorted(p.name for p in (smoke_run / "results" / "figures").glob("*.png"))
