"""The annealing loop every AIS estimator of ganaudit runs, and the pilot pass that tunes its step sizes.

Chains live in coordinates ``u`` with a standard-normal base distribution; the tempered targets are

    log π_β(u) = −|u|²/2 + β · g(u) + const,        β: 0 = β_0 < β_1 < … < β_T = 1,

where ``g`` is what the annealing adds to the base. Prior-started AIS (Wu et al., the paper) has ``u = z``
and ``g(z) = log N(x; G(z), σ² I)``; posterior-started AIS (`ganaudit.density.posterior`) has ``z = μ + A u`` for
a Gaussian approximation of the posterior and ``g = log p(z, x) − log q(z)``. The log importance weight of
a chain is ``Σ_t (β_t − β_{t−1}) · g(u_{t−1})``; ``E[exp(log w)]`` is the ratio of the normalising constants
of π_1 and π_0 (Neal 2001), provided every transition leaves its π_t invariant.

Step sizes (`tune_step_sizes`): HMC needs a step size per temperature. Adapting it inside the run from a
chain's own acceptance history (``adapt=True``, the paper's setting, Wu et al.) makes each transition depend
on the chain's past, which breaks the argument above: the estimate is then no longer exactly unbiased. The
alternative here is a *pilot pass*: a shorter run with its own random numbers adapts per-chain step sizes
along the same schedule; its step size at each fraction of the schedule is then frozen and used by the
real run. The real run's kernels are then fixed in advance, so its weights are exactly unbiased (the pilot
only chose the kernels, as a human tuning by hand would).

Conventions: ``M`` rows (chains, image-major: row ``i · C + c``), ``d`` latent dimensions; every random
draw of image ``i`` comes from its own ``torch.Generator`` (`Streams`), so results do not depend on batching.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import Tensor
from tqdm.auto import tqdm

from ganaudit.density.hmc import LogLikAndGrad, hmc_transition, init_state

if TYPE_CHECKING:
    from ganaudit.models.base import Generator

SCHEDULES = ("sigmoid", "geometric", "linear")
CHUNK = 32  # transitions whose random draws are made together per image (fixed: results must not depend on it)
PILOT_SEED_OFFSET = 1 << 41  # the pilot pass's streams: far from any image's own seed


class Streams:
    """Per-image random streams; every draw for image ``i`` comes from ``torch.Generator(seed[i])``.

    Image ``i`` owns rows ``i · per_image … (i + 1) · per_image − 1`` of every tensor drawn here.
    """

    def __init__(self, seeds: np.ndarray, per_image: int, dim: int, device: torch.device) -> None:
        self.gens = [torch.Generator(device="cpu").manual_seed(int(s)) for s in seeds]
        self.per_image, self.dim, self.device = per_image, dim, device

    def normal(self, dim: int | None = None) -> Tensor:
        """``[N · per_image, dim]`` standard normals."""
        d = self.dim if dim is None else dim
        return torch.cat([torch.randn(self.per_image, d, generator=g) for g in self.gens]).to(self.device)

    def chunk(self, k: int) -> tuple[Tensor, Tensor]:
        """Momenta ``[k, M, d]`` and ``log U(0,1)`` ``[k, M]`` float64 for ``k`` transitions."""
        moms, logu = [], []
        for g in self.gens:
            moms.append(torch.randn(k, self.per_image, self.dim, generator=g))
            logu.append(torch.rand(k, self.per_image, generator=g, dtype=torch.float64).log())
        m = torch.stack(moms, 1).reshape(k, -1, self.dim)
        u = torch.stack(logu, 1).reshape(k, -1)
        return m.to(self.device), u.to(self.device)


@dataclass(frozen=True)
class Kernel:
    """HMC settings of one annealing run.

    ``step_size``: the initial step size (``adapt=True``) or the frozen schedule ``[T − 1, M]`` (``adapt=False``,
    one row per transition). The adaptation settings are those of `ganaudit.density.hmc.hmc_transition`.
    """

    n_leapfrog: int
    step_size: float | Tensor
    adapt: bool
    target_accept: float = 0.65
    adapt_rate: float = 0.02
    adapt_smoothing: float = 0.9
    step_size_min: float = 1e-4
    step_size_max: float = 0.5


@dataclass
class Annealed:
    """One run: ``log_w`` float64 ``[M]`` (without constants the caller adds), ``accept_rate`` and ``n_divergent``
    ``[M]``, the step size used at each transition ``step_trace`` ``[T − 1, M]``, and the final states ``u``."""

    log_w: Tensor
    accept_rate: Tensor
    n_divergent: Tensor
    step_trace: Tensor
    u: Tensor


def anneal(g: LogLikAndGrad, u0: Tensor, betas: np.ndarray, kernel: Kernel, streams: Streams,
           progress: bool = False, desc: str = "AIS", on_step: Callable[[int], None] | None = None) -> Annealed:
    """Run chains from ``u0 [M, d]`` (a draw of the base N(0, I)) along ``betas`` (increasing or decreasing).

    The weight increment ``(β_t − β_{t−1}) · g(u_{t−1})`` reuses the value cached by the last transition (no
    extra evaluation), and the last transition, whose sample no weight uses, is skipped: a run costs
    ``1 + (T − 1) · n_leapfrog`` evaluations of ``g``. Non-finite trajectories are rejected (`ganaudit.density.hmc`).
    """
    m = u0.shape[0]
    device = u0.device
    frozen = not kernel.adapt
    if frozen and not isinstance(kernel.step_size, Tensor):
        raise ValueError("a frozen kernel needs a step-size schedule [T - 1, M]")
    first = kernel.step_size[0] if frozen else float(kernel.step_size)
    state = init_state(u0, g, 1.0, kernel.target_accept)
    state.step_size = (first.to(device, u0.dtype).clone() if isinstance(first, Tensor)
                       else torch.full((m,), first, dtype=u0.dtype, device=device))
    log_w = torch.zeros(m, dtype=torch.float64, device=device)
    n_acc = torch.zeros(m, dtype=torch.float64, device=device)
    n_div = torch.zeros(m, dtype=torch.long, device=device)
    n_steps = len(betas) - 1
    trace = torch.empty(max(n_steps - 1, 0), m, dtype=u0.dtype, device=device)
    moms = logu = None
    j = CHUNK
    for t in tqdm(range(1, n_steps + 1), desc=desc, disable=not progress, leave=False, mininterval=5):
        dbeta = float(betas[t] - betas[t - 1])
        if dbeta != 0.0:
            log_w += dbeta * state.loglik
        if t == n_steps:
            break  # the last sample enters no weight
        if j == CHUNK:
            moms, logu = streams.chunk(min(CHUNK, n_steps - t))
            j = 0
        if frozen:
            state.step_size = kernel.step_size[t - 1].to(device, u0.dtype)
        trace[t - 1] = state.step_size
        state, acc, div = hmc_transition(
            state, float(betas[t]), g, moms[j], logu[j], kernel.n_leapfrog, target_accept=kernel.target_accept,
            adapt_rate=kernel.adapt_rate if kernel.adapt else 0.0, adapt_smoothing=kernel.adapt_smoothing,
            step_size_min=kernel.step_size_min, step_size_max=kernel.step_size_max,
        )  # fmt: skip
        j += 1
        n_acc += acc
        n_div += div
        if on_step is not None:
            on_step(t)
    return Annealed(log_w, n_acc / max(n_steps - 1, 1), n_div, trace, state.z)


def tune_step_sizes(g: LogLikAndGrad, make_u0: Callable[[Streams], Tensor], betas: np.ndarray, kernel: Kernel,
                    seeds: np.ndarray, per_image: int, dim: int, device: torch.device, pilot_steps: int,
                    schedule: Callable[[int], np.ndarray], adapt_rate: float | None = None) -> Tensor:
    """Frozen step sizes ``[T − 1, M]`` for a run along ``betas``, from a pilot pass (see the module doc).

    The pilot runs ``pilot_steps`` temperatures of the same schedule (``schedule(pilot_steps)``) with per-chain
    adaptation and streams seeded ``seed + PILOT_SEED_OFFSET``; the real run's transition ``t`` uses the pilot's
    step size at the same fraction of its schedule. Costs ``1 + (pilot_steps − 1) · n_leapfrog`` evaluations.
    ``adapt_rate``: the pilot's multiplicative step per transition (default ``max(kernel.adapt_rate, 0.05)``).
    """
    pilot = Streams(np.asarray(seeds, dtype=np.int64) + PILOT_SEED_OFFSET, per_image, dim, device)
    # the pilot adapts at least 5 % per transition: it has few transitions to find the right scale
    adaptive = Kernel(kernel.n_leapfrog, float(kernel.step_size if not isinstance(kernel.step_size, Tensor) else 0.1),
                      True, kernel.target_accept, max(kernel.adapt_rate, 0.05) if adapt_rate is None else adapt_rate,
                      kernel.adapt_smoothing,
                      kernel.step_size_min, kernel.step_size_max)
    run = anneal(g, make_u0(pilot), schedule(pilot_steps), adaptive, pilot)
    trace = run.step_trace
    if trace.shape[0] == 0:
        return torch.full((max(len(betas) - 2, 0), run.u.shape[0]), float(adaptive.step_size), device=device)
    n_real = len(betas) - 2
    where = np.clip(np.round(np.arange(n_real) / max(n_real - 1, 1) * (trace.shape[0] - 1)), 0, trace.shape[0] - 1)
    return trace[torch.as_tensor(where, dtype=torch.long, device=trace.device)]


def schedule(name: str, n_steps: int, **kw: float) -> np.ndarray:
    """Inverse temperatures ``betas`` float64 ``[n_steps + 1]``, 0 → 1, strictly increasing.

    * ``"sigmoid"`` (Wu et al.): ``sigmoid(linspace(−r, r, n_steps + 1))`` rescaled to [0, 1];
      keyword ``radius`` (default 4).
    * ``"geometric"``: 0 then ``geomspace(start, 1, n_steps)``; keyword ``start`` (default 1e-4).
    * ``"linear"``: ``linspace(0, 1, n_steps + 1)``.
    """
    if n_steps < 1:
        raise ValueError(f"n_steps must be >= 1 (got {n_steps})")
    if name == "sigmoid":
        r = float(kw.get("radius", 4.0))
        s = 1.0 / (1.0 + np.exp(-np.linspace(-r, r, n_steps + 1)))
        betas = (s - s[0]) / (s[-1] - s[0])
    elif name == "geometric":
        start = float(kw.get("start", 1e-4))
        betas = np.concatenate([[0.0], np.geomspace(start, 1.0, n_steps)]) if n_steps > 1 else np.array([0.0, 1.0])
    elif name == "linear":
        betas = np.linspace(0.0, 1.0, n_steps + 1)
    else:
        raise ValueError(f"schedule name must be one of {SCHEDULES} (got {name!r})")
    betas[0], betas[-1] = 0.0, 1.0
    return betas.astype(np.float64)


def betas_of(config: Any, n_steps: int | None = None) -> np.ndarray:
    """The schedule of ``config`` (with ``n_steps`` temperatures instead of ``config.n_steps`` if given)."""
    kw = {"radius": config.sigmoid_radius} if config.schedule == "sigmoid" else {}
    if config.schedule == "geometric":
        kw = {"start": config.geometric_start}
    return schedule(config.schedule, config.n_steps if n_steps is None else n_steps, **kw)


def dtype_of(generator: Generator) -> torch.dtype:
    """Floating dtype of the generator's parameters (latents and images are cast to it); float32 if none."""
    if isinstance(generator, torch.nn.Module):
        for t in generator.parameters():
            if t.is_floating_point():
                return t.dtype
    return torch.float32


