"""Train (dcgan, vae), fit (ppca) or reference (pretrained adapters) one audited model."""

import pandas as pd
import torch

from ganaudit.data import images
from ganaudit.models import kinds, registry, train
from ganaudit.workflow import runtime


def main(data_path: str | None, out_generator: str, out_losses: str, params: dict) -> None:
    spec, seed = params["spec"], params["seed"]
    kind = spec["kind"]
    meta = {"kind": kind, "spec": spec}
    if kinds.is_builtin(spec):
        g = images.read_group(data_path, "train")
        x = images.to_model_scale(g.images)
        y = torch.as_tensor(g.labels)
        n_classes = int(y.max()) + 1
        log.info("training %s on %d images %s, %d classes", kind, len(x), tuple(x.shape[1:]), n_classes)
    if kind == "dcgan":
        cfg = train.TrainConfig(**spec["train"])
        model, history = train.train_gan(x, y, spec["latent_dim"], spec.get("width", 32), cfg, seed)
        kwargs = dict(latent_dim=spec["latent_dim"], image_shape=tuple(x.shape[1:]), n_classes=n_classes, width=spec.get("width", 32))
    elif kind == "vae":
        cfg = train.TrainConfig(**spec["train"])
        model, sigma2, history = train.train_vae(x, y, spec["latent_dim"], spec.get("width", 32), cfg, seed)
        kwargs = dict(latent_dim=spec["latent_dim"], image_shape=tuple(x.shape[1:]), n_classes=n_classes, width=spec.get("width", 32))
        meta["decoder_sigma2"] = sigma2
    elif kind == "ppca":
        from ganaudit.models.ppca import fit_ppca

        model = fit_ppca(x, y, spec["latent_dim"], n_classes)
        kwargs = dict(weight=model.weight, mean=model.mean, image_shape=model.image_shape, n_classes=n_classes,
                      sigma2_mle=model.sigma2_mle)
        history = pd.DataFrame({"step": [0], "series": ["closed form (no training)"], "value": [float("nan")]})
        log.info("PPCA closed-form fit; MLE sigma2 per class (model scale): %s", model.sigma2_mle)
    else:
        from ganaudit.models import adapters

        model = adapters.load_generator(spec)
        log.info("pretrained %s generator: latent %d, images %s, classes %s", kind, model.latent_dim,
                 model.image_shape, model.n_classes)
        # provenance: resolved file paths with their SHA-256, shapes, output range, versions
        registry.save_adapter(out_generator, spec, {**meta, "generator": model.describe()})
        pd.DataFrame({"step": [0], "series": ["pretrained (not trained here)"], "value": [float("nan")]}).to_csv(out_losses, index=False)
        return
    registry.save_generator(out_generator, model, kwargs, meta)
    history.to_csv(out_losses, index=False)


if "snakemake" in globals():
    log = runtime.setup(snakemake.log[0], snakemake.threads)
    main(snakemake.input.get("data") or None, snakemake.output.generator, snakemake.output.losses,
         runtime.as_dict(snakemake.params))
