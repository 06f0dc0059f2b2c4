"""GAN inversion in Z space (paper eq. 3 and appendix B.2): ``z* = argmin_z ||G(z) − x||²``.

Algorithm, per image ``x`` (model scale ``[-1, 1]``) and restart ``r``:

1. *Nearest-of-N initialisation.* Restart ``r`` draws a pool of ``n_candidates`` latents from N(0, I)
   with a seed derived from ``(seed, r)`` only; for a class-conditional model the pool is rendered as
   ``G(z_pool_r, c)`` with the image's own class ``c``. The start is the pool latent whose image is
   closest to ``x`` in L2. Pools are rendered once per (restart, class) and shared by all images.
2. *Adam + cosine schedule* on the per-image MSE for ``n_steps`` steps; ``lr_t = lr · ½(1 + cos(π t / T))``.
   Images × restarts share the batch dimension (image-major: row ``i · n_restarts + r``). The loss is the
   *sum* of per-row MSEs, so each row's gradient is its own MSE's gradient, and Adam is elementwise:
   the trajectory of one (image, restart) does not depend on which other images share the batch.
3. The best iterate of each restart (lowest MSE seen, including the final one) is kept, and the best
   restart per image is returned.

Results therefore do not depend on ``batch_size`` or on how a data set is sharded, up to float
rounding of batched kernels (provided the generator has no cross-sample layers in eval mode; an
``nn.Module`` generator is switched to ``eval()`` for the call and restored afterwards).
Latents are unconstrained real vectors (no prior term, no W/W+ space), as in the paper.

Units: ``mse`` is the mean over pixels and channels on the model scale; `psnr_db` converts it to PSNR
on the ``[0, 1]`` scale (``MSE_01 = MSE_model / 4``).
"""

from __future__ import annotations

import contextlib
import logging
import math
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from ganaudit.data import evaluation
from ganaudit.data.images import ImageGroup, to_model_scale
from ganaudit.manifold.distances import Perceptual, mse, psnr_db
from ganaudit.models.base import Generator, check_labels, device_of, sample

__all__ = ["InversionConfig", "InversionResult", "invert", "invert_own_samples", "candidate_pool", "psnr_db"]

log = logging.getLogger("ganaudit.manifold.inversion")


@dataclass(frozen=True)
class InversionConfig:
    """Settings of `invert`; defaults follow the paper's appendix B.2.

    n_candidates: pool size of the nearest-of-N initialisation (paper: ~500).
    n_restarts: independent restarts per image, each with its own pool (paper: ~4).
    n_steps: Adam steps per restart (paper: 500–750).
    lr: peak Adam learning rate, in latent units (z ~ N(0, I)).
    lr_schedule: ``"cosine"`` (lr → 0 at the last step) or ``"constant"``.
    betas: Adam's (β1, β2).
    batch_size: images per optimisation batch; the batch dimension holds batch_size × n_restarts rows.
    pool_batch_size: latents per generator call when rendering a candidate pool.
    perceptual_weight: weight of an optional perceptual term (`Perceptual.distance`) added to the MSE
        objective; 0 (default, the paper's setting) optimises the MSE alone. Restart selection and
        best-iterate tracking use the optimised objective; ``mse`` is always reported.
    progress: show a tqdm progress bar per batch.
    """

    n_candidates: int = 500
    n_restarts: int = 4
    n_steps: int = 750
    lr: float = 0.05
    lr_schedule: str = "cosine"
    betas: tuple[float, float] = (0.9, 0.999)
    batch_size: int = 64
    pool_batch_size: int = 500
    perceptual_weight: float = 0.0
    progress: bool = True

    def __post_init__(self) -> None:
        for name in ("n_candidates", "n_restarts", "batch_size", "pool_batch_size"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"InversionConfig.{name} must be ≥ 1 (got {getattr(self, name)})")
        if self.n_steps < 0:
            raise ValueError(f"InversionConfig.n_steps must be ≥ 0 (got {self.n_steps})")
        if not self.lr > 0:
            raise ValueError(f"InversionConfig.lr must be > 0 (got {self.lr})")
        if self.lr_schedule not in ("cosine", "constant"):
            raise ValueError(f"InversionConfig.lr_schedule must be 'cosine' or 'constant' (got {self.lr_schedule!r})")
        if len(self.betas) != 2 or not all(0 <= b < 1 for b in self.betas):
            raise ValueError(f"InversionConfig.betas must be two numbers in [0, 1) (got {self.betas})")
        if self.perceptual_weight < 0:
            raise ValueError(f"InversionConfig.perceptual_weight must be ≥ 0 (got {self.perceptual_weight})")

    def to_dict(self) -> dict:
        """Plain dict (for artifact attrs)."""
        return asdict(self)

    def lr_at(self, step: int) -> float:
        """Learning rate used at ``step`` (0-based) of ``n_steps``."""
        if self.lr_schedule == "constant" or self.n_steps == 0:
            return self.lr
        return self.lr * 0.5 * (1.0 + math.cos(math.pi * step / self.n_steps))


