"""Config logic the Snakefile needs, kept here so it is unit-tested: per-model spec checks, which image
groups exist, and the shard ranges."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

BUILTIN_KINDS = {"dcgan", "vae", "ppca"}
BUILTIN_KEYS = {"kind", "latent_dim", "width", "train", "role"}
GENERATED_GROUPS = ("generated", "generated_calibration")
MNIST_CLASSES = set(range(10))


class ConfigError(ValueError):
    """A config problem, reported as ``config: key: what was wrong``."""


def is_builtin(spec: dict[str, Any]) -> bool:
    return spec["kind"] in BUILTIN_KINDS


def check_config(config: dict[str, Any]) -> None:
    """Checks beyond the JSON schema; raises `ConfigError` naming the key."""
    ds = config["dataset"]
    has_train = ds["source"]["kind"] != "none"
    for name, spec in config["models"].items():
        if is_builtin(spec):
            unknown = sorted(set(spec) - BUILTIN_KEYS)
            if unknown:
                raise ConfigError(f"config: models.{name}: unknown key(s) {unknown} for kind {spec['kind']!r} "
                                  f"(allowed: {sorted(BUILTIN_KEYS)})")
            if "latent_dim" not in spec:
                raise ConfigError(f"config: models.{name}.latent_dim: required for kind {spec['kind']!r}")
            if spec["kind"] != "ppca" and "train" not in spec:
                raise ConfigError(f"config: models.{name}.train: required for kind {spec['kind']!r} (steps, batch_size, lr)")
            if not has_train:
                raise ConfigError(f"config: models.{name}: kind {spec['kind']!r} is trained by the pipeline, "
                                  f"but dataset.source.kind is 'none'")
        else:
            from ganaudit.models import adapters

            try:
                adapters.check_spec(spec)
            except ValueError as e:
                raise ConfigError(f"config: models.{name}: {e}") from None
    if not has_train and config["sigma"]["value"] is None:
        raise ConfigError("config: sigma.value: there are no training images (dataset.source.kind is 'none'), so the "
                          "maximum-likelihood σ² cannot be formed; set sigma.value (model scale [-1, 1])")
    for key in ("inversion", "ais"):
        known = set(group_names(config))
        unknown = sorted(set(config[key]["groups"]) - known - {"train", "test", "other_classes"})
        if unknown:
            raise ConfigError(f"config: {key}.groups: unknown group(s) {unknown} (known: {sorted(known)})")


def group_names(config: dict[str, Any]) -> list[str]:
    """Every image group the run has, in a stable order."""
    ds = config["dataset"]
    names = []
    if ds["source"]["kind"] != "none":
        names += ["train", "test"]
        if ds["source"]["kind"] != "mnist" or set(ds["classes"]) != MNIST_CLASSES:
            names.append("other_classes")
    names += list(GENERATED_GROUPS)
    names += [g for g, spec in config["groups"].items() if g != "other_classes" and spec.get("enabled", True)]
    return names


def inversion_groups(config: dict[str, Any]) -> list[str]:
    have = group_names(config)
    return [g for g in config["inversion"]["groups"] if g in have]


def ais_groups(config: dict[str, Any]) -> list[str]:
    have = group_names(config)
    return [g for g in config["ais"]["groups"] if g in have]


def shard_range(shard: int, shard_size: int, n_images: int, n_available: int) -> tuple[int, int]:
    """Image index range ``[start, stop)`` of a shard, clipped to the images that exist."""
    n = min(n_images, n_available)
    start = min(shard * shard_size, n)
    return start, min(start + shard_size, n)


def inlier_group(groups: Iterable[str]) -> str | None:
    """The group whose images are the inliers of outlier detection.

    ``test`` (held-out training-distribution images) when it is present; otherwise ``generated``,
    the model's own samples: for a third-party GAN whose training data is absent they are the only
    in-distribution reference there is, so the question becomes "does the score separate the
    model's own samples from out-of-distribution images?". ``None`` when neither is present.
    """
    names = list(groups)
    return next((g for g in ("test", "generated") if g in names), None)


def inlier_label(group: str | None) -> str:
    """Words for the inlier group of `inlier_group`, for figure titles and the findings page."""
    return {"test": "the test images", "generated": "the GAN's own samples"}.get(group, "no inlier group")


def scored_groups(groups: Iterable[str]) -> list[str]:
    """The groups that take part in outlier detection, in their given order.

    Never ``train`` (the model was fitted to it) nor ``generated_calibration`` (it only sets the
    typicality threshold); ``generated`` only when it is the inlier group (`inlier_group`), since
    next to a test group the model's own samples are neither inliers nor outliers.
    """
    names = list(groups)
    ref = inlier_group(names)
    return [g for g in names if g not in ("train", "generated_calibration") and (g != "generated" or ref == "generated")]
