"""Inversion PSNR against latent size (configs/latent_sweep.yaml): training vs generated images for every model
of a kind trained at several latent sizes, with the spread between the best and worst restart and the test
images' nearest-training-image PSNR for reference (`ganaudit.audits.common.latent_sweep_rows`)."""

from ganaudit.artifacts import readers, store, tables
from ganaudit.audits import common
from ganaudit.workflow import runtime


def main(inversion_paths: list[str], baseline_path: str | None, out_csv: str, out_md: str, params: dict) -> None:
    inv = {readers.model_and_group(p): store.read(p, ["restart_mse", "labels"]) for p in inversion_paths}
    nn = store.read(baseline_path, ["l2", "labels"]) if baseline_path else None
    table = common.latent_sweep_rows(inv, params["models"], params["inversion"], nn)
    notes = ["PSNR on the [0, 1] scale; best and worst restart per image, median over images. nn_test_psnr_db: the "
             "test images' nearest training image of their class (1NN baseline), the distance a held-out image lies "
             "from the training set."]
    if nn is None:
        notes.append("nn_test_psnr_db is empty: no test images in this run")
    tables.write_table(table, out_csv, out_md, "Latent-size sweep: inversion PSNR of training vs generated images", notes)
    log.info("\n%s", tables.to_markdown(table))


if "snakemake" in globals():
    log = runtime.setup(snakemake.log[0])
    main(list(snakemake.input.inversions), snakemake.input.get("baseline") or None, snakemake.output.csv,
         snakemake.output.md, runtime.as_dict(snakemake.params))
