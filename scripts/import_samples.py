"""Store a model given as samples (kind samples): read the folder or array file, check the dataset's image shape,
write ``results/models/{model}/samples.h5`` (group ``stored``, the data-group layout; labels −1 when there are none)."""

import numpy as np

from ganaudit.artifacts import store
from ganaudit.models.samples import read_samples
from ganaudit.workflow import runtime


def main(out_path: str, params: dict) -> None:
    s = read_samples(params["path"], params["image_shape"], params["classes"])
    n = len(s)
    labels = s.labels if s.labels is not None else np.full(n, -1, dtype=np.int64)
    n_classes = len(params["classes"]) if s.labels is not None and params["classes"] else -1
    tree = {"groups": {"stored": {"images": s.images, "labels": labels, "source_labels": np.full(n, -1)}}}
    store.write(out_path, tree, store.provenance(params),
                {"groups/stored": {"kind": "stored samples", "description": f"stored samples from {s.source}",
                                   "n_classes": n_classes}})
    log.info("stored %d samples %s from %s (%s)", n, s.image_shape, s.source,
             "with labels" if s.labels is not None else "without labels")


if "snakemake" in globals():
    log = runtime.setup(snakemake.log[0])
    main(snakemake.output[0], runtime.as_dict(snakemake.params))
