"""The generator's Jacobian and the Gauss–Newton terms ``JᵀJ`` and ``Jᵀr`` in bounded memory.

``J = dG(z)/dz`` ``[B, D, d]`` comes from forward-mode products (one JVP per latent direction). One ``vmap`` over
all ``d`` directions keeps ``d`` passes' activations alive at once, which at StyleGAN sizes (``d = 512``, 3×256×256)
is hundreds of GiB; here the directions run in chunks of at most ``chunk`` (`jacobian`), and `gauss_newton_terms`
picks the chunk and the rows of the batch that go together from a memory budget (`plan_chunks`, with the
per-pass memory measured by `pass_bytes`), so the peak is about the budget whatever ``d`` is. With no budget and
``d ≤ chunk`` every function here computes exactly what one ``vmap`` over all directions computed (bitwise).
"""

from __future__ import annotations

import math
import weakref
from dataclasses import dataclass

import torch
from torch import Tensor
from torch.utils._python_dispatch import TorchDispatchMode

from ganaudit.models.base import Generator, device_of

MIB = 1 << 20
#: memory of one JVP direction in units of one forward pass's live activations (the tangent and the temporaries of
#: its products under ``vmap``), measured on `ganaudit.models.stylegan.StyleGANLike` by `benchmarks/bench_scale.py`
#: (peak resident growth ÷ `pass_bytes`): with the weights requiring gradients the primal and one direction took
#: 968 MiB at 3×256×256 and StyleGAN2's width with 129 MiB live per pass (6.5 passes), up to 5.1 at smaller sizes;
#: since `jacobian` records no autograd graph, 288 MiB (2.2 passes, ``--phases curvature_chunk``). Kept at 6: plans
#: stay as they were, now well inside their budget
JVP_FACTOR = 6


def jacobian(generator: Generator, z: Tensor, labels: Tensor | None, chunk: int = 64) -> Tensor:
    """``dG(z)/dz`` ``[B, D, d]`` by forward-mode differentiation (one JVP per latent direction).

    The JVPs of at most ``chunk`` latent directions run at once (one batched pass each), so the activations alive at
    a time are ``chunk`` passes' however large ``d`` is; with ``d ≤ chunk`` it is one pass over all directions. The
    result holds ``B · D · d`` numbers (the Jacobian itself). A generator ``torch.func`` cannot transform goes
    through the double-backward trick (``J v = ∂/∂u (uᵀ J v)``), whose generator calls then see ``B · chunk`` rows."""
    b, d = z.shape
    if chunk < 1:
        raise ValueError(f"jacobian: chunk must be >= 1 (got {chunk})")
    eye = torch.eye(d, dtype=z.dtype, device=z.device)

    def f(zz: Tensor) -> Tensor:
        return generator(zz, labels).flatten(1)

    try:
        out: Tensor | None = None
        for i in range(0, d, chunk):
            # forward mode needs no autograd graph: without no_grad, a generator whose weights require gradients
            # (a user's module as it comes) keeps one pass's graph per direction alive (7x the memory at 256²)
            with torch.no_grad():
                part = torch.func.vmap(lambda v: torch.func.jvp(f, (z,), (v.expand(b, d),))[1])(eye[i:i + chunk])
            if d <= chunk:                                                   # one pass: as it always was
                return part.permute(1, 2, 0).detach()
            if out is None:  # filled chunk by chunk: the Jacobian is held once, never beside its parts
                out = torch.empty(b, part.shape[2], d, dtype=part.dtype, device=part.device)
            out[:, :, i:i + chunk] = part.permute(1, 2, 0).detach()          # [k, B, D] → [B, D, k]
        assert out is not None
        return out
    except Exception:  # a generator torch.func cannot transform: the double-backward trick (J v = ∂/∂u (uᵀ J v))
        pieces: list[Tensor] = []
        for i in range(0, d, chunk):
            k = min(chunk, d - i)
            zr = z.detach().repeat_interleave(k, 0).requires_grad_(True)
            lab = None if labels is None else labels.repeat_interleave(k, 0)
            with torch.enable_grad():
                out = generator(zr, lab).flatten(1)
                u = torch.zeros_like(out, requires_grad=True)
                (jt_u,) = torch.autograd.grad(out, zr, u, create_graph=True)
                (jv,) = torch.autograd.grad(jt_u, u, eye[i:i + k].repeat(b, 1))
            pieces.append(jv.view(b, k, -1).detach())
        return torch.cat(pieces, 1).permute(0, 2, 1)


class OpBytes(TorchDispatchMode):
    """Within ``with OpBytes() as m:``, counts the bytes of the tensors every op creates (views not counted):
    ``largest`` the largest single result, ``peak`` the most alive at once (a result counts until its Python object
    is freed, which is exact for plain eager code; under ``torch.func`` transforms use ``largest``, which sees the
    physical tensors, a vmapped chunk of directions included)."""

    def __init__(self) -> None:
        super().__init__()
        self.live = 0
        self.peak = 0
        self.largest = 0

    def _free(self, n: int) -> None:
        self.live -= n

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # type: ignore[no-untyped-def]
        out = func(*args, **(kwargs or {}))
        for t in (out if isinstance(out, (tuple, list)) else (out,)):
            if isinstance(t, Tensor) and not t._is_view():
                n = t.numel() * t.element_size()
                self.live += n
                self.largest = max(self.largest, n)
                weakref.finalize(t, self._free, n)
        self.peak = max(self.peak, self.live)
        return out


