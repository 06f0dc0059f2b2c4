"""Annealed importance sampling (AIS) log-likelihoods of generators (paper section 2.2, appendices A, B.1).

``p(x) = ∫ N(x; G(z), σ² I) N(z; 0, I) dz`` is estimated by annealing from a distribution whose normaliser is
known to the posterior ``p(z | x) ∝ p(x, z)`` (`ganaudit.density.annealing` runs the chains). Two starts, chosen by
``AISConfig.start``:

* ``"prior"`` — Wu et al. (2016), the paper: chains start from ``N(0, I)`` and the targets are
  ``N(z; 0, I) · N(x; G(z), σ² I)^β``. The paper's preset adapts step sizes per chain during the run, as Wu et
  al. do (``step_tuning="chain"``; strictly this makes the estimate only approximately unbiased).
* ``"posterior"`` — chains start from a mixture of Gaussians (Laplace approximations) at the modes of the
  posterior plus a defensive prior component, ``q`` (`ganaudit.density.posterior`), and the targets are the geometric
  bridge ``q^{1−β} p(x, z)^β``. Each mode is a stratum: its chains run HMC in the coordinates that mode's
  Gaussian whitens (the chain's mode is part of its state and never changes, so each stratum estimates
  ``∫ p(x, z) r_k(z) dz / π_k`` with ``r_k`` the mode's responsibility, and the strata add up to ``p(x)``);
  the defensive component is a stratum of plain importance sampling (``prior_draws`` forward passes). Step
  sizes come from a pilot pass and are frozen (``step_tuning="pilot"``), so the estimate of ``p(x)`` is
  exactly unbiased and ``log_px`` a stochastic lower bound of ``log p(x)``. Why: a real image sits off the
  generator's manifold, where the posterior is narrow and often multimodal; chains from the prior spend
  most of their budget finding it (the paper's Fig 9), chains from its modes only need to correct a
  Gaussian approximation.

Conventions:
    * ``x`` is on the model scale ``[-1, 1]``; ``sigma2`` a variance on that scale; the likelihood includes the
      full Gaussian normaliser ``−D/2 · log(2π sigma2)`` with ``D = C·H·W``; nats; log-weights in float64.
    * Chains live in the batch dimension, image-major: row ``i · n_chains + c`` is chain ``c`` of image ``i``.
    * Reproducibility: every random draw for image ``i`` comes from a ``torch.Generator`` seeded with ``seed[i]``
      (``seed + i`` for an int seed); the mode search's pool is shared (``SearchConfig.search_seed``). An image's
      estimate does not depend on how images are batched or sharded.
    * Cost (`cost`): generator passes per image, counted by kind.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
import torch
from torch import Tensor

from ganaudit.data import evaluation
from ganaudit.data.images import ImageGroup, to_model_scale
from ganaudit.data.stats import log_mean_exp
from ganaudit.density.annealing import SCHEDULES, betas_of, schedule  # noqa: F401
from ganaudit.density.estimators import ESTIMATORS, chain_evaluations, estimator, image_seeds
from ganaudit.density.posterior import SearchConfig
from ganaudit.density.target import make_loglik  # noqa: F401
from ganaudit.models.base import Generator, check_labels

STARTS = tuple(ESTIMATORS)
STEP_TUNINGS = ("chain", "pilot")


@dataclass(frozen=True)
class AISConfig:
    """AIS settings. Defaults follow the paper (B.1): prior start, 500 steps, 10 leapfrogs, 4 chains, sigmoid,
    step size 0.05 adapted per chain.

    Attributes:
        n_steps: number of intermediate distributions ``T`` (betas has ``T + 1`` entries).
        n_leapfrog: leapfrog steps per HMC transition.
        n_chains: AIS chains per image (their weights are averaged in linear space).
        schedule: ``"sigmoid"`` (Wu et al.), ``"geometric"`` or ``"linear"``; see `schedule`.
        start: ``"prior"`` or ``"posterior"`` (see the module doc).
        step_tuning: ``"chain"`` (per-chain adaptation during the run, the paper's) or ``"pilot"`` (a pilot pass of
            ``pilot_fraction · n_steps`` temperatures tunes the step sizes, which are then frozen).
        step_size: initial leapfrog step size (latent units; whitened units for the posterior start).
        target_accept: step sizes adapt so the smoothed MH acceptance approaches this.
        sigmoid_radius: ``r`` of the sigmoid schedule (sigmoid of ``linspace(−r, r)``).
        geometric_start: first nonzero beta of the geometric schedule.
        step_size_min, step_size_max: clip range of the adapted step sizes.
        adapt_rate: per-transition multiplicative step-size change (``× 1+rate`` or ``÷ 1+rate``).
        adapt_smoothing: moving-average weight of past acceptance probabilities.
        prior_draws: importance samples of the defensive prior component (posterior start; forward passes only).
        search: the mode search and proposal settings of the posterior start (`ganaudit.density.posterior.SearchConfig`).
        batch_size: images per batch (``batch_size * n_chains`` generator rows per call).
        progress: show a tqdm bar per batch.
    """

    n_steps: int = 500
    n_leapfrog: int = 10
    n_chains: int = 4
    schedule: str = "sigmoid"
    start: str = "prior"
    step_tuning: str = "chain"
    pilot_fraction: float = 0.125
    step_size: float = 0.05
    target_accept: float = 0.65
    sigmoid_radius: float = 4.0
    geometric_start: float = 1e-4
    step_size_min: float = 1e-4
    step_size_max: float = 0.5
    adapt_rate: float = 0.02
    adapt_smoothing: float = 0.9
    prior_draws: int = 4
    search: SearchConfig = field(default_factory=SearchConfig)
    batch_size: int = 64
    progress: bool = True

    def __post_init__(self) -> None:
        if isinstance(self.search, dict):
            object.__setattr__(self, "search", SearchConfig(**self.search))
        for name in ("n_steps", "n_leapfrog", "n_chains", "batch_size", "prior_draws"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"AISConfig.{name} must be >= 1 (got {getattr(self, name)})")
        for name, allowed in (("schedule", SCHEDULES), ("start", STARTS), ("step_tuning", STEP_TUNINGS)):
            if getattr(self, name) not in allowed:
                raise ValueError(f"AISConfig.{name} must be one of {allowed} (got {getattr(self, name)!r})")
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
        if not 0 < self.pilot_fraction <= 1:
            raise ValueError(f"AISConfig.pilot_fraction must be in (0, 1] (got {self.pilot_fraction})")
        if self.adapt_rate < 0 or not 0 <= self.adapt_smoothing < 1:
            raise ValueError(
                f"AISConfig needs adapt_rate >= 0 and adapt_smoothing in [0, 1) (got {self.adapt_rate}, {self.adapt_smoothing})"
            )

    @property
    def gradient_evaluations(self) -> int:
        """Generator forward+backward passes of one chain's annealing: ``1 + (n_steps − 1) · n_leapfrog``."""
        return 1 + (self.n_steps - 1) * self.n_leapfrog

    @property
    def pilot_steps(self) -> int:
        """Temperatures of the pilot pass (``step_tuning="pilot"``)."""
        return max(2, int(round(self.pilot_fraction * self.n_steps)))

    def scaled(self, factor: float) -> AISConfig:
        """The same estimator with ``factor`` times its budget: that many times the temperatures and, for the
        posterior start, the mode search's restarts and tempered-search particles (so a longer run also searches
        harder). With ``search.smc_scaled > 0``, a larger budget (``factor > 1``) of a search without a tempered
        stage gets one, with ``smc_scaled · factor`` particles (`ganaudit.density.smc`; the benchmark's references do:
        on some images off the manifold it finds basins that more restarts miss, on others the reverse)."""
        s = self.search
        more = lambda k: int(math.ceil(k * factor))  # noqa: E731
        particles = more(s.smc_particles if s.smc_particles or factor <= 1 else s.smc_scaled)  # 0 when both are
        search = dataclasses.replace(s, search_restarts=more(s.search_restarts), extra_restarts=more(s.extra_restarts),
                                     smc_particles=particles)
        search = dataclasses.replace(search, search_candidates=max(s.search_candidates,
                                                                   2 * (search.search_restarts + search.extra_restarts)))
        return dataclasses.replace(self, n_steps=max(2, int(round(self.n_steps * factor))), search=search)


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
    # posterior-started AIS (module doc), chosen with `benchmarks/bench_posterior_ais.py` on the default run's GAN
    # (4 images per group against references with 16x the passes): 4 chains instead of 2 gained < 2 nats per group
    # at 1.4x the time; 300 temperatures instead of 200 gained < 2.5; a search learning rate of 0.6 instead of
    # 0.3 lost 17 nats on constant colours; 48 second-round restarts instead of 12 found no better mode.
    "posterior": AISConfig(start="posterior", step_tuning="pilot", n_steps=200, n_leapfrog=1, n_chains=2,
                           schedule="geometric", geometric_start=1e-3, step_size=0.5, step_size_max=3.0),
}


