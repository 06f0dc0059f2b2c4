"""Annealed importance sampling (AIS) log-likelihoods of generators, and BDMC upper bounds.

Paper (section 2.2, appendices A and B.1): ``p(x) = ∫ N(x; G(z), sigma2 I) N(z; 0, I) dz`` is
estimated by AIS over ``Q_t(z) ∝ p(z) · N(x; G(z), sigma2 I)^{beta_t}`` with an HMC kernel
(`ganaudit.hmc`) and a sigmoid schedule (Wu et al. 2016). Log-weights give a stochastic lower bound
on ``log p(x)``; running the schedule backwards from an exact posterior sample of simulated data
(Grosse et al. 2015, BDMC) gives a stochastic upper bound.

Conventions:
    * ``x`` is on the model scale ``[-1, 1]``; ``sigma2`` is a variance on that scale; the likelihood
      includes the full Gaussian normaliser ``−D/2 · log(2π sigma2)`` with ``D = C·H·W``; nats.
    * Chains live in the batch dimension, **image-major**: row ``i * n_chains + c`` is chain ``c`` of
      image ``i`` (``[N * n_chains, ...]``); labels and images are repeated per chain accordingly.
    * Cost: the likelihood and its gradient at the current state are cached between transitions; the
      weight increment ``(beta_t − beta_{t−1}) · loglik(z)`` reuses the cached value (no forward pass);
      the final transition (whose sample no weight uses) is skipped. A run of ``n_steps`` costs
      ``1 + (n_steps − 1) · n_leapfrog`` generator forward+backward passes per chain.
    * Reproducibility: every random draw for image ``i`` (initial latents, momenta, MH uniforms) comes
      from a private ``torch.Generator`` seeded with ``seed[i]`` (``seed + i`` for an int seed), so an
      image's estimate does not depend on how images are batched or sharded.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import Tensor
from tqdm.auto import tqdm

from ganaudit.hmc import HMCState, hmc_transition, init_state
from ganaudit.models.base import Generator, check_labels

SCHEDULES = ("sigmoid", "geometric", "linear")
_CHUNK = 32  # transitions whose random draws are made together per image (fixed: results must not depend on it)


@dataclass(frozen=True)
class AISConfig:
    """AIS settings. Defaults follow the paper (B.1): 500 steps, 10 leapfrogs, 4 chains, sigmoid, 0.05.

    Attributes:
        n_steps: number of intermediate distributions ``T`` (betas has ``T + 1`` entries).
        n_leapfrog: leapfrog steps per HMC transition.
        n_chains: independent AIS chains per image (their weights are averaged in linear space).
        schedule: ``"sigmoid"`` (Wu et al.), ``"geometric"`` or ``"linear"``; see `schedule`.
        step_size: initial leapfrog step size (latent units).
        target_accept: step sizes adapt so the smoothed MH acceptance approaches this.
        sigmoid_radius: ``r`` of the sigmoid schedule (sigmoid of ``linspace(−r, r)``).
        geometric_start: first nonzero beta of the geometric schedule.
        step_size_min, step_size_max: clip range of the adapted step sizes.
        adapt_rate: per-transition multiplicative step-size change (``× 1+rate`` or ``÷ 1+rate``).
        adapt_smoothing: moving-average weight of past acceptance probabilities.
        batch_size: images per batch (``batch_size * n_chains`` generator rows per call).
        progress: show a tqdm bar per batch.
    """

    n_steps: int = 500
    n_leapfrog: int = 10
    n_chains: int = 4
    schedule: str = "sigmoid"
    step_size: float = 0.05
    target_accept: float = 0.65
    sigmoid_radius: float = 4.0
    geometric_start: float = 1e-4
    step_size_min: float = 1e-4
    step_size_max: float = 0.5
    adapt_rate: float = 0.02
    adapt_smoothing: float = 0.9
    batch_size: int = 64
    progress: bool = True

    def __post_init__(self) -> None:
        for name in ("n_steps", "n_leapfrog", "n_chains", "batch_size"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"AISConfig.{name} must be >= 1 (got {getattr(self, name)})")
        if self.schedule not in SCHEDULES:
            raise ValueError(f"AISConfig.schedule must be one of {SCHEDULES} (got {self.schedule!r})")
        if not 0 < self.step_size_min <= self.step_size <= self.step_size_max:
            raise ValueError(
                "AISConfig needs 0 < step_size_min <= step_size <= step_size_max "
                f"(got {self.step_size_min}, {self.step_size}, {self.step_size_max})"
            )
        if not 0 < self.target_accept < 1:
            raise ValueError(f"AISConfig.target_accept must be in (0, 1) (got {self.target_accept})")
        if not 0 < self.geometric_start < 1:
            raise ValueError(f"AISConfig.geometric_start must be in (0, 1) (got {self.geometric_start})")
        if not self.sigmoid_radius > 0:
            raise ValueError(f"AISConfig.sigmoid_radius must be > 0 (got {self.sigmoid_radius})")
        if self.adapt_rate < 0 or not 0 <= self.adapt_smoothing < 1:
            raise ValueError(
                f"AISConfig needs adapt_rate >= 0 and adapt_smoothing in [0, 1) (got {self.adapt_rate}, {self.adapt_smoothing})"
            )

    @property
    def gradient_evaluations(self) -> int:
        """Generator forward+backward passes per chain: ``1 + (n_steps − 1) · n_leapfrog``."""
        return 1 + (self.n_steps - 1) * self.n_leapfrog


PRESETS: dict[str, AISConfig] = {
    # the paper's setting (B.1): 500 x 10 leapfrogs, 4 chains, sigmoid schedule, step size 0.05
    "paper": AISConfig(),
    # same gradient budget (n_steps * n_leapfrog = 5000) spent on 10x more temperatures with one
    # leapfrog each and a geometric schedule (the tempered posterior narrows like 1/sqrt(beta), so
    # equal steps in log beta keep each weight increment's variance even). Measured with
    # `benchmarks/bench_ais.py --validate` (D = 784, sigma2 = 0.01, 16 simulated images, mean |error|
    # vs exact LL): latent 16: paper 9.1 -> accurate 0.32 nats; latent 64: 18.6 -> 1.23 nats.
    # 2500x2 and sigmoid schedules with the same budget were 3-4x worse than this.
    "accurate": AISConfig(n_steps=5000, n_leapfrog=1, schedule="geometric", geometric_start=1e-5),
}


@dataclass(frozen=True)
class AISResult:
    """AIS estimates for ``N`` images.

    Attributes:
        log_px: float64 ``[N]``, log-likelihood estimate in nats (``logsumexp(log_w) − log n_chains``);
            a stochastic lower bound for `ais_log_likelihood`, upper bound for `ais_upper_bound`.
        log_w: float64 ``[N, n_chains]``, final log importance weights per chain (for `ais_upper_bound`,
            the negated reverse weights, so each entry is a per-chain upper-bound estimate).
        accept_rate: ``[N, n_chains]`` fraction of accepted HMC proposals.
        n_divergent: ``[N, n_chains]`` int, rejected non-finite trajectories.
        config: the settings used.
    """

    log_px: np.ndarray
    log_w: np.ndarray
    accept_rate: np.ndarray
    n_divergent: np.ndarray
    config: AISConfig = field(default_factory=AISConfig)


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


def _betas(config: AISConfig) -> np.ndarray:
    kw = {"radius": config.sigmoid_radius} if config.schedule == "sigmoid" else {}
    if config.schedule == "geometric":
        kw = {"start": config.geometric_start}
    return schedule(config.schedule, config.n_steps, **kw)


def _device_of(generator: Generator, x: Tensor) -> torch.device:
    if isinstance(generator, torch.nn.Module):
        for t in generator.parameters():
            return t.device
        for t in generator.buffers():
            return t.device
    return x.device


def _dtype_of(generator: Generator) -> torch.dtype:
    """Floating dtype of the generator's parameters (latents and images are cast to it); float32 if none."""
    if isinstance(generator, torch.nn.Module):
        for t in generator.parameters():
            if t.is_floating_point():
                return t.dtype
    return torch.float32


