"""What an audit's stage function receives and returns (`ganaudit.audits.registry`): its inputs, loaded when the
stage asks for them, and its artifact. Only the audit jobs import this module (the tables do not)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

    from ganaudit.audits.real_features import RealFeatures
    from ganaudit.models.base import Generator, Samples
    from ganaudit.models.samples import StoredSamples

__all__ = ["StageInputs", "StageOutput"]


@dataclass
class StageOutput:
    """What an audit's stage returns: its artifact (``tree``, ``group_attrs``, ``notes``, further file ``attrs``) and
    the text its job logs."""

    tree: dict[str, Any]
    group_attrs: dict[str, dict[str, Any]]
    notes: list[str] = field(default_factory=list)
    attrs: dict[str, Any] = field(default_factory=dict)
    log: str = ""


@dataclass
class StageInputs:
    """The inputs of one audit of one model, loaded when a stage asks for them: ``paths`` holds the rule's
    ``generator`` (or, for a model given as stored samples, ``samples``: the ``import_samples`` artifact), ``train``,
    ``test``, ``classifier`` and ``features`` files (absent or None: the run has none; ``features`` holds the run's
    real images embedded once, `ganaudit.audits.real_features`, read through `real_features`), ``seed`` the audit's own stream
    (`ganaudit.workflow.runtime.seed_for`), ``device`` where torch runs. Stages draw the model's images through
    `pool`, which serves a generator and stored samples alike."""

    paths: Mapping[str, str | None]
    seed: int
    device: Any = "cpu"
    _generator: Any = field(default=None, init=False, repr=False)
    _stored: Any = field(default=None, init=False, repr=False)
    _features: Any = field(default=None, init=False, repr=False)

    def has(self, name: str) -> bool:
        return bool(self.paths.get(name))

    def is_stored(self) -> bool:
        """True when the model is given as stored samples (no generator)."""
        return self.has("samples")

    def stored(self) -> StoredSamples:
        """The stored samples (`ganaudit.models.samples.StoredSamples`), read once from the ``samples`` artifact
        (group ``stored``; labels −1 mean none)."""
        if self._stored is None:
            from ganaudit.artifacts import store
            from ganaudit.data import images
            from ganaudit.models.samples import StoredSamples

            path = str(self.paths["samples"])
            g = images.read_group(path, "stored")
            has_labels = int(store.read_attrs(path, "groups/stored").get("n_classes", -1)) > 0
            self._stored = StoredSamples(g.images, g.labels.astype("int64") if has_labels else None, path)
        return self._stored

    def image_shape(self) -> tuple[int, int, int]:
        """``(C, H, W)`` of the model's images."""
        return self.stored().image_shape if self.is_stored() else tuple(self.generator().image_shape)

    def n_classes(self) -> int | None:
        """The model's classes: a conditional generator's ``n_classes``, the stored samples' class count (from the
        artifact), or None (unconditional, or samples without labels)."""
        if self.is_stored():
            from ganaudit.artifacts import store

            k = int(store.read_attrs(str(self.paths["samples"]), "groups/stored").get("n_classes", -1))
            return k if k > 0 else None
        return self.generator().n_classes or None

    def pool(self, n: int, seed: int, class_labels: np.ndarray | None = None) -> Samples:
        """``n`` images of the model on the model scale, as `ganaudit.models.base.Samples`: a generator's samples
        (`ganaudit.audits.common.model_pool`: classes drawn from ``class_labels``, latents seeded ``seed``), or ``n``
        stored samples drawn without replacement, deterministic in ``seed`` (their stored classes; ``z`` is empty
        ``[n, 0]``); more than are stored is a one-line error."""
        import torch

        if not self.is_stored():
            from ganaudit.audits.common import model_pool

            return model_pool(self.generator(), n, seed, class_labels)
        from ganaudit.data.images import to_model_scale
        from ganaudit.models.base import Samples

        u8, labels = self.stored().draw(n, seed)
        return Samples(torch.zeros(n, 0), None if labels is None else torch.as_tensor(labels), to_model_scale(u8))

    def generator(self) -> Generator:
        """The model, loaded once (on ``device``)."""
        if self._generator is None:
            from ganaudit.models import registry

            self._generator = registry.load_generator(self.paths["generator"], self.device)
        return self._generator

    def group(self, name: str, n: int | None = None):
        """The first ``n`` images of the data group ``name`` (`ganaudit.data.images.read_group`; all when None), in
        the model's image shape, or None when the run has no such file."""
        if not self.has(name):
            return None
        from ganaudit.data import images

        return images.read_group(self.paths[name], name, n, image_shape=self.image_shape())

    def classifier(self):
        """The pipeline's classifier, or None when the run has none."""
        if not self.has("classifier"):
            return None
        from ganaudit.models import registry

        return registry.load_generator(self.paths["classifier"])

    def features(self) -> RealFeatures | None:
        """The cache of the run's real images' features (`ganaudit.audits.real_features.RealFeatures`), opened once,
        or None when the run has none."""
        if not self.has("features"):
            return None
        if self._features is None:
            from ganaudit.audits.real_features import RealFeatures

            self._features = RealFeatures(str(self.paths["features"]))
        return self._features

    def has_real_features(self, space: str) -> bool:
        """Whether the run's cache holds the real images' features in ``space``."""
        cache = self.features()
        return cache is not None and space in cache.spaces

    def real_features(self, space: str, split: str, rows: Any = None, perceptual: Any = None) -> np.ndarray | None:
        """Features float32 ``[len(rows), F]`` of the real images ``rows`` (in that order; all when None) of data group
        ``split`` (``train``/``test``) in ``space``, read from the cache; None when the run has no cache (the stage
        then embeds the images itself). A space or split the cache lacks is a one-line error naming the file and
        key; with ``perceptual`` (`ganaudit.manifold.distances.Perceptual`), so is a cache embedded under another
        perceptual distance."""
        cache = self.features()
        if cache is None:
            return None
        if perceptual is not None and space == "perceptual":
            cache.check_perceptual(perceptual.name, perceptual.backend)
        return cache.rows(space, split, rows)