@dataclass(frozen=True)
class InversionResult:
    """Output of `invert` for ``N`` images and ``R = n_restarts``.

    z: ``[N, latent_dim]`` best latent. recon: ``[N, C, H, W]`` ``G(z)`` on the model scale.
    mse: ``[N]`` MSE of ``recon`` to the image (model scale). restart_mse: ``[N, R]`` best MSE of each
    restart. init_mse: ``[N, R]`` MSE of each restart's nearest candidate (before optimisation).
    best_restart: ``[N]`` index of the restart that won. objective: ``[N, R]`` the optimised objective
    at each restart's best iterate (equals restart_mse when ``perceptual_weight == 0``). restart_z:
    ``[N, R, d]`` each restart's best latent (``z`` is the winner's).
    All tensors are on the CPU; float tensors float32.
    """

    z: Tensor
    recon: Tensor
    mse: Tensor
    restart_mse: Tensor
    init_mse: Tensor
    best_restart: Tensor
    objective: Tensor
    restart_z: Tensor

    @property
    def psnr_db(self) -> Tensor:
        """``[N]`` PSNR of the reconstructions in dB on the ``[0, 1]`` scale."""
        return psnr_db(self.mse)


def _pool_seed(seed: int, restart: int, stream: int = 0x5EED) -> int:
    """A seed for restart ``restart``'s candidate pool that depends only on (seed, restart)."""
    if int(seed) < 0:
        raise ValueError(f"seed must be a non-negative integer (got {seed})")
    return int(np.random.SeedSequence([int(seed), stream, int(restart)]).generate_state(1, dtype=np.uint64)[0] >> 1)


def candidate_pool(latent_dim: int, n_candidates: int, seed: int, restart: int) -> Tensor:
    """The ``[n_candidates, latent_dim]`` N(0, I) pool of restart ``restart`` (CPU, float32)."""
    g = torch.Generator(device="cpu").manual_seed(_pool_seed(seed, restart))
    return torch.randn(n_candidates, latent_dim, generator=g)


@contextlib.contextmanager
def _eval_mode(generator: Generator) -> Iterator[None]:
    """Put an ``nn.Module`` generator in eval mode for the duration (restored afterwards)."""
    was_training = isinstance(generator, nn.Module) and generator.training
    if was_training:
        log.info("generator was in training mode; using eval() for inversion (restored afterwards)")
        generator.eval()
    try:
        yield
    finally:
        if was_training:
            generator.train()


@torch.no_grad()
def _nearest_candidates(generator: Generator, x: Tensor, labels: Tensor | None, config: InversionConfig,
                        seed: int, device: torch.device) -> tuple[Tensor, Tensor]:
    """Start latents ``[N, R, d]`` and their MSEs ``[N, R]``: per restart, the pool latent nearest in L2.

    Each pool is rendered once per (restart, class present in ``labels``), in chunks, and compared with
    all images of that class. Distances are accumulated in float64 so that near-ties resolve the same
    way whatever the set of images.
    """
    n, d, R = x.shape[0], generator.latent_dim, config.n_restarts
    z0 = torch.empty(n, R, d)
    init = torch.empty(n, R, dtype=torch.float64)
    xf = x.flatten(1).to(device, torch.float64)
    x_sq = xf.pow(2).sum(1)
    groups: list[tuple[int | None, Tensor]]
    if labels is None:
        groups = [(None, torch.arange(n))]
    else:
        groups = [(int(c), torch.nonzero(labels == c).flatten()) for c in torch.unique(labels)]
    n_pix = xf.shape[1]
    for r in range(R):
        pool = candidate_pool(d, config.n_candidates, seed, r)
        for c, idx in groups:
            best = torch.full((idx.numel(),), math.inf, dtype=torch.float64, device=device)
            arg = torch.zeros(idx.numel(), dtype=torch.long, device=device)
            xs, xs_sq = xf[idx], x_sq[idx]
            for start in range(0, config.n_candidates, config.pool_batch_size):
                zc = pool[start:start + config.pool_batch_size].to(device)
                lab = None if c is None else torch.full((zc.shape[0],), c, dtype=torch.long, device=device)
                g = generator(zc, lab).flatten(1).to(torch.float64)
                dist = (xs_sq[:, None] + g.pow(2).sum(1)[None, :] - 2.0 * xs @ g.T) / n_pix
                val, j = dist.min(1)
                better = val < best
                best = torch.where(better, val, best)
                arg = torch.where(better, j + start, arg)
            z0[idx, r] = pool[arg.cpu()]
            init[idx, r] = best.clamp_min(0).cpu()
    return z0, init.float()


