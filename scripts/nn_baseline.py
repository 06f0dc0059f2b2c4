"""The 1-nearest-neighbour baseline of one image group: per image and class, the distance (L2 and perceptual)
to the nearest training image of that class."""

import torch

from ganaudit.artifacts import store
from ganaudit.data import images
from ganaudit.manifold import classification, distances
from ganaudit.workflow import runtime


def main(train_path: str, images_path: str, group: str, out_path: str, params: dict) -> None:
    ref = images.read_group(train_path, "train", params["max_reference"])
    k = int(ref.labels.max()) + 1
    perceptual = distances.perceptual_from_config(params["perceptual"])
    xr = images.to_model_scale(ref.images)
    with torch.no_grad():
        emb_ref = perceptual.embed(xr)
    g = images.read_group(images_path, group, params["n_images"])
    xq = images.to_model_scale(g.images)
    with torch.no_grad():
        emb_q = perceptual.embed(xq) if len(xq) else torch.empty(0, emb_ref.shape[1])
    d = xr[0].numel()
    out = {
        "labels": g.labels, "source_labels": g.source_labels,
        # squared L2 / D is the MSE, the same unit as the manifold's reconstruction error
        "l2": classification.nearest_class_distances(xq.flatten(1), xr.flatten(1), ref.labels, k) / d,
        "perceptual": classification.nearest_class_distances(emb_q, emb_ref, ref.labels, k),
    }
    log.info("%s: %d queries against %d training images", group, len(g), len(ref))
    attrs = store.provenance(params)
    attrs.update(perceptual_metric=perceptual.name, perceptual_backend=perceptual.backend, n_reference=len(ref),
                 group=group)
    store.write(out_path, out, attrs)


if "snakemake" in globals():
    log = runtime.setup(snakemake.log[0], snakemake.threads)
    main(snakemake.input.train, snakemake.input.images, snakemake.wildcards.group, snakemake.output[0],
         runtime.as_dict(snakemake.params))
