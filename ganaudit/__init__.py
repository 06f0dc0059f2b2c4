"""ganaudit: audit whether a GAN has learned its training distribution.

Reproduces *Intriguing Properties of Modern GANs*: latent inversion, manifold inference, AIS
log-likelihoods under a Gaussian observation model, and the typicality test, with the tests beyond the paper.

The layout, the data flow and the contracts (images, the Generator protocol, log-likelihoods, error bars,
artifacts) are described in docs/architecture.md.
"""

__version__ = "0.1.0"