@dataclass(frozen=True)
class AISResult:
    """AIS estimates for ``N`` images.

    Attributes:
        log_px: float64 ``[N]``, log-likelihood estimate in nats, ``logsumexp([log_w, log_w_defensive]) −
            log n_chains``; a stochastic lower bound for `ais_log_likelihood`, an upper bound for
            `ganaudit.density.bdmc.ais_upper_bound`.
        log_w: float64 ``[N, n_chains]``, final log importance weights per chain (posterior start: with the
            stratum's weight folded in, ``log W + log(n_chains · π_k / n_k)``; `ganaudit.density.bdmc.ais_upper_bound`:
            the negated reverse weights).
        log_w_defensive: float64 ``[N, prior_draws]`` the defensive prior component's weights, folded in the same
            way (posterior start; ``[N, 0]`` otherwise).
        accept_rate: ``[N, n_chains]`` fraction of accepted HMC proposals.
        n_divergent: ``[N, n_chains]`` int, rejected non-finite trajectories.
        mode: ``[N, n_chains]`` int, the posterior mode each chain started from (−1 for the prior start).
        laplace: float64 ``[N]`` the Laplace estimate of ``log p(x)`` at the best mode (NaN for the prior start).
        evaluations: ``[N]`` int, generator passes spent on each image (forward+backward, JVP or forward alike;
            the posterior start's shared pool is not included).
        config: the settings used.
    """

    log_px: np.ndarray
    log_w: np.ndarray
    accept_rate: np.ndarray
    n_divergent: np.ndarray
    config: AISConfig = field(default_factory=AISConfig)
    log_w_defensive: np.ndarray | None = None
    mode: np.ndarray | None = None
    laplace: np.ndarray | None = None
    evaluations: np.ndarray | None = None


