"""The metrics researchers report beside the paper's tests, each computed in a feature space the run has offline.

One small module per metric (`ganaudit.metrics.fd`, `ganaudit.metrics.kd`, `ganaudit.metrics.prdc`,
`ganaudit.metrics.copying`, `ganaudit.metrics.authenticity`, `ganaudit.metrics.fld`, `ganaudit.metrics.ppl`,
`ganaudit.metrics.vendi`), the feature spaces and their cache (`ganaudit.metrics.features`), and one registry of
them by name (`ganaudit.metrics.registry.METRICS`). Numbers are named by feature space (``fd`` on ``classifier``
features), never "FID" unless an Inception network made the features. The audit stage is
`ganaudit.audits.metrics`.
"""
