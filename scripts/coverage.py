"""Mode coverage of one GAN: its samples' label histogram and class agreement under the pipeline's classifier,
and their covariance spectrum against the training and test images' (`ganaudit.audits.coverage.coverage_audit`). Parts
whose inputs the run lacks (no training images, no classifier) are skipped and named in the notes."""

from ganaudit.audits import common, coverage
from ganaudit.data import images
from ganaudit.workflow import runtime
from ganaudit.models import registry


def main(generator_path: str, train_path: str | None, test_path: str | None, classifier_path: str | None,
         out_path: str, params: dict) -> None:
    p = params["coverage"]
    G = registry.load_generator(generator_path)
    train = images.read_group(train_path, "train", image_shape=G.image_shape) if train_path else None
    test = images.read_group(test_path, "test", image_shape=G.image_shape) if test_path else None
    classifier = registry.load_generator(classifier_path) if classifier_path else None
    seed = runtime.seed_for(params["seed"], "coverage")
    pool = common.model_pool(G, p["n_samples"], seed, train.labels if train is not None else None)
    skipped = []
    if train is None:
        skipped.append("reference spectra and label histogram skipped: no training or test images in this run")
    elif classifier is None:
        skipped.append("label histogram and class agreement skipped: no classifier (classifier.enabled: false)")
    tree, group_attrs, table, notes = coverage.coverage_audit(
        pool, p, classifier, images.to_model_scale(train.images) if train is not None else None,
        images.to_model_scale(test.images) if test is not None else None,
        test.labels if test is not None else None, skipped)
    common.write_audit(out_path, tree, group_attrs, params, seed, notes)
    log.info("\n%s\n%s", table.to_string(), "\n".join(notes))


if "snakemake" in globals():
    log = runtime.setup(snakemake.log[0], snakemake.threads)
    main(snakemake.input.generator, snakemake.input.get("train") or None, snakemake.input.get("test") or None,
         snakemake.input.get("classifier") or None, snakemake.output[0], runtime.as_dict(snakemake.params))
