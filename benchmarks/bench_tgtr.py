"""Train on generated, test on real, as a curve: what a finished run measured, per audited model.

    .venv/bin/python benchmarks/bench_tgtr.py [RUN_DIR]      # RUN_DIR: the run's working directory (default .)

Reads ``RUN_DIR/results/tgtr/{model}.h5`` (`ganaudit.audits.tgtr`) and prints, per model: the real-sample size each
generated training set is worth (CNN and linear classifier; the interval is the range over the repeats' own
crossings), the accuracy curve (mean, std, range over repeats), the stage's notes and its time from
``RUN_DIR/benchmarks/tgtr/{model}.tsv`` (wall and CPU seconds of the job; wall time is noisy on a shared machine).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from ganaudit.audits import common


def report(run_dir: Path) -> str:
    """The text this benchmark prints for the run in ``run_dir``."""
    paths = sorted((run_dir / "results" / "tgtr").glob("*.h5"))
    if not paths:
        raise SystemExit(f"{run_dir}: no results/tgtr/*.h5 (run the pipeline first)")
    out = []
    pd.set_option("display.width", 200)
    for p in paths:
        model = p.stem
        table = common.read_frame(p, "table")
        curve = common.read_frame(p, "curve")
        out.append(f"== {model} ==")
        if table.empty:
            out.append("no curve: " + "; ".join(common.read_notes(p)))
            continue
        worth = table[["classifier", "n_generated", "accuracy_generated", "accuracy_real_same_n", "gap_points", "worth"]]
        out.append("real-sample size the generated training sets are worth [range over repeats]:")
        out.append(worth.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
        out.append("accuracy curve:")
        out.append(curve.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
        out += [f"note: {n}" for n in common.read_notes(p)]
        bench = run_dir / "benchmarks" / "tgtr" / f"{model}.tsv"
        if bench.exists():
            t = pd.read_csv(bench, sep="\t")
            r = t.iloc[-1]
            out.append(f"stage time: {float(r.s):.1f} s wall, {float(r.cpu_time):.1f} s CPU at a mean load of "
                       f"{float(r.mean_load):.0f} % of a core, max RSS {float(r.max_rss):.0f} MB "
                       f"(Snakemake's benchmarks/tgtr/{model}.tsv; wall time is noisy on a shared machine)")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run_dir", nargs="?", default=".", type=Path)
    print(report(ap.parse_args(argv).run_dir))


if __name__ == "__main__":
    main(sys.argv[1:])
