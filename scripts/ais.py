"""AIS log-likelihoods of one shard of an image group under a model (paper section 4, B.1)."""

import json

from ganaudit.artifacts import readers, store
from ganaudit.data import evaluation, images
from ganaudit.density import ais
from ganaudit.density.encoder import add_encoder_start, load_encoder
from ganaudit.models import registry
from ganaudit.workflow import runtime


def main(generator_path: str, images_path: str, sigma_path: str, inversion_path: str | None, encoder_path: str | None,
         group: str, shard: int, out_path: str, params: dict) -> None:
    dev = runtime.device(params["device"])
    G = registry.load_generator(generator_path, dev)
    sigma2 = json.load(open(sigma_path))["sigma2_model_scale"]
    a = params["ais"]
    full = images.read_group(images_path, group, image_shape=G.image_shape)
    start, stop = evaluation.shard_range(shard, a["shard_size"], a["n_images"], len(full))
    part = images.ImageGroup(full.images[start:stop], full.labels[start:stop], full.source_labels[start:stop], full.kind)
    cfg = ais.within_memory(ais.config_from_params(a), params["memory_mb"])
    log.info("%s: images %d..%d of %d, sigma2 %.5g, %s", group, start, stop, len(full), sigma2, cfg)
    seed = runtime.seed_for(params["seed"], "ais")
    latents = readers.restart_latents(inversion_path, start, stop, G.n_classes, G.latent_dim)
    if encoder_path:  # E(x): one more start of the mode search
        cfg, latents = add_encoder_start(cfg, latents, load_encoder(encoder_path, dev),
                                         images.to_model_scale(part.images), G.n_classes)
    out = ais.ais_group(G, part, group, sigma2, cfg, seed, start, dev, latents, a["exact_when_known"])
    out["images"] = part.images  # for the patch-CV analysis and the top/bottom-LL figure
    attrs = store.provenance(params, seed)
    attrs.update(sigma2=sigma2, group=group, shard=shard, n_group=len(full), ais_config=repr(cfg),
                 encoder_start=bool(encoder_path))
    store.write(out_path, out, attrs)


if "snakemake" in globals():
    log = runtime.setup(snakemake.log[0], snakemake.threads)
    main(snakemake.input.generator, snakemake.input.images, snakemake.input.sigma, snakemake.input.get("inversion") or None,
         snakemake.input.get("encoder") or None, snakemake.wildcards.group, int(snakemake.wildcards.shard), snakemake.output[0], runtime.as_dict(snakemake.params))
