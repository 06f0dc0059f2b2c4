# Dataset preparation: one HDF5 file per image group, so adding or changing one group rebuilds only it.


rule prepare_data:
    input:
        code=code("prepare_data"),
    output:
        "results/data/{dataset}/{group}.h5",
    params:
        spec=lambda wc: group_params(config, wc.group),
        seed=config["seed"],
    wildcard_constraints:
        group="|".join(DATA_GROUPS),
    log:
        logs("prepare_data/{dataset}/{group}"),
    benchmark:
        bench("prepare_data/{dataset}/{group}")
    threads: 1
    resources:
        mem_mb=4000,
        runtime=20,
    conda:
        ENV
    script:
        "../scripts/prepare_data.py"
