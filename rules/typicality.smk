# Typicality test (paper section 4.3, Table 2): are sets of N images in the GAN's (ε, N)-typical set?


rule typicality:
    input:
        ais=lambda wc: ais_files([wc.model], AIS_GROUPS),
        code=code("typicality"),
    output:
        "results/typicality/{model}.csv",
    params:
        typicality=config["typicality"],
        seed=config["seed"],
    log:
        logs("typicality/{model}"),
    benchmark:
        bench("typicality/{model}")
    threads: 1
    resources:
        **LIGHT,
    conda:
        ENV
    script:
        "../scripts/typicality.py"


rule table2:
    input:
        typicality=expand("results/typicality/{model}.csv", model=MODELS),
        code=code("table2"),
    output:
        **table("table2", "table2"),
    log:
        logs("table2/table2"),
    benchmark:
        bench("table2/table2")
    threads: 1
    resources:
        **LIGHT,
    conda:
        ENV
    script:
        "../scripts/table2.py"
