# Figures of the paper (seaborn; PNG in the report + PDF beside it). Each rule reads only the
# artifacts its figure shows, so changing `figures.*` reruns the figures and nothing upstream.

FIGURES = (
    [f"fig3_reconstruction_{m}" for m in GAN_MODELS]
    + ["fig4_manifold_inference"]
    + [f"fig5_groups_{m}" for m in GAN_MODELS]
    + ["fig7_density_inference"]
    + [f"fig8_likelihood_{m}" for m in GAN_MODELS]
    + ["fig9_ais_convergence", "fig10_reconstruction_all_models", "fig11_inversions_all_models",
       "fig12_likelihood_all_models", "table2_typicality"]
    + [f"training_{m}" for m in MODELS]
)

FIGURE_PARAMS = dict(dpi=config["figures"]["dpi"], n_examples=config["figures"]["n_examples"])
MODEL_ROLES = {m: s.get("role", "gan") for m, s in config["models"].items()}
N_CLASSES = len(config["dataset"].get("classes") or []) or None
CONVERGENCE_GROUP = "test" if HAS_TRAIN else "generated"
INVERTED = inversion_groups(config)


rule plot_fig3_reconstruction:
    input:
        inversions=lambda wc: expand("results/inversion/{model}/{group}.h5", model=wc.model,
                                      group=[g for g in ("train", "generated") if g in INVERTED]),
        data=f"results/data/{DATASET}.h5",
        samples="results/samples/{model}.h5",
        code=lib("plots"),
    output:
        png=report(
            "results/figures/fig3_reconstruction_{model}.png",
            caption="../report/fig3_reconstruction.rst",
            category="Figures",
            subcategory="Manifold (section 3)",
            labels={"figure": "Fig 3", "model": "{model}"},
        ),
        pdf="results/figures/fig3_reconstruction_{model}.pdf",
    params:
        **FIGURE_PARAMS,
        figure="fig3",
        expected=["train", "generated"],
    log:
        "logs/figures/fig3_reconstruction_{model}.log",
    benchmark:
        "benchmarks/figures/fig3_reconstruction_{model}.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=5,
    conda:
        ENV
    script:
        "../scripts/figures/model_inversions.py"


rule plot_fig4_manifold_inference:
    input:
        table="results/tables/manifold_inference.csv",
        code=lib("plots"),
    output:
        png=report(
            "results/figures/fig4_manifold_inference.png",
            caption="../report/fig4_manifold_inference.rst",
            category="Figures",
            subcategory="Manifold (section 3)",
            labels={"figure": "Fig 4", "model": "all models"},
        ),
        pdf="results/figures/fig4_manifold_inference.pdf",
    params:
        dpi=config["figures"]["dpi"],
        n_classes=N_CLASSES,
        roles=MODEL_ROLES,
        inliers=inlier_label(inlier_group(inversion_groups(config))),
        figure="fig4",
    log:
        "logs/figures/fig4_manifold_inference.log",
    benchmark:
        "benchmarks/figures/fig4_manifold_inference.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        ENV
    script:
        "../scripts/figures/inference_figure.py"


rule plot_fig5_groups:
    input:
        inversions=lambda wc: expand("results/inversion/{model}/{group}.h5", model=wc.model, group=INVERTED),
        data=f"results/data/{DATASET}.h5",
        samples="results/samples/{model}.h5",
        code=lib("plots"),
    output:
        png=report(
            "results/figures/fig5_groups_{model}.png",
            caption="../report/fig5_groups.rst",
            category="Figures",
            subcategory="Manifold (section 3)",
            labels={"figure": "Fig 5", "model": "{model}"},
        ),
        pdf="results/figures/fig5_groups_{model}.pdf",
    params:
        **FIGURE_PARAMS,
        figure="fig5",
        expected=config["inversion"]["groups"],
    log:
        "logs/figures/fig5_groups_{model}.log",
    benchmark:
        "benchmarks/figures/fig5_groups_{model}.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=5,
    conda:
        ENV
    script:
        "../scripts/figures/model_inversions.py"


rule plot_fig7_density_inference:
    input:
        table="results/tables/density_inference.csv",
        code=lib("plots"),
    output:
        png=report(
            "results/figures/fig7_density_inference.png",
            caption="../report/fig7_density_inference.rst",
            category="Figures",
            subcategory="Density (section 4)",
            labels={"figure": "Fig 7", "model": "all models"},
        ),
        pdf="results/figures/fig7_density_inference.pdf",
    params:
        dpi=config["figures"]["dpi"],
        n_classes=N_CLASSES,
        roles=MODEL_ROLES,
        inliers=inlier_label(inlier_group(ais_groups(config))),
        figure="fig7",
    log:
        "logs/figures/fig7_density_inference.log",
    benchmark:
        "benchmarks/figures/fig7_density_inference.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        ENV
    script:
        "../scripts/figures/inference_figure.py"


rule plot_fig8_likelihood:
    input:
        per_image="results/density/per_image.csv",
        ais=lambda wc: expand("results/ais/{model}/{group}.h5", model=wc.model, group=ais_groups(config)),
        code=lib("plots", "stats"),
    output:
        png=report(
            "results/figures/fig8_likelihood_{model}.png",
            caption="../report/fig8_likelihood.rst",
            category="Figures",
            subcategory="Density (section 4)",
            labels={"figure": "Fig 8", "model": "{model}"},
        ),
        pdf="results/figures/fig8_likelihood_{model}.pdf",
    params:
        **FIGURE_PARAMS,
        expected=[g for g in config["ais"]["groups"] if g != "generated_calibration"],
    log:
        "logs/figures/fig8_likelihood_{model}.log",
    benchmark:
        "benchmarks/figures/fig8_likelihood_{model}.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=5,
    conda:
        ENV
    script:
        "../scripts/figures/fig8_likelihood.py"


