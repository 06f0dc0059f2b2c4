"""The Jacobian and the Gauss–Newton terms in chunks (`ganaudit.density.curvature`): equal to the dense ones, bitwise
where one chunk covers the latent, and within a memory budget that one pass over all directions would exceed."""

from __future__ import annotations

import pytest
import torch
from torch import Tensor, nn

from ganaudit.density.curvature import OpBytes, gauss_newton_terms, jacobian, pass_bytes, plan_chunks, rows_within

torch.manual_seed(0)
NET = nn.Sequential(nn.Linear(7, 32), nn.Tanh(), nn.Linear(32, 12)).requires_grad_(False)


class Small(nn.Module):
    """7 latents → 1×3×4 images through a small MLP."""

    latent_dim, image_shape, n_classes = 7, (1, 3, 4), None

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        return NET(z).view(-1, 1, 3, 4)


class _Identity(torch.autograd.Function):
    """The identity as an old-style autograd.Function (no ``setup_context``): torch.func cannot transform it."""

    @staticmethod
    def forward(ctx, x):  # type: ignore[no-untyped-def]
        return x.clone()

    @staticmethod
    def backward(ctx, g):  # type: ignore[no-untyped-def]
        return g


class NoFunc(Small):
    """The same function through a step torch.func refuses: the double-backward fallback. Records the most rows
    any call saw."""

    most_rows = 0

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        NoFunc.most_rows = max(NoFunc.most_rows, z.shape[0])
        return NET(_Identity.apply(z)).view(-1, 1, 3, 4)


def test_jacobian_in_chunks_equals_the_whole() -> None:
    """Chunks of latent directions give the same Jacobian as one pass over all of them, by torch.func and by the
    double-backward fallback."""
    z = torch.randn(3, 7)
    whole = jacobian(Small(), z, None)
    assert whole.shape == (3, 12, 7)
    # the first column against a central difference
    fd = (Small()(z + 1e-3 * torch.eye(7)[0]) - Small()(z - 1e-3 * torch.eye(7)[0])).flatten(1) / 2e-3
    torch.testing.assert_close(whole[:, :, 0], fd, atol=1e-3, rtol=1e-3)
    for chunk in (1, 3, 7, 100):
        torch.testing.assert_close(jacobian(Small(), z, None, chunk), whole)
    for chunk in (2, 7):
        torch.testing.assert_close(jacobian(NoFunc(), z, None, chunk), whole)
    with pytest.raises(ValueError, match="chunk must be >= 1"):
        jacobian(Small(), z, None, 0)


@pytest.mark.parametrize("model", [Small(), NoFunc()], ids=["torch.func", "double-backward"])
def test_gauss_newton_terms_in_chunks_equal_the_dense_ones(model: nn.Module) -> None:
    """``JᵀJ`` and ``Jᵀr`` in chunks of directions and rows (a budget that forces one row and one direction at a
    time) equal the dense float64 products (to float32 rounding); with ``d ≤ chunk`` and no budget they are the dense ones bitwise."""
    z, r = torch.randn(5, 7), torch.randn(5, 12)
    j = jacobian(model, z, None).double()  # the dense Jacobian of each path
    jtj, jtr = j.transpose(1, 2) @ j, torch.einsum("bdk,bd->bk", j, r.double())
    a, b = gauss_newton_terms(model, z, None, r)
    assert torch.equal(a, jtj) and torch.equal(b, jtr)
    a, b = gauss_newton_terms(model, z, None, r, 3)              # no budget: the dense products (J in chunks of 3)
    torch.testing.assert_close(a, jtj, rtol=1e-5, atol=1e-6)
    a, b = gauss_newton_terms(model, z, None, r, 64, 100.0)      # a budget that holds it all: bitwise
    assert torch.equal(a, jtj) and torch.equal(b, jtr)
    for chunk, mb in ((64, 1e-6), (2, 1e-6)):
        a, b = gauss_newton_terms(model, z, None, r, chunk, mb)
        torch.testing.assert_close(a, jtj, rtol=1e-5, atol=1e-6)  # the rows' float32 Jacobians round differently
        torch.testing.assert_close(b, jtr, rtol=1e-5, atol=1e-6)
    assert gauss_newton_terms(model, z, None, None, 3)[1] is None


