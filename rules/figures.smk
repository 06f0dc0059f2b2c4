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


def inversion_files(models, groups):
    """Inversion artifacts of ``models`` for the ``groups`` this run inverts (absent ones are skipped)."""
    have = [g for g in groups if g in inversion_groups(config)]
    return expand("results/inversion/{model}/{group}.h5", model=models, group=have)


def figure_report(stem, caption, subcategory, model="all models"):
    """The PNG as a report item; labels: the paper's figure/table and the model ("{model}" per model)."""
    paper = {"fig": "Fig ", "table": "Table "}
    name = stem.split("_")[0]
    for prefix, word in paper.items():
        if name.startswith(prefix):
            name = word + name[len(prefix):]
    return report(f"results/figures/{stem}.png", caption=f"../report/{caption}.rst", category="Figures",
                  subcategory=subcategory, labels={"figure": name, "model": model})


rule plot_fig3_reconstruction:
    input:
        inversions=lambda wc: inversion_files([wc.model], ["train", "generated"]),
        data=f"results/data/{DATASET}.h5",
        samples="results/samples/{model}.h5",
        code=lib("plots"),
    output:
        png=figure_report("fig3_reconstruction_{model}", "fig3_reconstruction", "Manifold (section 3)",
                          model="{model}"),
        pdf="results/figures/fig3_reconstruction_{model}.pdf",
    params:
        **FIGURE_PARAMS,
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
        "../scripts/figures/fig3_reconstruction.py"


rule plot_fig4_manifold_inference:
    input:
        table="results/tables/manifold_inference.csv",
        code=lib("plots"),
    output:
        png=figure_report("fig4_manifold_inference", "fig4_manifold_inference", "Manifold (section 3)"),
        pdf="results/figures/fig4_manifold_inference.pdf",
    params:
        dpi=config["figures"]["dpi"],
        n_classes=N_CLASSES,
        roles=MODEL_ROLES,
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
        "../scripts/figures/fig4_manifold_inference.py"


rule plot_fig5_groups:
    input:
        inversions=lambda wc: inversion_files([wc.model], inversion_groups(config)),
        data=f"results/data/{DATASET}.h5",
        samples="results/samples/{model}.h5",
        code=lib("plots"),
    output:
        png=figure_report("fig5_groups_{model}", "fig5_groups", "Manifold (section 3)", model="{model}"),
        pdf="results/figures/fig5_groups_{model}.pdf",
    params:
        **FIGURE_PARAMS,
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
        "../scripts/figures/fig5_groups.py"


rule plot_fig7_density_inference:
    input:
        table="results/tables/density_inference.csv",
        code=lib("plots"),
    output:
        png=figure_report("fig7_density_inference", "fig7_density_inference", "Density (section 4)"),
        pdf="results/figures/fig7_density_inference.pdf",
    params:
        dpi=config["figures"]["dpi"],
        n_classes=N_CLASSES,
        roles=MODEL_ROLES,
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
        "../scripts/figures/fig7_density_inference.py"


rule plot_fig8_likelihood:
    input:
        per_image="results/density/per_image.csv",
        ais=lambda wc: expand("results/ais/{model}/{group}.h5", model=wc.model, group=ais_groups(config)),
        code=lib("plots", "stats"),
    output:
        png=figure_report("fig8_likelihood_{model}", "fig8_likelihood", "Density (section 4)", model="{model}"),
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
        png=figure_report("fig9_ais_convergence", "fig9_ais_convergence", "Validation (appendix B)"),
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
        inversions=inversion_files(MODELS, ["train", "generated"]),
        code=lib("plots"),
    output:
        png=figure_report("fig10_reconstruction_all_models", "fig10_reconstruction_all_models",
                          "Manifold (section 3)"),
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
        inversions=inversion_files(MODELS, ["train", "test", "generated"]),
        data=f"results/data/{DATASET}.h5",
        samples=expand("results/samples/{model}.h5", model=MODELS),
        code=lib("plots"),
    output:
        png=figure_report("fig11_inversions_all_models", "fig11_inversions_all_models", "Manifold (section 3)"),
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
        png=figure_report("fig12_likelihood_all_models", "fig12_likelihood_all_models", "Density (section 4)"),
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
        png=figure_report("table2_typicality", "table2_typicality", "Density (section 4)"),
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
        png=figure_report("training_{model}", "training", "Models", model="{model}"),
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
