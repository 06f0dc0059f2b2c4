"""Compare two finished workflow directories: did a change alter any number?

    python scripts/dev/compare_runs.py RUN_A RUN_B

Compared:

* every HDF5 file under ``results/`` (the same set of files), dataset by dataset, bit for bit
  (dtype, shape and bytes; attributes such as ``created`` or ``git_commit`` are not compared);
* every CSV under ``results/tables/`` (the same set of files), byte for byte;
* the set of figure files under ``results/figures/`` (names only: images carry timestamps and fonts).

Prints one line per difference and exits 1 if there is any, else prints a one-line summary and exits 0.
``tests/conftest.py`` imports `h5_differences` from here for the resume and SLURM tests.
"""

from __future__ import annotations

import sys
from pathlib import Path

import h5py
import numpy as np


def h5_datasets(path: Path) -> dict[str, np.ndarray]:
    """Every dataset of an artifact, by its path inside the file (``groups/test/images``)."""
    out: dict[str, np.ndarray] = {}
    with h5py.File(path, "r") as f:
        f.visititems(lambda n, o: out.__setitem__(n, o[()]) if isinstance(o, h5py.Dataset) else None)
    return out


def is_complete(path: Path) -> bool:
    """Whether the artifact carries the ``complete`` attribute `ganaudit.artifacts.store` sets last."""
    with h5py.File(path, "r") as f:
        return bool(f.attrs.get("complete"))


def same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    """Same dtype, shape and bytes (NaN payloads and the sign of zero included); object arrays
    (variable-length strings) by value."""
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    if a.dtype.kind == "O":
        return a.tolist() == b.tolist()
    return a.tobytes() == b.tobytes()


def _n_different(a: np.ndarray, b: np.ndarray) -> int:
    """How many elements of two arrays of one dtype and shape differ in their bits (by value for objects)."""
    if a.dtype.kind == "O":
        return sum(x != y for x, y in zip(a.ravel().tolist(), b.ravel().tolist()))
    bits_a = np.ascontiguousarray(a).reshape(-1).view(np.uint8).reshape(a.size, -1)
    bits_b = np.ascontiguousarray(b).reshape(-1).view(np.uint8).reshape(b.size, -1)
    return int(np.any(bits_a != bits_b, axis=1).sum())


def _files(root: Path, sub: str, pattern: str) -> set[Path]:
    base = root / sub
    return {p.relative_to(root) for p in base.rglob(pattern) if p.is_file()} if base.is_dir() else set()


def _set_differences(a: Path, b: Path, names_a: set[Path], names_b: set[Path], what: str) -> list[str]:
    return ([f"{rel}: {what} only in {a}" for rel in sorted(names_a - names_b)]
            + [f"{rel}: {what} only in {b}" for rel in sorted(names_b - names_a)])


def h5_differences(a: Path, b: Path) -> list[str]:
    """One line per difference between the HDF5 files under ``a/results`` and ``b/results``."""
    a, b = Path(a), Path(b)
    names_a, names_b = _files(a, "results", "*.h5"), _files(b, "results", "*.h5")
    out = _set_differences(a, b, names_a, names_b, "HDF5 file")
    for rel in sorted(names_a & names_b):
        incomplete = [str(root) for root in (a, b) if not is_complete(root / rel)]
        if incomplete:
            out.append(f"{rel}: incomplete artifact in {', '.join(incomplete)}")
            continue
        da, db = h5_datasets(a / rel), h5_datasets(b / rel)
        out += [f"{rel}:{n}: dataset only in {a}" for n in sorted(set(da) - set(db))]
        out += [f"{rel}:{n}: dataset only in {b}" for n in sorted(set(db) - set(da))]
        for n in sorted(set(da) & set(db)):
            x, y = np.asarray(da[n]), np.asarray(db[n])
            if not same_bits(x, y):
                detail = (f"{x.dtype}{list(x.shape)} vs {y.dtype}{list(y.shape)}" if x.shape != y.shape or x.dtype != y.dtype
                          else f"{_n_different(x, y)} of {x.size} values differ")
                out.append(f"{rel}:{n}: {detail}")
    return out


def csv_differences(a: Path, b: Path) -> list[str]:
    """One line per CSV under ``results/tables`` that is missing on one side or not byte-identical."""
    a, b = Path(a), Path(b)
    names_a, names_b = _files(a, "results/tables", "*.csv"), _files(b, "results/tables", "*.csv")
    out = _set_differences(a, b, names_a, names_b, "table")
    for rel in sorted(names_a & names_b):
        if (a / rel).read_bytes() != (b / rel).read_bytes():
            la, lb = (a / rel).read_text().splitlines(), (b / rel).read_text().splitlines()
            first = next((i for i, (x, y) in enumerate(zip(la, lb)) if x != y), min(len(la), len(lb)))
            out.append(f"{rel}: differs from line {first + 1} ({len(la)} vs {len(lb)} lines)")
    return out


def figure_differences(a: Path, b: Path) -> list[str]:
    """One line per figure file under ``results/figures`` present on one side only."""
    a, b = Path(a), Path(b)
    return _set_differences(a, b, _files(a, "results/figures", "*"), _files(b, "results/figures", "*"), "figure")


def differences(a: Path, b: Path) -> list[str]:
    """Every difference `h5_differences`, `csv_differences` and `figure_differences` find."""
    return h5_differences(a, b) + csv_differences(a, b) + figure_differences(a, b)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: compare_runs.py RUN_A RUN_B", file=sys.stderr)
        return 2
    a, b = (Path(p) for p in argv)
    for root in (a, b):
        if not (root / "results").is_dir():
            print(f"{root}: no results/ folder (not a finished workflow directory)", file=sys.stderr)
            return 2
    diffs = differences(a, b)
    for line in diffs:
        print(line)
    if diffs:
        return 1
    n_h5 = len(_files(a, "results", "*.h5"))
    n_csv = len(_files(a, "results/tables", "*.csv"))
    n_fig = len(_files(a, "results/figures", "*"))
    print(f"same: {n_h5} HDF5 files (bit for bit), {n_csv} CSV tables (byte for byte), {n_fig} figure files")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
