# The report's front page: report/workflow.rst filled with this run's numbers, stamped with the digest
# of what it shows (FINDINGS_PARAMS) so that only this configuration's page heads its report.


rule findings:
    input:
        tables=([] if PAPER else [f"results/tables/{t}.csv" for t in ("manifold_inference", "inversion_validation",
                                                                     "ll_per_group", "patch_cv_correlation", "table2",
                                                                     "ais_validation")])
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
