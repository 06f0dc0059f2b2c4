# The report's top-level page: report/workflow.rst filled with this run's numbers.


rule findings:
    input:
        tables=[
            "results/tables/manifold_inference.csv",
            "results/tables/inversion_validation.csv",
            "results/tables/ll_per_group.csv",
            "results/tables/patch_cv_correlation.csv",
            "results/tables/table2.csv",
            "results/tables/ais_validation.csv",
        ],
        template="report/workflow.rst",
        convergence=f"results/ais_convergence/{GAN_MODELS[0] if GAN_MODELS else MODELS[0]}.h5",
        code=lib("findings"),
    output:
        rst="results/report/workflow.rst",
    params:
        audit={"gan": GAN_MODELS[0] if GAN_MODELS else MODELS[0]},
        dataset=config["dataset"],
        ais=config["ais"],
        models=config["models"],
        density=config["density"],
    log:
        "logs/findings/findings.log",
    benchmark:
        "benchmarks/findings/findings.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        ENV
    script:
        "../scripts/findings.py"
