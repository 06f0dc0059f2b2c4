"""configs/samples.yaml end to end: a folder of PNGs (training images the run does not use: a perfect GAN) is audited
without a generator; only the tests that need samples run and the findings page says why the rest do not."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import copy_workflow, snakemake

from ganaudit.models.samples import unused_training_images, write_png_folder

pytestmark = pytest.mark.workflow


def test_a_folder_of_pngs_is_audited_end_to_end(tmp_path):
    wd = copy_workflow(tmp_path / "wf")
    cfg = yaml.safe_load((wd / "configs" / "samples.yaml").read_text())
    images, _ = unused_training_images(cfg["dataset"], 400, cfg["seed"])
    write_png_folder(images, wd / cfg["workdir"] / cfg["models"]["perfect"]["path"])
    snakemake(wd, "--configfile", "configs/samples.yaml", timeout=1500)
    res = wd / cfg["workdir"] / "results"
    tables = {t: pd.read_csv(res / "tables" / f"{t}.csv") for t in ("support", "memorisation", "coverage", "tgtr")}
    assert (tables["memorisation"].n_copies == 0).all() and set(tables["memorisation"].model) == {"perfect"}
    tgtr = tables["tgtr"]
    assert sorted(zip(tgtr.classifier, tgtr.n_generated)) == [("cnn", 100), ("cnn", 300), ("linear", 100), ("linear", 300)]
    assert set(tgtr["labels"]) == {"the pipeline's classifier (the samples have no classes)"}
    assert tgtr.accuracy_generated.between(0.5, 1).all()
    assert (res / "figures" / "tgtr_accuracy_curve_perfect.png").stat().st_size > 5000
    assert not (res / "tables" / "table1.csv").exists() and not (res / "inversion").exists() and not (res / "ais").exists()
    page = (res / "report" / "workflow.rst").read_text()
    assert "**This run audits stored samples, not a generator**: every model of this run is given as stored samples" in page
    assert page.count("**cannot be tested in this run** (it needs a generator; see the note above)") == 4
    assert page.count("0 exact copies") == 2 and "$" not in page.split("Verdicts use")[0]   # every placeholder filled
    lin = tgtr[(tgtr.classifier == "linear") & (tgtr.n_generated == 300)].iloc[0]
    assert 100 <= lin.real_equivalent_high and lin.real_equivalent_low <= 1000   # fresh images: worth about their number

    # samples of the wrong shape stop the import job with the file and the expected shape
    np.savez(wd / "bad.npz", images=np.zeros((3, 32, 32, 1), np.uint8))
    bad = {**cfg, "workdir": str(wd / "audits" / "bad"), "models": {"perfect": {"kind": "samples", "path": str(wd / "bad.npz")}}}
    (wd / "bad.yaml").write_text(yaml.safe_dump(bad))
    proc = snakemake(wd, "results/models/perfect/samples.h5", "--configfile", "bad.yaml", check=False)
    log = Path(wd / "audits" / "bad" / "logs" / "import_samples" / "perfect.log").read_text()
    assert proc.returncode != 0
    assert f"{wd / 'bad.npz'}: images of shape (3, 32, 32, 1); expected uint8 [N, 1, 28, 28] or [N, 28, 28, 1]" in log
