# Typicality test (paper section 4.3, Table 2): are sets of N images in the GAN's (ε, N)-typical set?


rule typicality:
    input:
        ais=lambda wc: expand("results/ais/{model}/{group}.h5", model=wc.model, group=ais_groups(config)),
        code=lib("typicality", "pipeline"),
    output:
        "results/typicality/{model}.csv",
    params:
        typicality=config["typicality"],
        seed=config["seed"],
    log:
        "logs/typicality/{model}.log",
    benchmark:
        "benchmarks/typicality/{model}.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        ENV
    script:
        "../scripts/typicality.py"


rule table2:
    input:
        expand("results/typicality/{model}.csv", model=MODELS),
    output:
        csv=report("results/tables/table2.csv", caption="../report/table2.rst", category="Tables"),
        md="results/tables/table2.md",
        wide="results/tables/table2_wide.csv",
    log:
        "logs/table2/table2.log",
    benchmark:
        "benchmarks/table2/table2.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        ENV
    script:
        "../scripts/table2.py"
