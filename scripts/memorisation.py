"""Memorisation test of one GAN: each sample's nearest training image against the test images' nearest training
images, under L2 and the perceptual distance (`ganaudit.memorisation.memorisation_audit`)."""

from ganaudit import beyond, data, distances, memorisation, runtime
from ganaudit.models import registry


def main(generator_path: str, train_path: str, test_path: str, out_path: str, params: dict) -> None:
    dev = runtime.device(params["device"])
    p = params["memorisation"]
    G = registry.load_generator(generator_path, dev)
    train = data.read_group(train_path, "train", p["max_train"], image_shape=G.image_shape)
    test = data.read_group(test_path, "test", p["n_test"], image_shape=G.image_shape)
    seed = runtime.seed_for(params["seed"], "memorisation")
    pool = beyond.model_pool(G, p["n_samples"], seed, train.labels)
    perceptual = distances.perceptual_from_config(params["perceptual"], dev)
    tree, group_attrs, table = memorisation.memorisation_audit(pool.images.float(), data.to_model_scale(test.images),
                                                         data.to_model_scale(train.images), perceptual, p)
    beyond.write_audit(out_path, tree, group_attrs, params, seed, perceptual_metric=perceptual.name,
                       perceptual_backend=perceptual.backend)
    log.info("\n%s", table.T.to_string())


if "snakemake" in globals():
    log = runtime.setup(snakemake.log[0], snakemake.threads)
    main(snakemake.input.generator, snakemake.input.train, snakemake.input.test, snakemake.output[0],
         runtime.as_dict(snakemake.params))
