# Models: the GAN, the VAE and PPCA baselines (trained/fitted here) or a user's pretrained generator,
# samples from each (held-out seeds), and the classifier behind the sample-quality column.


rule train_model:
    input:
        data=f"results/data/{DATASET}.h5" if HAS_TRAIN else [],
        code=lib("train", "models/dcgan", "models/vae", "models/ppca", "models/adapters"),
    output:
        generator="results/models/{model}/generator.pt",
        losses="results/models/{model}/losses.csv",
    params:
        spec=lambda wc: config["models"][wc.model],
        seed=config["seed"],
        device=config["device"],
    priority: 10  # the longest stage: start training before anything else competes for the cores
    log:
        "logs/train_model/{model}.log",
    benchmark:
        "benchmarks/train_model/{model}.tsv"
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
        code=lib("data", "store"),
    output:
        "results/samples/{model}.h5",
    params:
        n=config["samples"]["n"],
        n_calibration=config["samples"]["n_calibration"],
        seed=config["seed"],
        device=config["device"],
    log:
        "logs/sample_model/{model}.log",
    benchmark:
        "benchmarks/sample_model/{model}.tsv"
    threads: config["threads"]
    resources:
        **torch_resources(mem_mb=3000, runtime=10),
    conda:
        ENV
    script:
        "../scripts/sample_model.py"


rule train_classifier:
    input:
        data=f"results/data/{DATASET}.h5",
        code=lib("train", "models/classifier"),
    output:
        "results/classifier/classifier.pt",
    params:
        train=config["classifier"].get("train", {}),
        seed=config["seed"],
    log:
        "logs/train_classifier/classifier.log",
    benchmark:
        "benchmarks/train_classifier/classifier.tsv"
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
        data=f"results/data/{DATASET}.h5",
        code=lib("models/classifier"),
    output:
        "results/quality/{model}.json",
    params:
        n=config["samples"]["n_quality"],
        seed=config["seed"],
    log:
        "logs/sample_quality/{model}.log",
    benchmark:
        "benchmarks/sample_quality/{model}.tsv"
    threads: config["threads"]
    resources:
        mem_mb=3000,
        runtime=10,
    conda:
        ENV
    script:
        "../scripts/sample_quality.py"
