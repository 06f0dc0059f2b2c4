"""Models: the Generator protocol (`base`), built-in models (`dcgan`, `vae`, `ppca`, `classifier`), their training
loops (`train`), the kinds a config may name (`kinds`) and adapters for pretrained generators (`adapters`);
`registry` saves and loads them.

Names resolve lazily (PEP 562): importing a light submodule (`ganaudit.models.kinds`) does not load torch.
"""

_BASE = ("Generator", "Samples", "check_labels", "device_of", "sample")
__all__ = list(_BASE)


def __getattr__(name: str):
    if name in _BASE:
        from ganaudit.models import base

        return getattr(base, name)
    raise AttributeError(f"module 'ganaudit.models' has no attribute {name!r}")