def test_plan_follows_the_budget() -> None:
    """The chunk and rows fill the budget: 1 MiB a pass, 4 MiB of Jacobian and 2 MiB of ``JᵀJ`` per row in 32 MiB →
    one row and 4 directions (the primal pass and 4 × 6 MiB of tangents: 31 MiB); no budget → every row, the
    largest chunk."""
    mib = 1 << 20
    d, pixels = 512, 2048  # 4 · 2048 · 512 B = 4 MiB of float32 Jacobian, 2 MiB of JᵀJ
    p = plan_chunks(8, d, pixels, 64, 32, mib)
    assert (p.rows, p.chunk) == (1, 4)
    assert (plan_chunks(8, d, pixels, 64, 0, mib).rows, plan_chunks(8, d, pixels, 64, 0, mib).chunk) == (8, 64)
    assert plan_chunks(8, 4, 16, 64, 100, 1000).rows == 8   # tiny rows: all of them together
    assert plan_chunks(8, d, pixels, 64, 0.001, mib).chunk == 1


class Wide(nn.Module):
    """256 latents → 1×4×4 through a [B, 256, 512] activation (512 KiB per image and direction)."""

    latent_dim, image_shape, n_classes = 256, (1, 4, 4), None

    def __init__(self) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(1)
        self.register_buffer("w1", torch.randn(256, 256, generator=g) / 16)
        self.register_buffer("wide", torch.randn(256, 512, generator=g))
        self.register_buffer("w2", torch.randn(16, 256, generator=g) / 16)

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        h = torch.tanh((z @ self.w1.T)[:, :, None] * self.wide).sum(-1)
        return (h @ self.w2.T).view(-1, 1, 4, 4)


def test_memory_stays_within_the_budget_that_one_pass_over_all_directions_exceeds() -> None:
    """A generator whose Jacobian by one vmap over its 256 directions creates a 256 MiB tensor (2 images × 256
    directions × 512 KiB) runs under a 16 MiB budget: no tensor that any op makes is larger than the budget, the
    largest is one chunk's, and the terms equal the dense ones."""
    g, z = Wide(), torch.randn(2, 256)
    one = pass_bytes(g, z[:1], None)
    assert one >= 512 << 10                                   # the [1, 256, 512] activation
    with OpBytes() as whole:
        dense = jacobian(g, z, None, 256).double()
    assert whole.largest >= 256 << 20
    plan = plan_chunks(2, 256, 16, 64, 16, one)
    assert plan.chunk < 64 and plan.rows == 1
    with OpBytes() as chunked:
        jtj, _ = gauss_newton_terms(g, z, None, None, 64, memory_mb=16)
    assert chunked.largest <= plan.chunk * (512 << 10) * plan.rows < 16 << 20
    full = dense.transpose(1, 2) @ dense
    torch.testing.assert_close(jtj, full, rtol=1e-5, atol=1e-5 * float(full.abs().max()))  # float32 rounding


def test_fallback_calls_see_at_most_a_chunk_of_rows() -> None:
    """The double-backward path's generator calls see rows × chunk latents, never the batch × d of one pass."""
    with pytest.raises(Exception):  # noqa: B017 - whatever torch.func raises: the fallback is what is tested
        torch.func.jvp(lambda zz: NoFunc()(zz), (torch.zeros(1, 7),), (torch.ones(1, 7),))
    NoFunc.most_rows = 0
    gauss_newton_terms(NoFunc(), torch.randn(5, 7), None, None, chunk=2, memory_mb=1e-6)
    assert NoFunc.most_rows == 1                              # the budget: one row, one direction
    NoFunc.most_rows = 0
    gauss_newton_terms(NoFunc(), torch.randn(5, 7), None, None)
    assert NoFunc.most_rows == 35


