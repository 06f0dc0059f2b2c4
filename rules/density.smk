# The GAN's density: σ² (maximum likelihood from the training reconstructions, paper B.3), AIS
# log-likelihoods (sharded, gathered), their error bars (every group re-estimated on a few images at a
# larger budget; Fig 9), the checks on linear and simulated data, and the density experiments
# (Tables 1 and 3, Fig 7, 8, 12).


rule fit_sigma:
    input:
        train=[] if config["sigma"]["value"] is not None else "results/inversion/{model}/train.h5",
        code=code("fit_sigma"),
    output:
        "results/sigma/{model}.json",
    params:
        value=config["sigma"]["value"],
    log:
        logs("fit_sigma/{model}"),
    benchmark:
        bench("fit_sigma/{model}")
    threads: 1
    resources:
        **LIGHT,
    conda:
        ENV
    script:
        "../scripts/fit_sigma.py"


rule train_encoder:
    input:
        generator="results/models/{model}/generator.pt",
        sigma="results/sigma/{model}.json",
        code=code("train_encoder"),
    output:
        "results/encoders/{model}.pt",
    params:
        encoder=ENCODER,
        seed=config["seed"],
        device=config["device"],
    log:
        logs("train_encoder/{model}"),
    benchmark:
        bench("train_encoder/{model}")
    threads: config["threads"]
    resources:
        **torch_resources(mem_mb=3000, runtime=60),
    conda:
        ENV
    script:
        "../scripts/train_encoder.py"


rule ais:
    input:
        generator="results/models/{model}/generator.pt",
        images=group_source,
        sigma="results/sigma/{model}.json",
        inversion=inversion_of,  # its restarts start the posterior's mode search
        encoder=encoder_of,  # E(x): one more start (ais.encoder)
        code=code("ais"),
    output:
        temp("results/ais/{model}/{group}/shard_{shard}.h5"),
    params:
        ais=lambda wc: ais_params(config, wc.group),
        seed=config["seed"],
        device=config["device"],
        memory_mb=lambda wc, resources: resources.mem_mb // 2,  # the curvature's budget: half the job's memory
    log:
        logs("ais/{model}/{group}/shard_{shard}"),
    benchmark:
        bench("ais/{model}/{group}/shard_{shard}")
    threads: config["threads"]
    resources:
        **torch_resources(mem_mb=4000, runtime=120),
    conda:
        ENV
    script:
        "../scripts/ais.py"


rule gather_ais:
    input:
        shards=ais_shards,
        code=code("gather_shards"),
    output:
        "results/ais/{model}/{group}.h5",
    log:
        logs("gather_ais/{model}/{group}"),
    benchmark:
        bench("gather_ais/{model}/{group}")
    threads: 1
    resources:
        mem_mb=2000,
        runtime=5,
    conda:
        ENV
    script:
        "../scripts/gather_shards.py"


rule validate_ais:
    input:
        train=data_file("train") if HAS_TRAIN else [],
        test=data_file("test") if HAS_TRAIN else [],
        generators=expand("results/models/{model}/generator.pt", model=GAN_MODELS),
        sigmas=expand("results/sigma/{model}.json", model=GAN_MODELS),
        encoders=expand("results/encoders/{model}.pt", model=GAN_MODELS) if ENCODER else [],  # the BDMC checks the run's search
        code=code("validate_ais"),
    output:
        **table("ais_validation", "ais_validation"),
    params:
        ais=ais_setting(config),
        validation=config["ais_validation"],
        models=GAN_MODELS,
        seed=config["seed"],
        device=config["device"],
    log:
        logs("validate_ais/ais_validation"),
    benchmark:
        bench("validate_ais/ais_validation")
    threads: config["threads"]
    resources:
        **torch_resources(mem_mb=4000, runtime=60),
    conda:
        ENV
    script:
        "../scripts/validate_ais.py"


rule ais_check:
    input:
        generator="results/models/{model}/generator.pt",
        images=group_source,
        sigma="results/sigma/{model}.json",
        inversion=inversion_of,
        encoder=encoder_of,
        ais="results/ais/{model}/{group}.h5",
        code=code("ais_check"),
    output:
        "results/ais_check/{model}/{group}.h5",
    params:
        ais=ais_setting(config),
        n_images=config["ais_validation"]["check_images"],
        check_factor=config["ais_validation"]["check_factor"],
        independent=config["ais_validation"]["independent"],
        smc_scaled=config["ais_validation"]["check_smc"],
        # the audited GANs also get the smaller budgets of Fig 9
        factors=lambda wc: check_factors(wc.model),
        seed=config["seed"],
        device=config["device"],
    log:
        logs("ais_check/{model}/{group}"),
    benchmark:
        bench("ais_check/{model}/{group}")
    threads: config["threads"]
    resources:
        **torch_resources(mem_mb=4000, runtime=60),
    conda:
        ENV
    script:
        "../scripts/ais_check.py"


rule density_inference:
    input:
        ais=ais_files(MODELS, AIS_GROUPS),
        checks=[f"results/ais_check/{m}/{g}.h5" for m in MODELS for g in AIS_GROUPS],
        sigmas=expand("results/sigma/{model}.json", model=MODELS),
        quality=expand("results/quality/{model}.json", model=MODELS) if HAS_TRAIN and config["classifier"]["enabled"] else [],
        baseline=[f"results/baseline/{g}.h5" for g in NN_GROUPS if g in AIS_GROUPS],
        code=code("density_inference"),
    output:
        inference=report("results/tables/density_inference.csv", caption="../report/density_inference.rst", category="Tables"),
        inference_md="results/tables/density_inference.md",
        per_image="results/density/per_image.csv",
        groups=report("results/tables/ll_per_group.csv", caption="../report/ll_per_group.rst", category="Tables"),
        groups_md="results/tables/ll_per_group.md",
        table1=report("results/tables/table1.csv", caption="../report/table1.rst", category="Tables"),
        table1_md="results/tables/table1.md",
        table3=report("results/tables/table3.csv", caption="../report/table3.rst", category="Tables"),
        table3_md="results/tables/table3.md",
        correlation="results/tables/patch_cv_correlation.csv",
    params:
        models=config["models"],
        patch=config["density"]["patch"],
        check_images=config["ais_validation"]["check_images"],
        check_factor=config["ais_validation"]["check_factor"],
    log:
        logs("density_inference/density_inference"),
    benchmark:
        bench("density_inference/density_inference")
    threads: 1
    resources:
        mem_mb=3000,
        runtime=10,
    conda:
        ENV
    script:
        "../scripts/density_inference.py"
