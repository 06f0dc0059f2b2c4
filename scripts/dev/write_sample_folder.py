"""Write a folder of PNG samples for a `samples` model (configs/samples.yaml): training images that a run of the
config does not use (after its dataset.max_train, `ganaudit.models.samples.unused_training_images`), i.e. the
samples of a perfect GAN.

    .venv/bin/python scripts/dev/write_sample_folder.py configs/samples.yaml

writes the config's samples model's ``path`` (relative to the config's ``workdir``), ``--n`` images (default 1000).
"""

import argparse
from pathlib import Path

import yaml

from ganaudit.models.samples import unused_training_images, write_png_folder


def main(config_path: str, n: int) -> Path:
    cfg = yaml.safe_load(Path(config_path).read_text())
    model = next(m for m, s in cfg["models"].items() if s["kind"] == "samples")
    folder = Path(cfg.get("workdir") or ".") / cfg["models"][model]["path"]
    images, _ = unused_training_images(cfg["dataset"], n, cfg.get("seed", 0))
    write_png_folder(images, folder)
    print(f"wrote {len(images)} PNG images {tuple(images.shape[1:])} to {folder} (model {model})")
    return folder


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("config")
    ap.add_argument("--n", type=int, default=1000)
    a = ap.parse_args()
    main(a.config, a.n)
