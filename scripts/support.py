"""Birthday-paradox support estimate of one GAN (Arora & Zhang 2017): a pool of its samples against a pool of
training images, under L2 and the perceptual distance (`ganaudit.audits.support.support_audit`)."""

from ganaudit.audits import common, support
from ganaudit.data import images
from ganaudit.manifold import distances
from ganaudit.workflow import runtime
from ganaudit.models import registry


def main(generator_path: str, train_path: str, out_path: str, params: dict) -> None:
    dev = runtime.device(params["device"])
    p = params["support"]
    G = registry.load_generator(generator_path, dev)
    train = images.read_group(train_path, "train", image_shape=G.image_shape)
    seed = runtime.seed_for(params["seed"], "support")
    pool = common.model_pool(G, p["n_samples"], seed, train.labels)
    reference = images.to_model_scale(train.images[:p["n_reference"]])
    perceptual = distances.perceptual_from_config(params["perceptual"], dev)
    tree, group_attrs, table = support.support_audit(pool.images.float(), reference, perceptual, p, seed)
    common.write_audit(out_path, tree, group_attrs, params, seed, perceptual_metric=perceptual.name,
                       perceptual_backend=perceptual.backend)
    log.info("\n%s", table.drop(columns=["calibration", "interval"]).to_string())


if "snakemake" in globals():
    log = runtime.setup(snakemake.log[0], snakemake.threads)
    main(snakemake.input.generator, snakemake.input.train, snakemake.output[0], runtime.as_dict(snakemake.params))
