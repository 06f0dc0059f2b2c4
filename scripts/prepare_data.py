"""Build every image group of the dataset into results/data/{dataset}.h5."""

from ganaudit import data, runtime, store


def main(out_path: str, params: dict) -> None:
    groups = data.build_groups(params["dataset"], params["groups"], params["seed"])
    for name, g in groups.items():
        log.info("group %-16s %6d images %s (%s)", name, len(g), g.images.shape[1:], g.description)
    tree, group_attrs = data.groups_to_tree(groups)
    attrs = store.provenance(params, params["seed"])
    attrs["class_names"] = [str(c) for c in params["dataset"]["classes"]]
    store.write(out_path, tree, attrs, group_attrs)


if "snakemake" in globals():
    log = runtime.setup(snakemake.log[0], snakemake.threads)
    main(snakemake.output[0], runtime.as_dict(snakemake.params))