@torch.no_grad()
def pass_bytes(generator: Generator, z: Tensor, labels: Tensor | None) -> int:
    """The peak bytes of the tensors alive at once during one forward pass ``generator(z, labels)`` without autograd
    (weights and ``z`` not counted), counted op by op, so it does not depend on the allocator or on what the process
    did before. A JVP direction keeps a tangent beside every activation and its products' temporaries: about
``JVP_FACTOR`` times this per direction."""
    mode = OpBytes()
    with mode:
        out = generator(z, labels)
    del out
    return int(mode.peak)


def rows_within(generator: Generator, memory_mb: float, most: int, labels: Tensor | None = None) -> int:
    """How many latents one forward pass without autograd may take so that its activations fit ``memory_mb``
    (`pass_bytes` of one latent, probed once): between 1 and ``most``; ``most`` with no budget (0)."""
    if memory_mb <= 0:
        return int(most)
    z = torch.zeros(1, generator.latent_dim, device=device_of(generator))
    one = max(pass_bytes(generator, z, None if labels is None else labels[:1]), 1)
    return int(max(1, min(most, (memory_mb * MIB) // one)))


@dataclass(frozen=True)
class ChunkPlan:
    """How `gauss_newton_terms` splits its work: ``rows`` batch rows at a time, their JVPs ``chunk`` latent
    directions at a time; ``bytes_per_row``: one pass's activations of one row (`pass_bytes`, 0 when not measured)."""

    rows: int
    chunk: int
    bytes_per_row: int = 0


def plan_chunks(batch: int, latent_dim: int, n_pixels: int, max_chunk: int, memory_mb: float,
                bytes_per_row: int) -> ChunkPlan:
    """The largest rows × chunk whose memory fits ``memory_mb`` (0: no budget, all rows and ``max_chunk``).

    Memory model (bytes): rows · (pass + chunk · JVP_FACTOR · pass + 4 D d + 8 d²): the primal pass, a tangent and
    its temporaries per direction of the chunk, the float32 Jacobian of the rows and their float64 ``JᵀJ``. The
    chunk is at least 1 and the rows at least 1, so a budget below one direction's need is exceeded rather than
    refused."""
    if max_chunk < 1:
        raise ValueError(f"plan_chunks: max_chunk must be >= 1 (got {max_chunk})")
    if memory_mb <= 0:
        return ChunkPlan(batch, max_chunk, bytes_per_row)
    budget = memory_mb * MIB
    per_row = max(bytes_per_row, 1)
    held = 4 * n_pixels * latent_dim + 8 * latent_dim * latent_dim + per_row
    chunk = int(max(1, min(max_chunk, latent_dim, (budget - held) // (JVP_FACTOR * per_row))))
    rows = int(max(1, min(batch, budget // (held + chunk * JVP_FACTOR * per_row))))
    return ChunkPlan(rows, chunk, bytes_per_row)


def gauss_newton_terms(generator: Generator, z: Tensor, labels: Tensor | None, residual: Tensor | None = None,
                       chunk: int = 64, memory_mb: float = 0.0) -> tuple[Tensor, Tensor | None]:
    """``JᵀJ`` ``[B, d, d]`` and ``Jᵀr`` ``[B, d]`` (float64; None without ``residual [B, D]``) at ``z [B, d]``.

    With ``memory_mb = 0`` all rows go at once, the Jacobian's JVPs run ``chunk`` directions at a time and the
    products are those of the whole Jacobian in float64, as they always were (bitwise where ``d ≤ chunk``). With a
    budget, `plan_chunks` picks the rows and chunk from the measured memory of one pass (`pass_bytes`, one extra
    forward pass); where the whole batch's Jacobian and its float64 copy take at most half the budget, the products
    are the same dense ones; otherwise each group of rows holds its Jacobian in float32 only (never the float64
    copy) and forms the products in float64 over blocks of pixels."""
    b, d = z.shape
    n_pixels = math.prod(generator.image_shape)
    plan, dense = ChunkPlan(b, chunk), True
    if memory_mb > 0:
        plan = plan_chunks(b, d, n_pixels, chunk, memory_mb, pass_bytes(generator, z[:1], None if labels is None else labels[:1]))
        dense = plan.rows >= b and 12 * b * n_pixels * d <= memory_mb * MIB / 2  # J and its float64 copy fit easily
    if dense:
        j = jacobian(generator, z, labels, plan.chunk).double()
        jtr = None if residual is None else torch.einsum("bdk,bd->bk", j, residual.double())
        return j.transpose(1, 2) @ j, jtr
    jtj = torch.zeros(b, d, d, dtype=torch.float64, device=z.device)
    jtr = None if residual is None else torch.zeros(b, d, dtype=torch.float64, device=z.device)
    block = max(1, (16 * MIB) // (8 * d))  # pixels per float64 block
    for s in range(0, b, plan.rows):
        rows = slice(s, min(s + plan.rows, b))
        j = jacobian(generator, z[rows], None if labels is None else labels[rows], plan.chunk)   # float32 [g, D, d]
        for p in range(0, n_pixels, block):
            jp = j[:, p:p + block].double()
            jtj[rows] += jp.transpose(1, 2) @ jp
            if jtr is not None:
                jtr[rows] += torch.einsum("bdk,bd->bk", jp, residual[rows, p:p + block].double())
        del j
    return jtj, jtr
