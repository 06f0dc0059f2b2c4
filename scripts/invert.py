"""Invert one shard of an image group onto a model's manifold (Z space, paper appendix B.2)."""

from ganaudit.artifacts import store
from ganaudit.data import evaluation, images
from ganaudit.manifold import distances, inversion
from ganaudit.models import registry
from ganaudit.workflow import runtime


def main(generator_path: str, images_path: str, group: str, shard: int, out_path: str, params: dict) -> None:
    dev = runtime.device(params["device"])
    G = registry.load_generator(generator_path, dev)
    inv = params["inversion"]
    full = images.read_group(images_path, group, image_shape=G.image_shape)
    start, stop = evaluation.shard_range(shard, inv["shard_size"], inv["n_images"], len(full))
    part = images.ImageGroup(full.images[start:stop], full.labels[start:stop], full.source_labels[start:stop], full.kind)
    log.info("%s: images %d..%d of %d", group, start, stop, len(full))
    perceptual = distances.perceptual_from_config(params["perceptual"], dev)
    seed = runtime.seed_for(params["seed"], "inversion")
    out = inversion.invert_group(G, part, group, inv, perceptual, seed, dev)
    out["index"] = out["index"] + start
    attrs = store.provenance(params, seed)
    attrs.update(perceptual_metric=perceptual.name, perceptual_backend=perceptual.backend,
                 perceptual_reason=perceptual.reason, group=group, shard=shard, n_group=len(full))
    store.write(out_path, out, attrs)


if "snakemake" in globals():
    log = runtime.setup(snakemake.log[0], snakemake.threads)
    main(snakemake.input.generator, snakemake.input.images, snakemake.wildcards.group, int(snakemake.wildcards.shard),
         snakemake.output[0], runtime.as_dict(snakemake.params))