def kernel_of(config: Any, step_size: float | Tensor | None = None, adapt: bool | None = None) -> Kernel:
    return Kernel(config.n_leapfrog, config.step_size if step_size is None else step_size,
                  config.step_tuning == "chain" if adapt is None else adapt, config.target_accept, config.adapt_rate,
                  config.adapt_smoothing, config.step_size_min, config.step_size_max)


def reverse_pilot_rate(config: Any) -> float:
    """The per-transition adaptation rate of a reverse run's pilot: ``(1 + r)^(pilot_steps − 1) = step_size /
    step_size_min`` (at least 0.05), so the pilot can shrink the step size to its floor along its schedule."""
    span = max(float(config.step_size) / float(config.step_size_min), 1.0)
    return max(0.05, span ** (1.0 / max(config.pilot_steps - 1, 1)) - 1.0)


def run_chains(g, config: Any, betas: np.ndarray, seeds: np.ndarray, dim: int, device: torch.device,
               dtype: torch.dtype, desc: str, u0: Tensor | None = None):
    """Anneal ``n_chains`` chains per image with the tempered part ``g`` (`ganaudit.density.annealing`), after a pilot
    pass when ``config.step_tuning == "pilot"``. ``u0`` replaces the draw from the base N(0, I) (reverse AIS); the
    pilot starts from the base all the same, so the frozen step sizes never depend on ``u0``."""
    c = config.n_chains
    kernel = kernel_of(config)
    if config.step_tuning == "pilot":
        # the pilot always runs forward from the base: a reverse run's kernels then do not depend on its start u0
        # (an exact sample whose kernel depended on it would break the reverse identity); reversed to match. A
        # reverse pilot adapts fast enough to reach step_size_min within its transitions: the reverse run starts
        # where the posterior is narrowest, and a step size the pilot could not shrink leaves its chains unmoved
        reverse = betas[0] > betas[-1]
        rate = reverse_pilot_rate(config) if reverse else None
        steps = tune_step_sizes(g, lambda s: s.normal().to(dtype), betas[::-1].copy() if reverse else betas,
                                kernel, seeds, c, dim, device, config.pilot_steps, lambda n: betas_of(config, n), rate)
        kernel = kernel_of(config, steps.flip(0) if reverse else steps, adapt=False)
    streams = Streams(seeds, c, dim, device)
    start = streams.normal().to(dtype) if u0 is None else u0
    return anneal(g, start, betas, kernel, streams, progress=config.progress, desc=desc)
