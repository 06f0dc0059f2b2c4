"""HDF5 artifacts: atomic writes, provenance attrs, and checked reads.

Every artifact is written to a temporary file in the destination folder and renamed into place, so a
reader never sees a half-written file. Each file carries the attrs ``config`` (JSON of the rule's
params), ``seed``, ``ganaudit_version``, ``torch_version``, ``git_commit``, ``created`` and
``complete = True``; `read` refuses a file without ``complete`` or with missing/misshapen datasets,
with a one-line error naming the file.

Artifact paths and contents: docs/architecture.md (Contracts). Layout: datasets live at slash paths (``groups/train/images``); nested dicts map to HDF5 groups.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import h5py
import numpy as np

import ganaudit

Arrays = dict[str, np.ndarray]


class ArtifactError(ValueError):
    """A missing, corrupt or incomplete artifact; the message names the file and what was wrong."""


def git_commit(cwd: str | os.PathLike | None = None) -> str:
    """The current git commit, or ``unknown`` outside a git checkout."""
    cwd = cwd or Path(__file__).resolve().parent
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, timeout=5)
        if sha.returncode != 0:
            return "unknown"
        return sha.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def provenance(config: Mapping[str, Any] | None = None, seed: int | None = None) -> dict[str, Any]:
    """The attrs every artifact carries."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        torch_version = version("torch")
    except PackageNotFoundError:
        torch_version = "not installed"
    return {
        "config": json.dumps(config or {}, sort_keys=True, default=str),
        "seed": -1 if seed is None else int(seed),
        "ganaudit_version": ganaudit.__version__,
        "torch_version": torch_version,
        "h5py_version": h5py.__version__,
        "numpy_version": np.__version__,
        "git_commit": git_commit(),
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }


def _flatten(tree: Mapping[str, Any], prefix: str = "") -> Arrays:
    out: Arrays = {}
    for key, value in tree.items():
        path = f"{prefix}/{key}" if prefix else str(key)
        if isinstance(value, Mapping):
            out.update(_flatten(value, path))
        else:
            out[path] = np.asarray(value)
    return out


def write(path: str | os.PathLike, data: Mapping[str, Any], attrs: Mapping[str, Any] | None = None,
          group_attrs: Mapping[str, Mapping[str, Any]] | None = None) -> Path:
    """Write ``data`` (nested dict of arrays) to ``path`` atomically, with provenance ``attrs``.

    ``attrs`` should come from `provenance`; extra keys are kept. ``group_attrs`` sets attrs on
    HDF5 groups by path (e.g. ``{"groups/train": {"source": "mnist"}}``).
    """
    path = Path(path)
    with writing(path, attrs, group_attrs) as f:
        for name, arr in _flatten(data).items():
            if arr.dtype.kind == "U":
                f.create_dataset(name, data=arr.astype(h5py.string_dtype()))
            else:
                f.create_dataset(name, data=arr)
    return path


@contextlib.contextmanager
def writing(path: str | os.PathLike, attrs: Mapping[str, Any] | None = None,
            group_attrs: Mapping[str, Mapping[str, Any]] | None = None) -> Iterator[h5py.File]:
    """`write` for data too large to hold at once: an open HDF5 file to fill in pieces (datasets created, then
    written a block of rows at a time), which replaces ``path`` atomically, with ``attrs``, ``group_attrs`` and
    ``complete = True``, when the block ends without error (nothing is left behind when it raises)."""
    with atomic(path) as tmp, h5py.File(tmp, "w") as f:
        yield f
        for gpath, gattrs in (group_attrs or {}).items():
            grp = f.require_group(gpath)
            for k, v in gattrs.items():
                grp.attrs[k] = _attr(v)
        for k, v in (attrs or {}).items():
            f.attrs[k] = _attr(v)
        f.attrs["complete"] = True


@contextlib.contextmanager
def atomic(path: str | os.PathLike) -> Iterator[Path]:
    """A temporary path beside ``path`` that replaces ``path`` when the block ends without error (and is
    removed when it raises), so no reader ever sees a half-written file. The file gets the mode any new file
    gets under the user's umask (not mkstemp's 0600), so colleagues on a shared file system can read it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        os.chmod(tmp, _default_mode())
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _default_mode() -> int:
    """The mode a new file gets under the current umask (``0666 & ~umask``)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _attr(v: Any) -> Any:
    if isinstance(v, str):
        return str(v)
    if isinstance(v, (dict, list, tuple)) and not (isinstance(v, (list, tuple)) and v and all(isinstance(x, (int, float)) for x in v)):
        return json.dumps(v, sort_keys=True, default=str)
    return v


def open_checked(path: str | os.PathLike) -> h5py.File:
    """Open an artifact for reading; one-line `ArtifactError` if missing, corrupt or incomplete."""
    path = Path(path)
    if not path.exists():
        raise ArtifactError(f"{path}: file not found")
    try:
        f = h5py.File(path, "r")
    except OSError as e:
        raise ArtifactError(f"{path}: not a readable HDF5 file ({str(e).splitlines()[0]})") from None
    if not bool(f.attrs.get("complete", False)):
        f.close()
        raise ArtifactError(f"{path}: incomplete artifact (no 'complete' attr); delete it and rerun")
    return f


def read(path: str | os.PathLike, names: Mapping[str, tuple | None] | list[str] | None = None) -> Arrays:
    """Read datasets from ``path``. ``names`` maps dataset path → expected shape (``None`` entries
    in a shape match any size; a shape of ``None`` skips the check). Without ``names``, reads all."""
    with open_checked(path) as f:
        if names is None:
            names = []
            f.visititems(lambda n, o: names.append(n) if isinstance(o, h5py.Dataset) else None)
        spec = dict.fromkeys(names) if isinstance(names, list) else dict(names)
        out: Arrays = {}
        for name, shape in spec.items():
            if name not in f or not isinstance(f[name], h5py.Dataset):
                raise ArtifactError(f"{path}: missing dataset '{name}'")
            arr = f[name][()]
            if shape is not None:
                check_shape(arr, shape, f"{path}: dataset '{name}'")
            if isinstance(arr, np.ndarray) and arr.dtype.kind == "O":
                arr = arr.astype(str)
            out[name] = arr
        return out


def read_attrs(path: str | os.PathLike, group: str = "/") -> dict[str, Any]:
    with open_checked(path) as f:
        if group not in f:
            raise ArtifactError(f"{path}: missing group '{group}'")
        return {k: (v.item() if isinstance(v, np.generic) else v) for k, v in f[group].attrs.items()}


def list_groups(path: str | os.PathLike, parent: str = "groups") -> list[str]:
    """Names of the HDF5 groups under ``parent`` (e.g. the image groups of a data file)."""
    with open_checked(path) as f:
        if parent not in f:
            return []
        return sorted(k for k, v in f[parent].items() if isinstance(v, h5py.Group))


def check_shape(arr: np.ndarray, shape: tuple, where: str) -> None:
    if arr.ndim != len(shape) or any(s is not None and s != a for s, a in zip(shape, arr.shape)):
        want = "(" + ", ".join("N" if s is None else str(s) for s in shape) + ")"
        raise ArtifactError(f"{where} has shape {tuple(arr.shape)}; expected {want}")
