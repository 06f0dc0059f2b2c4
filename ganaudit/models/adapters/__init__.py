"""Adapters from users' pretrained generators to the `Generator` protocol.

One entry point, `load_generator(spec, device)`, where ``spec`` is the config dict of one model: a
``kind`` plus kind-specific keys; `check_spec` checks a spec (keys, the files it names) without loading
it, and an unknown key, a missing required key or a missing file is a one-line ``ValueError`` naming it. Every adapter
returns an `AdaptedGenerator`: a ``torch.nn.Module`` in eval mode whose parameters do not require
gradients (we differentiate w.r.t. ``z`` only), with ``latent_dim``, ``image_shape`` ``(C, H, W)``,
``n_classes`` (``None`` when unconditional), ``__call__(z [B, latent_dim], labels [B] | None)`` →
images ``[B, C, H, W]`` on the model scale ``[-1, 1]``, and ``describe()`` → a provenance dict.

Kinds (keys marked * are required):

``torch_module``   any ``nn.Module``: ``class_path``* (``"package.module:ClassName"``, or a factory function
                   returning the module), ``kwargs`` (constructor arguments), ``checkpoint`` (a ``torch.save``
                   file), ``state_dict_key`` (``"netG_state_dict"``; nested as ``"a.b"`` or ``["a", "b"]``),
                   ``map_location`` (``"cpu"``), ``latent_dim``*, ``latent_shape`` (e.g. ``[100, 1, 1]``: ``z``
                   is reshaped to ``[B, *latent_shape]``), ``n_classes``, ``label_format`` (``"index"`` or
                   ``"onehot"``), ``output_range`` (``"[-1,1]"`` or ``"[0,1]"``, the latter rescaled by
                   ``2x - 1``), ``forward_kwargs`` (extra keyword arguments of every call), ``repo_path``
                   (a folder put on ``sys.path`` first), ``strict`` (state-dict loading, default true),
                   ``weights_only`` (``torch.load``; default true, set false only for a file you trust).
``torchscript``    ``path``* to a scripted generator, ``latent_dim``*, ``latent_shape``, ``n_classes``,
                   ``label_format``, ``output_range``, ``map_location``.
``stylegan2_ada``, ``stylegan3``, ``stylegan_xl``
                   NVIDIA network pickles: ``pickle``* (the ``.pkl``), ``repo_path``* (the authors' checkout
                   holding ``dnnlib/`` and ``torch_utils/``, put on ``sys.path`` before unpickling),
                   ``network_key`` (default ``"G_ema"``). Z-space as in the paper (appendix B.2): the call is
                   ``G(z, c, truncation_psi=1, noise_mode="const")``, deterministic in ``z``; ``c`` is one-hot
                   ``[B, c_dim]`` for conditional models, else ``[B, 0]``.
``biggan``         the ``pytorch-pretrained-biggan`` package: ``model_name`` (default ``"biggan-deep-256"``),
                   ``weights_dir`` (a folder with ``pytorch_model.bin`` and ``config.json``), ``cache_dir``,
                   ``allow_download`` (default false). Truncation 1 and the N(0, I) prior, as the paper does.
``studiogan``      a thin wrapper over ``torch_module`` (StudioGAN checkpoints hold only a state dict; the
                   generator class needs StudioGAN's own ``src`` tree): ``repo_path``* (StudioGAN's ``src``),
                   ``class_path``*, ``checkpoint``*, ``latent_dim``*, ``state_dict_key`` default ``"state_dict"``,
                   ``label_format`` default ``"index"``; other ``torch_module`` keys as above.
``gan_face_generate``
                   the DCGAN that ships (with weights) in the PyPI package ``gan-face-generate``:
                   z ∈ R^100 → 3×64×64 faces (DigiFace-1M). Optional ``checkpoint`` to override the weights.

Every kind also accepts ``clamp`` (default false): clip outputs to ``[-1, 1]`` (this zeroes the gradient
where a pixel saturates, so inversion and AIS usually leave it off; NVIDIA generators overshoot
``[-1, 1]`` slightly) and ``name`` / ``description`` (free text, kept in ``describe()``).

Modules: `adapters.kinds` (the registry: one `Kind` per kind with its keys, required keys, files, repo and
loader; `check_spec`, `load_generator`, `KINDS`), `adapters.wrapper` (`AdaptedGenerator` and the helpers
the loaders share), and one module per family of loaders: `adapters.torch_module` (``torch_module``,
``studiogan``, ``gan_face_generate``, ``torchscript``), `adapters.nvidia` (the StyleGAN kinds),
`adapters.biggan`.

A new kind is one loader function and one `Kind` entry in `adapters.kinds.REGISTRY` (and its name in the
``kind`` enum of ``schemas/config.schema.yaml``; tests/models/test_adapters.py checks the two agree).
"""

from ganaudit.models.adapters.kinds import COMMON_KEYS, KINDS, REGISTRY, Kind, check_spec, load_generator
from ganaudit.models.adapters.wrapper import LABEL_FORMATS, OUTPUT_RANGES, AdaptedGenerator, import_object

__all__ = ["load_generator", "check_spec", "KINDS", "REGISTRY", "Kind", "COMMON_KEYS", "AdaptedGenerator",
           "import_object", "OUTPUT_RANGES", "LABEL_FORMATS"]
