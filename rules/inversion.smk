# Latent inversion (paper appendix B.2), sharded over images and gathered per group; the 1NN baseline
# (one job per group: each embeds the training images itself, so adding a group reruns no other group's
# job); manifold classification and outlier detection (Fig 4); the inversion sanity check.


rule invert:
    input:
        generator="results/models/{model}/generator.pt",
        images=group_source,
        code=code("invert"),
    output:
        temp("results/inversion/{model}/{group}/shard_{shard}.h5"),
    params:
        inversion=lambda wc: inversion_params(config, wc.model),  # models.<model>.inversion over the section
        perceptual=config["perceptual"],
        seed=config["seed"],
        device=config["device"],
    log:
        logs("invert/{model}/{group}/shard_{shard}"),
    benchmark:
        bench("invert/{model}/{group}/shard_{shard}")
    threads: config["threads"]
    resources:
        **torch_resources(mem_mb=4000, runtime=60),
    conda:
        ENV
    script:
        "../scripts/invert.py"


rule gather_inversion:
    input:
        shards=inversion_shards,
        code=code("gather_shards"),
    output:
        "results/inversion/{model}/{group}.h5",
    log:
        logs("gather_inversion/{model}/{group}"),
    benchmark:
        bench("gather_inversion/{model}/{group}")
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
        train=data_file("train"),
        images=lambda wc: data_file(wc.group),
        code=code("nn_baseline"),
    output:
        "results/baseline/{group}.h5",
    params:
        n_images=config["inversion"]["n_images"],
        max_reference=config["nn_baseline"]["max_reference"],
        perceptual=config["perceptual"],
    wildcard_constraints:
        group="|".join(g for g in DATA_GROUPS if g != "train") or "no_group",
    log:
        logs("nn_baseline/{group}"),
    benchmark:
        bench("nn_baseline/{group}")
    threads: config["threads"]
    resources:
        mem_mb=6000,
        runtime=30,
    conda:
        ENV
    script:
        "../scripts/nn_baseline.py"


# the groups the 1NN baseline scores: inverted data groups other than the training images themselves
NN_GROUPS = [g for g in INVERTED if g not in GENERATED and g != "train"] if HAS_TRAIN else []


rule manifold_inference:
    input:
        inversions=inversion_files(MODELS, scored_groups(INVERTED)),
        baseline=[f"results/baseline/{g}.h5" for g in NN_GROUPS],
        code=code("manifold_inference"),
    output:
        **table("manifold_inference", "manifold_inference"),
    params:
        models=MODELS,
    log:
        logs("manifold_inference/manifold_inference"),
    benchmark:
        bench("manifold_inference/manifold_inference")
    threads: 1
    resources:
        **LIGHT,
    conda:
        ENV
    script:
        "../scripts/manifold_inference.py"


rule inversion_validation:
    input:
        inversions=inversion_files(MODELS, [g for g in ("train", "generated") if g in INVERTED]),
        code=code("inversion_validation"),
    output:
        **table("inversion_validation", "inversion_validation"),
    log:
        logs("inversion_validation/inversion_validation"),
    benchmark:
        bench("inversion_validation/inversion_validation")
    threads: 1
    resources:
        **LIGHT,
    conda:
        ENV
    script:
        "../scripts/inversion_validation.py"