def cost(config: AISConfig, latent_dim: int, n_given: int = 0) -> dict[str, int]:
    """Generator passes per image (and class) by kind: ``gradient`` (forward + backward), ``jvp`` (forward-mode
    Jacobian columns), ``forward``; ``total`` adds them. ``n_given``: latents the caller gives the mode search.
    The posterior start's shared pool (``search_candidates`` forwards per class and batch) is not included."""
    out = {"gradient": chain_evaluations(config), "jvp": 0, "forward": 0}
    for kind, passes in estimator(config).search_cost(config, latent_dim, n_given).items():
        out[kind] += passes
    out["total"] = out["gradient"] + out["jvp"] + out["forward"]
    return out


def check_latents(config: AISConfig, latents: Tensor | np.ndarray | None) -> None:
    """A one-line error where search starts are given to an estimator without a mode search (the prior start)."""
    if latents is not None and not estimator(config).uses_latents:
        raise ValueError(f"latents are used by the posterior start only (config.start is {config.start!r})")


def check_inputs(generator: Generator, x: Tensor, sigma2: float, labels: Tensor | None) -> tuple[Tensor, Tensor | None]:
    x = torch.as_tensor(x)
    if x.dim() != 4 or tuple(x.shape[1:]) != tuple(generator.image_shape):
        raise ValueError(f"x must have shape [N, {', '.join(map(str, generator.image_shape))}], got {tuple(x.shape)}")
    if not (isinstance(sigma2, (int, float)) and sigma2 > 0 and math.isfinite(sigma2)):
        raise ValueError(f"sigma2 must be a finite variance > 0 on the model scale, got {sigma2!r}")
    return x, check_labels(generator, labels, x.shape[0])


