"""Store a model given as samples (kind samples): read the folder or array file, check the dataset's image shape,
write ``results/models/{model}/samples.h5`` (`ganaudit.models.samples.artifact_tree`)."""

from ganaudit.artifacts import store
from ganaudit.models.samples import artifact_tree, read_samples
from ganaudit.workflow import runtime


def main(out_path: str, params: dict) -> None:
    s = read_samples(params["path"], params["image_shape"], params["classes"])
    tree, group_attrs = artifact_tree(s, len(params["classes"] or []))
    store.write(out_path, tree, store.provenance(params), group_attrs)
    log.info("stored %d samples %s from %s (%s)", len(s), s.image_shape, s.source,
             "with labels" if s.labels is not None else "without labels")


if "snakemake" in globals():
    log = runtime.setup(snakemake.log[0])
    main(snakemake.output[0], runtime.as_dict(snakemake.params))
