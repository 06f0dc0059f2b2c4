"""The table of one test beyond the paper (support, memorisation, coverage, tgtr): every audited GAN's rows,
gathered from its artifact, with the notes on what was skipped."""

from ganaudit.artifacts import tables
from ganaudit.audits import common
from ganaudit.workflow import runtime


def main(paths: list[str], test: str, outputs: dict[str, str]) -> None:
    for name, (table, title, notes) in common.gather_tables(test, paths).items():
        tables.write_table(table, outputs[f"{name}_csv"], outputs[f"{name}_md"], title, notes)
        log.info("%s\n%s", title, tables.to_markdown(table))


if "snakemake" in globals():
    log = runtime.setup(snakemake.log[0])
    main(list(snakemake.input.artifacts), snakemake.params.test, runtime.as_dict(snakemake.output))
