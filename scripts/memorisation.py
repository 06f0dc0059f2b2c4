"""Memorisation test of one GAN: each sample's nearest training image against the test images' nearest training
images, under L2 and the perceptual distance (`ganaudit.audits.memorisation.memorisation_audit`)."""

from ganaudit.audits import common, memorisation
from ganaudit.data import images
from ganaudit.manifold import distances
from ganaudit.workflow import runtime
from ganaudit.models import registry


def main(generator_path: str, train_path: str, test_path: str, out_path: str, params: dict) -> None:
    dev = runtime.device(params["device"])
    p = params["memorisation"]
    G = registry.load_generator(generator_path, dev)
    train = images.read_group(train_path, "train", p["max_train"], image_shape=G.image_shape)
    test = images.read_group(test_path, "test", p["n_test"], image_shape=G.image_shape)
    seed = runtime.seed_for(params["seed"], "memorisation")
    pool = common.model_pool(G, p["n_samples"], seed, train.labels)
    perceptual = distances.perceptual_from_config(params["perceptual"], dev)
    tree, group_attrs, table = memorisation.memorisation_audit(pool.images.float(), images.to_model_scale(test.images),
                                                         images.to_model_scale(train.images), perceptual, p)
    common.write_audit(out_path, tree, group_attrs, params, seed, perceptual_metric=perceptual.name,
                       perceptual_backend=perceptual.backend)
    log.info("\n%s", table.T.to_string())


if "snakemake" in globals():
    log = runtime.setup(snakemake.log[0], snakemake.threads)
    main(snakemake.input.generator, snakemake.input.train, snakemake.input.test, snakemake.output[0],
         runtime.as_dict(snakemake.params))
