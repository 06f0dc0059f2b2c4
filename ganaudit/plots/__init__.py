"""Seaborn figures of the paper, one function per figure, in one module per paper section.

=====================  ====================================================================
module                 figures
=====================  ====================================================================
`plots.manifold`       Fig 3, 5, 10, 11 — reconstruction errors and projections (section 3)
`plots.inference`      Fig 4, 7 — classification and outlier detection vs 1NN (3.2, 4.1)
`plots.density`        Fig 8, 9, 12 — log-likelihoods and AIS convergence (section 4)
`plots.typicality`     Table 2 as a figure — the typicality test (4.3)
`plots.training`       training curves and samples of each model
`plots.style`          what they share: colours per group, fonts, `save`, image grids
=====================  ====================================================================

Every figure function takes plain arrays / data frames and returns a `matplotlib.figure.Figure`;
`save` writes it as PNG and PDF. Units used throughout:

* reconstruction error: per-pixel MSE on the model scale ``[-1, 1]``, plotted as ``log10``;
* log-likelihood: bits/dim (``ganaudit.stats.bits_per_dim``, higher is better) or nats;
* images: uint8 ``[N, C, H, W]`` (stored format) or float ``[N, C, H, W]`` on ``[-1, 1]``
  (reconstructions).

Groups that are absent or empty are left out of a figure and named in its bottom note (the
``notes`` argument of each function), never an error. The artifacts are read into these inputs by
`ganaudit.artifacts`.
"""

from ganaudit.plots.density import fig8_likelihood, fig9_ais_convergence, fig12_likelihood_all_models
from ganaudit.plots.inference import fig4_manifold_inference, fig7_density_inference
from ganaudit.plots.manifold import (fig3_reconstruction, fig5_groups, fig10_reconstruction_all_models,
                                     fig11_inversions_all_models)
from ganaudit.plots.style import (GRID_PAD_COLOUR, GROUP_ORDER, absent_groups, as_uint8, group_colours, group_order,
                                  mosaic, save)
from ganaudit.plots.training import training_figure
from ganaudit.plots.typicality import table2_typicality

__all__ = [
    "save",
    "fig3_reconstruction",
    "fig4_manifold_inference",
    "fig5_groups",
    "fig7_density_inference",
    "fig8_likelihood",
    "fig9_ais_convergence",
    "fig10_reconstruction_all_models",
    "fig11_inversions_all_models",
    "fig12_likelihood_all_models",
    "table2_typicality",
    "training_figure",
    "group_colours",
    "group_order",
    "absent_groups",
    "as_uint8",
    "mosaic",
    "GROUP_ORDER",
    "GRID_PAD_COLOUR",
]