def invert(generator: Generator, x: Tensor, labels: Tensor | None = None, config: InversionConfig = InversionConfig(),
           seed: int = 0, device: str | torch.device | None = None,
           perceptual: Perceptual | None = None) -> InversionResult:
    """Project images onto the generator's manifold in Z space (see the module doc for the algorithm).

    generator: satisfies `ganaudit.models.base.Generator`. x: ``[N, C, H, W]`` on ``[-1, 1]`` with
    ``(C, H, W) == generator.image_shape``. labels: ``[N]`` class indices for a class-conditional
    generator (required then), else ``None``. seed: fixes the candidate pools (nothing else is random).
    device: where to run; default: the generator's parameters' device. perceptual: required iff
    ``config.perceptual_weight > 0``.
    """
    x = torch.as_tensor(x)
    if x.dim() != 4 or tuple(x.shape[1:]) != tuple(generator.image_shape):
        raise ValueError(f"x must have shape [N, {', '.join(map(str, generator.image_shape))}] "
                         f"(the generator's image_shape), got {tuple(x.shape)}")
    n = x.shape[0]
    labels = check_labels(generator, labels, n)
    labels = None if labels is None else labels.cpu()
    if config.perceptual_weight > 0 and perceptual is None:
        raise ValueError("perceptual must be given when config.perceptual_weight > 0")
    dev = torch.device(device) if device is not None else device_of(generator, x.device)
    R, d = config.n_restarts, generator.latent_dim
    x = x.float()

    with _eval_mode(generator):
        z0, init_mse = _nearest_candidates(generator, x, labels, config, seed, dev)
        outs = [_optimise_batch(generator, x[s:s + config.batch_size], z0[s:s + config.batch_size],
                                None if labels is None else labels[s:s + config.batch_size],
                                config, dev, perceptual, desc=f"invert batch {s // config.batch_size + 1}/"
                                f"{max(1, math.ceil(n / config.batch_size))}")
                for s in range(0, n, config.batch_size)]

    if outs:
        z_best = torch.cat([o[0] for o in outs])            # [N, R, d]
        recon_best = torch.cat([o[1] for o in outs])        # [N, R, C, H, W]
        mse_best = torch.cat([o[2] for o in outs])          # [N, R]
        obj_best = torch.cat([o[3] for o in outs])          # [N, R]
    else:
        z_best, recon_best = torch.zeros(0, R, d), torch.zeros(0, R, *generator.image_shape)
        mse_best, obj_best = torch.zeros(0, R), torch.zeros(0, R)
    winner = obj_best.argmin(1) if n else torch.zeros(0, dtype=torch.long)
    rows = torch.arange(n)
    return InversionResult(z=z_best[rows, winner], recon=recon_best[rows, winner], mse=mse_best[rows, winner],
                           restart_mse=mse_best, init_mse=init_mse, best_restart=winner, objective=obj_best,
                           restart_z=z_best)


