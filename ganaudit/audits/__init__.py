"""The tests beyond the paper, each a stage of its own: one registry entry and one module.

================  =========================================================================================
module            owns
================  =========================================================================================
`registry`        the one list of audits (`AUDITS`): stage, tables, finding, figure, seeds, inputs, params
`stage`           what a stage function receives and returns: `StageInputs` (loaded on demand), `StageOutput`
`common`          what the audits share: the model's sample pool, data frames in HDF5, gathered tables, the
                  latent-size sweep's rows
`features`        features whose Euclidean distance is L2 or the perceptual distance, pairwise distances,
                  closest pairs
`support`         the birthday-paradox support-size test (Arora & Zhang)
`memorisation`    nearest-training-image distances of samples vs held-out images
`coverage`        class coverage and the samples' covariance spectrum
`tgtr`            train on generated, test on real
================  =========================================================================================
"""
