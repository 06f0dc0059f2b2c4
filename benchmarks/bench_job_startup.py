"""What a job costs before it does any work: the CPU seconds of a fresh Python importing a rule's script (its
module-level imports, as `snakemake` runs it), and whether that loads torch.

    .venv/bin/python benchmarks/bench_job_startup.py [--repo DIR] [--python EXE] [--repeats 5] [--jobs RUN_DIR]

Per script: the median over ``--repeats`` fresh interpreters of user + system CPU seconds (the interpreter's own
start-up included; ``python -c pass`` is the first row, the floor). With ``--jobs RUN_DIR`` (a finished run's working
directory), each script is weighted by the number of jobs of its rules in that run (its ``benchmarks/`` files), and
the total start-up CPU of the run is printed. ``--repo``/``--python`` measure another checkout (e.g. the commit
before a change) with its own virtual environment. Run it on an idle machine: timings are noisy on 2 cores.
"""

from __future__ import annotations

import argparse
import re
import resource
import statistics
import subprocess
import sys
from pathlib import Path

PROBE = ("import runpy, sys, importlib; runpy.run_path(sys.argv[1], run_name='imports_only'); "
         "[importlib.import_module(m) for m in sys.argv[2:]]; print('torch' in sys.modules)")
"""A script's module-level imports, then the modules it imports when it runs (an audit's stage, for scripts/audit.py)."""


def cpu_of(cmd: list[str], cwd: Path) -> tuple[float, str]:
    """CPU seconds (user + system) of one child process, and what it printed."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=True,
                         env={"MPLBACKEND": "Agg", "PATH": "/usr/bin:/bin"}).stdout.strip()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), out


def rule_scripts(repo: Path) -> dict[str, list[str]]:
    """script (relative to the repository) → the rules that run it, read from the rule files."""
    out: dict[str, list[str]] = {}
    for smk in sorted((repo / "rules").glob("*.smk")):
        text = smk.read_text()
        for name, body in re.findall(r"^rule (\w+):\n(.*?)(?=^rule |^for |\Z)", text, re.S | re.M):
            m = re.search(r'script:\n\s+"\.\./(scripts/[\w/]+\.py)"', body)
            if m:
                out.setdefault(m.group(1), []).append(name)
    return out


def job_counts(run_dir: Path) -> dict[str, int]:
    """Jobs per rule of a finished run: its benchmark files, ``benchmarks/<rule>/...``."""
    counts: dict[str, int] = {}
    for tsv in (run_dir / "benchmarks").rglob("*.tsv"):
        rule = tsv.relative_to(run_dir / "benchmarks").parts[0]
        counts[rule] = counts.get(rule, 0) + 1
    return counts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repo", type=Path, default=Path(__file__).resolve().parents[1])
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--jobs", type=Path, default=None, help="a finished run's working directory")
    args = ap.parse_args()
    repo = args.repo.resolve()
    scripts = sorted({p.relative_to(repo).as_posix() for p in (repo / "scripts").glob("*.py")}
                     | {p.relative_to(repo).as_posix() for p in (repo / "scripts" / "figures").glob("*.py")
                        if p.name != "plot.py"})
    floor = statistics.median(cpu_of([args.python, "-c", "pass"], repo)[0] for _ in range(args.repeats))
    print(f"{'script':45s} {'CPU s':>7s} {'torch':>6s}")
    print(f"{'(python -c pass)':45s} {floor:7.2f}")
    # scripts/audit.py imports its audit's stage module (registry entry) only when it runs: measured per audit
    audits = sorted(p.stem for p in (repo / "ganaudit" / "audits").glob("*.py")
                    if "def stage(" in p.read_text()) if (repo / "scripts" / "audit.py").is_file() else []
    probes = {s: (s, []) for s in scripts if s != "scripts/audit.py"}
    # ... and what its stage imports when it loads its inputs (the model, the images, the perceptual distance)
    lazy = ["ganaudit.models.registry", "ganaudit.data.images"]
    probes.update({f"scripts/audit.py ({a})": ("scripts/audit.py", [f"ganaudit.audits.{a}", *lazy] + (
        ["ganaudit.manifold.distances"] if "perceptual_from_config" in (repo / "ganaudit" / "audits" / f"{a}.py").read_text()
        else [])) for a in audits})
    rows = {}
    for name, (s, extra) in probes.items():
        runs = [cpu_of([args.python, "-c", PROBE, s, *extra], repo) for _ in range(args.repeats)]
        rows[name] = (statistics.median(r[0] for r in runs), runs[0][1] == "True")
        print(f"{name:45s} {rows[name][0]:7.2f} {'yes' if rows[name][1] else 'no':>6s}", flush=True)
    if args.jobs:
        script_of = {r: sc for sc, rs in rule_scripts(repo).items() for r in rs}
        fig_cpu = statistics.median(c for s, (c, _) in rows.items() if s.startswith("scripts/figures/"))
        total, n_jobs, unknown = 0.0, 0, []
        for rule, n in sorted(job_counts(args.jobs).items()):
            if rule == "figures":
                cpu = fig_cpu
            else:  # a named rule, a rule made in a loop that runs its own script, or an audit (scripts/audit.py)
                script = script_of.get(rule) or next((c for c in (f"scripts/{rule}.py", f"scripts/audit.py ({rule})")
                                                      if c in rows), None)
                if script is None:
                    unknown.append(rule)
                    continue
                cpu = rows[script][0]
            total, n_jobs = total + n * cpu, n_jobs + n
        print(f"\nrun {args.jobs}: {n_jobs} script jobs, start-up CPU {total:.0f} s "
              f"(figure jobs at the figure scripts' median, {fig_cpu:.2f} s)"
              + (f"; rules not matched to a script: {unknown}" if unknown else ""))

if __name__ == "__main__":
    main()
