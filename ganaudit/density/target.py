"""The target every estimator and search of the density package evaluates: log p(x | z) and log p(x, z).

With the Gaussian observation model ``p(x | z) = N(x; G(z), σ² I)`` and the prior ``N(0, I)``:

* `make_loglik`: ``z -> (log p(x | z) without its constant, its gradient)``, one generator forward + backward;
* `energy`: ``U(z) = −log p(x, z)`` without constants, forward passes only.

The lowest layer of the package above the HMC kernel: annealing, the searches and the estimators import it, it
imports none of them.
"""

from __future__ import annotations

import torch
from torch import Tensor

from ganaudit.models.base import Generator


def make_loglik(generator: Generator, x: Tensor, labels: Tensor | None, sigma2: float):
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


def energy(generator: Generator, z: Tensor, x: Tensor, labels: Tensor | None, sigma2: float) -> Tensor:
    """``U(z) = |z|²/2 + |x − G(z)|²/(2σ²)`` float64 ``[B]`` (no constants), without gradients."""
    with torch.no_grad():
        r = (generator(z, labels) - x).flatten(1).double()
    return 0.5 * z.double().pow(2).sum(1) + r.pow(2).sum(1) / (2 * sigma2)


__all__ = ["energy", "make_loglik"]
