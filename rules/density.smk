# The GAN's density: σ² (maximum likelihood from the training reconstructions, paper B.3), AIS
# log-likelihoods (sharded, gathered), the AIS validation every run reports, Fig 9's convergence
# curves, and the density experiments (Tables 1 and 3, Fig 7, 8, 12).



rule fit_sigma:
    input:
        train=[] if config["sigma"]["value"] is not None else "results/inversion/{model}/train.h5",
        code=lib("pipeline"),
    output:
        "results/sigma/{model}.json",
    params:
        value=config["sigma"]["value"],
    log:
        "logs/fit_sigma/{model}.log",
    benchmark:
        "benchmarks/fit_sigma/{model}.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        ENV
    script:
        "../scripts/fit_sigma.py"


rule ais:
    input:
        generator="results/models/{model}/generator.pt",
        images=group_source,
        sigma="results/sigma/{model}.json",
        code=lib("ais", "hmc", "pipeline"),
    output:
        temp("results/ais/{model}/{group}/shard_{shard}.h5"),
    params:
        ais=config["ais"],
        seed=config["seed"],
        device=config["device"],
    log:
        "logs/ais/{model}/{group}/shard_{shard}.log",
    benchmark:
        "benchmarks/ais/{model}/{group}/shard_{shard}.tsv"
    threads: config["threads"]
    resources:
        **torch_resources(mem_mb=4000, runtime=120),
    conda:
        ENV
    script:
        "../scripts/ais.py"


rule gather_ais:
    input:
        ais_shards,
    output:
        "results/ais/{model}/{group}.h5",
    log:
        "logs/gather_ais/{model}/{group}.log",
    benchmark:
        "benchmarks/gather_ais/{model}/{group}.tsv"
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
        data=f"results/data/{DATASET}.h5" if HAS_TRAIN else [],
        generators=expand("results/models/{model}/generator.pt", model=GAN_MODELS),
        sigmas=expand("results/sigma/{model}.json", model=GAN_MODELS),
        code=lib("ais", "hmc", "pipeline", "models/ppca"),
    output:
        csv=report("results/tables/ais_validation.csv", caption="../report/ais_validation.rst", category="Tables"),
        md="results/tables/ais_validation.md",
    params:
        ais=config["ais"],
        validation=config["ais_validation"],
        models=GAN_MODELS,
        seed=config["seed"],
        device=config["device"],
    log:
        "logs/validate_ais/ais_validation.log",
    benchmark:
        "benchmarks/validate_ais/ais_validation.tsv"
    threads: config["threads"]
    resources:
        **torch_resources(mem_mb=4000, runtime=60),
    conda:
        ENV
    script:
        "../scripts/validate_ais.py"


rule ais_convergence:
    input:
        generator="results/models/{model}/generator.pt",
        images=f"results/data/{DATASET}.h5" if HAS_TRAIN else "results/samples/{model}.h5",
        sigma="results/sigma/{model}.json",
        code=lib("ais", "hmc", "pipeline"),
    output:
        "results/ais_convergence/{model}.h5",
    params:
        ais=config["ais"],
        validation=config["ais_validation"],
        group="test" if HAS_TRAIN else "generated",
        seed=config["seed"],
        device=config["device"],
    log:
        "logs/ais_convergence/{model}.log",
    benchmark:
        "benchmarks/ais_convergence/{model}.tsv"
    threads: config["threads"]
    resources:
        **torch_resources(mem_mb=4000, runtime=60),
    conda:
        ENV
    script:
        "../scripts/ais_convergence.py"


rule density_inference:
    input:
        ais=expand("results/ais/{model}/{group}.h5", model=MODELS, group=ais_groups(config)),
        data=f"results/data/{DATASET}.h5" if HAS_TRAIN else [],
        samples=expand("results/samples/{model}.h5", model=MODELS),
        sigmas=expand("results/sigma/{model}.json", model=MODELS),
        quality=expand("results/quality/{model}.json", model=MODELS) if HAS_TRAIN and config["classifier"]["enabled"] else [],
        baseline="results/baseline/nearest_neighbour.h5" if HAS_TRAIN else [],
        code=lib("inference", "stats", "pipeline"),
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
    log:
        "logs/density_inference/density_inference.log",
    benchmark:
        "benchmarks/density_inference/density_inference.tsv"
    threads: 1
    resources:
        mem_mb=3000,
        runtime=10,
    conda:
        ENV
    script:
        "../scripts/density_inference.py"
