# The run's real images (every training and test image) embedded once in the feature spaces the support,
# memorisation and metrics audits read (REAL_SPACES: the perceptual distance, the classifier, the TorchScript
# networks of beyond.metrics.weights), so that no audit job embeds them again (ganaudit.audits.real_features).
# Its params are only what the features depend on: a change of beyond.support reruns the support audit, not this.


rule real_features:
    input:
        train=data_file("train"),
        test=data_file("test"),
        classifier="results/classifier/classifier.pt" if "classifier" in REAL_SPACES else [],
        code=code("real_features"),
    output:
        "results/features/real.h5",
    params:
        spaces=REAL_SPACES,
        perceptual=config["perceptual"] if "perceptual" in REAL_SPACES else {},
        weights={s: config["beyond"]["metrics"]["weights"][s] for s in REAL_SPACES if s in ("inception", "dinov2")},
        device=config["device"],
        seed=config["seed"],
    log:
        logs("real_features/real"),
    benchmark:
        bench("real_features/real")
    threads: config["threads"]
    resources:
        **torch_resources(mem_mb=4000, runtime=30),
    conda:
        ENV
    script:
        "../scripts/real_features.py"
