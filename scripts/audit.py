"""One test beyond the paper for one GAN: the stage function its registry entry names
(`ganaudit.audits.registry.AUDITS`), run on the rule's inputs, written as ``results/<audit>/{model}.h5``."""

from ganaudit.audits import common, registry, stage
from ganaudit.workflow import runtime


def main(name: str, paths: dict[str, str | None], out_path: str, params: dict) -> None:
    audit = registry.AUDITS[name]
    seed = runtime.seed_for(params["seed"], name, audit.seed_offset)
    device = runtime.device(params["device"]) if "device" in params else "cpu"
    out = registry.resolve(audit.stage)(stage.StageInputs(paths, seed, device), params)
    common.write_audit(out_path, out.tree, out.group_attrs, params, seed, out.notes, **out.attrs)
    log.info("\n%s", out.log)


if "snakemake" in globals():
    log = runtime.setup(snakemake.log[0], snakemake.threads)
    name = snakemake.rule
    main(name, {k: snakemake.input.get(k) or None for k in (*registry.AUDITS[name].inputs, "samples")}, snakemake.output[0],
         runtime.as_dict(snakemake.params))
