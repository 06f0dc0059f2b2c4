"""Train the source-dataset classifier (sample-quality column of Table 1)."""

import torch

from ganaudit.data import images
from ganaudit.models import registry, train
from ganaudit.workflow import runtime


def main(train_path: str, test_path: str, out_path: str, params: dict) -> None:
    g = images.read_group(train_path, "train")
    x, y = images.to_model_scale(g.images), torch.as_tensor(g.labels)
    n_classes = int(y.max()) + 1
    clf, history = train.train_classifier(x, y, n_classes, train.TrainConfig(**params["train"]), params["seed"])
    test = images.read_group(test_path, "test")
    pred = clf(images.to_model_scale(test.images)).argmax(1).numpy()
    acc = float((pred == test.labels).mean())
    log.info("classifier test accuracy %.4f on %d images", acc, len(test))
    registry.save_generator(out_path, clf, dict(image_shape=tuple(x.shape[1:]), n_classes=n_classes, width=clf.width),
                            {"test_accuracy": acc, "n_test": len(test), "history": history.to_dict("list")})


if "snakemake" in globals():
    log = runtime.setup(snakemake.log[0], snakemake.threads)
    main(snakemake.input.train, snakemake.input.test, snakemake.output[0], runtime.as_dict(snakemake.params))