def _seeds(seed: int | np.ndarray | Any, n: int) -> np.ndarray:
    if np.ndim(seed) == 0:
        return int(seed) + np.arange(n, dtype=np.int64)
    seeds = np.asarray(seed, dtype=np.int64)
    if seeds.shape != (n,):
        raise ValueError(f"seed must be an int or an array of shape ({n},), got shape {seeds.shape}")
    return seeds


def _check_inputs(generator: Generator, x: Tensor, sigma2: float, labels: Tensor | None) -> tuple[Tensor, Tensor | None]:
    x = torch.as_tensor(x)
    if x.dim() != 4 or tuple(x.shape[1:]) != tuple(generator.image_shape):
        raise ValueError(f"x must have shape [N, {', '.join(map(str, generator.image_shape))}], got {tuple(x.shape)}")
    if not (isinstance(sigma2, (int, float)) and sigma2 > 0 and math.isfinite(sigma2)):
        raise ValueError(f"sigma2 must be a finite variance > 0 on the model scale, got {sigma2!r}")
    return x, check_labels(generator, labels, x.shape[0])


class _Streams:
    """Per-image random streams; draws for image ``i`` come only from ``torch.Generator(seed[i])``."""

    def __init__(self, seeds: np.ndarray, n_chains: int, latent_dim: int, device: torch.device) -> None:
        self.gens = [torch.Generator(device="cpu").manual_seed(int(s)) for s in seeds]
        self.n_chains, self.latent_dim, self.device = n_chains, latent_dim, device

    def normal(self) -> Tensor:
        """``[N * n_chains, d]`` standard normals (image-major)."""
        z = [torch.randn(self.n_chains, self.latent_dim, generator=g) for g in self.gens]
        return torch.cat(z).to(self.device)

    def chunk(self, k: int) -> tuple[Tensor, Tensor]:
        """Momenta ``[k, N * n_chains, d]`` and ``log U(0,1)`` ``[k, N * n_chains]`` float64 for k transitions."""
        moms, logu = [], []
        for g in self.gens:
            moms.append(torch.randn(k, self.n_chains, self.latent_dim, generator=g))
            logu.append(torch.rand(k, self.n_chains, generator=g, dtype=torch.float64).log())
        m = torch.stack(moms, 1).reshape(k, -1, self.latent_dim)
        u = torch.stack(logu, 1).reshape(k, -1)
        return m.to(self.device), u.to(self.device)


