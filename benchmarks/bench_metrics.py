"""Each metric of a finished run, model beside model: the GAN's, the baselines', a memorising generator's (the
training images) and fresh data's (held-out images), per feature space; and what the metrics stage cost.

    .venv/bin/python benchmarks/bench_metrics.py [--run DIR] [--markdown]

``--run``: the run's working directory (default: this checkout; the default run's results are under ``results/``,
a config with ``workdir:`` keeps them in its own folder). Reads ``results/tables/metrics.csv`` (rule
``metrics_table``) and the stage's timings ``benchmarks/metrics/{model}.tsv`` (Snakemake's benchmark files: wall
seconds, peak RSS). The memorising and fresh-data columns are the first model's references (the same images for
every model). Generator passes of the stage: ``n_samples`` for the pool plus 2 per PPL pair.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

ORDER = ["fd", "kd_mean", "kd_std", "precision", "recall", "density", "coverage", "ct", "authpct", "fld", "fld_gap",
         "vendi", "ppl_mean", "ppl_std"]


def comparison(table: pd.DataFrame) -> pd.DataFrame:
    """Rows (metric, feature space), columns: each model, then ``memorising`` and ``fresh`` (the references of the
    first model), the FD with its interval as text."""
    t = table[table["class"].astype(str) == "all"].copy()
    t["cell"] = [f"{v:.4g} [{lo:.3g}, {hi:.3g}]" if m == "fd" and pd.notna(v) else (f"{v:.4g}" if pd.notna(v) else "–")
                 for m, v, lo, hi in zip(t.metric, t.value, t.low, t.high)]
    models = list(dict.fromkeys(t.model))
    cols = {m: t[(t.model == m) & (t.samples == "model")] for m in models}
    first = t[t.model == models[0]] if models else t
    cols["memorising"] = first[first.samples == "memorising"]
    cols["fresh data"] = first[first.samples == "fresh"]
    out = pd.concat({c: d.set_index(["metric", "feature_space"]).cell for c, d in cols.items()}, axis=1)
    order = {m: i for i, m in enumerate(ORDER)}
    keys = sorted(out.index, key=lambda k: (order.get(k[0], len(order)), k[1]))
    return out.reindex(keys).fillna("–")


def costs(run: Path, models: list[str], table: pd.DataFrame) -> pd.DataFrame:
    """Per model: wall and CPU seconds and peak RSS of its metrics job, and its generator passes (CPU seconds are the
    number to compare on a shared machine: the wall time grows with everyone else's load)."""
    rows = []
    for m in models:
        f = run / "benchmarks" / "metrics" / f"{m}.tsv"
        nan = [float("nan")]
        b = pd.read_csv(f, sep="\t") if f.exists() else pd.DataFrame({"s": nan, "max_rss": nan, "cpu_time": nan})
        fd = table[(table.model == m) & (table.samples == "model") & (table.metric == "fd")]
        ppl = table[(table.model == m) & (table.metric == "ppl_mean")]
        n_pool = int(fd.n.max()) if len(fd) else 0
        n_ppl = int(ppl.n.iloc[0]) if len(ppl) and pd.notna(ppl.value.iloc[0]) else 0
        rows.append({"model": m, "wall_s": float(b.s.iloc[0]), "cpu_s": float(b.cpu_time.iloc[0]),
                     "max_rss_mb": float(b.max_rss.iloc[0]),
                     "generator_passes": n_pool + 2 * n_ppl})
    return pd.DataFrame(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", type=Path, default=Path("."))
    ap.add_argument("--markdown", action="store_true", help="print Markdown tables")
    a = ap.parse_args()
    table = pd.read_csv(a.run / "results" / "tables" / "metrics.csv")
    comp = comparison(table)
    show = (lambda d: d.to_markdown()) if a.markdown else (lambda d: d.to_string())
    print(show(comp))
    print()
    print(show(costs(a.run, list(dict.fromkeys(table.model)), table)))


if __name__ == "__main__":
    main()
