"""Sample quality of one model through the classifier: accuracy on class-conditional samples and
"FID (<dataset>-classifier features)" against the test images."""

import json

import torch

from ganaudit.data import images
from ganaudit.models import classifier as clf_mod
from ganaudit.models import registry
from ganaudit.models.base import sample
from ganaudit.workflow import runtime


@torch.no_grad()
def main(generator_path: str, classifier_path: str, test_path: str, out_path: str, params: dict) -> None:
    G = registry.load_generator(generator_path)
    clf = registry.load_generator(classifier_path)
    n = params["n"]
    samples = sample(G, n, runtime.seed_for(params["seed"], "quality"), batch_size=500)
    fake, labels = samples.images, samples.labels
    test = images.read_group(test_path, "test", n)
    pred_f, feat_f = clf_mod.predict_and_features(clf, fake)
    pred_r, feat_r = clf_mod.predict_and_features(clf, images.to_model_scale(test.images))
    out = {
        "n_samples": n,
        "n_test": len(test),
        "sample_accuracy": float((pred_f == labels.numpy()).mean()) if labels is not None else None,
        "test_accuracy": float((pred_r == test.labels).mean()),
        "fid_classifier_features": clf_mod.frechet_distance(feat_f, feat_r),
        "metric": f"FID ({params['dataset']}-classifier features)",
    }
    log.info("%s", out)
    with open(out_path, "w") as f:
        json.dump(out, f, indent=2)


if "snakemake" in globals():
    log = runtime.setup(snakemake.log[0], snakemake.threads)
    main(snakemake.input.generator, snakemake.input.classifier, snakemake.input.test, snakemake.output[0],
         runtime.as_dict(snakemake.params))
