"""Benchmark the workflow on a real single-node SLURM cluster: AIS with 1 shard vs 2 shards, and the
no-op rerun.

Starts its own cluster with the test harness (tests/slurm_cluster.py: munged, slurmctld and slurmd
on this machine, stopped by PID at the end; root and Debian's slurm packages needed), fills the
placeholders of profiles/slurm for it, and runs the workflow from a copy of the repository in
``--workdir`` with the default config (``config.yaml``) narrowed to what AIS on the GAN's test
images needs:

1. Locally (not timed): prepare the data and train the default GAN. σ² is set directly
   (``--sigma2``, the default run's MLE on the model scale), so no inversion is needed.
2. On SLURM, ``--reps`` times, alternating: AIS of ``--images`` test images through
   ``results/ais/gan/test.h5`` with ``shard_size = images`` (1 shard, one SLURM job) and
   ``images / 2`` (2 shards, two SLURM jobs side by side on the 2-CPU node); every AIS job has
   ``threads: 1``. The wall time is Snakemake's whole run (submission, queueing, job start-up,
   status polling, the gather job); the per-shard compute time comes from the shards' benchmark
   files. Throughput = images / wall time.
3. The no-op rerun: the same command once everything is up to date ("Nothing to be done"),
   through the SLURM profile and locally, ``--reps`` times each.

Prints a Markdown table of medians and writes the raw numbers as JSON (``--out``).

    python benchmarks/bench_slurm.py [--images 32 --steps 2000 --reps 3 --out benchmarks/out/slurm.json]
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from conftest import copy_workflow  # noqa: E402
from slurm_cluster import SlurmCluster, install_slurm, slurm_unavailable_reason, write_test_profile  # noqa: E402

SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))
TARGET = "results/ais/gan/test.h5"


def bench_config(images: int, steps: int, shards: int, sigma2: float) -> dict:
    cfg = yaml.safe_load((REPO / "config.yaml").read_text())
    cfg["models"] = {"gan": cfg["models"]["gan"]}
    cfg["sigma"] = {"value": sigma2}
    cfg["threads"] = 1
    cfg["ais"].update(n_images=images, shard_size=images // shards, groups=["test"], n_images_by_group={})
    cfg["ais"]["overrides"] = {**cfg["ais"].get("overrides", {}), "n_steps": steps}
    return cfg


def run(cmd: list[str], cwd: Path, env: dict | None = None, timeout: float = 3600) -> tuple[float, str]:
    t0 = time.monotonic()
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    dt = time.monotonic() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    return dt, proc.stdout + proc.stderr


def shard_seconds(workdir: Path, shards: int) -> list[float]:
    out = []
    for k in range(shards):
        rows = (workdir / "benchmarks" / "ais" / "gan" / "test" / f"shard_{k}.tsv").read_text().splitlines()
        out.append(float(rows[-1].split("\t")[0]))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/ganaudit-bench-slurm"))
    ap.add_argument("--images", type=int, default=32, help="test images through AIS (even)")
    ap.add_argument("--steps", type=int, default=2000, help="AIS temperatures (accurate preset, 2 chains)")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--sigma2", type=float, default=0.0964, help="σ² on the model scale [-1, 1]")
    ap.add_argument("--out", type=Path, default=REPO / "benchmarks" / "out" / "slurm.json")
    args = ap.parse_args()
    if args.images % 2:
        raise SystemExit("--images: expected an even number (two equal shards)")
    reason = slurm_unavailable_reason()
    if reason:
        raise SystemExit(f"SLURM cannot run here: {reason}")
    install_slurm()

    wd = args.workdir
    shutil.rmtree(wd, ignore_errors=True)
    copy_workflow(wd)
    for shards in (1, 2):
        (wd / f"bench_{shards}.yaml").write_text(yaml.safe_dump(bench_config(args.images, args.steps, shards, args.sigma2)))
    print(f"[upstream] data + default GAN, locally, in {wd}", flush=True)
    # targets before --configfile, which takes several values
    dt, _ = run([SNAKEMAKE, "results/sigma/gan.json", "results/samples/gan/generated.h5", "--cores", "2",
                 "--configfile", "bench_1.yaml"], wd)
    print(f"[upstream] {dt:.0f} s", flush=True)

    results: dict = {"images": args.images, "steps": args.steps, "chains": 2, "threads_per_job": 1,
                     "runs": [], "noop_slurm_s": [], "noop_local_s": []}
    with SlurmCluster(wd / "slurm") as cluster:
        profile = write_test_profile(cluster, wd / "profile", init_seconds=5)
        results["cluster"] = {"cpus": cluster.cpus, "real_memory_mb": cluster.real_memory_mb}
        for rep in range(args.reps):
            for shards in (1, 2):
                cmd = [SNAKEMAKE, TARGET, "-f", "--profile", str(profile), "--configfile", f"bench_{shards}.yaml"]
                wall, log = run(cmd, wd, env=cluster.env)
                if not re.search(rf"\bais\s+{shards}\b", log):
                    raise SystemExit(f"expected {shards} AIS job(s) in the plan:\n{log[-3000:]}")
                comp = shard_seconds(wd, shards)
                row = {"rep": rep, "shards": shards, "wall_s": wall, "shard_compute_s": comp,
                       "images_per_s": args.images / wall}
                results["runs"].append(row)
                print(f"[rep {rep}] {shards} shard(s): wall {wall:.1f} s, shard compute "
                      f"{', '.join(f'{c:.1f}' for c in comp)} s, {row['images_per_s']:.3f} images/s", flush=True)
        for _ in range(args.reps + 2):
            cmd = [SNAKEMAKE, TARGET, "--profile", str(profile), "--configfile", "bench_2.yaml"]
            dt, log = run(cmd, wd, env=cluster.env)
            assert "Nothing to be done" in log, log[-2000:]
            results["noop_slurm_s"].append(dt)
            dt, log = run([SNAKEMAKE, TARGET, "--cores", "2", "--configfile", "bench_2.yaml"], wd)
            assert "Nothing to be done" in log, log[-2000:]
            results["noop_local_s"].append(dt)

    med = lambda xs: statistics.median(xs)  # noqa: E731
    by = {s: [r for r in results["runs"] if r["shards"] == s] for s in (1, 2)}
    wall = {s: med([r["wall_s"] for r in by[s]]) for s in (1, 2)}
    comp = {s: med([max(r["shard_compute_s"]) for r in by[s]]) for s in (1, 2)}
    pair = med([a["wall_s"] / b["wall_s"] for a, b in zip(by[1], by[2])])
    results["summary"] = {"wall_s": wall, "slowest_shard_compute_s": comp, "throughput_ratio_2_vs_1": wall[1] / wall[2],
                          "pairwise_ratio_median": pair, "noop_slurm_s": med(results["noop_slurm_s"]),
                          "noop_local_s": med(results["noop_local_s"])}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))
    print(f"\nAIS on the default GAN, {args.images} test images, {args.steps} steps x 2 chains, threads=1 per job; "
          f"medians of {args.reps}")
    print("| shards | wall (s) | slowest shard compute (s) | images/s |")
    print("|---|---|---|---|")
    for s in (1, 2):
        print(f"| {s} | {wall[s]:.1f} | {comp[s]:.1f} | {args.images / wall[s]:.3f} |")
    print(f"\nthroughput ratio 2 shards / 1 shard: {wall[1] / wall[2]:.2f} (pairwise median {pair:.2f})")
    print(f"no-op rerun: {med(results['noop_slurm_s']):.1f} s through profiles/slurm, "
          f"{med(results['noop_local_s']):.1f} s locally (medians of {args.reps + 2})")
    print(f"raw numbers: {args.out}")


if __name__ == "__main__":
    main()
