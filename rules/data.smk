# Dataset preparation: every image group of the dataset in one HDF5 file.


rule prepare_data:
    input:
        lib("data", "store"),
    output:
        "results/data/{dataset}.h5",
    params:
        dataset=config["dataset"],
        groups=config["groups"],
        seed=config["seed"],
    log:
        "logs/prepare_data/{dataset}.log",
    benchmark:
        "benchmarks/prepare_data/{dataset}.tsv"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=20,
    conda:
        ENV
    script:
        "../scripts/prepare_data.py"