def ais_log_likelihood(
    generator: Generator,
    x: Tensor,
    sigma2: float,
    labels: Tensor | None = None,
    config: AISConfig = AISConfig(),
    seed: int | np.ndarray = 0,
    latents: Tensor | np.ndarray | None = None,
) -> AISResult:
    """AIS estimate (stochastic lower bound) of ``log p(x)`` under the Gaussian observation model.

    Args:
        generator: any `Generator` (put modules in ``eval()`` mode: chains must not interact).
        x: images ``[N, C, H, W]`` on the model scale ``[-1, 1]``.
        sigma2: observation variance on the model scale.
        labels: ``[N]`` classes for class-conditional generators (repeated per chain).
        config: `AISConfig` (e.g. ``PRESETS["paper"]``, ``PRESETS["posterior"]``); ``config.start`` picks the method.
        seed: int (image ``i`` uses ``seed + i``) or int array ``[N]`` of per-image seeds.
        latents: ``[N, R, d]`` latents the posterior start's mode search begins from besides its own (e.g. the
            pipeline's inversion restarts; NaN rows are ignored); without them it searches on its own.

    Returns:
        `AISResult` with ``log_px`` float64 ``[N]`` in nats.
    """
    x, labels = check_inputs(generator, x, sigma2, labels)
    n, c = x.shape[0], config.n_chains
    seeds = image_seeds(seed, n)
    est = estimator(config)
    check_latents(config, latents)
    log_w, rate, div = np.empty((n, c)), np.empty((n, c)), np.empty((n, c), dtype=np.int64)
    defensive = np.empty((n, est.n_defensive(config)))
    mode, laplace = np.full((n, c), -1, dtype=np.int64), np.full(n, np.nan)
    evals = np.full(n, chain_evaluations(config), dtype=np.int64)
    for lo in range(0, n, config.batch_size):
        hi = min(n, lo + config.batch_size)
        lab = None if labels is None else labels[lo:hi]
        lat = None if latents is None else torch.as_tensor(latents)[lo:hi]
        b = est.forward(generator, x[lo:hi], lab, sigma2, config, seeds[lo:hi], lat)
        log_w[lo:hi], rate[lo:hi], div[lo:hi], defensive[lo:hi] = b.log_w, b.accept_rate, b.n_divergent, b.defensive
        mode[lo:hi], laplace[lo:hi], evals[lo:hi] = b.mode, b.laplace, b.evaluations
    log_px = log_mean_exp(np.concatenate([log_w, defensive], axis=1), axis=-1) + np.log((c + defensive.shape[1]) / c)
    return AISResult(log_px=log_px, log_w=log_w, accept_rate=rate, n_divergent=div, config=config,
                     log_w_defensive=defensive, mode=mode, laplace=laplace, evaluations=evals)


def config_from_params(params: dict[str, Any], **extra: Any) -> AISConfig:
    """The `AISConfig` of the ``ais`` config section: the preset with ``overrides`` applied."""
    names = {f.name for f in fields(AISConfig)}
    overrides = dict(params.get("overrides") or {})
    unknown = sorted(set(overrides) - names)
    if unknown:
        raise ValueError(f"config: ais.overrides: unknown AISConfig field(s) {unknown} (known: {sorted(names)})")
    base = PRESETS[params.get("preset", "paper")]
    if isinstance(overrides.get("search"), dict):
        overrides["search"] = dataclasses.replace(base.search, **overrides["search"])
    extra = {k: v for k, v in extra.items() if k in names}
    if "batch_size" in params:
        extra.setdefault("batch_size", params["batch_size"])
    return dataclasses.replace(base, **{**overrides, **extra})


def within_memory(config: AISConfig, memory_mb: float) -> AISConfig:
    """``config`` with the posterior search's curvature and pool under ``memory_mb`` (e.g. part of a job's
    ``resources: mem_mb``; `ganaudit.density.posterior.SearchConfig` ``memory_mb``), unless it sets a budget itself."""
    if memory_mb < 0:
        raise ValueError(f"within_memory: memory_mb must be >= 0 (got {memory_mb})")
    if config.search.memory_mb or not memory_mb:
        return config
    return dataclasses.replace(config, search=dataclasses.replace(config.search, memory_mb=float(memory_mb)))