def _optimise_batch(generator: Generator, x: Tensor, z0: Tensor, labels: Tensor | None, config: InversionConfig,
                    device: torch.device, perceptual: Perceptual | None,
                    desc: str) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Adam on one batch of ``b`` images × ``R`` restarts. Returns, per (image, restart), the best
    iterate's latent ``[b, R, d]``, image ``[b, R, C, H, W]``, MSE ``[b, R]`` and objective ``[b, R]``."""
    from tqdm.auto import tqdm

    b, R, d = z0.shape
    shape = tuple(x.shape[1:])
    xt = x.to(device).repeat_interleave(R, dim=0)                      # row i*R + r
    lab = None if labels is None else labels.to(device).repeat_interleave(R, dim=0)
    z = z0.reshape(b * R, d).to(device).clone().requires_grad_(True)
    opt = torch.optim.Adam([z], lr=config.lr, betas=config.betas)

    best_obj = torch.full((b * R,), math.inf, device=device)
    best_mse = torch.full((b * R,), math.inf, device=device)
    best_z = z.detach().clone()
    best_img = torch.zeros(b * R, *shape, device=device)

    def evaluate(zz: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        img = generator(zz, lab)
        err = mse(img, xt)
        obj = err if config.perceptual_weight == 0 else err + config.perceptual_weight * perceptual.distance(img, xt)
        return img, err, obj

    def track(img: Tensor, err: Tensor, obj: Tensor, zz: Tensor) -> None:
        nonlocal best_obj, best_mse, best_z, best_img
        better = obj.detach() < best_obj
        best_obj = torch.where(better, obj.detach(), best_obj)
        best_mse = torch.where(better, err.detach(), best_mse)
        best_z = torch.where(better[:, None], zz.detach(), best_z)
        best_img = torch.where(better.view(-1, *([1] * len(shape))), img.detach(), best_img)

    bar = tqdm(range(config.n_steps), desc=desc, disable=not config.progress, leave=False, mininterval=1.0)
    for step in bar:
        for group in opt.param_groups:
            group["lr"] = config.lr_at(step)
        img, err, obj = evaluate(z)
        track(img, err, obj, z)          # the iterate before this step's update
        (grad,) = torch.autograd.grad(obj.sum(), z)
        z.grad = grad
        opt.step()
        if config.progress and step % 50 == 0:
            bar.set_postfix(mse=f"{float(best_mse.mean()):.4g}")
    with torch.no_grad():
        track(*evaluate(z), z)           # the final iterate
    bar.close()
    return (best_z.view(b, R, d).cpu(), best_img.view(b, R, *shape).cpu(),
            best_mse.view(b, R).float().cpu(), best_obj.view(b, R).float().cpu())


@dataclass(frozen=True)
class SelfInversion:
    """`invert_own_samples` output: the true latents ``[N, d]``, labels ``[N]`` or None, the images
    ``[N, C, H, W]`` and the `InversionResult`."""

    z_true: Tensor
    labels: Tensor | None
    x: Tensor
    result: InversionResult


def invert_own_samples(generator: Generator, n: int, config: InversionConfig = InversionConfig(), seed: int = 0,
                       device: str | torch.device | None = None) -> SelfInversion:
    """Invert ``n`` images the generator made itself: the check that the optimiser works (a median PSNR
    of ≥ 30 dB on the ``[0, 1]`` scale is expected; see ``result.psnr_db``).

    Latents come from N(0, I) and, for a class-conditional model, labels cycle through the classes;
    both from streams independent of the candidate pools.
    """
    if n < 1:
        raise ValueError(f"n must be ≥ 1 (got {n})")
    with _eval_mode(generator):
        own = sample(generator, n, _pool_seed(seed, 0, stream=0x0A11), device=device)
    x = own.images.float()
    return SelfInversion(own.z, own.labels, x, invert(generator, x, own.labels, config, seed=seed, device=device))


def invert_group(generator: Generator, group: ImageGroup, group_name: str, inversion_params: dict[str, Any],
                 perceptual, seed: int, device: torch.device) -> dict[str, np.ndarray]:
    """Invert every image of ``group`` (under the classes `pipeline.evaluation_pairs` says) and measure the
    errors (L2 and perceptual) of the best reconstructions: the pipeline's inversion stage.

    Returns arrays ``[N, K, ...]`` (NaN where a class was not evaluated): ``mse``, ``perceptual``,
    ``restart_mse`` and ``init_mse`` ``[N, K, R]``, ``z`` ``[N, K, d]`` (the winner), ``restart_z``
    ``[N, K, R, d]`` (every restart's best latent: the modes a posterior-aware AIS starts from), ``recon``.
    """
    n, k = len(group), generator.n_classes or 1
    if n == 0:
        c, h, w = generator.image_shape
        empty = np.empty((0, k))
        return {"index": np.arange(0), "labels": group.labels, "source_labels": group.source_labels, "mse": empty,
                "perceptual": empty, "restart_mse": np.empty((0, k, inversion_params["n_restarts"])),
                "init_mse": np.empty((0, k, inversion_params["n_restarts"])),
                "z": np.empty((0, k, generator.latent_dim), np.float32), "recon": np.empty((0, k, c, h, w), np.float32),
                "restart_z": np.empty((0, k, inversion_params["n_restarts"], generator.latent_dim), np.float32)}
    rows, cols = evaluation.evaluation_pairs(group_name, group.labels, generator.n_classes)
    x = to_model_scale(group.images)
    xs = x[rows]
    labels = None if not generator.n_classes else torch.as_tensor(cols)
    cfg = evaluation.config_from(InversionConfig, inversion_params, progress=True)
    res = invert(generator, xs, labels, cfg, seed=seed, device=device)
    err_l2 = res.mse.numpy()  # the inversion already measured the winner's MSE
    with torch.no_grad():
        err_p = evaluation.batched(lambda a, b: perceptual.distance(a, b), xs, res.recon)
    return {
        "index": np.arange(n), "labels": group.labels, "source_labels": group.source_labels,
        "mse": evaluation.scatter(err_l2, rows, cols, n, k),
        "perceptual": evaluation.scatter(err_p, rows, cols, n, k),
        "restart_mse": evaluation.scatter(res.restart_mse.numpy(), rows, cols, n, k),
        "init_mse": evaluation.scatter(res.init_mse.numpy(), rows, cols, n, k),
        "z": evaluation.scatter(res.z.numpy(), rows, cols, n, k).astype(np.float32),
        "recon": evaluation.scatter(res.recon.numpy(), rows, cols, n, k).astype(np.float32),
        "restart_z": evaluation.scatter(res.restart_z.numpy(), rows, cols, n, k).astype(np.float32),
    }
