"""Hamiltonian Monte Carlo kernel for AIS: leapfrog, Metropolis–Hastings, per-chain step sizes.

The kernel targets ``log pi_beta(z) = -|z|^2 / 2 + beta * loglik(z)`` (standard-normal prior times a
tempered likelihood). It never calls the likelihood on the current state: the state carries the
likelihood and its gradient from the previous transition, and the proposal's values come from the
last leapfrog evaluation, so one transition costs exactly ``n_leapfrog`` calls of ``loglik_and_grad``
(one generator forward + backward each).

Shapes: ``M`` chains (the batch dimension), ``d`` latent dimensions. Likelihood values and energies
are float64; positions, momenta and gradients keep the generator's dtype.

Divergences: a trajectory whose likelihood, gradient, position, momentum or final energy is not
finite is rejected and counted. A chain that diverges is frozen at its start for the rest of the
trajectory, so NaN/inf never reaches the generator again nor the chain state.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

LogLikAndGrad = Callable[[Tensor], tuple[Tensor, Tensor]]
"""``z [M, d] -> (loglik [M] float64, d loglik / dz [M, d])``; non-finite values are allowed."""


@dataclass
class HMCState:
    """Chain state carried between transitions.

    Attributes:
        z: positions ``[M, d]``.
        loglik: ``loglik(z)`` ``[M]`` float64 (``-inf`` where it was not finite).
        grad: ``d loglik / dz`` at ``z``, ``[M, d]`` (zero where not finite).
        step_size: leapfrog step sizes ``[M]`` (latent units).
        accept_avg: exponential moving average of the MH acceptance probability ``[M]``.
    """

    z: Tensor
    loglik: Tensor
    grad: Tensor
    step_size: Tensor
    accept_avg: Tensor


def sanitize(loglik: Tensor, grad: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """(loglik with non-finite → -inf, grad with rows of non-finite chains → 0, finite mask ``[M]``)."""
    finite = torch.isfinite(loglik) & torch.isfinite(grad).all(dim=1)
    loglik = torch.where(finite, loglik, torch.full_like(loglik, -float("inf")))
    grad = torch.where(finite[:, None], grad, torch.zeros_like(grad))
    return loglik, grad, finite


def init_state(z: Tensor, loglik_and_grad: LogLikAndGrad, step_size: float, target_accept: float) -> HMCState:
    """Evaluate the likelihood once at ``z`` and build the state (the only extra evaluation of a run)."""
    ll, g = loglik_and_grad(z)
    ll, g, _ = sanitize(ll, g)
    m = z.shape[0]
    return HMCState(
        z=z.detach(),
        loglik=ll,
        grad=g,
        step_size=torch.full((m,), float(step_size), dtype=z.dtype, device=z.device),
        accept_avg=torch.full((m,), float(target_accept), dtype=torch.float64, device=z.device),
    )


def _energy(z: Tensor, loglik: Tensor, p: Tensor, beta: float) -> Tensor:
    """Hamiltonian ``|z|^2/2 − beta·loglik + |p|^2/2`` in float64 ``[M]``."""
    return 0.5 * z.double().pow(2).sum(1) - beta * loglik + 0.5 * p.double().pow(2).sum(1)


@torch.no_grad()
def hmc_transition(
    state: HMCState,
    beta: float,
    loglik_and_grad: LogLikAndGrad,
    momentum: Tensor,
    log_uniform: Tensor,
    n_leapfrog: int,
    target_accept: float = 0.65,
    adapt_rate: float = 0.02,
    adapt_smoothing: float = 0.9,
    step_size_min: float = 1e-4,
    step_size_max: float = 0.5,
) -> tuple[HMCState, Tensor, Tensor]:
    """One HMC transition leaving ``pi_beta`` invariant, then a step-size update per chain.

    Args:
        state: current chains (likelihood and gradient cached at ``state.z``).
        beta: inverse temperature of the target.
        loglik_and_grad: the likelihood and its gradient (computes autograd itself).
        momentum: initial momenta ``[M, d]`` drawn N(0, I) by the caller (per-image RNG streams).
        log_uniform: ``log U(0, 1)`` draws ``[M]`` float64 for the MH test.
        n_leapfrog: leapfrog steps ``L >= 1``.
        target_accept: the step size grows when the smoothed acceptance probability exceeds this.
        adapt_rate: multiplicative update: ``eps *= 1 + rate`` or ``eps /= 1 + rate``.
        adapt_smoothing: EMA weight on the old smoothed acceptance.
        step_size_min, step_size_max: clip range for the step sizes.

    Returns:
        (new state, accepted ``[M]`` bool, divergent ``[M]`` bool).
    """
    z0, ll0, g0, eps = state.z, state.loglik, state.grad, state.step_size[:, None]
    p = momentum - 0.5 * eps * (z0 - beta * g0)
    z = z0
    bad = torch.zeros(z0.shape[0], dtype=torch.bool, device=z0.device)
    ll, g = ll0, g0
    for step in range(n_leapfrog):
        z = z + eps * p
        ll, g = loglik_and_grad(z)
        ll, g, finite = sanitize(ll, g)
        last = step == n_leapfrog - 1
        p = p - (0.5 if last else 1.0) * eps * (z - beta * g)
        bad = bad | ~finite | ~torch.isfinite(z).all(1) | ~torch.isfinite(p).all(1)
        # freeze diverged chains at their start so no NaN/inf is fed to the generator again
        # (unconditional `where`: a data-dependent branch would force a device sync per leapfrog)
        z = torch.where(bad[:, None], z0, z)
        p = torch.where(bad[:, None], torch.zeros_like(p), p)
    h0 = _energy(z0, ll0, momentum, beta)
    h1 = _energy(z, ll, p, beta)
    bad = bad | ~torch.isfinite(h1)
    # h0 = +inf (start outside the likelihood's support) accepts any finite proposal
    log_accept = torch.where(bad, torch.full_like(h1, -float("inf")), h0 - h1)
    accepted = log_uniform < log_accept
    accept_prob = log_accept.clamp(max=0.0).exp()
    acc2 = accepted[:, None]
    avg = adapt_smoothing * state.accept_avg + (1.0 - adapt_smoothing) * accept_prob
    factor = torch.where(avg > target_accept, 1.0 + adapt_rate, 1.0 / (1.0 + adapt_rate)).to(state.step_size.dtype)
    new = HMCState(
        z=torch.where(acc2, z, z0),
        loglik=torch.where(accepted, ll, ll0),
        grad=torch.where(acc2, g, g0),
        step_size=(state.step_size * factor).clamp(step_size_min, step_size_max),
        accept_avg=avg,
    )
    return new, accepted, bad
