"""ganaudit: audit whether a GAN has learned its training distribution.

Reproduces *Intriguing Properties of Modern GANs*: latent inversion, manifold inference, AIS
log-likelihoods under a Gaussian observation model, and the typicality test.
"""

__version__ = "0.1.0"