def ais_group(generator: Generator, group: ImageGroup, group_name: str, sigma2: float, ais_config: AISConfig,
              seed: int, first_index: int, device: torch.device, latents: np.ndarray | None = None,
              exact_when_known: bool = False) -> dict[str, np.ndarray]:
    """AIS log-likelihood of every image of ``group`` under the classes `pipeline.evaluation_pairs` says.

    Image ``i`` of the group (``first_index + i`` in the whole group) with class ``c`` draws its random
    numbers from seed ``seed + (first_index + i) * K + c``: independent of sharding and batching.
    ``latents`` ``[n, K, R, d]`` (the inversion's restarts, NaN where absent) start the posterior's mode search.
    ``exact_when_known``: a generator with an exact ``log_likelihood(x, sigma2, labels)`` (PPCA) is not estimated
    at all; its rows then hold the exact value and NaN chain diagnostics (``exact`` is True).
    """
    n, k = len(group), generator.n_classes or 1
    if n == 0:
        empty = np.empty((0, k))
        chains = np.empty((0, k, ais_config.n_chains))
        out = {"index": np.arange(0), "labels": group.labels, "source_labels": group.source_labels,
               "log_px_class": empty, "log_w": chains, "accept_rate": chains, "n_divergent": chains, "evaluations": empty,
               "exact": np.zeros(0, dtype=bool)}
        if estimator(ais_config).has_laplace:
            out["laplace_class"] = empty
        return out
    rows, cols = evaluation.evaluation_pairs(group_name, group.labels, generator.n_classes)
    x = to_model_scale(group.images)[rows].to(device)
    labels = None if not generator.n_classes else torch.as_tensor(cols, device=device)
    seeds = seed + (first_index + rows) * k + np.maximum(cols, 0)
    lat = None
    if latents is not None and estimator(ais_config).uses_latents:
        lat = torch.as_tensor(np.asarray(latents)[rows, np.maximum(cols, 0)])
    exact = exact_when_known and callable(getattr(generator, "log_likelihood", None))
    if exact:
        nan = np.full((len(rows), ais_config.n_chains), np.nan)
        res = AISResult(log_px=np.asarray(generator.log_likelihood(x, sigma2, labels), dtype=np.float64), log_w=nan,
                        accept_rate=nan, n_divergent=nan, config=ais_config, evaluations=np.zeros(len(rows)),
                        laplace=np.full(len(rows), np.nan))
    else:
        res = ais_log_likelihood(generator, x, sigma2, labels=labels, config=ais_config, seed=seeds, latents=lat)
    out = {
        "index": np.arange(first_index, first_index + n), "labels": group.labels, "source_labels": group.source_labels,
        "log_px_class": evaluation.scatter(np.asarray(res.log_px, dtype=np.float64), rows, cols, n, k),
        "log_w": evaluation.scatter(np.asarray(res.log_w, dtype=np.float64), rows, cols, n, k),
        "accept_rate": evaluation.scatter(np.asarray(res.accept_rate, dtype=np.float64), rows, cols, n, k),
        "n_divergent": evaluation.scatter(np.asarray(res.n_divergent, dtype=np.float64), rows, cols, n, k),
    }
    out["evaluations"] = evaluation.scatter(np.asarray(res.evaluations, dtype=np.float64), rows, cols, n, k)
    out["exact"] = np.full(n, exact)  # per image, so that shards concatenate
    if estimator(ais_config).has_laplace:
        out["laplace_class"] = evaluation.scatter(np.asarray(res.laplace, dtype=np.float64), rows, cols, n, k)
    return out


def independent_check(config: AISConfig, seed: int, smc_scaled: int = 0) -> AISConfig:
    """``config`` for an error-bar re-estimate that searches on its own: its own pool of candidate latents (a search
    seed drawn from ``seed``, never the run's `ganaudit.density.posterior.SEARCH_SEED`) and, for budgets above the
    run's (`AISConfig.scaled`), a tempered SMC search with ``smc_scaled`` particles per unit of budget (0: none). The
    caller also leaves out the inversion's latents, so the re-estimate's restarts are its own too."""
    s = config.search
    search_seed = int(np.random.default_rng([seed, 17]).integers(2**31 - 1))
    if search_seed == s.search_seed:
        search_seed += 1
    return dataclasses.replace(config, search=dataclasses.replace(s, search_seed=search_seed,
                                                                  smc_scaled=max(s.smc_scaled, int(smc_scaled))))


def reestimate_group(generator: Generator, group: ImageGroup, group_name: str, sigma2: float, config: AISConfig,
                     factors: list[float], seed: int, device: str | torch.device, latents: np.ndarray | None = None,
                     exact_when_known: bool = False) -> dict[str, np.ndarray]:
    """Estimates of ``group``'s images (an `ImageGroup`, the first images of the group) at each budget factor.

    Returns ``factors [F]``, ``log_px_class [F, n, K]`` and ``log_px [F, n]`` (class mixture, as the run reports
    it), ``evaluations [F, n]`` (generator passes per image, summed over the classes evaluated).
    """
    factors = sorted(float(f) for f in set(factors))
    per_class, marginal, evals = [], [], []
    for f in factors:
        out = ais_group(generator, group, group_name, sigma2, config.scaled(f), seed, 0, device, latents,
                        exact_when_known)
        per_class.append(out["log_px_class"])
        marginal.append(evaluation.marginal_log_px(out["log_px_class"], group.labels, group_name))
        evals.append(np.nansum(out["evaluations"], axis=1))
    return {"factors": np.asarray(factors), "log_px_class": np.stack(per_class), "log_px": np.stack(marginal),
            "evaluations": np.stack(evals)}


__all__ = ["AISConfig", "AISResult", "PRESETS", "SCHEDULES", "STARTS", "ais_group", "ais_log_likelihood",
           "check_latents", "independent_check", "reestimate_group", "betas_of", "config_from_params", "cost", "make_loglik", "schedule"]