rule plot_fig9_ais_convergence:
    input:
        curves=expand("results/ais_convergence/{model}.h5", model=GAN_MODELS),
        code=lib("plots"),
    output:
        png=report(
            "results/figures/fig9_ais_convergence.png",
            caption="../report/fig9_ais_convergence.rst",
            category="Figures",
            subcategory="Validation (appendix B)",
            labels={"figure": "Fig 9", "model": "all models"},
        ),
        pdf="results/figures/fig9_ais_convergence.pdf",
    params:
        dpi=config["figures"]["dpi"],
        group=CONVERGENCE_GROUP,
    log:
        "logs/figures/fig9_ais_convergence.log",
    benchmark:
        "benchmarks/figures/fig9_ais_convergence.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        ENV
    script:
        "../scripts/figures/fig9_ais_convergence.py"


rule plot_fig10_reconstruction_all_models:
    input:
        inversions=expand("results/inversion/{model}/{group}.h5", model=MODELS,
                          group=[g for g in ("train", "generated") if g in INVERTED]),
        code=lib("plots"),
    output:
        png=report(
            "results/figures/fig10_reconstruction_all_models.png",
            caption="../report/fig10_reconstruction_all_models.rst",
            category="Figures",
            subcategory="Manifold (section 3)",
            labels={"figure": "Fig 10", "model": "all models"},
        ),
        pdf="results/figures/fig10_reconstruction_all_models.pdf",
    params:
        dpi=config["figures"]["dpi"],
        models=MODELS,
    log:
        "logs/figures/fig10_reconstruction_all_models.log",
    benchmark:
        "benchmarks/figures/fig10_reconstruction_all_models.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=5,
    conda:
        ENV
    script:
        "../scripts/figures/fig10_reconstruction_all_models.py"


rule plot_fig11_inversions_all_models:
    input:
        inversions=expand("results/inversion/{model}/{group}.h5", model=MODELS,
                          group=[g for g in ("train", "test", "generated") if g in INVERTED]),
        data=f"results/data/{DATASET}.h5",
        samples=expand("results/samples/{model}.h5", model=MODELS),
        code=lib("plots"),
    output:
        png=report(
            "results/figures/fig11_inversions_all_models.png",
            caption="../report/fig11_inversions_all_models.rst",
            category="Figures",
            subcategory="Manifold (section 3)",
            labels={"figure": "Fig 11", "model": "all models"},
        ),
        pdf="results/figures/fig11_inversions_all_models.pdf",
    params:
        **FIGURE_PARAMS,
        models=MODELS,
    log:
        "logs/figures/fig11_inversions_all_models.log",
    benchmark:
        "benchmarks/figures/fig11_inversions_all_models.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=5,
    conda:
        ENV
    script:
        "../scripts/figures/fig11_inversions_all_models.py"


rule plot_fig12_likelihood_all_models:
    input:
        per_image="results/density/per_image.csv",
        code=lib("plots"),
    output:
        png=report(
            "results/figures/fig12_likelihood_all_models.png",
            caption="../report/fig12_likelihood_all_models.rst",
            category="Figures",
            subcategory="Density (section 4)",
            labels={"figure": "Fig 12", "model": "all models"},
        ),
        pdf="results/figures/fig12_likelihood_all_models.pdf",
    params:
        dpi=config["figures"]["dpi"],
        expected=[g for g in config["ais"]["groups"] if g != "generated_calibration"],
    log:
        "logs/figures/fig12_likelihood_all_models.log",
    benchmark:
        "benchmarks/figures/fig12_likelihood_all_models.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        ENV
    script:
        "../scripts/figures/fig12_likelihood_all_models.py"


rule plot_table2_typicality:
    input:
        table="results/tables/table2.csv",
        code=lib("plots"),
    output:
        png=report(
            "results/figures/table2_typicality.png",
            caption="../report/table2_typicality.rst",
            category="Figures",
            subcategory="Density (section 4)",
            labels={"figure": "Table 2", "model": "all models"},
        ),
        pdf="results/figures/table2_typicality.pdf",
    params:
        dpi=config["figures"]["dpi"],
        confidence=config["typicality"]["confidence"],
    log:
        "logs/figures/table2_typicality.log",
    benchmark:
        "benchmarks/figures/table2_typicality.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        ENV
    script:
        "../scripts/figures/table2_typicality.py"


rule plot_training:
    input:
        losses="results/models/{model}/losses.csv",
        generator="results/models/{model}/generator.pt",
        code=lib("plots"),
    output:
        png=report(
            "results/figures/training_{model}.png",
            caption="../report/training.rst",
            category="Figures",
            subcategory="Models",
            labels={"figure": "training", "model": "{model}"},
        ),
        pdf="results/figures/training_{model}.pdf",
    params:
        **FIGURE_PARAMS,
        seed=config["seed"],
        classes=config["dataset"].get("classes"),
    log:
        "logs/figures/training_{model}.log",
    benchmark:
        "benchmarks/figures/training_{model}.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=5,
    conda:
        ENV
    script:
        "../scripts/figures/training.py"
