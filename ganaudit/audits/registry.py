"""The one registry of the tests beyond the paper: every place that lists them reads it.

Pure Python, with ``"module:function"`` strings, so that reading it (the Snakefile, the findings page, the
tables) imports no audit. Each entry names:

* ``stage``: the stage function, ``stage(inputs: StageInputs, params) -> StageOutput``
  (`ganaudit.audits.stage`), which `scripts/audit.py` runs for one model;
* ``tables``: the tables gathered over the audited GANs, ``(name, frame, title)``: the file
  ``results/tables/<name>.csv`` stacks each model's data frame ``frame``; the first one is the audit's own;
* ``finding``: ``finding(*tables, gan) -> dict`` (`ganaudit.findings`), read from those tables in order;
* ``figure``: ``(figure name, label)`` of its per-model figure (`rules/figures.smk`), or None;
* ``needs_train``: whether it needs the run's training images (without them it is skipped, with the reason);
* ``seed_offset``: its stream of random numbers (`ganaudit.workflow.runtime.seed_for`);
* ``inputs``: which of ``generator``, ``train``, ``test``, ``classifier``, ``features`` its rule reads (a rule that
  reads the ``generator`` reads a model's stored ``samples`` instead when the model is given as samples;
  ``features`` is the run's real images embedded once, ``results/features/real.h5``, rule ``real_features``:
  `ganaudit.audits.real_features`, read through `ganaudit.audits.stage.StageInputs.real_features`);
* ``config``: the further config values its params carry, ``{param name: dotted config key}`` (its own section
  ``beyond.<name>`` always comes as ``params[<name>]``);
* ``gpu``: whether its job asks for a GPU on a GPU run (its memory and runtime then grow with each retry), and its
  ``mem_mb`` / ``runtime`` (minutes);
* ``models``: which models it audits, ``"gans"`` (role gan) or ``"all"`` (the baselines too).

A new audit is one entry here and one module with its stage function.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Audit:
    name: str
    stage: str
    tables: tuple[tuple[str, str, str], ...]
    finding: str
    figure: tuple[str, str] | None
    needs_train: bool
    seed_offset: int
    inputs: tuple[str, ...]
    config: Mapping[str, str] = field(default_factory=dict)
    gpu: bool = True
    mem_mb: int = 4000
    runtime: int = 30
    models: str = "gans"

    @property
    def table_names(self) -> list[str]:
        return [name for name, _, _ in self.tables]


AUDITS: dict[str, Audit] = {a.name: a for a in (
    Audit("support", "ganaudit.audits.support:stage",
          (("support", "table", "Birthday-paradox support estimate: K̂ (equally likely distinct images) of the samples "
                                "and of held-out real images, with its interval; τ set on other real images and its "
                                "false-collision rate measured on further held-out ones"),),
          "ganaudit.findings:support_finding", ("support_collisions", "birthday paradox"),
          needs_train=True, seed_offset=8_000_009, inputs=("generator", "train", "test", "features"),
          config={"perceptual": "perceptual", "seed": "seed", "device": "device"}, mem_mb=8000),
    Audit("memorisation", "ganaudit.audits.memorisation:stage",
          (("memorisation", "table", "Memorisation: nearest-training distances of samples vs test images"),),
          "ganaudit.findings:memorisation_finding", ("memorisation_distances", "memorisation"),
          needs_train=True, seed_offset=9_000_011, inputs=("generator", "train", "test", "features"),
          config={"perceptual": "perceptual", "seed": "seed", "device": "device"}),
    Audit("coverage", "ganaudit.audits.coverage:stage",
          (("coverage", "table", "Mode coverage: label histogram of samples (classifier predictions) vs the test "
                                 "images' (classifier predictions), class-conditional agreement per requested class"),
           ("coverage_spectrum", "spectrum",
            "Covariance spectrum: directions holding the given fraction of the pixel variance")),
          "ganaudit.findings:coverage_finding", ("coverage_histograms", "mode coverage"),
          needs_train=False, seed_offset=10_000_019, inputs=("generator", "train", "test", "classifier"),
          config={"seed": "seed"}, gpu=False, mem_mb=3000, runtime=10),
    Audit("tgtr", "ganaudit.audits.tgtr:stage",
          (("tgtr", "table", "Train on generated, test on real: the real-sample size the generated training sets are "
                             "worth (classifiers trained on them vs a curve over real training sizes)"),
           ("tgtr_curve", "curve", "Train on generated, test on real: test accuracy against the training set size "
                                   "(mean, std and range over repeats)")),
          "ganaudit.findings:tgtr_finding", ("tgtr_accuracy_curve", "train on generated"),
          needs_train=True, seed_offset=11_000_027, inputs=("generator", "train", "test", "classifier"),
          config={"train": "classifier.train", "seed": "seed"}, gpu=False, mem_mb=4000, runtime=20),
    Audit("metrics", "ganaudit.audits.metrics:stage",
          (("metrics", "table", "Metrics GAN papers report, named by feature space (no Inception network: not FID), "
                                "for each model and two references: training images (a memorising generator) and "
                                "held-out images (fresh data)"),),
          "ganaudit.findings:metrics_finding", ("metrics_summary", "metrics"),
          needs_train=False, seed_offset=12_000_037, inputs=("generator", "train", "test", "classifier", "features"),
          config={"perceptual": "perceptual", "seed": "seed", "device": "device"}, mem_mb=4000, runtime=20,
          models="all"),
)}
"""The audits, in the order of the findings page."""


def audited_models(audit: Audit, models: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """The models of a config's ``models`` section that ``audit`` runs for (its ``models``: role gan, or all)."""
    if audit.models not in ("gans", "all"):
        raise ValueError(f"audit {audit.name}: models must be 'gans' or 'all', got {audit.models!r}")
    return [m for m, s in models.items() if audit.models == "all" or s.get("role", "gan") == "gan"]


def resolve(ref: str) -> Any:
    """The object a ``"module:function"`` string names (imported only now)."""
    module, _, name = ref.partition(":")
    return getattr(importlib.import_module(module), name)


def module_file(ref: str) -> str:
    """The library file (relative to the repository root) of a ``"module:function"`` string."""
    return ref.partition(":")[0].replace(".", "/") + ".py"


def config_value(config: Mapping[str, Any], dotted: str) -> Any:
    """``config["a"]["b"]`` for ``"a.b"``; a missing key of a mapping is ``{}`` (as an absent optional section)."""
    value: Any = config
    for key in dotted.split("."):
        value = value.get(key, {}) if isinstance(value, Mapping) else {}
    return value
