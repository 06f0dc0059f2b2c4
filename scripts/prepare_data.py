"""Build one image group into results/data/{dataset}/{group}.h5 (layout ``groups/{group}/...``)."""

from ganaudit.artifacts import store
from ganaudit.data import images
from ganaudit.workflow import runtime


def main(out_path: str, params: dict) -> None:
    g = images.build_group(params["spec"], params["seed"])
    log.info("group %-16s %6d images %s (%s)", params["spec"]["group"], len(g), g.images.shape[1:], g.description)
    tree, group_attrs = images.groups_to_tree({params["spec"]["group"]: g})
    attrs = store.provenance(params, params["seed"])
    if "classes" in params["spec"]:
        attrs["class_names"] = [str(c) for c in params["spec"]["classes"]]
    store.write(out_path, tree, attrs, group_attrs)


if "snakemake" in globals():
    log = runtime.setup(snakemake.log[0], snakemake.threads)
    main(snakemake.output[0], runtime.as_dict(snakemake.params))
