# The report's front page: report/workflow.rst filled with this run's numbers, stamped with the digest
# of what it shows (FINDINGS_PARAMS) so that only this configuration's page heads its report.


rule findings:
    input:
        tables=([] if PAPER else [f"results/tables/{t}.csv" for t in ("manifold_inference", "inversion_validation",
                                                                     "ll_per_group", "patch_cv_correlation", "table2",
                                                                     "ais_validation")])
        + ["results/tables/calibration.csv"]
        + [f"results/tables/{t}.csv" for test in BEYOND_RUN for t in BEYOND_TABLES[test]],
        template=source("report", "workflow.rst"),
        code=code("findings") + sorted({source(module_file(a.finding)) for a in AUDITS.values()}),
    output:
        rst="results/report/workflow.rst",
    params:
        **FINDINGS_PARAMS,
        stamp=findings_stamp(FINDINGS_PARAMS),
    log:
        logs("findings/findings"),
    benchmark:
        bench("findings/findings")
    threads: 1
    resources:
        **LIGHT,
    conda:
        ENV
    script:
        "../scripts/findings.py"


# Every stated uncertainty of the run, nominal against achieved on held-out data or a known answer.
rule calibration:
    input:
        support="results/tables/support.csv" if "support" in BEYOND_RUN else [],
        memorisation=expand("results/memorisation/{model}.h5", model=AUDITED_MODELS) if "memorisation" in BEYOND_RUN else [],
        table2=[] if PAPER else "results/tables/table2.csv",
        checks=[] if PAPER else [f"results/ais_check/{m}/{g}.h5" for m in MODELS for g in AIS_GROUPS],
        code=code("calibration"),
    output:
        **table("calibration", "calibration"),
    params:
        support=config["beyond"]["support"],
        quantile=config["beyond"]["memorisation"].get("quantile", 0.01),
        memorisation_p=MEMORISATION_P,
        typicality=config["typicality"],
        **config["calibration"],
        seed=config["seed"],
    log:
        logs("calibration/calibration"),
    benchmark:
        bench("calibration/calibration")
    threads: 1
    resources:
        mem_mb=3000,
        runtime=20,
    conda:
        ENV
    script:
        "../scripts/calibration.py"