def test_rows_within_a_budget() -> None:
    """Forward passes batch as many latents as their measured activations allow: the Wide generator's ~1 MiB a
    latent (two [256, 512] float32 tensors alive at once) → 8 rows in 8 MiB; no budget → the most."""
    g = Wide()
    one = pass_bytes(g, torch.zeros(1, 256), None)
    assert (1 << 20) <= one < (1 << 20) + (64 << 10)
    assert rows_within(g, 8, 100) == 8 and rows_within(g, 0, 100) == 100 and rows_within(g, 1e-3, 100) == 1


def test_within_memory_sets_the_search_budget_unless_the_config_has_one() -> None:
    import dataclasses

    from ganaudit.density.ais import PRESETS, within_memory

    post = PRESETS["posterior"]
    assert within_memory(post, 2000).search.memory_mb == 2000 and within_memory(post, 0) is post
    own = dataclasses.replace(post, search=dataclasses.replace(post.search, memory_mb=300))
    assert within_memory(own, 2000).search.memory_mb == 300
    with pytest.raises(ValueError, match="memory_mb must be >= 0"):
        within_memory(post, -1)


def test_the_default_runs_shape_is_bitwise_unchanged_by_a_budget() -> None:
    """The default run's GAN shape (DCGAN, d = 16, 1×28×28, 10 classes) under the budget its ais jobs get (half of
    4000 MB) finds the same modes, precisions and Laplace estimates, bit for bit, as with no budget."""
    import dataclasses

    from ganaudit.density.ais import PRESETS
    from ganaudit.density.posterior import find_modes
    from ganaudit.models.dcgan import ConditionalGenerator

    torch.manual_seed(0)
    g = ConditionalGenerator(16, (1, 28, 28), n_classes=10, width=16).eval().requires_grad_(False)
    labels = torch.tensor([3, 7])
    with torch.no_grad():
        x = g(torch.randn(2, 16), labels) + 0.1 * torch.randn(2, 1, 28, 28)
    cfg = dataclasses.replace(PRESETS["posterior"].search, search_candidates=32, search_steps=10, extra_restarts=2)
    a = find_modes(g, x, labels, 0.05, cfg)
    b = find_modes(g, x, labels, 0.05, dataclasses.replace(cfg, memory_mb=2000.0))
    for name in ("mu", "chol", "log_weight", "energy", "laplace", "n_passes"):
        assert torch.equal(getattr(a, name), getattr(b, name)), name


class Trainable(nn.Module):
    """A generator as a user's module comes: weights that require gradients."""

    latent_dim, image_shape, n_classes = 6, (1, 3, 3), None

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.lin = nn.Linear(6, 9)

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        return torch.tanh(self.lin(z)).view(-1, 1, 3, 3)


def test_the_jacobian_saves_nothing_for_backward_when_the_weights_require_gradients() -> None:
    """Forward-mode products need no autograd graph; a module whose weights require gradients must not record one per
    direction (at StyleGAN2's width, 256², the tensors it saved for a backward pass that never comes kept ~1 GiB per
    direction alive: benchmarks/bench_scale.py). The Jacobian equals the frozen module's, bitwise."""
    g, z = Trainable(), torch.randn(3, 6)
    assert all(p.requires_grad for p in g.parameters())
    saved: list[int] = []

    def pack(t: Tensor) -> Tensor:
        saved.append(t.numel())
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        g(z).sum()                                   # a plain pass: the hook sees what its graph saves
    assert saved
    saved.clear()
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        j = jacobian(g, z, None, chunk=2)
    assert not saved
    frozen = Trainable().requires_grad_(False)
    assert torch.equal(j, jacobian(frozen, z, None, chunk=2)) and not j.requires_grad
