"""Table 2: fraction of random N-subsets of each group inside the model's (ε, N)-typical set."""

import pandas as pd

from ganaudit import runtime, tables, typicality


def main(paths: list[str], out_csv: str, out_md: str, out_wide: str) -> None:
    df = pd.concat([pd.read_csv(p) for p in paths], ignore_index=True)
    wide = typicality.table2_wide(df, index="model")
    wide.columns = [f"{n} {g}" for n, g in wide.columns]
    wide = wide.reset_index()
    df.to_csv(out_csv, index=False)
    n_img = df.groupby("group", sort=False).n_images.first().to_dict()
    tables.write_table(wide, out_wide, out_md,
                       "Table 2: fraction of trials in which N images are (ε, N)-typical",
                       [f"Images per group: {n_img}. Subsets are drawn without replacement when the group has at least "
                        "N images, else with replacement. ε and the entropy come from separate calibration samples."])
    log.info("\n%s", tables.to_markdown(wide))


if "snakemake" in globals():
    log = runtime.setup(snakemake.log[0])
    main(list(snakemake.input), snakemake.output.csv, snakemake.output.md, snakemake.output.wide)
