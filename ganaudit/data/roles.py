"""The image groups of an audit and their roles, named once (pure Python; the Snakefile, tables and figures
all read it): which groups are the model's own samples, which are evaluated under their own class only, which
group holds the inliers of outlier detection, and which groups are scored."""

from __future__ import annotations

from collections.abc import Iterable

GENERATED_GROUPS = ("generated", "generated_calibration")
"""Sampled from each model (``results/samples/{model}/{group}.h5``), not from the data."""

OWN_CLASS_GROUPS = ("train", *GENERATED_GROUPS)
"""Evaluated under their own (known) class only; every other group under every class."""


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
