# Tests beyond the paper, for every model with role gan (README "Beyond the paper"): the birthday-paradox
# support estimate, memorisation (nearest training image), mode coverage with the covariance spectrum, and
# train on generated / test on real; one table per test; and the latent-size sweep of the inversion when the
# config trains one kind at several latent sizes. Each test's settings (beyond.<test>) reach only its own
# rules. Which tests run, and why the others do not, is BEYOND (rules/common.smk).


rule support:
    input:
        generator="results/models/{model}/generator.pt",
        train=data_file("train"),
        code=code("support"),
    output:
        "results/support/{model}.h5",
    params:
        support=beyond_params(config, "support"),
        perceptual=config["perceptual"],
        seed=config["seed"],
        device=config["device"],
    log:
        logs("support/{model}"),
    benchmark:
        bench("support/{model}")
    threads: config["threads"]
    resources:
        **torch_resources(mem_mb=4000, runtime=30),
    conda:
        ENV
    script:
        "../scripts/support.py"


rule memorisation:
    input:
        generator="results/models/{model}/generator.pt",
        train=data_file("train"),
        test=data_file("test"),
        code=code("memorisation"),
    output:
        "results/memorisation/{model}.h5",
    params:
        memorisation=beyond_params(config, "memorisation"),
        perceptual=config["perceptual"],
        seed=config["seed"],
        device=config["device"],
    log:
        logs("memorisation/{model}"),
    benchmark:
        bench("memorisation/{model}")
    threads: config["threads"]
    resources:
        **torch_resources(mem_mb=4000, runtime=30),
    conda:
        ENV
    script:
        "../scripts/memorisation.py"


rule coverage:
    input:
        generator="results/models/{model}/generator.pt",
        train=data_file("train") if HAS_TRAIN else [],
        test=data_file("test") if HAS_TRAIN else [],
        classifier="results/classifier/classifier.pt" if HAS_CLASSIFIER else [],
        code=code("coverage"),
    output:
        "results/coverage/{model}.h5",
    params:
        coverage=beyond_params(config, "coverage"),
        seed=config["seed"],
    log:
        logs("coverage/{model}"),
    benchmark:
        bench("coverage/{model}")
    threads: config["threads"]
    resources:
        mem_mb=3000,
        runtime=10,
    conda:
        ENV
    script:
        "../scripts/coverage.py"


rule tgtr:
    input:
        generator="results/models/{model}/generator.pt",
        train=data_file("train"),
        test=data_file("test"),
        code=code("tgtr"),
    output:
        "results/tgtr/{model}.h5",
    params:
        tgtr=beyond_params(config, "tgtr"),
        train=config["classifier"].get("train", {}),  # the pipeline's classifier, trained twice
        seed=config["seed"],
    log:
        logs("tgtr/{model}"),
    benchmark:
        bench("tgtr/{model}")
    threads: config["threads"]
    resources:
        mem_mb=4000,
        runtime=20,
    conda:
        ENV
    script:
        "../scripts/tgtr.py"


# One table per test, gathered from the GANs' artifacts (coverage also writes coverage_spectrum).
for _test in BEYOND_TESTS:

    rule:
        name:
            f"{_test}_table"
        input:
            artifacts=expand(f"results/{_test}/{{model}}.h5", model=GAN_MODELS),
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
