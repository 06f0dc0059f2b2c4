"""Is the optimiser good enough? Inversion PSNR on the model's own samples (must be high, ≥ 30 dB)
vs on training images (reviewers' check: a large train error proves nothing otherwise)."""


import numpy as np
import pandas as pd

from ganaudit.artifacts import readers, store, tables
from ganaudit.data import stats
from ganaudit.findings import SELF_INVERSION_PSNR_DB as PSNR_TARGET_DB
from ganaudit.workflow import runtime


def main(paths: list[str], out_csv: str, out_md: str) -> None:
    rows = []
    for p in paths:
        model, group = readers.model_and_group(p)
        d = store.read(p, ["mse", "labels"])
        best = np.nanmin(d["mse"], axis=1)                      # own class for train/generated
        psnr = stats.psnr(stats.to_unit_scale_variance(best))
        rows.append({"model": model, "group": group, "n_images": len(best),
                     "median_psnr_db": float(np.median(psnr)), "p10_psnr_db": float(np.percentile(psnr, 10)),
                     "p90_psnr_db": float(np.percentile(psnr, 90)),
                     "frac_psnr_ge_30db": float((psnr >= PSNR_TARGET_DB).mean()),
                     "median_mse_model_scale": float(np.median(best))})
    df = pd.DataFrame(rows)
    notes = []
    for model, sub in df.groupby("model"):
        gen = sub[sub.group == "generated"]
        if len(gen) and gen.median_psnr_db.iloc[0] < PSNR_TARGET_DB:
            notes.append(f"WARNING: {model}: median PSNR on its own samples is {gen.median_psnr_db.iloc[0]:.1f} dB "
                         f"< {PSNR_TARGET_DB:.0f} dB — the optimiser, not the model, may explain large train errors.")
    for n in notes:
        log.warning(n)
    tables.write_table(df, out_csv, out_md, "Inversion validation: PSNR ([0, 1] scale) of reconstructions", notes)
    log.info("\n%s", tables.to_markdown(df))


if "snakemake" in globals():
    log = runtime.setup(snakemake.log[0])
    main(list(snakemake.input.inversions), snakemake.output.csv, snakemake.output.md)
