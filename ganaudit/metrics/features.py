"""Feature spaces of the metrics, by name: images (model scale) → features ``[N, F]`` float64.

* ``classifier``: the pipeline's MNIST classifier's penultimate layer (`ganaudit.models.classifier.Classifier`:
  the 128 ReLU outputs of ``body``, before the class head);
* ``pixels``: the images flattened and divided by ``√(C·H·W)``, so a squared distance is the MSE on the model scale
  (`ganaudit.audits.features.distance_features`, the memorisation audit's L2);
* ``perceptual``: the run's perceptual distance's exact Euclidean embedding (`ganaudit.manifold.distances.Perceptual`);
* ``inception`` / ``dinov2``: a TorchScript network on disk (``beyond.metrics.weights``), never downloaded.

`FeatureCache` computes each (space, image set) once per job and hands it to every metric.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from torch import Tensor

__all__ = ["SPACE_DESCRIPTIONS", "torchscript_features", "FeatureCache", "feature_function"]

SPACE_DESCRIPTIONS = {
    "classifier": "the pipeline's classifier, penultimate layer (128 ReLU units)",
    "pixels": "pixels / √(C·H·W) (squared distance = MSE on [-1, 1])",
    "perceptual": "the perceptual distance's Euclidean embedding",
    "inception": "Inception-v3 pool features (TorchScript file on disk)",
    "dinov2": "DINOv2 features (TorchScript file on disk)",
}
"""What each feature space is, for the tables."""


def torchscript_features(path: str, space: str, batch_size: int = 200) -> Callable[[Tensor], np.ndarray]:
    """Features of a TorchScript network on disk (no download): ``inception`` is called as StyleGAN's
    ``inception-2015-12-05.pt`` detector, on uint8 RGB ``[N, 3, H, W]`` with ``return_features=True`` (it resizes
    itself); ``dinov2`` on float RGB ``[N, 3, 224, 224]`` in ImageNet normalisation (bicubic resize)."""
    import torch
    import torch.nn.functional as F

    net = torch.jit.load(str(path), map_location="cpu").eval()
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)

    def run(x: Tensor) -> np.ndarray:
        out = []
        with torch.no_grad():
            for i in range(0, len(x), batch_size):
                b = x[i:i + batch_size].float()
                b = b.expand(-1, 3, -1, -1) if b.shape[1] == 1 else b
                if space == "inception":
                    f = net(((b + 1) * 127.5).round().clamp(0, 255).to(torch.uint8), return_features=True)
                else:
                    b = F.interpolate((b + 1) / 2, size=(224, 224), mode="bicubic", align_corners=False)
                    f = net((b - mean) / std)
                out.append(f.double().flatten(1).numpy())
        return np.concatenate(out) if out else np.empty((0, 0))

    return run


def feature_function(space: str, classifier: Any | None = None, perceptual: Any | None = None,
                     weights: Mapping[str, str | None] | None = None) -> Callable[[Tensor], np.ndarray] | None:
    """The function of one feature space, or None when the run lacks what it needs (no classifier, no
    weights file for ``inception``/``dinov2``)."""
    if space == "pixels":
        from ganaudit.audits.features import distance_features

        return lambda x: distance_features(x.float())
    if space == "classifier":
        if classifier is None:
            return None
        from ganaudit.models.classifier import predict_and_features

        return lambda x: predict_and_features(classifier, x.float())[1]
    if space == "perceptual":
        if perceptual is None:
            return None
        return lambda x: perceptual.embed(x.float()).double().cpu().numpy()
    if space in ("inception", "dinov2"):
        path = (weights or {}).get(space)
        return torchscript_features(path, space) if path else None
    raise ValueError(f"unknown feature space {space!r}; known: {sorted(SPACE_DESCRIPTIONS)}")


@dataclass
class FeatureCache:
    """Features of named image sets in named spaces, each computed once (StyleGAN3's ``metric_utils`` cache, kept in
    memory for one job): ``get(space, name)`` embeds ``images[name]`` with ``functions[space]`` the first time. A
    name in ``subsets`` is ``(parent, rows)``: the parent's features at those rows, never embedded again (e.g. the
    memorising reference, drawn from the training images). ``known`` holds features already computed,
    ``{(space, name): [N, F]}`` (the run's cache of its real images, `ganaudit.audits.real_features`), used as they
    are (as float64) instead of embedding ``images[name]``."""

    functions: Mapping[str, Callable[[Tensor], np.ndarray]]
    images: Mapping[str, Tensor]
    subsets: Mapping[str, tuple[str, np.ndarray]] = field(default_factory=dict)
    names: Mapping[str, str] = field(default_factory=dict)
    known: Mapping[tuple[str, str], np.ndarray] = field(default_factory=dict)
    _cache: dict[tuple[str, str], np.ndarray] = field(default_factory=dict, init=False, repr=False)

    def view(self, **names: str) -> FeatureCache:
        """The same cache (shared features) under other names, e.g. ``view(samples="memorising")``: what the
        metrics read as ``samples`` is then the memorising reference."""
        out = FeatureCache(self.functions, self.images, self.subsets, {**self.names, **names}, self.known)
        out._cache = self._cache
        return out

    def get(self, space: str, name: str) -> np.ndarray:
        name = self.names.get(name, name)
        key = (space, name)
        if key not in self._cache:
            if key in self.known:
                self._cache[key] = np.asarray(self.known[key], dtype=np.float64)
            elif name in self.subsets:
                parent, rows = self.subsets[name]
                self._cache[key] = self.get(space, parent)[np.asarray(rows, dtype=np.int64)]
            else:
                self._cache[key] = np.asarray(self.functions[space](self.images[name]), dtype=np.float64)
        return self._cache[key]
