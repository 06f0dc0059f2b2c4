"""ganaudit: audit whether a GAN has learned its training distribution.

Reproduces *Intriguing Properties of Modern GANs*: latent inversion, manifold inference, AIS
log-likelihoods under a Gaussian observation model, and the typicality test, with the tests beyond the paper.

Packages by stage, as the rule files are (each package's docstring maps its modules):

==============  ===========================================================================================
package         stage
==============  ===========================================================================================
`data`          images, their sources and groups, the statistics every stage shares
`artifacts`     HDF5 store, readers of pipeline artifacts, tables
`models`        the Generator protocol, built-in models, their training, adapters for pretrained GANs
`manifold`      inversion, distances, manifold classification / outlier detection (paper section 3)
`density`       AIS log-likelihoods, BDMC, error bars, density tables, typicality (section 4)
`audits`        the tests beyond the paper
`findings`      the four findings as measured, and the front page
`plots`         seaborn figures, one module per paper section
`workflow`      config logic, code inputs, what every script does first
==============  ===========================================================================================

The data flow and the contracts (images, the Generator protocol, log-likelihoods, error bars, artifacts) are
described in docs/architecture.md.
"""

__version__ = "0.1.0"
