"""What an audit's stage function receives and returns (`ganaudit.audits.registry`): its inputs, loaded when the
stage asks for them, and its artifact. Only the audit jobs import this module (the tables do not)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ganaudit.models.base import Generator

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
    ``generator``, ``train``, ``test`` and ``classifier`` files (absent or None: the run has none), ``seed`` the
    audit's own stream (`ganaudit.workflow.runtime.seed_for`), ``device`` where torch runs."""

    paths: Mapping[str, str | None]
    seed: int
    device: Any = "cpu"
    _generator: Any = field(default=None, init=False, repr=False)

    def has(self, name: str) -> bool:
        return bool(self.paths.get(name))

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

        return images.read_group(self.paths[name], name, n, image_shape=self.generator().image_shape)

    def classifier(self):
        """The pipeline's classifier, or None when the run has none."""
        if not self.has("classifier"):
            return None
        from ganaudit.models import registry

        return registry.load_generator(self.paths["classifier"])
