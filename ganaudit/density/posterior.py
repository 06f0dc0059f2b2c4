"""The posterior ``p(z | x)`` of a generator's latent: its modes, a Gaussian (Laplace) approximation at each,
and the mixture proposal that posterior-started AIS (`ganaudit.density.ais`, ``start="posterior"``) anneals from.

Model: ``p(x, z) = N(z; 0, I) · N(x; G(z), σ² I)``, so ``U(z) = −log p(x, z) = |z|²/2 + |x − G(z)|²/(2σ²) + c``.

1. **Mode search** (`find_modes`). Starts: the latents the caller has (e.g. every restart of the pipeline's
   inversion) and the ``search_restarts`` prior samples whose images are nearest to ``x`` in a shared pool
   of ``search_candidates`` (drawn from ``search_seed``, so an image's modes do not depend on its batch).
   Adam with a cosine schedule minimises ``U`` from every start (``search_steps``, learning rate ``search_lr``;
   after ``screen_steps`` only each image's ``screen_keep`` best starts go on: successive halving). Images off
   the manifold descend again from more pool latents and, with ``smc_particles > 0``, from the best particles of
   a tempered SMC (`ganaudit.density.smc`), which finds basins by their mass instead of their nearness. The best iterates
   are deduplicated and the ``n_modes`` lowest refined by ``polish_steps`` L-BFGS iterations and ``gn_steps``
   Levenberg–Marquardt steps; with ``hop_starts``, points drawn around the best one's Laplace approximation are
   refined the same way and compete with them (basin hopping, `_hop`).
2. **Laplace approximation** at each mode ``μ_k``: precision ``H_k = I + J_kᵀ J_k / σ²`` (Gauss–Newton; ``J`` the
   generator's Jacobian, by forward-mode differentiation), so ``N(μ_k, s² H_k⁻¹)`` with ``s = proposal_scale``;
   modes within ``merge_radius`` (in the units of a kept mode's whitening) of a better one are dropped. The
   Laplace estimate of ``log p(x)`` at mode ``k`` is ``−U(μ_k) − ½ log det H_k − (D/2) log 2πσ²`` (the Gaussian
   integral's ``(2π)^{d/2}`` cancels the prior's normaliser; `Modes.laplace` leaves out the last, constant term).
3. **Mixture** ``q(z) = π_0 N(z; 0, I) + Σ_k π_k N(z; μ_k, Σ_k)``: a defensive prior component (``π_0 =
   prior_weight``) bounds the importance weights ``p(x, z)/q(z) ≤ max_z p(x|z)/π_0``; the modes share the rest
   in proportion to their Laplace evidence, mixed with a uniform share (``uniform_mix``) so that a mode the
   Laplace approximation underrates still gets weight.

Shapes: ``n`` images (each with its own class, if any), ``K`` mode slots per image (unused slots have
``log_weight = −inf``), ``d`` latent dimensions. Tensors are on the generator's device; energies float64.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from ganaudit.density.curvature import gauss_newton_terms, jacobian, rows_within  # noqa: F401 - jacobian: its public home stays here too
from ganaudit.density.smc import best_distinct, temper
from ganaudit.density.target import energy
from ganaudit.models.base import Generator

SEARCH_SEED = 0x5EA7C4  # the default pool seed: shared by every image, so modes do not depend on batching
SEARCH_STREAM_OFFSET = 1 << 42  # the tempered search's per-image streams: far from any image's own seed
HOP_STREAM_OFFSET = 1 << 45  # the basin hops' per-image streams


@dataclass(frozen=True)
class SearchConfig:
    """Mode search and proposal settings (see the module doc). Costs per image: ``(R + search_restarts) ·
    search_steps`` gradient evaluations (``R`` latents given by the caller) + at most ``max(n_modes, gn_candidates)
    · (polish_steps + 1)`` more for L-BFGS + ``max(n_modes, gn_candidates) · gn_steps · (d + 2)`` Jacobian-vector
    products and forward passes (fewer with ``gn_tol``) + ``n_modes · d`` for the final Jacobians; rendering the
    shared pool costs ``search_candidates`` forward passes per class and batch. The tempered search (images off the
    manifold, ``smc_particles > 0``) costs ``smc_particles · (1 + smc_moves · T)`` with ``T ≤ smc_max_temps``
    temperatures chosen by the effective sample size (``smc_ess``), and ``smc_keep · search_steps`` to descend
    from its best particles. ``smc_scaled``: the particles per unit of budget that `ganaudit.density.ais.AISConfig.scaled`
    gives a search without a tempered stage when it raises the budget (error bars, references). ``jacobian_chunk``: the
    latent directions whose Jacobian-vector products run at once (`jacobian`): memory for the curvature is that many
    passes' activations, whatever the latent size; a latent of at most this size is one pass, as before.
    ``memory_mb``: a budget for the curvature (0: none); the chunk and the modes refined together then follow it
    (`ganaudit.density.curvature.plan_chunks`).

    Levenberg–Marquardt polishing (``gn_steps``, ``d + 2`` passes a step): ``gn_candidates > n_modes`` polishes
    that many of the best distinct optima and keeps the ``n_modes`` lowest afterwards (a start that Adam left
    short of the bottom of the main basin can then overtake one that reached a shallower basin); ``gn_tol > 0``
    stops a row once a step gains less than ``gn_tol`` nats, so converged rows spend no more passes (both off by
    default). ``polish_steps``: L-BFGS iterations (one gradient pass each, `_lbfgs`) on those optima before
    Levenberg–Marquardt, stopping a row once ``|∇U|²/2 < polish_tol`` (within that many nats of its basin's
    bottom where the Hessian is at least the prior's; 0: all ``polish_steps``): at a
    large residual (real images, σ² of a few percent) the Gauss–Newton steps overshoot and stall several nats
    above the bottom of the basin, which L-BFGS reaches at a fraction of the passes (0: off, as before).
    ``descent_beta0 < 1``: tempered descent (`_adam`), the likelihood's weight rising geometrically from
    ``descent_beta0`` to 1 over the ``search_steps``, at no extra cost: it follows the basin with the mass, where
    plain descent stops in the one nearest its start (1: off). ``direct_starts``: the last that many of the given
    latents skip the descent and join the optima that L-BFGS and Levenberg–Marquardt refine (e.g. an amortised
    encoder's ``E(x)``, `ganaudit.density.encoder`, already near the basin's bottom, which Adam's first large steps
    would leave); the ``n_modes`` lowest after refinement are kept (0: every given latent descends, as before).

    Basin hopping (``hop_starts > 0``, `_hop`): after refinement, ``hop_rounds`` times, ``hop_starts`` points drawn
    from each image's best optimum's Laplace approximation widened by ``hop_scale``, ``N(μ, hop_scale² H⁻¹)``, are
    refined like the optima (``polish_steps`` L-BFGS, ``gn_steps`` Levenberg–Marquardt) and join them; the
    ``n_modes`` lowest distinct ones are kept. A start that L-BFGS brought to a neighbouring minimum (an encoder's
    prediction a few latent units off) reaches the deeper basin beside it along the directions the posterior is
    loosest in. Cost per image: ``hop_rounds · (d + hop_starts · (polish_steps + 1 + 1 + gn_steps · (d + 2)))``.
    Its draws come from the image's own stream (``seeds`` + `HOP_STREAM_OFFSET`), never the chains' (0: off). A
    larger budget (`ganaudit.density.ais.AISConfig.scaled`) keeps the hops as they are: like ``polish_steps``, they
    refine the best optimum, whatever number of restarts found it."""

    search_restarts: int = 4
    extra_restarts: int = 12
    on_manifold: float = 0.1
    search_candidates: int = 512
    search_steps: int = 100
    search_lr: float = 0.3
    descent_beta0: float = 1.0
    direct_starts: int = 0
    screen_steps: int = 20
    screen_keep: int = 4
    smc_particles: int = 0
    smc_moves: int = 2
    smc_keep: int = 4
    smc_ess: float = 0.5
    smc_max_temps: int = 100
    smc_scaled: int = 0
    polish_steps: int = 0
    polish_tol: float = 0.0
    gn_steps: int = 2
    gn_tol: float = 0.0
    gn_candidates: int = 0
    n_modes: int = 4
    merge_radius: float = 3.0
    prior_weight: float = 0.02
    uniform_mix: float = 0.1
    proposal_scale: float = 1.0
    search_seed: int = SEARCH_SEED
    jacobian_chunk: int = 64
    memory_mb: float = 0.0
    hop_starts: int = 0
    hop_rounds: int = 1
    hop_scale: float = 1.0

    def __post_init__(self) -> None:
        for name in ("search_candidates", "n_modes", "jacobian_chunk"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"SearchConfig.{name} must be >= 1 (got {getattr(self, name)})")
        for name in ("search_restarts", "extra_restarts", "search_steps", "screen_steps", "screen_keep", "gn_steps",
                     "polish_steps", "direct_starts", "hop_starts", "hop_rounds",
                     "gn_candidates", "smc_particles", "smc_moves", "smc_keep", "smc_max_temps"):
            if int(getattr(self, name)) < 0:
                raise ValueError(f"SearchConfig.{name} must be >= 0 (got {getattr(self, name)})")
        if not 0 < self.prior_weight < 1:
            raise ValueError(f"SearchConfig.prior_weight must be in (0, 1) (got {self.prior_weight})")
        if self.smc_particles and not (self.smc_keep >= 1 and self.smc_max_temps >= 1 and 0 < self.smc_ess < 1):
            raise ValueError("SearchConfig with smc_particles > 0 needs smc_keep >= 1, smc_max_temps >= 1 and "
                             f"0 < smc_ess < 1 (got {self.smc_keep}, {self.smc_max_temps}, {self.smc_ess})")
        if not 0 <= self.uniform_mix <= 1:
            raise ValueError(f"SearchConfig.uniform_mix must be in [0, 1] (got {self.uniform_mix})")
        if not self.hop_scale > 0:
            raise ValueError(f"SearchConfig.hop_scale must be > 0 (got {self.hop_scale})")
        if self.memory_mb < 0:
            raise ValueError(f"SearchConfig.memory_mb must be >= 0 (got {self.memory_mb})")
        if not 0 < self.descent_beta0 <= 1:
            raise ValueError(f"SearchConfig.descent_beta0 must be in (0, 1] (got {self.descent_beta0})")
        if not self.gn_tol >= 0:
            raise ValueError(f"SearchConfig.gn_tol must be >= 0 (got {self.gn_tol})")
        if not self.polish_tol >= 0:
            raise ValueError(f"SearchConfig.polish_tol must be >= 0 (got {self.polish_tol})")
        if not (self.proposal_scale > 0 and self.search_lr > 0 and self.merge_radius >= 0 and self.on_manifold >= 0):
            raise ValueError("SearchConfig needs proposal_scale > 0, search_lr > 0 and merge_radius >= 0")


@dataclass
class Modes:
    """The mixture proposal of ``n`` images with ``K`` mode slots.

    mu ``[n, K, d]``; chol ``[n, K, d, d]`` lower Cholesky factor ``L`` of the precision ``H = L Lᵀ`` (the proposal
    covariance is ``s² H⁻¹``, ``s = scale``); log_weight ``[n, K]`` float64 ``log π_k`` of the modes (``−inf`` in
    unused slots; with ``log π_0 = log prior_weight`` they sum to one); energy ``[n, K]`` float64 ``U(μ_k)``;
    laplace ``[n, K]`` float64 the Laplace estimate of ``log p(x)`` at each mode; n_modes ``[n]`` int; n_passes
    ``[n]`` int, generator passes the search spent on each image (gradients, JVPs and forwards alike).
    """

    mu: Tensor
    chol: Tensor
    log_weight: Tensor
    energy: Tensor
    laplace: Tensor
    n_modes: Tensor
    scale: float
    log_prior_weight: float
    n_passes: Tensor | None = None

    def whiten(self, z: Tensor) -> Tensor:
        """``[n, C, d] → [n, C, K, d]``: ``Lᵀ(z − μ_k) / s`` for every mode (standard normal under mode ``k``)."""
        diff = z[:, :, None, :] - self.mu[:, None, :, :]
        return torch.einsum("nkji,nckj->ncki", self.chol, diff) / self.scale

    def mixture(self, z: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """``log q(z)`` float64 ``[n, C]``, the components' responsibilities float64 ``[n, C, 1 + K]`` (the
        defensive prior first) and the whitened ``w [n, C, K, d]`` at ``z [n, C, d]``."""
        d = z.shape[-1]
        w = self.whiten(z)                                                   # [n, C, K, d]
        logdet = self.chol.diagonal(dim1=-2, dim2=-1).log().sum(-1) - d * math.log(self.scale)   # [n, K]
        comp = (-0.5 * w.double().pow(2).sum(-1) + logdet[:, None, :].double() - 0.5 * d * math.log(2 * math.pi)
                + self.log_weight[:, None, :])                               # [n, C, K]
        prior = (-0.5 * z.double().pow(2).sum(-1) - 0.5 * d * math.log(2 * math.pi) + self.log_prior_weight)
        allc = torch.cat([prior[..., None], comp], dim=-1)                   # [n, C, 1 + K]
        return torch.logsumexp(allc, dim=-1), torch.softmax(allc, dim=-1), w

    def log_density(self, z: Tensor) -> tuple[Tensor, Tensor]:
        """``log q(z)`` float64 ``[n, C]`` and its gradient ``[n, C, d]`` for ``z [n, C, d]``."""
        logq, resp, w = self.mixture(z)
        resp = resp.to(z.dtype)                                              # responsibilities
        # ∇ log N_k(z) = −H_k (z − μ_k)/s² = −L_k (L_kᵀ (z − μ_k)) / s²
        grad_k = -torch.einsum("nkij,nckj->ncki", self.chol, w) / self.scale
        grad = resp[..., 0:1] * (-z) + (resp[..., 1:, None] * grad_k).sum(-2)
        return logq, grad


def _precision(generator: Generator, z: Tensor, labels: Tensor | None, sigma2: float, cfg: SearchConfig) -> Tensor:
    """Gauss–Newton precision ``I + JᵀJ/σ²`` ``[B, d, d]`` (float64 for a stable Cholesky), in the memory of
    ``cfg.jacobian_chunk`` / ``cfg.memory_mb`` (`ganaudit.density.curvature.gauss_newton_terms`)."""
    jtj, _ = gauss_newton_terms(generator, z, labels, None, cfg.jacobian_chunk, cfg.memory_mb)
    eye = torch.eye(z.shape[1], dtype=torch.float64, device=z.device)
    return eye + jtj / sigma2


def _adam(generator: Generator, z0: Tensor, x: Tensor, labels: Tensor | None, sigma2: float, steps: int,
          lr: float, block: int = 1, screen: int = 0, keep: int = 0, beta0: float = 1.0) -> tuple[Tensor, Tensor, int]:
    """Adam (β = 0.9, 0.999) with a cosine schedule on ``U`` from every row of ``z0``: the best iterate and its
    energy per row, and the generator passes spent per block. Successive halving: rows come in blocks of
    ``block`` (one image's starts); after ``screen`` steps each block keeps its ``keep`` best rows, and only they
    continue (the others keep their best iterate so far). Tempered descent (``beta0 < 1``): step ``t`` descends
    ``|z|²/2 + b_t |x − G(z)|²/(2σ²)`` with ``b_t = beta0^(1 − t/steps)`` rising geometrically to 1, so the
    iterates follow the basin that holds the tempered posterior's mass as it narrows (graduated optimisation);
    the best iterate is still judged by ``U`` itself, and the screening by the tempered objective."""
    z, dev = z0.detach().clone(), z0.device
    m, v = torch.zeros_like(z), torch.zeros_like(z)
    best_z, best_u = z.clone(), torch.full((z.shape[0],), math.inf, dtype=torch.float64, device=dev)
    cur = torch.full((z.shape[0],), math.inf, dtype=torch.float64, device=dev)   # the tempered objective
    active = torch.arange(z.shape[0], device=dev)
    passes = 0
    for step in range(steps):
        if screen and keep and step == screen and keep < block:
            top = (best_u if beta0 >= 1 else cur).view(-1, block).argsort(dim=1)[:, :keep]
            active = (top + torch.arange(0, z.shape[0], block, device=dev)[:, None]).flatten().sort().values
        b = 1.0 if beta0 >= 1 else beta0 ** (1.0 - step / steps)
        zr = z[active].requires_grad_(True)
        with torch.enable_grad():
            r = (generator(zr, None if labels is None else labels[active]) - x[active]).flatten(1)
            prior, fit = 0.5 * zr.pow(2).sum(1), r.pow(2).sum(1) / (2 * sigma2)
            u = prior + fit
            (grad,) = torch.autograd.grad((u if b == 1.0 else prior + b * fit).sum(), zr)
        passes += len(active) // max(z.shape[0] // block, 1)
        cur[active] = (prior + b * fit).detach().double()
        u = u.detach().double()
        better = u < best_u[active]
        best_u[active] = torch.where(better, u, best_u[active])
        best_z[active] = torch.where(better[:, None], zr.detach(), best_z[active])
        rate = lr * 0.5 * (1.0 + math.cos(math.pi * step / steps))
        m[active] = 0.9 * m[active] + 0.1 * grad
        v[active] = 0.999 * v[active] + 0.001 * grad.pow(2)
        mh, vh = m[active] / (1 - 0.9 ** (step + 1)), v[active] / (1 - 0.999 ** (step + 1))
        z[active] = zr.detach() - rate * mh / (vh.sqrt() + 1e-8)
    u = energy(generator, z[active], x[active], None if labels is None else labels[active], sigma2)
    better = u < best_u[active]
    best_u[active] = torch.where(better, u, best_u[active])
    best_z[active] = torch.where(better[:, None], z[active], best_z[active])
    return best_z, best_u, passes + len(active) // max(z.shape[0] // block, 1)


def _descend(generator: Generator, z0: Tensor, x: Tensor, labels: Tensor | None, sigma2: float,
             cfg: SearchConfig) -> tuple[Tensor, Tensor, int]:
    """Adam from every start ``z0 [n, S, d]`` of each image, screened (`_adam`): the best iterates ``[n, S, d]``,
    energies ``[n, S]`` and the passes spent per image."""
    n, s, d = z0.shape
    screen = cfg.screen_steps if cfg.screen_keep and cfg.screen_keep < s else 0
    z, u, passes = _adam(generator, z0.reshape(n * s, d), x.repeat_interleave(s, 0),
                         None if labels is None else labels.repeat_interleave(s, 0), sigma2, cfg.search_steps,
                         cfg.search_lr, block=s, screen=screen, keep=cfg.screen_keep, beta0=cfg.descent_beta0)
    return z.view(n, s, d), u.view(n, s), passes


def _gauss_newton(generator: Generator, z: Tensor, x: Tensor, labels: Tensor | None, sigma2: float,
                  steps: int, cfg: SearchConfig) -> tuple[Tensor, Tensor, Tensor]:
    """Levenberg–Marquardt on ``U``: ``(I + JᵀJ/σ² + λ I) δ = −∇U``, a step kept only when ``U`` decreases, the
    curvature from `ganaudit.density.curvature.gauss_newton_terms` (``cfg.jacobian_chunk``, ``cfg.memory_mb``).
    With ``cfg.gn_tol > 0`` a row stops once a kept step lowers ``U`` by less than that many nats (converged) and
    spends no more passes. Returns ``z``, ``U`` and the generator passes spent per row (``[B]`` int: ``d + 2`` per
    step)."""
    tol = cfg.gn_tol
    u = energy(generator, z, x, labels, sigma2)
    lam = torch.full_like(u, 1e-3)
    d = z.shape[1]
    active = torch.ones(z.shape[0], dtype=torch.bool, device=z.device)
    passes = torch.ones(z.shape[0], dtype=torch.long, device=z.device)
    for _ in range(steps):
        idx = torch.nonzero(active).flatten()
        if len(idx) == 0:
            break
        za, xa, la = z[idx], x[idx], None if labels is None else labels[idx]
        with torch.no_grad():
            r = (generator(za, la) - xa).flatten(1).double()
        jtj, jtr = gauss_newton_terms(generator, za, la, r, cfg.jacobian_chunk, cfg.memory_mb)
        grad = za.double() + jtr / sigma2
        h = torch.eye(d, dtype=torch.float64, device=z.device) + jtj / sigma2
        h = h + lam[idx, None, None] * torch.diag_embed(h.diagonal(dim1=-2, dim2=-1))
        step = torch.linalg.solve(h, -grad[..., None])[..., 0]
        z_new = (za.double() + step).to(z.dtype)
        u_new = energy(generator, z_new, xa, la, sigma2)
        ok = torch.isfinite(u_new) & (u_new < u[idx])
        if tol > 0:
            active[idx[ok & (u[idx] - u_new < tol)]] = False
        z[idx] = torch.where(ok[:, None], z_new, za)
        u[idx] = torch.where(ok, u_new, u[idx])
        lam[idx] = torch.where(ok, lam[idx] / 10, lam[idx] * 10)
        passes[idx] += d + 2
    return z, u, passes


def _value_grad(generator: Generator, z: Tensor, x: Tensor, labels: Tensor | None,
                sigma2: float) -> tuple[Tensor, Tensor]:
    """``U(z)`` float64 ``[B]`` and ``∇U`` float64 ``[B, d]`` at ``z`` (float64 ``[B, d]``), one forward + backward."""
    zr = z.to(x.dtype).requires_grad_(True)
    with torch.enable_grad():
        r = (generator(zr, labels) - x).flatten(1)
        u = 0.5 * zr.double().pow(2).sum(1) + r.double().pow(2).sum(1) / (2 * sigma2)
        (grad,) = torch.autograd.grad(u.sum(), zr)
    return u.detach(), grad.detach().double()


def _lbfgs(generator: Generator, z: Tensor, x: Tensor, labels: Tensor | None, sigma2: float, steps: int,
           history: int = 40, tol: float = 0.0) -> tuple[Tensor, Tensor, Tensor]:
    """L-BFGS on ``U``, every row its own problem: its own ``history`` curvature pairs (two-loop recursion) and its
    own backtracking (Armijo) line search, so a row's result does not depend on the rows beside it. Each of the
    ``steps`` iterations is one gradient pass of every row still going: a trial point whose ``U`` falls enough is
    taken, otherwise that row halves its step. A row stops when its step falls below ``1e-8`` of the latent's
    scale or (``tol > 0``) once ``|∇U|²/2 < tol``: where the Hessian is at least the prior's ``I`` (a basin's
    bottom, the likelihood's curvature being positive there), ``U`` is then within ``tol`` nats of the minimum.

    Why beside Levenberg–Marquardt (`_gauss_newton`): with ``σ`` of real images the residual at the mode is large,
    so the Gauss–Newton model leaves out the residual's curvature and its steps (``d + 2`` passes each) overshoot;
    L-BFGS builds the true curvature from gradients at one pass an iteration (benchmarks/bench_true_latent.py; on
    the face GAN's 100 latents a history of 40 pairs instead of 10 took the worst of 8 images from 14 to 4.9 nats
    above the true latent's basin after 200 iterations,
    and starting from the Gauss–Newton precision as the initial inverse Hessian did worse for d more passes).
    Returns ``z`` (the dtype given), ``U`` float64 ``[B]`` and the passes per row ``[B]`` int (the first
    evaluation included)."""
    b, d = z.shape
    dev = z.device
    zd = z.detach().double()
    u, g = _value_grad(generator, zd, x, labels, sigma2)
    passes = torch.ones(b, dtype=torch.long, device=dev)
    S = torch.zeros(b, history, d, dtype=torch.float64, device=dev)
    Y = torch.zeros_like(S)
    rho = torch.zeros(b, history, dtype=torch.float64, device=dev)   # 0: an empty slot (the recursion skips it)
    p = -g / g.norm(dim=1, keepdim=True).clamp_min(1e-12) * 0.1      # first step: 0.1 along the steepest descent
    t = torch.ones(b, dtype=torch.float64, device=dev)
    active = torch.isfinite(u)
    if tol > 0:
        active &= 0.5 * g.pow(2).sum(1) >= tol
    for _ in range(steps):
        idx = torch.nonzero(active).flatten()
        if len(idx) == 0:
            break
        trial = zd[idx] + t[idx, None] * p[idx]
        u_t, g_t = _value_grad(generator, trial, x[idx], None if labels is None else labels[idx], sigma2)
        passes[idx] += 1
        slope = (g[idx] * p[idx]).sum(1)
        ok = torch.isfinite(u_t) & (u_t <= u[idx] + 1e-4 * t[idx] * slope)
        acc, rej = idx[ok], idx[~ok]
        t[rej] *= 0.5
        active[rej[t[rej] * p[rej].norm(dim=1) < 1e-8]] = False
        if len(acc) == 0:
            continue
        s_new, y_new = trial[ok] - zd[acc], g_t[ok] - g[acc]
        sy = (s_new * y_new).sum(1)
        good = sy > 1e-10 * s_new.norm(dim=1) * y_new.norm(dim=1)    # keep only pairs of positive curvature
        upd = acc[good]
        S[upd], Y[upd], rho[upd] = S[upd].roll(-1, 1), Y[upd].roll(-1, 1), rho[upd].roll(-1, 1)
        S[upd, -1], Y[upd, -1], rho[upd, -1] = s_new[good], y_new[good], 1.0 / sy[good]
        zd[acc], u[acc], g[acc] = trial[ok], u_t[ok], g_t[ok]
        if tol > 0:
            active[acc[0.5 * g_t[ok].pow(2).sum(1) < tol]] = False
        # the new direction of every accepted row: two-loop recursion over its pairs (newest first)
        q = g[acc].clone()
        alpha = torch.zeros(len(acc), history, dtype=torch.float64, device=dev)
        for j in reversed(range(history)):
            alpha[:, j] = rho[acc, j] * (S[acc, j] * q).sum(1)
            q -= alpha[:, j, None] * Y[acc, j]
        has = rho[acc, -1] > 0
        yy = Y[acc, -1].pow(2).sum(1)
        gamma = torch.where(has, 1.0 / (rho[acc, -1] * yy).clamp_min(1e-300), 0.1 / g[acc].norm(dim=1).clamp_min(1e-12))
        r = gamma[:, None] * q
        for j in range(history):
            beta = rho[acc, j] * (Y[acc, j] * r).sum(1)
            r += S[acc, j] * (alpha[:, j] - beta)[:, None]
        descent = (r * g[acc]).sum(1) > 0
        p[acc] = torch.where(descent[:, None], -r, -g[acc] * gamma[:, None])
        t[acc] = 1.0
    return zd.to(z.dtype), u, passes


@torch.no_grad()
def _nearest_starts(generator: Generator, x: Tensor, labels: Tensor | None, cfg: SearchConfig, count: int,
                    skip: int = 0) -> Tensor:
    """``[n, count, d]``: the pool latents whose images are nearest to each ``x`` in L2, from rank ``skip`` on."""
    n, d, r = x.shape[0], generator.latent_dim, min(skip + count, cfg.search_candidates)
    g = torch.Generator(device="cpu").manual_seed(int(cfg.search_seed))
    pool = torch.randn(cfg.search_candidates, d, generator=g).to(x.device, x.dtype)
    out = torch.empty(n, r, d, dtype=x.dtype, device=x.device)  # ranks 0 .. r - 1
    classes = [None] if labels is None else [int(c) for c in torch.unique(labels)]
    xf = x.flatten(1).double()
    for c in classes:
        idx = torch.arange(n, device=x.device) if c is None else torch.nonzero(labels == c).flatten()
        lab = None if c is None else torch.full((len(pool),), c, dtype=torch.long, device=x.device)
        step = rows_within(generator, cfg.memory_mb, 512, lab)  # 512 without a memory budget
        imgs = torch.cat([generator(pool[i:i + step], None if lab is None else lab[i:i + step]).flatten(1)
                          for i in range(0, len(pool), step)]).double()
        dist = torch.cdist(xf[idx], imgs)
        out[idx] = pool[dist.topk(r, largest=False).indices]
    return out[:, skip:]


def _second_stage(generator: Generator, x: Tensor, labels: Tensor | None, sigma2: float, cfg: SearchConfig,
                  seeds: np.ndarray) -> tuple[Tensor, Tensor, np.ndarray]:
    """The search's second stage for images off the manifold (`find_modes`): descent from the next
    ``extra_restarts`` nearest pool latents (screened) and from the ``smc_keep`` best distinct particles of the
    tempered SMC; the optima ``[m, S, d]``, their energies ``[m, S]`` and the passes per image ``[m]``."""
    m = x.shape[0]
    zs, us, spent = [], [], np.zeros(m, dtype=np.int64)
    if cfg.extra_restarts:
        z, u, p = _descend(generator, _nearest_starts(generator, x, labels, cfg, cfg.extra_restarts,
                                                      skip=cfg.search_restarts), x, labels, sigma2, cfg)
        zs, us, spent = [z], [u], spent + p
    if cfg.smc_particles:
        parts, energies, p_smc = temper(generator, x, labels, sigma2, cfg.smc_particles, cfg.smc_moves,
                                        np.asarray(seeds, dtype=np.int64) + SEARCH_STREAM_OFFSET, cfg.smc_ess,
                                        cfg.smc_max_temps)
        z, u, p = _descend(generator, best_distinct(parts, energies, cfg.smc_keep), x, labels, sigma2, cfg)
        zs.append(z)
        us.append(u)
        spent = spent + p_smc + p
    return torch.cat(zs, 1), torch.cat(us, 1), spent


def find_modes(generator: Generator, x: Tensor, labels: Tensor | None, sigma2: float, cfg: SearchConfig,
               latents: Tensor | None = None, seeds: np.ndarray | None = None) -> Modes:
    """The mixture proposal of each image (module doc, steps 1–3). ``x [n, C, H, W]`` on the model scale,
    ``labels [n]`` or None, ``latents [n, R, d]`` optional extra starts (non-finite rows are ignored),
    ``seeds [n]`` the per-image seeds of the tempered search (``smc_particles``).

    The search has two stages. The first descends from the given latents and the ``search_restarts`` nearest
    pool latents. An image it reconstructs to a mean squared residual below ``on_manifold · σ²`` lies on the
    generator's manifold (a model sample: one sharp mode, found); every other image descends again from the next
    ``extra_restarts`` nearest pool latents and from the ``smc_keep`` best particles of a tempered SMC with
    ``smc_particles`` particles (`ganaudit.density.smc`), which finds basins by their mass rather than by their
    distance. The proposal depends on ``x`` and the search's own random numbers only, never on the AIS draws,
    so the estimator stays unbiased whatever the search found; ``n_passes`` records the generator passes spent
    per image.
    """
    n, d = x.shape[0], generator.latent_dim
    starts = [_nearest_starts(generator, x, labels, cfg, cfg.search_restarts)] if cfg.search_restarts else []
    direct = None
    if latents is not None:
        lat = torch.as_tensor(latents, dtype=x.dtype, device=x.device)
        if lat.dim() != 3 or lat.shape[0] != n or lat.shape[2] != d:
            raise ValueError(f"latents must have shape ({n}, R, {d}), got {tuple(lat.shape)}")
        lat = torch.nan_to_num(lat, nan=0.0, posinf=0.0, neginf=0.0)
        if cfg.direct_starts > lat.shape[1]:
            raise ValueError(f"SearchConfig.direct_starts = {cfg.direct_starts} but only {lat.shape[1]} latents given")
        if cfg.direct_starts:
            lat, direct = lat[:, :lat.shape[1] - cfg.direct_starts], lat[:, lat.shape[1] - cfg.direct_starts:]
        if lat.shape[1]:
            starts.insert(0, lat)
    elif cfg.direct_starts:
        raise ValueError(f"SearchConfig.direct_starts = {cfg.direct_starts} but no latents given")
    if not starts:
        raise ValueError("the mode search has no starting point: give latents or set search_restarts >= 1")
    z, u, spent = _descend(generator, torch.cat(starts, dim=1), x, labels, sigma2, cfg)
    passes = torch.full((n,), spent, dtype=torch.long, device=x.device)
    if cfg.extra_restarts or cfg.smc_particles:
        best = z[torch.arange(n, device=x.device), u.argmin(1)]
        with torch.no_grad():
            resid = (generator(best, labels) - x).flatten(1).double().pow(2).mean(1)
        off = torch.nonzero(resid > cfg.on_manifold * sigma2).flatten()
        passes += 1
        if len(off):
            lab = None if labels is None else labels[off]
            z2, u2, spent2 = _second_stage(generator, x[off], lab, sigma2, cfg,
                                           np.arange(n)[off.cpu().numpy()] if seeds is None else np.asarray(seeds)[off.cpu().numpy()])
            pad = torch.full((n, z2.shape[1]), math.inf, dtype=u.dtype, device=x.device)
            pad[off] = u2
            zpad = torch.zeros(n, z2.shape[1], d, dtype=z.dtype, device=x.device)
            zpad[off] = z2
            z, u = torch.cat([z, zpad], 1), torch.cat([u, pad], 1)
            passes[off] += torch.as_tensor(spent2, device=x.device)
    s = z.shape[1]
    # the best distinct starts go on to Gauss–Newton (near-identical optima are one mode); with gn_candidates,
    # more of them are polished and the n_modes lowest after polishing are kept
    k = min(max(cfg.n_modes, cfg.gn_candidates), s)
    keep = _lowest_distinct(z, u, k, lambda i, diff: float(diff.norm()) > 1e-3)
    zk = torch.gather(z, 1, keep[..., None].expand(n, k, d)).reshape(n * k, d)
    if direct is not None:   # the direct starts join the refinement without descending
        zk = torch.cat([zk.view(n, k, d), direct.to(zk.dtype)], 1).reshape(-1, d)
        k += direct.shape[1]
    xk = x.repeat_interleave(k, 0)
    lk = None if labels is None else labels.repeat_interleave(k, 0)
    if cfg.polish_steps:
        zk, _, lb_passes = _lbfgs(generator, zk, xk, lk, sigma2, cfg.polish_steps, tol=cfg.polish_tol)
        passes += lb_passes.view(n, k).sum(1)
    zk, uk, gn_passes = _gauss_newton(generator, zk.clone(), xk, lk, sigma2, cfg.gn_steps, cfg)
    passes += gn_passes.view(n, k).sum(1) - k
    if cfg.hop_starts and cfg.hop_rounds:
        zk, uk, hop_passes = _hop(generator, zk.view(n, k, d), uk.view(n, k), x, labels, sigma2, cfg,
                                  np.arange(n) if seeds is None else np.asarray(seeds))
        passes += hop_passes
        k = cfg.n_modes
        zk, uk = zk.reshape(n * k, d), uk.reshape(n * k)
        lk = None if labels is None else labels.repeat_interleave(k, 0)
    elif k > cfg.n_modes:   # keep the n_modes lowest polished optima
        top = uk.view(n, k).argsort(dim=1)[:, :cfg.n_modes]
        k = cfg.n_modes
        zk = torch.gather(zk.view(n, -1, d), 1, top[..., None].expand(n, k, d)).reshape(n * k, d)
        uk = torch.gather(uk.view(n, -1), 1, top).reshape(n * k)
        lk = None if labels is None else labels.repeat_interleave(k, 0)
    h = _precision(generator, zk, lk, sigma2, cfg)
    chol = torch.linalg.cholesky(h)                                          # float64
    logdet_h = 2 * chol.diagonal(dim1=-2, dim2=-1).log().sum(-1)
    laplace = -uk - 0.5 * logdet_h  # (2π)^{d/2} of the Gaussian integral cancels the prior's normaliser
    mu, chol, uk, laplace = zk.view(n, k, d), chol.view(n, k, d, d), uk.view(n, k), laplace.view(n, k)
    valid = _merge(mu, chol, laplace, cfg.merge_radius * cfg.proposal_scale)
    log_w = _weights(laplace, valid, cfg)
    passes += k * d
    return Modes(mu=mu, chol=chol.to(x.dtype), log_weight=log_w, energy=uk, laplace=torch.where(valid, laplace, -math.inf),
                 n_modes=valid.sum(1), scale=cfg.proposal_scale, log_prior_weight=math.log(cfg.prior_weight),
                 n_passes=passes)


def _lowest_distinct(z: Tensor, u: Tensor, k: int, apart: Callable[[int, Tensor], bool]) -> Tensor:
    """``[n, k]`` indices into the candidates ``z [n, S, d]`` (energies ``u [n, S]``; non-finite ones are unused
    slots): each image's ``k`` lowest that are ``apart(i, z_j − z_c)`` from every lower one already chosen; an image
    with fewer repeats its lowest."""
    n = z.shape[0]
    order = u.argsort(dim=1)
    keep = torch.zeros(n, k, dtype=torch.long, device=z.device)
    for i in range(n):
        chosen: list[int] = []
        for j in order[i].tolist():
            if not math.isfinite(float(u[i, j])):
                break  # sorted: the rest are unused slots too
            if all(apart(i, z[i, j] - z[i, c]) for c in chosen):
                chosen.append(j)
            if len(chosen) == k:
                break
        chosen += [chosen[0]] * (k - len(chosen))
        keep[i] = torch.as_tensor(chosen, device=z.device)
    return keep


def _hop(generator: Generator, z: Tensor, u: Tensor, x: Tensor, labels: Tensor | None, sigma2: float,
         cfg: SearchConfig, seeds: np.ndarray) -> tuple[Tensor, Tensor, Tensor]:
    """Basin hopping (`SearchConfig`) from the refined optima ``z [n, K, d]`` (energies ``u [n, K]``): each round
    draws ``hop_starts`` points from ``N(μ, hop_scale² H⁻¹)`` at each image's lowest optimum ``μ`` (``H`` the
    Gauss–Newton precision), refines them and adds them to the candidates. Returns the ``n_modes`` lowest distinct
    candidates ``[n, n_modes, d]`` (within ``merge_radius`` of a lower one, whitened by the last centre's ``H``, is
    the same mode; an image with fewer distinct ones repeats its best, which `_merge` then drops), their energies
    and the passes spent per image."""
    n, _, d = z.shape
    h, dev = cfg.hop_starts, x.device
    streams = [torch.Generator(device="cpu").manual_seed(int(s) + HOP_STREAM_OFFSET) for s in seeds]
    passes = torch.zeros(n, dtype=torch.long, device=dev)
    rows = torch.arange(n, device=dev)
    xh = x.repeat_interleave(h, 0)
    lh = None if labels is None else labels.repeat_interleave(h, 0)
    chol = None
    for _ in range(cfg.hop_rounds):
        centre = z[rows, torch.nan_to_num(u, nan=math.inf).argmin(1)]
        chol = torch.linalg.cholesky(_precision(generator, centre, labels, sigma2, cfg))     # [n, d, d] float64
        passes += d
        eps = torch.stack([torch.randn(h, d, generator=g, dtype=torch.float64) for g in streams]).to(dev)
        # z = μ + s L⁻ᵀ ε has covariance s² (L Lᵀ)⁻¹ = s² H⁻¹
        step = torch.linalg.solve_triangular(chol.transpose(1, 2)[:, None], eps[..., None], upper=True)[..., 0]
        zh = (centre.double()[:, None] + cfg.hop_scale * step).to(z.dtype).reshape(n * h, d)
        if cfg.polish_steps:
            zh, _, p = _lbfgs(generator, zh, xh, lh, sigma2, cfg.polish_steps, tol=cfg.polish_tol)
            passes += p.view(n, h).sum(1)
        zh, uh, p = _gauss_newton(generator, zh.clone(), xh, lh, sigma2, cfg.gn_steps, cfg)
        passes += p.view(n, h).sum(1)
        z, u = torch.cat([z, zh.view(n, h, d)], 1), torch.cat([u, uh.view(n, h)], 1)
    keep = _lowest_distinct(z, u, cfg.n_modes,
                            lambda i, diff: float((chol[i].T @ diff.double()).norm()) >= cfg.merge_radius)
    return (torch.gather(z, 1, keep[..., None].expand(n, cfg.n_modes, d)), torch.gather(u, 1, keep), passes)


def _merge(mu: Tensor, chol: Tensor, laplace: Tensor, radius: float) -> Tensor:
    """``[n, K]`` bool: modes kept after dropping each one within ``radius`` (whitened by the better mode) of a
    mode with a higher Laplace evidence."""
    n, k, _ = mu.shape
    valid = torch.ones(n, k, dtype=torch.bool, device=mu.device)
    order = laplace.argsort(dim=1, descending=True)
    for i in range(n):
        kept: list[int] = []
        for j in order[i].tolist():
            dup = any(float((chol[i, c].T @ (mu[i, j] - mu[i, c]).double()).norm()) < radius for c in kept)
            if dup or not math.isfinite(float(laplace[i, j])):
                valid[i, j] = False
            else:
                kept.append(j)
    return valid


def _weights(laplace: Tensor, valid: Tensor, cfg: SearchConfig) -> Tensor:
    """``log π_k`` ``[n, K]``: ``(1 − π_0) · ((1 − ρ) softmax(Laplace) + ρ / K_valid)``, −inf where not valid."""
    lap = torch.where(valid, laplace, torch.full_like(laplace, -math.inf))
    soft = torch.softmax(lap, dim=1)
    uniform = valid.double() / valid.sum(1, keepdim=True).clamp_min(1)
    w = (1 - cfg.prior_weight) * ((1 - cfg.uniform_mix) * soft + cfg.uniform_mix * uniform)
    return torch.where(valid, w.log(), torch.full_like(w, -math.inf))


def allocate(log_weight: Tensor, n_chains: int) -> np.ndarray:
    """Which mode each of ``n_chains`` chains of an image starts from: ``[n, n_chains]`` int, proportional to the
    weights (largest remainder), every chain on a mode of non-zero weight; modes beyond ``n_chains`` get none
    (the caller drops them from the mixture, so every mode of the proposal has a chain)."""
    w = torch.exp(log_weight - torch.logsumexp(log_weight, 1, keepdim=True)).cpu().numpy()
    out = np.zeros((w.shape[0], n_chains), dtype=np.int64)
    for i, wi in enumerate(w):
        order = np.argsort(-wi, kind="stable")
        top = [j for j in order[:n_chains] if wi[j] > 0]
        p = wi[top] / wi[top].sum()
        counts = np.ones(len(top), dtype=np.int64)
        extra = n_chains - len(top)
        if extra > 0:
            share = p * extra
            counts += np.floor(share).astype(np.int64)
            rest = n_chains - counts.sum()
            counts[np.argsort(-(share - np.floor(share)), kind="stable")[:rest]] += 1
        out[i] = np.repeat(top, counts)
    return out


def restrict(modes: Modes, allocation: np.ndarray) -> Modes:
    """The proposal with only the modes that have chains (`allocate`), weights renormalised to ``1 − π_0``."""
    n, k = modes.log_weight.shape
    has = torch.zeros(n, k, dtype=torch.bool, device=modes.mu.device)
    for i in range(n):
        has[i, np.unique(allocation[i])] = True
    lw = torch.where(has, modes.log_weight, torch.full_like(modes.log_weight, -math.inf))
    lw = lw - torch.logsumexp(lw, 1, keepdim=True) + math.log1p(-math.exp(modes.log_prior_weight))
    return Modes(modes.mu, modes.chol, lw, modes.energy, modes.laplace, has.sum(1), modes.scale, modes.log_prior_weight,
                 modes.n_passes)
