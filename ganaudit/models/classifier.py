"""A small CNN classifier of the source dataset, used for the sample-quality column of Table 1:
accuracy on class-conditional samples and a Fréchet distance on its penultimate features
("FID (MNIST-classifier features)" — there is no Inception network offline)."""

from __future__ import annotations

import numpy as np
import torch
from scipy import linalg
from torch import Tensor, nn


class Classifier(nn.Module):
    def __init__(self, image_shape: tuple[int, int, int] = (1, 28, 28), n_classes: int = 10, width: int = 16,
                 feature_dim: int = 128) -> None:
        super().__init__()
        c = image_shape[0]
        self.image_shape, self.n_classes, self.width = tuple(image_shape), int(n_classes), int(width)
        self.body = nn.Sequential(
            nn.Conv2d(c, width, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(2),
            nn.Conv2d(width, 2 * width, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(2),
            nn.AdaptiveAvgPool2d(4), nn.Flatten(),
            nn.Linear(2 * width * 16, feature_dim), nn.ReLU(inplace=True),
        )
        self.head = nn.Linear(feature_dim, n_classes)

    def features(self, x: Tensor) -> Tensor:
        return self.body(x)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.body(x))


@torch.no_grad()
def predict_and_features(model: Classifier, x: Tensor, batch_size: int = 512) -> tuple[np.ndarray, np.ndarray]:
    """Predicted classes [N] and penultimate features [N, F] for model-scale images."""
    model.eval()
    preds, feats = [], []
    for i in range(0, len(x), batch_size):
        f = model.features(x[i:i + batch_size])
        feats.append(f.numpy().astype(np.float64))
        preds.append(model.head(f).argmax(1).numpy())
    if not feats:
        return np.empty(0, dtype=np.int64), np.empty((0, model.head.in_features))
    return np.concatenate(preds), np.concatenate(feats)


def frechet_distance(feats_a: np.ndarray, feats_b: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets (the FID formula)."""
    mu_a, mu_b = feats_a.mean(0), feats_b.mean(0)
    ca, cb = np.cov(feats_a, rowvar=False), np.cov(feats_b, rowvar=False)
    covmean, _ = linalg.sqrtm(ca @ cb, disp=False)
    if not np.isfinite(covmean).all():
        eps = np.eye(len(ca)) * 1e-6
        covmean = linalg.sqrtm((ca + eps) @ (cb + eps))
    covmean = covmean.real
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(ca) + np.trace(cb) - 2 * np.trace(covmean))
