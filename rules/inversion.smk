# Latent inversion (paper appendix B.2), sharded over images and gathered per group; the 1NN baseline;
# manifold classification and outlier detection (Fig 4).



rule invert:
    input:
        generator="results/models/{model}/generator.pt",
        images=group_source,
        code=lib("inversion", "distances", "pipeline"),
    output:
        temp("results/inversion/{model}/{group}/shard_{shard}.h5"),
    params:
        inversion=config["inversion"],
        perceptual=config["perceptual"],
        seed=config["seed"],
        device=config["device"],
    log:
        "logs/invert/{model}/{group}/shard_{shard}.log",
    benchmark:
        "benchmarks/invert/{model}/{group}/shard_{shard}.tsv"
    threads: config["threads"]
    resources:
        **torch_resources(mem_mb=4000, runtime=60),
    conda:
        ENV
    script:
        "../scripts/invert.py"


rule gather_inversion:
    input:
        inversion_shards,
    output:
        "results/inversion/{model}/{group}.h5",
    log:
        "logs/gather_inversion/{model}/{group}.log",
    benchmark:
        "benchmarks/gather_inversion/{model}/{group}.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=5,
    conda:
        ENV
    script:
        "../scripts/gather_shards.py"


rule nn_baseline:
    input:
        data=f"results/data/{DATASET}.h5",
        code=lib("inference", "distances", "pipeline"),
    output:
        "results/baseline/nearest_neighbour.h5",
    params:
        groups=[g for g in inversion_groups(config) if not g.startswith("generated") and g != "train"],
        n_images=config["inversion"]["n_images"],
        max_reference=config["nn_baseline"]["max_reference"],
        perceptual=config["perceptual"],
    log:
        "logs/nn_baseline/nearest_neighbour.log",
    benchmark:
        "benchmarks/nn_baseline/nearest_neighbour.tsv"
    threads: config["threads"]
    resources:
        mem_mb=6000,
        runtime=30,
    conda:
        ENV
    script:
        "../scripts/nn_baseline.py"


rule manifold_inference:
    input:
        inversions=expand("results/inversion/{model}/{group}.h5", model=MODELS,
                          group=scored_groups(inversion_groups(config))),
        baseline="results/baseline/nearest_neighbour.h5" if HAS_TRAIN else [],
        code=lib("inference"),
    output:
        csv=report("results/tables/manifold_inference.csv", caption="../report/manifold_inference.rst", category="Tables"),
        md="results/tables/manifold_inference.md",
    params:
        models=MODELS,
    log:
        "logs/manifold_inference/manifold_inference.log",
    benchmark:
        "benchmarks/manifold_inference/manifold_inference.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=5,
    conda:
        ENV
    script:
        "../scripts/manifold_inference.py"


rule inversion_validation:
    input:
        inversions=expand("results/inversion/{model}/{group}.h5", model=MODELS,
                          group=[g for g in ("train", "generated") if g in inversion_groups(config)]),
    output:
        csv=report("results/tables/inversion_validation.csv", caption="../report/inversion_validation.rst", category="Tables"),
        md="results/tables/inversion_validation.md",
    params:
        models=MODELS,
    log:
        "logs/inversion_validation/inversion_validation.log",
    benchmark:
        "benchmarks/inversion_validation/inversion_validation.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        ENV
    script:
        "../scripts/inversion_validation.py"
