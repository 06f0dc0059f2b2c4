"""Sample quality of one model through the classifier: accuracy on class-conditional samples and
"FID (<dataset>-classifier features)" against the test images."""

import json

import torch

from ganaudit import data, runtime
from ganaudit.models import classifier as clf_mod
from ganaudit.models import registry


@torch.no_grad()
def main(generator_path: str, classifier_path: str, test_path: str, out_path: str, params: dict) -> None:
    G = registry.load_generator(generator_path)
    clf = registry.load_generator(classifier_path)
    n = params["n"]
    gen = torch.Generator().manual_seed(runtime.seed_for(params["seed"], "quality"))
    z = torch.randn(n, G.latent_dim, generator=gen)
    labels = (torch.arange(n) % G.n_classes) if G.n_classes else None
    fake = torch.cat([G(z[i:i + 500], None if labels is None else labels[i:i + 500]) for i in range(0, n, 500)])
    test = data.read_group(test_path, "test", n)
    pred_f, feat_f = clf_mod.predict_and_features(clf, fake)
    pred_r, feat_r = clf_mod.predict_and_features(clf, data.to_model_scale(test.images))
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
