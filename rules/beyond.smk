# Tests beyond the paper, for every model with role gan (README "Beyond the paper"): the birthday-paradox
# support estimate, memorisation (nearest training image), mode coverage with the covariance spectrum, and
# train on generated / test on real; one table per test; and the latent-size sweep of the inversion when the
# config trains one kind at several latent sizes. Each test's settings (beyond.<test>) reach only its own
# rules. Which tests run, and why the others do not, is BEYOND (rules/common.smk). The tests are the
# entries of ganaudit.audits.registry.AUDITS: one rule per entry, made in the loop below, each running
# scripts/audit.py (the entry's stage function) on the inputs the entry names.


# The inputs an audit may name (registry `inputs`); a run without training data has none of the data files.
# A model given as stored samples has no generator: its rule reads the import_samples artifact instead.
AUDIT_INPUTS = {
    "generator": lambda: lambda wc: [] if wc.model in SAMPLE_MODELS else f"results/models/{wc.model}/generator.pt",
    "samples": lambda: lambda wc: f"results/models/{wc.model}/samples.h5" if wc.model in SAMPLE_MODELS else [],
    "train": lambda: data_file("train") if HAS_TRAIN else [],
    "test": lambda: data_file("test") if HAS_TRAIN else [],
    "classifier": lambda: "results/classifier/classifier.pt" if HAS_CLASSIFIER else [],
    "features": lambda: "results/features/real.h5" if REAL_SPACES else [],  # rules/features.smk
}

for _audit in AUDITS.values():

    rule:
        name:
            _audit.name
        input:
            **{k: AUDIT_INPUTS[k]() for k in _audit.inputs},
            **({"samples": AUDIT_INPUTS["samples"]()} if "generator" in _audit.inputs else {}),
            script=source("scripts", "audit.py"),
            code=code("audit") + audit_code(_audit),
        output:
            f"results/{_audit.name}/{{model}}.h5",
        params:
            **{_audit.name: beyond_params(config, _audit.name)},
            **{k: config_value(config, key) for k, key in _audit.config.items()},
        log:
            logs(f"{_audit.name}/{{model}}"),
        benchmark:
            bench(f"{_audit.name}/{{model}}")
        threads: config["threads"]
        resources:
            **(torch_resources(mem_mb=_audit.mem_mb, runtime=_audit.runtime) if _audit.gpu else dict(mem_mb=_audit.mem_mb, runtime=_audit.runtime)),
        conda:
            ENV
        script:
            "../scripts/audit.py"


# One table per test, gathered from the GANs' artifacts (coverage also writes coverage_spectrum).
for _test in AUDITS:

    rule:
        name:
            f"{_test}_table"
        input:
            artifacts=expand(f"results/{_test}/{{model}}.h5", model=AUDIT_MODELS[_test]),
            code=code("beyond_table"),
        output:
            **{f"{_name}_{_ext}": _path for _name in BEYOND_TABLES[_test] for _ext, _path in table(_name, _name).items()},
        params:
            test=_test,
        log:
            logs(f"beyond_table/{_test}"),
        benchmark:
            bench(f"beyond_table/{_test}")
        threads: 1
        resources:
            **LIGHT,
        conda:
            ENV
        script:
            "../scripts/beyond_table.py"


# Every scalar of the run for one model, the metrics under their conventional keys (ganaudit.metrics.flat): read
# from the run's tables (the findings' and the audits'), so it is made last.
rule metrics_json:
    input:
        tables=lambda wildcards: [t for t in all_targets() if t.startswith("results/tables/")]
        + ([] if PAPER else ["results/tables/ll_per_group.csv", "results/tables/patch_cv_correlation.csv"]),
        code=code("metrics_json"),
    output:
        "results/metrics/{model}.json",
    log:
        logs("metrics_json/{model}"),
    benchmark:
        bench("metrics_json/{model}")
    threads: 1
    resources:
        **LIGHT,
    conda:
        ENV
    script:
        "../scripts/metrics_json.py"


rule latent_sweep:
    input:
        inversions=inversion_files(SWEEP_MODELS, SWEEP_GROUPS),
        baseline="results/baseline/test.h5" if HAS_TRAIN else [],  # the test images' 1NN distance, for reference
        code=code("latent_sweep"),
    output:
        **table("latent_sweep", "latent_sweep"),
    params:
        models={m: {"kind": config["models"][m]["kind"], "latent_dim": config["models"][m]["latent_dim"]} for m in SWEEP_MODELS},
        inversion={m: inversion_params(config, m) for m in SWEEP_MODELS},
    log:
        logs("latent_sweep/latent_sweep"),
    benchmark:
        bench("latent_sweep/latent_sweep")
    threads: 1
    resources:
        **LIGHT,
    conda:
        ENV
    script:
        "../scripts/latent_sweep.py"
