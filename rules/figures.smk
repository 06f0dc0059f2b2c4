# Figures of the paper (seaborn; PNG in the report with the caption report/{name}.rst, PDF beside it).
# One table row per figure rule: what it reads, its script (scripts/figures/), its params. Each reads only
# the artifacts it shows, and `figures.*` reaches only these rules, so changing it reruns the figures and
# nothing upstream. Rules are named plot_{name}; {model} in a name makes one figure per model. Every rule
# runs scripts/figures/plot.py, which runs the figure's own script (Snakemake reads `script:` late).

MANIFOLD, DENSITY, VALIDATION = "Manifold (section 3)", "Density (section 4)", "Validation (appendix B)"
BEYOND_SECTION = "Beyond the paper"
OWN_GROUPS = [g for g in ("train", "generated") if g in INVERTED]  # Fig 3 and 10: train vs generated
DENSITY_GROUPS = [g for g in AIS_GROUPS if g != "generated_calibration"]  # calibration samples only set ε
DPI = dict(dpi=config["figures"]["dpi"])
EXAMPLES = dict(dpi=config["figures"]["dpi"], n_examples=config["figures"]["n_examples"])


def inverted_with_images(models, groups):
    """Inversion files and, aligned with them, the files holding the original images."""
    return dict(inversions=inversion_files(models, groups), images=[group_file(m, g) for m in models for g in groups])


def fig(label, section, script, inputs, params, per_model=False):
    return dict(label=label, section=section, script=script, input=inputs, params=params, per_model=per_model)


FIGURE_RULES = {
    "fig3_reconstruction": fig("Fig 3", MANIFOLD, "model_inversions", inverted_with_images(["{model}"], OWN_GROUPS),
                               dict(**EXAMPLES, figure="fig3", expected=["train", "generated"]), per_model=True),
    "fig4_manifold_inference": fig("Fig 4", MANIFOLD, "inference_figure", dict(table="results/tables/manifold_inference.csv"),
                                   dict(**DPI, n_classes=N_CLASSES, roles=MODEL_ROLES, figure="fig4",
                                        inliers=inlier_label(inlier_group(INVERTED)))),
    "fig5_groups": fig("Fig 5", MANIFOLD, "model_inversions", inverted_with_images(["{model}"], INVERTED),
                       dict(**EXAMPLES, figure="fig5", expected=config["inversion"]["groups"]), per_model=True),
    "fig7_density_inference": fig("Fig 7", DENSITY, "inference_figure", dict(table="results/tables/density_inference.csv"),
                                  dict(**DPI, n_classes=N_CLASSES, roles=MODEL_ROLES, figure="fig7",
                                       inliers=inlier_label(inlier_group(AIS_GROUPS)))),
    "fig8_likelihood": fig("Fig 8", DENSITY, "fig8_likelihood",
                           dict(per_image="results/density/per_image.csv", groups="results/tables/ll_per_group.csv",
                                ais=ais_files(["{model}"], AIS_GROUPS)),
                           dict(**EXAMPLES, expected=DENSITY_GROUPS), per_model=True),
    "fig9_ais_convergence": fig("Fig 9", VALIDATION, "fig9_ais_convergence",
                                dict(checks=[f"results/ais_check/{m}/{g}.h5" for m in GAN_MODELS for g in AIS_GROUPS]),
                                dict(**DPI, check_factor=config["ais_validation"]["check_factor"])),
    "fig10_reconstruction_all_models": fig("Fig 10", MANIFOLD, "fig10_reconstruction_all_models",
                                           dict(inversions=inversion_files(MODELS, OWN_GROUPS)), dict(**DPI, models=MODELS)),
    "fig11_inversions_all_models": fig("Fig 11", MANIFOLD, "fig11_inversions_all_models",
                                       inverted_with_images(MODELS, [g for g in ("train", "test", "generated") if g in INVERTED]),
                                       dict(**EXAMPLES, models=MODELS)),
    "fig12_likelihood_all_models": fig("Fig 12", DENSITY, "fig12_likelihood_all_models",
                                       dict(per_image="results/density/per_image.csv"), dict(**DPI, expected=DENSITY_GROUPS)),
    "table2_typicality": fig("Table 2", DENSITY, "table2_typicality", dict(table="results/tables/table2.csv"),
                             dict(**DPI, confidence=config["typicality"]["confidence"])),
    "training": fig("training", "Models", "training", dict(losses="results/models/{model}/losses.csv",
                                                           generator="results/models/{model}/generator.pt"),
                    dict(**EXAMPLES, seed=config["seed"], classes=config["dataset"].get("classes")), per_model=True),
}

# the tests beyond the paper (rules/beyond.smk): a figure per GAN for those this run makes (registry `figure`)
for _audit in AUDITS.values():
    if _audit.figure and _audit.name in BEYOND_RUN:
        _name, _label = _audit.figure
        FIGURE_RULES[_name] = fig(_label, BEYOND_SECTION, _name, dict(artifact=f"results/{_audit.name}/{{model}}.h5"),
                                  dict(EXAMPLES), per_model=True)
if SWEEP and SWEEP_GROUPS:
    FIGURE_RULES["latent_sweep_psnr"] = fig("latent sweep", BEYOND_SECTION, "latent_sweep_psnr",
                                            dict(table="results/tables/latent_sweep.csv"), dict(DPI))

# the figure files of this run (targets of rule all); a run whose models are all stored samples makes only the
# figures of the tests beyond the paper
_AUDIT_FIGURE_MODELS = {a.figure[0]: AUDIT_MODELS[a.name] for a in AUDITS.values() if a.figure}
FIGURES = [f"{name}_{m}" for name, f in FIGURE_RULES.items() if f["per_model"]
           for m in (MODELS if name == "training" else _AUDIT_FIGURE_MODELS.get(name, GAN_MODELS))]
FIGURES += [name for name, f in FIGURE_RULES.items() if not f["per_model"] and not (PAPER and f["section"] != BEYOND_SECTION)]


for _name, _f in FIGURE_RULES.items():
    _out = f"{_name}_{{model}}" if _f["per_model"] else _name

    rule:
        name:
            f"plot_{_name}"
        input:
            **_f["input"],
            script=source("scripts", "figures", f"{_f['script']}.py"),
            code=code(f"figures/{_f['script']}"),
        output:
            **figure(_out, _name, _f["section"], _f["label"], "{model}" if _f["per_model"] else "all models"),
        params:
            **_f["params"],
            figure_script=_f["script"],
        log:
            logs(f"figures/{_out}"),
        benchmark:
            bench(f"figures/{_out}")
        threads: 1
        resources:
            mem_mb=2000,
            runtime=5,
        conda:
            ENV
        script:
            "../scripts/figures/plot.py"  # runs params.figure_script (see that file)
