"""Models: the Generator protocol, built-in models and adapters for pretrained generators."""

from ganaudit.models.base import Generator, Samples, check_labels, device_of, sample

__all__ = ["Generator", "Samples", "check_labels", "device_of", "sample"]
