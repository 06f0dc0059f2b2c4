"""Models: the Generator protocol, built-in models and adapters for pretrained generators."""

from ganaudit.models.base import Generator, check_labels, sample_latents

__all__ = ["Generator", "check_labels", "sample_latents"]
