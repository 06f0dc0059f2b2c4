"""Concatenate the shards of one artifact (inversion or AIS) along the image axis, in shard order."""

import numpy as np

from ganaudit.artifacts import store
from ganaudit.workflow import runtime


def main(shard_paths: list[str], out_path: str) -> None:
    parts = [store.read(p) for p in shard_paths]
    attrs = store.read_attrs(shard_paths[0])
    names = sorted(parts[0])
    for p, part in zip(shard_paths, parts):
        if sorted(part) != names:
            raise store.ArtifactError(f"{p}: datasets {sorted(part)} differ from the first shard's {names}")
    merged = {k: np.concatenate([part[k] for part in parts]) for k in names}
    attrs = {k: v for k, v in attrs.items() if k not in ("shard", "complete")}
    attrs["n_shards"] = len(shard_paths)
    store.write(out_path, merged, attrs)
    log.info("gathered %d shards, %d images", len(shard_paths), len(merged[names[0]]))


if "snakemake" in globals():
    log = runtime.setup(snakemake.log[0])
    main(list(snakemake.input.shards), snakemake.output[0])
