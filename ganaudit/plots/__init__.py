"""Seaborn figures of the paper, one function per figure, in one module per paper section.

=====================  ====================================================================
module                 figures
=====================  ====================================================================
`plots.manifold`       Fig 3, 5, 10, 11 — reconstruction errors and projections (section 3)
`plots.classification` Fig 4, 7 — classification and outlier detection vs 1NN (3.2, 4.1)
`plots.density`        Fig 8, 9, 12 — log-likelihoods and AIS convergence (section 4)
`plots.typicality`     Table 2 as a figure — the typicality test (4.3)
`plots.training`       training curves and samples of each model
`plots.audits`         the tests beyond the paper: birthday paradox, memorisation, coverage, latent sweep
`plots.style`          what they share: colours per group, fonts, `save`, image grids
=====================  ====================================================================

Every figure function takes plain arrays / data frames and returns a `matplotlib.figure.Figure`;
`save` writes it as PNG and PDF. Units used throughout:

* reconstruction error: per-pixel MSE on the model scale ``[-1, 1]``, plotted as ``log10``;
* log-likelihood: bits/dim (``ganaudit.data.stats.bits_per_dim``, higher is better) or nats;
* images: uint8 ``[N, C, H, W]`` (stored format) or float ``[N, C, H, W]`` on ``[-1, 1]``
  (reconstructions).

Groups that are absent or empty are left out of a figure and named in its bottom note (the
``notes`` argument of each function), never an error. The artifacts are read into these inputs by
`ganaudit.artifacts.readers`.
"""

# Names resolve lazily (PEP 562): importing one section (`from ganaudit.plots import density`) loads that
# module and `style` only, so a figure script depends on exactly the code it draws with (the workflow lists
# each script's imports as code inputs), while `plots.fig3_reconstruction(...)` keeps working.
_HOME = {
    "fig3_reconstruction": "manifold", "fig5_groups": "manifold", "fig10_reconstruction_all_models": "manifold",
    "fig11_inversions_all_models": "manifold", "fig4_manifold_inference": "classification",
    "fig7_density_inference": "classification", "fig8_likelihood": "density", "fig9_ais_convergence": "density",
    "fig12_likelihood_all_models": "density", "table2_typicality": "typicality", "training_figure": "training",
    "support_collisions": "audits", "memorisation_distances": "audits", "coverage_histograms": "audits",
    "tgtr_accuracy_curve": "audits", "latent_sweep_psnr": "audits",
    "save": "style", "group_colours": "style", "group_order": "style", "absent_groups": "style",
    "as_uint8": "style", "mosaic": "style", "GROUP_ORDER": "style", "GRID_PAD_COLOUR": "style",
}
__all__ = list(_HOME)


def __getattr__(name: str):
    if name not in _HOME:
        raise AttributeError(f"module 'ganaudit.plots' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"ganaudit.plots.{_HOME[name]}"), name)
