"""Fill the report's top-level page with the four findings as measured in this run."""

from pathlib import Path

from ganaudit import findings
from ganaudit.workflow import runtime


def main(tables_dir: str, template_path: str, out_path: str, params: dict) -> None:
    s = findings.summarise(tables_dir, params["audit"]["gan"], params.get("beyond"), params.get("paper"))
    text = findings.render(Path(template_path).read_text(), s, {"dataset": params["dataset"], "ais": params["ais"],
                                                                "models": params["models"], "density": params["density"]})
    # the first line stamps the page with the configuration it describes (see front_page in rules/common.smk)
    Path(out_path).write_text(f"{params['stamp']}\n\n{text}")
    log.info("\n%s", text)


if "snakemake" in globals():
    log = runtime.setup(snakemake.log[0])
    main(str(Path(snakemake.input.tables[0]).parent), snakemake.input.template, snakemake.output.rst,
         runtime.as_dict(snakemake.params))
