"""The run's real images (every training and test image) embedded once in the feature spaces the support,
memorisation and metrics audits read: ``results/features/real.h5`` (`ganaudit.audits.real_features`)."""

from ganaudit.artifacts import store
from ganaudit.audits import real_features
from ganaudit.data import images
from ganaudit.workflow import runtime


def main(paths: dict[str, str | None], out_path: str, params: dict) -> None:
    """Embed the ``train`` and ``test`` groups of ``paths`` in ``params["spaces"]`` and write ``out_path``."""
    device = runtime.device(params["device"])
    perceptual = classifier = None
    attrs = store.provenance(params, params.get("seed"))
    if "perceptual" in params["spaces"]:
        from ganaudit.manifold.distances import perceptual_from_config

        perceptual = perceptual_from_config(params["perceptual"], device)
        attrs.update(perceptual_metric=perceptual.name, perceptual_backend=perceptual.backend)
    if "classifier" in params["spaces"]:
        from ganaudit.models import registry

        classifier = registry.load_generator(paths["classifier"])
    functions = real_features.space_functions(params["spaces"], classifier, perceptual, params.get("weights"))
    groups = {split: images.read_group(paths[split], split).images for split in real_features.SPLITS}
    real_features.write_real_features(out_path, groups, functions, attrs, log=log.info)


if "snakemake" in globals():
    log = runtime.setup(snakemake.log[0], snakemake.threads)
    main({k: snakemake.input.get(k) or None for k in ("train", "test", "classifier")}, snakemake.output[0],
         runtime.as_dict(snakemake.params))
