"""Train on generated, test on real (Santurkar et al. 2018; Shmelkov et al.'s "GAN-train", 2018).

If a class-conditional model had learned each class's distribution, a classifier trained on its
samples would do as well on real test images as one trained on as many real training images. The
gap between the two accuracies measures what the samples lack (diversity, class fidelity) in a way
sample quality alone does not. Both classifiers are the pipeline's (`ganaudit.models.train.train_classifier`),
with the same optimiser settings and seed; only the training images differ.

As a curve (the lecture's measurement): the test accuracy against the number of real training images (log-spaced,
repeated), crossed at the accuracy a fixed, large number of generated images reaches, gives the real-sample size
the samples are worth (`tgtr_curve`, `real_sample_size`); the same with a linear classifier on pixels (`fit_linear`),
which Santurkar et al. found misled by GAN samples.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import Tensor, nn

from ganaudit.audits.common import write_frames
from ganaudit.audits.stage import StageInputs, StageOutput
from ganaudit.models.base import Generator
from ganaudit.models.train import TrainConfig, train_classifier

__all__ = ["sample_class_balanced", "balanced_subset", "TGTRResult", "train_generated_test_real", "CLASSIFIERS",
           "LinearClassifier", "fit_linear", "accuracy_on", "CurveConfig", "Sampler", "fit_classifier", "tgtr_curve",
           "crossing", "real_sample_size", "curve_summary", "curve_config", "tgtr_audit", "labelled_sampler", "stage"]


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


# ---------------------------------------------------------------------------------------------- the curve


CLASSIFIERS = ("cnn", "linear")
"""The classifiers of the curve: ``cnn`` (the pipeline's, `ganaudit.models.train.train_classifier`) and ``linear``
(multinomial logistic regression on pixels, `fit_linear`)."""


class LinearClassifier(nn.Module):
    """Multinomial logistic regression on pixels: logits ``W · flatten(x) + b`` (images on the model scale)."""

    def __init__(self, n_pixels: int, n_classes: int) -> None:
        super().__init__()
        self.linear = nn.Linear(n_pixels, n_classes)

    def forward(self, x: Tensor) -> Tensor:
        return self.linear(x.flatten(1))


def fit_linear(x: Tensor, labels: Tensor, n_classes: int, l2: float = 1e-2, max_iter: int = 100) -> LinearClassifier:
    """Multinomial logistic regression on the pixels of ``x`` ``[N, C, H, W]``: minimises the mean cross-entropy
    plus ``l2 / 2 · ‖W‖²`` (the bias is not penalised) from zero weights by full-batch L-BFGS with a strong-Wolfe
    line search (``max_iter`` iterations): deterministic, no seed. The penalty keeps the weights finite when a small
    training set is separable."""
    x2 = x.detach().float().flatten(1)
    y = torch.as_tensor(labels).long()
    with torch.random.fork_rng(devices=[]):      # the layer's default initialisation must not move the global RNG
        model = LinearClassifier(x2.shape[1], n_classes)
    nn.init.zeros_(model.linear.weight)
    nn.init.zeros_(model.linear.bias)
    opt = torch.optim.LBFGS(model.parameters(), lr=1.0, max_iter=max_iter, line_search_fn="strong_wolfe",
                            tolerance_grad=1e-7, tolerance_change=1e-10, history_size=20)

    def closure() -> Tensor:
        opt.zero_grad(set_to_none=True)
        loss = nn.functional.cross_entropy(model.linear(x2), y) + 0.5 * l2 * model.linear.weight.pow(2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    return model.eval().requires_grad_(False)


@torch.no_grad()
def accuracy_on(model: nn.Module, x: Tensor, labels: Tensor, batch_size: int = 512) -> float:
    """Fraction of ``x`` whose arg-max logit is its label."""
    y = torch.as_tensor(labels).long()
    pred = torch.cat([model(x[i:i + batch_size].float()).argmax(1) for i in range(0, len(x), batch_size)])
    return float((pred == y).float().mean())


@dataclass(frozen=True)
class CurveConfig:
    """Settings of `tgtr_curve`.

    Attributes:
        n_generated: generated training set sizes (the GAN's levels), each class-balanced.
        n_real: real training set sizes of the curve (class-balanced; sizes above what the training images hold
            are dropped with a note).
        repeats: repeats of every point (its own subset or samples and its own initialisation, seed ``seed + r``).
        classifiers: names from `CLASSIFIERS`.
        cnn: the CNN's training settings (`ganaudit.models.train.TrainConfig`).
        linear_l2, linear_max_iter: `fit_linear`'s settings.
    """

    n_generated: tuple[int, ...] = (1000, 10000)
    n_real: tuple[int, ...] = (10, 30, 100, 300, 1000, 3000, 10000)
    repeats: int = 3
    classifiers: tuple[str, ...] = CLASSIFIERS
    cnn: TrainConfig = field(default_factory=lambda: TrainConfig(steps=150, lr=1e-3, progress=False))
    linear_l2: float = 1e-2
    linear_max_iter: int = 100

    def __post_init__(self) -> None:
        unknown = sorted(set(self.classifiers) - set(CLASSIFIERS))
        if unknown:
            raise ValueError(f"classifiers must be among {list(CLASSIFIERS)}, got {unknown}")
        if self.repeats < 1 or not self.n_generated or not self.n_real or min(*self.n_generated, *self.n_real) < 1:
            raise ValueError("repeats, n_generated and n_real must be ≥ 1 (and the lists non-empty)")


Sampler = Callable[[int, int], tuple[Tensor, Tensor]]
"""``sampler(n, seed) → (images [n, C, H, W] on [-1, 1], labels [n])``: a labelled generated training set."""


def fit_classifier(name: str, x: Tensor, labels: Tensor, n_classes: int, config: CurveConfig, seed: int) -> nn.Module:
    """One classifier of the curve, trained on ``(x, labels)``: ``cnn`` with ``config.cnn`` and ``seed``, or ``linear``."""
    if name == "cnn":
        return train_classifier(x.float(), torch.as_tensor(labels).long(), n_classes, config.cnn, seed)[0]
    if name == "linear":
        return fit_linear(x, labels, n_classes, config.linear_l2, config.linear_max_iter)
    raise ValueError(f"unknown classifier {name!r} (expected one of {list(CLASSIFIERS)})")


def tgtr_curve(sampler: Sampler, train_x: Tensor, train_labels: Tensor, test_x: Tensor, test_labels: Tensor,
               n_classes: int, config: CurveConfig, seed: int) -> tuple[pd.DataFrame, list[str]]:
    """Test accuracy against the training set: on ``n`` class-balanced real training images for each ``n`` of
    ``config.n_real``, and on ``n`` generated images (``sampler``) for each ``n`` of ``config.n_generated``; every
    point ``config.repeats`` times (repeat ``r``: subset, samples and initialisation seeded ``seed + r``), every
    classifier of ``config.classifiers``, all tested on the real test images.

    Returns ``(runs, notes)``: ``runs`` has one row per fit: ``classifier``, ``source`` (``real`` or
    ``generated``), ``n``, ``repeat``, ``accuracy``; ``notes`` name the real sizes dropped for want of images.
    """
    y_train = torch.as_tensor(train_labels).long()
    counts = np.bincount(y_train.numpy(), minlength=n_classes)
    n_max = int(counts.min()) * n_classes + int((counts > counts.min()).sum())   # largest balanced subset
    n_real = sorted({n for n in config.n_real if n <= n_max})
    notes = []
    dropped = sorted(set(config.n_real) - set(n_real))
    if dropped:
        notes.append(f"real training sizes {dropped} dropped: a class-balanced subset holds at most {n_max} of the "
                     "training images")
    if not n_real:
        raise ValueError(f"no real training size fits: {list(config.n_real)} all exceed {n_max}")
    rows = []
    for r in range(config.repeats):
        s = seed + r
        sets = [("real", n) for n in n_real] + [("generated", n) for n in sorted(set(config.n_generated))]
        for source, n in sets:
            if source == "real":
                idx = torch.as_tensor(balanced_subset(y_train, n, n_classes, s))
                x, y = train_x[idx], y_train[idx]
            else:
                x, y = sampler(n, s)
            for name in config.classifiers:
                model = fit_classifier(name, x, y, n_classes, config, s)
                rows.append({"classifier": name, "source": source, "n": int(n), "repeat": r,
                             "accuracy": accuracy_on(model, test_x, test_labels)})
    return pd.DataFrame(rows), notes


def crossing(n: Sequence[float], accuracy: Sequence[float], target: float) -> tuple[float, str]:
    """Where the curve ``accuracy(n)`` (``n`` increasing) first reaches ``target``, interpolated linearly in
    ``log n`` between the last point below it and the first at or above it: ``(n*, "")``; ``(nan, "below")`` when
    already the first point reaches it (the target is worth fewer than ``n[0]``), ``(nan, "above")`` when no point
    does (more than ``n[-1]``)."""
    ns, acc = np.asarray(n, float), np.asarray(accuracy, float)
    if np.any(np.diff(ns) <= 0):
        raise ValueError(f"n must increase, got {ns.tolist()}")
    hit = np.flatnonzero(acc >= target)
    if not len(hit):
        return float("nan"), "above"
    i = int(hit[0])
    if i == 0:
        return float("nan"), "below"
    t = (target - acc[i - 1]) / (acc[i] - acc[i - 1])
    return float(np.exp(np.log(ns[i - 1]) + t * (np.log(ns[i]) - np.log(ns[i - 1])))), ""


def _limit(value: float, bound: str, n: Sequence[float]) -> tuple[float, float]:
    """An off-curve crossing as the interval it means: below → ``[0, n[0]]``, above → ``[n[-1], ∞]``."""
    if bound == "below":
        return 0.0, float(n[0])
    if bound == "above":
        return float(n[-1]), float("inf")
    return value, value


def _fmt_n(v: float) -> str:
    return "inf" if not np.isfinite(v) else f"{v:,.0f}"


def real_sample_size(runs: pd.DataFrame) -> pd.DataFrame:
    """The real-sample size each generated training set is worth, from `tgtr_curve`'s ``runs``.

    For every classifier and generated size: the mean real curve (mean over repeats at each ``n``) is crossed at
    the mean generated accuracy (`crossing`, linear in ``log n``): ``real_equivalent``; the interval
    ``[real_equivalent_low, real_equivalent_high]`` is the range of the crossings of each repeat's own curve at that
    repeat's generated accuracy (an off-curve repeat counts as ``[0, n_min]`` or ``[n_max, ∞]``). ``bound`` says when
    the mean is off the curve (``below``: worth fewer than the smallest real size; ``above``: more than the
    largest), and ``worth`` writes it all as text.

    Columns: ``classifier``, ``n_generated``, ``n_repeats``, ``accuracy_generated`` (mean), ``accuracy_generated_min``,
    ``accuracy_generated_max``, ``accuracy_real_same_n`` (mean real accuracy at ``n = n_generated``, NaN when the
    curve has no such point), ``gap_points`` (``100 × (real − generated)`` at the same ``n``), ``real_equivalent``,
    ``real_equivalent_low``, ``real_equivalent_high``, ``bound``, ``worth``, ``n_real_min``, ``n_real_max``.
    """
    rows = []
    for clf, d in runs.groupby("classifier", sort=False):
        real = d[d.source == "real"].pivot_table(index="n", columns="repeat", values="accuracy").sort_index()
        ns = real.index.to_numpy(float)
        for n_gen, g in d[d.source == "generated"].groupby("n"):
            level = g.set_index("repeat").accuracy
            value, bound = crossing(ns, real.mean(axis=1).to_numpy(), float(level.mean()))
            lims = [_limit(*crossing(ns, real[r].to_numpy(), float(level[r])), ns) for r in level.index if r in real]
            low, high = min(lo for lo, _ in lims), max(hi for _, hi in lims)
            same = float(real.loc[n_gen].mean()) if n_gen in real.index else float("nan")
            if bound == "below":
                text = f"< {_fmt_n(ns[0])}"
            elif bound == "above":
                text = f"> {_fmt_n(ns[-1])}"
            else:
                text = f"~ {_fmt_n(value)}"
            text += f" [{_fmt_n(low)}, {_fmt_n(high)}]"
            rows.append({"classifier": clf, "n_generated": int(n_gen), "n_repeats": len(level),
                         "accuracy_generated": float(level.mean()), "accuracy_generated_min": float(level.min()),
                         "accuracy_generated_max": float(level.max()), "accuracy_real_same_n": same,
                         "gap_points": 100 * (same - float(level.mean())), "real_equivalent": value,
                         "real_equivalent_low": low, "real_equivalent_high": high, "bound": bound, "worth": text,
                         "n_real_min": int(ns[0]), "n_real_max": int(ns[-1])})
    return pd.DataFrame(rows)


def curve_summary(runs: pd.DataFrame) -> pd.DataFrame:
    """`tgtr_curve`'s ``runs`` per classifier, source and ``n``: ``n_repeats``, ``accuracy_mean``, ``accuracy_std``
    (ddof 1; 0 for one repeat), ``accuracy_min``, ``accuracy_max``."""
    g = runs.groupby(["classifier", "source", "n"], sort=False).accuracy
    out = pd.DataFrame({"n_repeats": g.size(), "accuracy_mean": g.mean(), "accuracy_std": g.std(ddof=1).fillna(0.0),
                        "accuracy_min": g.min(), "accuracy_max": g.max()}).reset_index()
    return out.sort_values(["classifier", "source", "n"], kind="stable", ignore_index=True)


# ---------------------------------------------------------------------------------------------- pipeline stage


def curve_config(params: Mapping[str, Any], train_config: Mapping[str, Any]) -> CurveConfig:
    """`CurveConfig` from the pipeline's ``beyond.tgtr`` section (``n``: one size or a list) and ``classifier.train``
    (the CNN's settings, its ``steps`` replaced by ``beyond.tgtr.steps``)."""
    n = params["n"]
    cnn = TrainConfig(**{**dict(train_config), "steps": int(params["steps"]), "progress": False})
    return CurveConfig(n_generated=tuple(int(v) for v in (n if isinstance(n, list | tuple) else [n])),
                       n_real=tuple(int(v) for v in params["n_real"]), repeats=int(params["repeats"]),
                       classifiers=tuple(params["classifiers"]), cnn=cnn, linear_l2=float(params["linear_l2"]),
                       linear_max_iter=int(params["linear_max_iter"]))


def tgtr_audit(sampler: Sampler, labelling: str, train_x: Tensor, train_labels: np.ndarray, test_x: Tensor,
               test_labels: np.ndarray, n_classes: int, config: CurveConfig, seed: int
               ) -> tuple[dict[str, Any], dict[str, dict[str, Any]], pd.DataFrame, list[str]]:
    """The pipeline's train-on-generated stage: `tgtr_curve` and what it is worth (`real_sample_size`).

    Returns ``(tree, group_attrs, table, notes)``; the artifact holds the frames ``table`` (`real_sample_size`, with
    ``labels`` = ``labelling``: how the generated images got their classes, and ``cnn_steps``), ``curve``
    (`curve_summary`) and ``runs`` (every fit).
    """
    runs, notes = tgtr_curve(sampler, train_x, torch.as_tensor(train_labels), test_x, torch.as_tensor(test_labels),
                             n_classes, config, seed)
    table = real_sample_size(runs)
    table.insert(1, "labels", labelling)
    table["cnn_steps"] = config.cnn.steps
    notes = [*notes, f"generated images labelled by {labelling}; CNN: the pipeline's classifier, {config.cnn.steps} "
                     f"Adam steps of batch {config.cnn.batch_size}; linear: multinomial logistic regression on pixels "
                     f"(L2 {config.linear_l2:g}, L-BFGS); {config.repeats} repeats per point, the interval is the range "
                     "of the repeats' own crossings"]
    tree, gattrs = write_frames({"table": table, "curve": curve_summary(runs), "runs": runs})
    return tree, gattrs, table, notes


def labelled_sampler(inputs: StageInputs) -> tuple[Sampler | None, str]:
    """How the stage draws a labelled generated training set, and how its labels are made: the class a conditional
    generator was asked for (class-balanced), a stored sample set's own labels, or else the pipeline's classifier's
    prediction; ``(None, why)`` when none of these exists."""
    if inputs.n_classes() and not inputs.is_stored():
        G = inputs.generator()
        return (lambda n, s: sample_class_balanced(G, n, s)), "the class the conditional generator was asked for"
    if inputs.is_stored() and inputs.n_classes():
        def stored(n: int, s: int) -> tuple[Tensor, Tensor]:
            pool = inputs.pool(n, s)
            return pool.images.float(), pool.labels
        return stored, "the labels stored with the samples"
    clf = inputs.classifier()
    if clf is None:
        return None, "the samples have no classes and the run has no classifier to label them"

    @torch.no_grad()
    def predicted(n: int, s: int) -> tuple[Tensor, Tensor]:
        x = inputs.pool(n, s).images.float()
        return x, torch.cat([clf(x[i:i + 512]).argmax(1) for i in range(0, len(x), 512)])
    return predicted, "the pipeline's classifier (the samples have no classes)"


def stage(inputs: StageInputs, params: Mapping[str, Any]) -> StageOutput:
    """The train-on-generated audit of one model (registry entry ``tgtr``): the accuracy curve over real training
    sizes, the generated training sets' levels and the real-sample size they are worth (`tgtr_audit`)."""
    from ganaudit.data.images import to_model_scale

    train, test = inputs.group("train"), inputs.group("test")
    sampler, labelling = labelled_sampler(inputs)
    if sampler is None:
        table = pd.DataFrame({"classifier": [], "labels": [], "n_generated": [], "worth": []})
        tree, gattrs = write_frames({"table": table, "curve": pd.DataFrame({"classifier": []}),
                                     "runs": pd.DataFrame({"classifier": []})})
        notes = [f"skipped: {labelling}"]
        return StageOutput(tree, gattrs, notes, log="\n".join(notes))
    n_classes = inputs.n_classes() or int(np.max(train.labels)) + 1
    tree, group_attrs, table, notes = tgtr_audit(sampler, labelling, to_model_scale(train.images), train.labels,
                                                 to_model_scale(test.images), test.labels, n_classes,
                                                 curve_config(params["tgtr"], params["train"]), inputs.seed)
    return StageOutput(tree, group_attrs, notes, log=table.to_string() + "\n" + "\n".join(notes))
