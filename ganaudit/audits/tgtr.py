"""Train on generated, test on real (Santurkar et al. 2018; Shmelkov et al.'s "GAN-train", 2018).

If a class-conditional model had learned each class's distribution, a classifier trained on its
samples would do as well on real test images as one trained on as many real training images. The
gap between the two accuracies measures what the samples lack (diversity, class fidelity) in a way
sample quality alone does not. Both classifiers are the pipeline's (`ganaudit.models.train.train_classifier`),
with the same optimiser settings and seed; only the training images differ.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import Tensor

from ganaudit.audits.common import write_frames
from ganaudit.audits.stage import StageInputs, StageOutput
from ganaudit.models.base import Generator
from ganaudit.models.train import TrainConfig, train_classifier

__all__ = ["sample_class_balanced", "balanced_subset", "TGTRResult", "train_generated_test_real", "tgtr_audit", "stage"]


@torch.no_grad()
def sample_class_balanced(generator: Generator, n: int, seed: int, batch_size: int = 500) -> tuple[Tensor, Tensor]:
    """``n`` samples of a class-conditional generator, labels ``arange(n) % n_classes``:
    ``(images [n, C, H, W] on [-1, 1], labels [n] int64)``; latents from a private RNG seeded ``seed``."""
    if not generator.n_classes:
        raise ValueError("train-on-generated needs a class-conditional generator (n_classes is None)")
    if n < 1:
        raise ValueError(f"n must be ≥ 1, got {n}")
    gen = torch.Generator().manual_seed(int(seed))
    z = torch.randn(n, generator.latent_dim, generator=gen)
    labels = torch.arange(n) % generator.n_classes
    x = torch.cat([generator(z[i:i + batch_size], labels[i:i + batch_size]) for i in range(0, n, batch_size)])
    return x.float().cpu(), labels


def balanced_subset(labels: np.ndarray | Tensor, n: int, n_classes: int, seed: int) -> np.ndarray:
    """Indices ``[n]`` of a random class-balanced subset (class ``c`` gets the same count as in
    ``arange(n) % n_classes``); one-line error if a class has too few images."""
    y = labels.cpu().numpy() if isinstance(labels, Tensor) else np.asarray(labels)
    need = np.bincount(np.arange(n) % n_classes, minlength=n_classes)
    rng = np.random.default_rng(seed)
    out = []
    for c in range(n_classes):
        idx = np.flatnonzero(y == c)
        if len(idx) < need[c]:
            raise ValueError(f"class {c} has {len(idx)} training images; a balanced subset of {n} needs {need[c]}")
        out.append(rng.choice(idx, size=need[c], replace=False))
    return np.sort(np.concatenate(out))


@dataclass(frozen=True)
class TGTRResult:
    """Test accuracies of the classifier trained on ``n_train`` generated images (``accuracy_generated``)
    and on ``n_train`` real training images (``accuracy_real``). ``per_class``: ``class``, ``n_test``,
    ``accuracy_generated``, ``accuracy_real`` (recall of each class on the test images)."""

    accuracy_generated: float
    accuracy_real: float
    n_train: int
    n_test: int
    per_class: pd.DataFrame

    @property
    def gap(self) -> float:
        """``accuracy_real − accuracy_generated`` (0 for a model as good as its data)."""
        return self.accuracy_real - self.accuracy_generated


def train_generated_test_real(generator: Generator, train_x: Tensor, train_labels: Tensor, test_x: Tensor,
                              test_labels: Tensor, n: int, config: TrainConfig, seed: int) -> TGTRResult:
    """Train the pipeline's classifier on ``n`` class-balanced samples of ``generator`` and, separately,
    on ``n`` class-balanced real training images; test both on the real test images.

    Args:
        generator: class-conditional; its class ``c`` is the data's class ``c``.
        train_x, train_labels: real training images ``[M, C, H, W]`` (model scale) and classes ``[M]``.
        test_x, test_labels: real test images ``[Nt, C, H, W]`` and classes ``[Nt]``.
        n: training images for each classifier; config, seed: `train_classifier`'s settings, shared.
    """
    k = generator.n_classes
    if not k:
        raise ValueError("train-on-generated needs a class-conditional generator (n_classes is None)")
    if tuple(train_x.shape[1:]) != tuple(generator.image_shape) or tuple(test_x.shape[1:]) != tuple(generator.image_shape):
        raise ValueError(f"images must have the generator's shape {tuple(generator.image_shape)}, got train "
                         f"{tuple(train_x.shape[1:])} and test {tuple(test_x.shape[1:])}")
    y_test = torch.as_tensor(test_labels).long()
    if len(y_test) == 0:
        raise ValueError("test_x holds no images")
    fake, fake_y = sample_class_balanced(generator, n, seed)
    idx = torch.as_tensor(balanced_subset(train_labels, n, k, seed))
    real, real_y = train_x[idx].float(), torch.as_tensor(train_labels)[idx].long()
    preds = {}
    for name, (x, y) in {"generated": (fake, fake_y), "real": (real, real_y)}.items():
        clf, _ = train_classifier(x, y, k, config, seed)
        with torch.no_grad():
            preds[name] = torch.cat([clf(test_x[i:i + 512].float()).argmax(1) for i in range(0, len(test_x), 512)])
    rows = []
    for c in range(k):
        m = y_test == c
        rows.append({"class": c, "n_test": int(m.sum()),
                     **{f"accuracy_{g}": float((p[m] == c).float().mean()) if m.any() else float("nan")
                        for g, p in preds.items()}})
    acc = {g: float((p == y_test).float().mean()) for g, p in preds.items()}
    return TGTRResult(acc["generated"], acc["real"], n, len(y_test), pd.DataFrame(rows))


# ---------------------------------------------------------------------------------------------- pipeline stage


def tgtr_audit(generator: Generator, train_x: Tensor, train_labels: np.ndarray, test_x: Tensor,
               test_labels: np.ndarray, n: int, train_config: Mapping[str, Any], seed: int
               ) -> tuple[dict[str, Any], dict[str, dict[str, Any]], pd.DataFrame, list[str]]:
    """The pipeline's train-on-generated stage: `train_generated_test_real` with the pipeline's classifier
    settings (``classifier.train``).

    Returns ``(tree, group_attrs, table, notes)``: ``table`` has one row per class and a last row ``all``:
    ``class``, ``n_test``, ``accuracy_generated``, ``accuracy_real`` (fractions of the real test images) and
    ``gap_points`` (``100 × (real − generated)``, percentage points). An unconditional generator has no rows and
    a note saying why.
    """
    if not generator.n_classes:
        table = pd.DataFrame({"class": [], "n_test": [], "accuracy_generated": [], "accuracy_real": [], "gap_points": []})
        notes = ["skipped: the generator is unconditional (train-on-generated needs a class for each sample)"]
    else:
        cfg = TrainConfig(**{**dict(train_config), "progress": False})
        res = train_generated_test_real(generator, train_x, torch.as_tensor(train_labels), test_x,
                                        torch.as_tensor(test_labels), n, cfg, seed)
        table = res.per_class.assign(**{"class": res.per_class["class"].astype(str)})
        table = pd.concat([table, pd.DataFrame([{"class": "all", "n_test": res.n_test,
                                                 "accuracy_generated": res.accuracy_generated,
                                                 "accuracy_real": res.accuracy_real}])], ignore_index=True)
        table["gap_points"] = 100 * (table.accuracy_real - table.accuracy_generated)
        table.insert(1, "n_train", res.n_train)
        notes = []
    tree, gattrs = write_frames({"table": table})
    return tree, gattrs, table, notes


def stage(inputs: StageInputs, params: Mapping[str, Any]) -> StageOutput:
    """The train-on-generated audit of one model (registry entry ``tgtr``): the pipeline's classifier trained on its
    samples and on as many real training images, both tested on the real test images (`tgtr_audit`)."""
    from ganaudit.data.images import to_model_scale

    G = inputs.generator()
    train, test = inputs.group("train"), inputs.group("test")
    tree, group_attrs, table, notes = tgtr_audit(G, to_model_scale(train.images), train.labels,
                                                 to_model_scale(test.images), test.labels,
                                                 params["tgtr"]["n"], params["train"], inputs.seed)
    return StageOutput(tree, group_attrs, notes, log=table.to_string() + "\n" + "\n".join(notes))
