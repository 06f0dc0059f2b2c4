"""Train on generated, test on real for one GAN: the pipeline's classifier trained on its samples and on as many
real training images, both tested on the real test images (`ganaudit.audits.tgtr.tgtr_audit`)."""

from ganaudit.audits import common, tgtr
from ganaudit.data import images
from ganaudit.workflow import runtime
from ganaudit.models import registry


def main(generator_path: str, train_path: str, test_path: str, out_path: str, params: dict) -> None:
    G = registry.load_generator(generator_path)
    train = images.read_group(train_path, "train", image_shape=G.image_shape)
    test = images.read_group(test_path, "test", image_shape=G.image_shape)
    seed = runtime.seed_for(params["seed"], "tgtr")
    tree, group_attrs, table, notes = tgtr.tgtr_audit(G, images.to_model_scale(train.images), train.labels,
                                                        images.to_model_scale(test.images), test.labels,
                                                        params["tgtr"]["n"], params["train"], seed)
    common.write_audit(out_path, tree, group_attrs, params, seed, notes)
    log.info("\n%s\n%s", table.to_string(), "\n".join(notes))


if "snakemake" in globals():
    log = runtime.setup(snakemake.log[0], snakemake.threads)
    main(snakemake.input.generator, snakemake.input.train, snakemake.input.test, snakemake.output[0],
         runtime.as_dict(snakemake.params))
