"""The calibration table: every stated uncertainty of the run, nominal against achieved on held-out data or a known
answer (`ganaudit.calibration`)."""

from pathlib import Path

import pandas as pd

from ganaudit import calibration
from ganaudit.artifacts import tables
from ganaudit.audits import common
from ganaudit.density import summaries
from ganaudit.workflow import runtime


def main(support: str | None, memorisation: list[str], table2: str | None, checks: list[str], out_csv: str,
         out_md: str, params: dict) -> None:
    mem = {}
    for path in memorisation:
        by = common.read_by_distance(path, frames=("distances",))
        mem[Path(path).stem] = {name: d["distances"].query("group == 'test'").distance.to_numpy()
                                       for name, d in by.items()}
    table = calibration.calibration_table(pd.read_csv(support) if support else None, mem,
                                          pd.read_csv(table2) if table2 else None,
                                          summaries.load_checks(checks) if checks else None, params)
    tables.write_table(table, out_csv, out_md,
                       "Calibration: every stated uncertainty, nominal against achieved on held-out data or a known answer",
                       ["`holds`: the nominal value lies in the achieved value's 95 % interval (support α, typicality), "
                        "the false-alarm rate is not above it (memorisation), the coverage is not below it (K̂ interval, "
                        "AIS error bar). See ganaudit/calibration.py for how each row is measured."])
    log.info("\n%s", tables.to_markdown(table))


if "snakemake" in globals():
    log = runtime.setup(snakemake.log[0])
    i = snakemake.input
    main(i.get("support") or None, list(i.memorisation), i.get("table2") or None, list(i.checks),
         snakemake.output.csv, snakemake.output.md, runtime.as_dict(snakemake.params))
