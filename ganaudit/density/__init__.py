"""The density half of the audit (paper section 4): log p(x) under a Gaussian observation model, by AIS.

Layers, lowest first:

==================  =======================================================================================
module              owns
==================  =======================================================================================
`hmc`               the HMC kernel (leapfrog, Metropolis step, per-chain step sizes)
`target`            log p(x | z) and its gradient, the energy −log p(x, z)
`annealing`         the annealing loop, schedules, pilot-tuned step sizes
`smc`               tempered SMC: finds posterior basins by their mass
`posterior`         the posterior's modes (descent, Gauss–Newton, SMC) and their Laplace mixture
`encoder`           an amortised start of the mode search: an encoder trained on the model's own samples
`posterior_ais`     posterior-started AIS: strata of the mixture, forward and reverse chains
`estimators`        the table of estimators (``AISConfig.start``): prior- and posterior-started, each with its
                    forward and reverse batch and its cost
`ais`               the API: `ais_log_likelihood`, `AISConfig`, `PRESETS`, the stage `ais_group`, `cost`
`bdmc`              simulation, reverse AIS (BDMC upper bounds), the exact-likelihood check on PPCA
`true_latent`       the search and the estimate on simulated images against the true latent's basin
`errorbars`         re-estimates at larger budgets, per-group error bars, the "exceeds both" rule
`summaries`         the density tables: per image, per group with error bars, Table 1, 3, Fig 7's
`typicality`        the typicality test (paper 4.3): entropy, bootstrap ε, typical fractions, Table 2
==================  =======================================================================================
"""