def _make_loglik(generator: Generator, x: Tensor, labels: Tensor | None, sigma2: float):
    """``z -> (−|x − G(z)|² / (2 sigma2) [M] float64, its gradient [M, d])`` with one forward + backward.

    The Gaussian normaliser is a constant and is added to the log-weights once, at the end.
    """
    inv = 1.0 / sigma2

    def loglik_and_grad(z: Tensor) -> tuple[Tensor, Tensor]:
        with torch.enable_grad():
            zq = z.detach().requires_grad_(True)
            out = generator(zq, labels)
            diff = (out - x).detach()
            (grad,) = torch.autograd.grad(out, zq, grad_outputs=diff * (-inv))
        ll = diff.flatten(1).double().pow(2).sum(1) * (-0.5 * inv)
        return ll, grad

    return loglik_and_grad


def _anneal(
    generator: Generator,
    x: Tensor,
    labels: Tensor | None,
    sigma2: float,
    betas: np.ndarray,
    config: AISConfig,
    seeds: np.ndarray,
    z_start: Tensor | None,
    desc: str,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Run AIS chains for one batch along ``betas`` (increasing or decreasing).

    Returns float64 log-weights ``Σ_t (β_t − β_{t−1}) · loglik(z_{t−1})`` including the normaliser,
    acceptance rates and divergence counts, all ``[n * n_chains]``.
    """
    c = config.n_chains
    device = _device_of(generator, x)
    dtype = _dtype_of(generator)
    x_rep = x.to(device, dtype).repeat_interleave(c, 0)
    lab_rep = None if labels is None else labels.to(device).repeat_interleave(c, 0)
    streams = _Streams(seeds, c, generator.latent_dim, device)
    if z_start is None:
        z = streams.normal().to(dtype)
    else:
        z = z_start.to(device, dtype).repeat_interleave(c, 0)
    f = _make_loglik(generator, x_rep, lab_rep, sigma2)
    state: HMCState = init_state(z, f, config.step_size, config.target_accept)
    m = z.shape[0]
    log_w = torch.zeros(m, dtype=torch.float64, device=device)
    n_acc = torch.zeros(m, dtype=torch.float64, device=device)
    n_div = torch.zeros(m, dtype=torch.long, device=device)
    n_steps = len(betas) - 1
    moms = logu = None
    j = _CHUNK
    for t in tqdm(range(1, n_steps + 1), desc=desc, disable=not config.progress, leave=False):
        dbeta = float(betas[t] - betas[t - 1])
        with torch.no_grad():
            if dbeta != 0.0:
                log_w += dbeta * state.loglik
        if t == n_steps:
            break  # the last sample enters no weight
        if j == _CHUNK:
            moms, logu = streams.chunk(min(_CHUNK, n_steps - t))
            j = 0
        state, acc, div = hmc_transition(
            state, float(betas[t]), f, moms[j], logu[j], config.n_leapfrog,
            target_accept=config.target_accept, adapt_rate=config.adapt_rate,
            adapt_smoothing=config.adapt_smoothing, step_size_min=config.step_size_min,
            step_size_max=config.step_size_max,
        )  # fmt: skip
        j += 1
        n_acc += acc
        n_div += div
    dim = math.prod(generator.image_shape)
    log_w += float(betas[-1] - betas[0]) * (-0.5 * dim * math.log(2 * math.pi * sigma2))
    rate = n_acc / max(n_steps - 1, 1)
    return log_w.cpu().numpy(), rate.cpu().numpy(), n_div.cpu().numpy()


def _logmeanexp(a: np.ndarray) -> np.ndarray:
    """``log mean exp`` over the last axis, ``-inf`` rows stay ``-inf`` (never NaN)."""
    mx = np.max(a, axis=-1, keepdims=True)
    mx = np.where(np.isfinite(mx), mx, 0.0)
    with np.errstate(divide="ignore"):
        return np.log(np.mean(np.exp(a - mx), axis=-1)) + mx[..., 0]


def _run(
    generator: Generator,
    x: Tensor,
    sigma2: float,
    labels: Tensor | None,
    config: AISConfig,
    seed: int | np.ndarray,
    z_true: Tensor | None,
) -> AISResult:
    x, labels = _check_inputs(generator, x, sigma2, labels)
    n = x.shape[0]
    seeds = _seeds(seed, n)
    betas = _betas(config)
    reverse = z_true is not None
    if reverse:
        z_true = torch.as_tensor(z_true)
        if z_true.shape != (n, generator.latent_dim):
            raise ValueError(f"z_true must have shape ({n}, {generator.latent_dim}), got {tuple(z_true.shape)}")
        betas = betas[::-1].copy()
    c = config.n_chains
    log_w = np.empty(n * c)
    rate = np.empty(n * c)
    div = np.empty(n * c, dtype=np.int64)
    n_batches = max(1, math.ceil(n / config.batch_size))
    for b in range(n_batches):
        lo, hi = b * config.batch_size, min(n, (b + 1) * config.batch_size)
        if lo >= hi:
            break
        out = _anneal(
            generator, x[lo:hi], None if labels is None else labels[lo:hi], sigma2, betas, config,
            seeds[lo:hi], None if z_true is None else z_true[lo:hi],
            desc=f"{'reverse AIS' if reverse else 'AIS'} batch {b + 1}/{n_batches}",
        )  # fmt: skip
        log_w[lo * c : hi * c], rate[lo * c : hi * c], div[lo * c : hi * c] = out
    log_w = log_w.reshape(n, c)
    if reverse:
        log_w = -log_w  # per-chain upper-bound estimates of log p(x)
        log_px = -_logmeanexp(-log_w)
    else:
        log_px = _logmeanexp(log_w)
    return AISResult(log_px=log_px, log_w=log_w, accept_rate=rate.reshape(n, c), n_divergent=div.reshape(n, c), config=config)


def ais_log_likelihood(
    generator: Generator,
    x: Tensor,
    sigma2: float,
    labels: Tensor | None = None,
    config: AISConfig = AISConfig(),
    seed: int | np.ndarray = 0,
) -> AISResult:
    """AIS estimate (stochastic lower bound) of ``log p(x)`` under the Gaussian observation model.

    Args:
        generator: any `Generator` (put modules in ``eval()`` mode: chains must not interact).
        x: images ``[N, C, H, W]`` on the model scale ``[-1, 1]``.
        sigma2: observation variance on the model scale.
        labels: ``[N]`` classes for class-conditional generators (repeated per chain).
        config: `AISConfig` (or ``PRESETS["paper"]`` / ``PRESETS["accurate"]``).
        seed: int (image ``i`` uses ``seed + i``) or int array ``[N]`` of per-image seeds.

    Returns:
        `AISResult` with ``log_px`` float64 ``[N]`` in nats.
    """
    return _run(generator, x, sigma2, labels, config, seed, None)


def ais_upper_bound(
    generator: Generator,
    x: Tensor,
    z_true: Tensor,
    sigma2: float,
    labels: Tensor | None = None,
    config: AISConfig = AISConfig(),
    seed: int | np.ndarray = 0,
) -> AISResult:
    """Reverse AIS (BDMC, Grosse et al. 2015): a stochastic upper bound on ``log p(x)``.

    Valid only for simulated data where ``z_true [N, d]`` is an exact posterior sample, i.e.
    ``x = G(z_true) + sqrt(sigma2) · noise`` with ``z_true ~ N(0, I)`` (see `simulate`). All chains of
    an image start at ``z_true`` and run the schedule from ``beta = 1`` down to ``0``.
    """
    return _run(generator, x, sigma2, labels, config, seed, z_true)


def simulate(
    generator: Generator, n: int, sigma2: float, labels: Tensor | None = None, seed: int = 0
) -> tuple[Tensor, Tensor]:
    """Draw ``(x [n, C, H, W], z [n, d])`` from the joint: ``z ~ N(0, I)``, ``x = G(z) + sqrt(sigma2)·ε``.

    ``z`` is then an exact sample of the posterior ``p(z | x)``, as reverse AIS requires.
    """
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    if not sigma2 > 0:
        raise ValueError(f"sigma2 must be > 0, got {sigma2}")
    labels = check_labels(generator, labels, n)
    g = torch.Generator(device="cpu").manual_seed(int(seed))
    z = torch.randn(n, generator.latent_dim, generator=g)
    device = _device_of(generator, z)
    with torch.no_grad():
        mean = generator(z.to(device), None if labels is None else labels.to(device)).float().cpu()
    noise = torch.randn(mean.shape, generator=g)
    return mean + math.sqrt(sigma2) * noise, z


def bdmc(
    generator: Generator,
    n: int,
    sigma2: float,
    labels: Tensor | None = None,
    config: AISConfig = AISConfig(),
    seed: int = 0,
) -> dict[str, Any]:
    """Bidirectional Monte Carlo on ``n`` simulated images: forward (lower) and reverse (upper) AIS.

    Returns dict ``lower [n]``, ``upper [n]`` (float64 nats), ``gap`` (mean of ``upper − lower``,
    a bound on the AIS error for data like the simulated), ``x``, ``z``.
    """
    x, z = simulate(generator, n, sigma2, labels, seed)
    lo = ais_log_likelihood(generator, x, sigma2, labels, config, seed=seed + 1_000_003)
    up = ais_upper_bound(generator, x, z, sigma2, labels, config, seed=seed + 2_000_003)
    return {"lower": lo.log_px, "upper": up.log_px, "gap": float(np.mean(up.log_px - lo.log_px)), "x": x, "z": z}


def validate_on_ppca(
    ppca: Any,
    x: Tensor,
    sigma2: float,
    labels: Tensor | None = None,
    config: AISConfig = AISConfig(),
    seed: int | np.ndarray = 0,
) -> dict[str, Any]:
    """Compare AIS with the exact log-likelihood of a `ganaudit.models.ppca.PPCA`.

    Returns dict ``mean_abs_error``, ``max_abs_error``, ``mean_error`` (signed, AIS − exact; negative
    for a lower bound), ``exact [N]``, ``estimate [N]``, ``result`` (the `AISResult`); errors in nats/image.
    """
    from ganaudit.models.ppca import exact_log_likelihood

    exact = exact_log_likelihood(ppca, x, sigma2, labels)
    res = ais_log_likelihood(ppca, x, sigma2, labels, config, seed)
    err = res.log_px - exact
    return {
        "mean_abs_error": float(np.mean(np.abs(err))),
        "max_abs_error": float(np.max(np.abs(err))),
        "mean_error": float(np.mean(err)),
        "exact": exact,
        "estimate": res.log_px,
        "result": res,
    }


__all__ = [
    "AISConfig",
    "AISResult",
    "PRESETS",
    "SCHEDULES",
    "ais_log_likelihood",
    "ais_upper_bound",
    "bdmc",
    "schedule",
    "simulate",
    "validate_on_ppca",
]
