# Models: the GAN, the VAE and PPCA baselines (trained/fitted here) or a user's pretrained generator,
# samples from each (held-out seeds, one file per sample group), and the classifier behind the
# sample-quality column.


rule train_model:
    input:
        data=data_file("train") if HAS_TRAIN else [],
        code=code("train_model"),
    output:
        generator="results/models/{model}/generator.pt",
        losses="results/models/{model}/losses.csv",
    params:
        spec=lambda wc: model_spec(config, wc.model),  # without its inversion settings
        seed=config["seed"],
        device=config["device"],
    priority: 10  # the longest stage: start training before anything else competes for the cores
    log:
        logs("train_model/{model}"),
    benchmark:
        bench("train_model/{model}")
    threads: config["threads"]
    resources:
        **torch_resources(mem_mb=6000, runtime=60),
    conda:
        ENV
    script:
        "../scripts/train_model.py"


rule sample_model:
    input:
        generator="results/models/{model}/generator.pt",
        code=code("sample_model"),
    output:
        "results/samples/{model}/{group}.h5",
    params:
        n=lambda wc: config["samples"]["n" if wc.group == "generated" else "n_calibration"],
        seed=config["seed"],
        device=config["device"],
    wildcard_constraints:
        group="|".join(GENERATED),
    log:
        logs("sample_model/{model}/{group}"),
    benchmark:
        bench("sample_model/{model}/{group}")
    threads: config["threads"]
    resources:
        **torch_resources(mem_mb=3000, runtime=10),
    conda:
        ENV
    script:
        "../scripts/sample_model.py"


rule train_classifier:
    input:
        train=data_file("train"),
        test=data_file("test"),
        code=code("train_classifier"),
    output:
        "results/classifier/classifier.pt",
    params:
        train=config["classifier"].get("train", {}),
        seed=config["seed"],
    log:
        logs("train_classifier/classifier"),
    benchmark:
        bench("train_classifier/classifier")
    threads: config["threads"]
    resources:
        mem_mb=4000,
        runtime=20,
    conda:
        ENV
    script:
        "../scripts/train_classifier.py"


rule sample_quality:
    input:
        generator="results/models/{model}/generator.pt",
        classifier="results/classifier/classifier.pt",
        test=data_file("test"),
        code=code("sample_quality"),
    output:
        "results/quality/{model}.json",
    params:
        n=config["samples"]["n_quality"],
        seed=config["seed"],
        dataset=DATASET,
    log:
        logs("sample_quality/{model}"),
    benchmark:
        bench("sample_quality/{model}")
    threads: config["threads"]
    resources:
        mem_mb=3000,
        runtime=10,
    conda:
        ENV
    script:
        "../scripts/sample_quality.py"


# A model given as stored samples (kind samples: a folder of PNG/JPEG images, an .npz or an HDF5 array), checked
# against the dataset's image shape and stored as an artifact the audits draw from (ganaudit.models.samples).
rule import_samples:
    input:
        stored=lambda wc: config["models"][wc.model]["path"],
        code=code("import_samples"),
    output:
        "results/models/{model}/samples.h5",
    params:
        path=lambda wc: config["models"][wc.model]["path"],
        image_shape=[config["dataset"]["channels"], config["dataset"]["image_size"], config["dataset"]["image_size"]],
        classes=config["dataset"].get("classes"),
    wildcard_constraints:
        model="|".join(SAMPLE_MODELS) or "^$",
    log:
        logs("import_samples/{model}"),
    benchmark:
        bench("import_samples/{model}")
    threads: 1
    resources:
        **LIGHT,
    conda:
        ENV
    script:
        "../scripts/import_samples.py"
