"""The 1NN baseline's reference: the training images (class-balanced prefix) and their embedding under
the perceptual distance (squared Euclidean distance between embeddings = the perceptual distance). A
temporary artifact: every group's 1NN job reads it instead of embedding the training set again."""

import torch

from ganaudit import data, distances, runtime, store


def main(train_path: str, out_path: str, params: dict) -> None:
    ref = data.read_group(train_path, "train", params["max_reference"])
    perceptual = distances.perceptual_from_config(params["perceptual"])
    with torch.no_grad():
        emb = perceptual.embed(data.to_model_scale(ref.images))
    attrs = store.provenance(params)
    attrs.update(perceptual_metric=perceptual.name, perceptual_backend=perceptual.backend, n_reference=len(ref))
    store.write(out_path, {"images": ref.images, "labels": ref.labels, "embedding": emb.numpy()}, attrs)
    log.info("embedded %d training images: %s features each (%s)", len(ref), emb.shape[1], perceptual.name)


if "snakemake" in globals():
    log = runtime.setup(snakemake.log[0], snakemake.threads)
    main(snakemake.input.train, snakemake.output[0], runtime.as_dict(snakemake.params))
