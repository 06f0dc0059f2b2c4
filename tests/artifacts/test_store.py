import h5py
import numpy as np
import pytest

from ganaudit.artifacts import store


def test_round_trip_with_attrs(tmp_path):
    path = tmp_path / "a.h5"
    data = {"x": np.arange(6, dtype=np.float64).reshape(2, 3), "groups": {"train": {"images": np.zeros((2, 1, 4, 4), np.uint8)}}}
    attrs = store.provenance({"n_steps": 5, "classes": [0, 1]}, seed=7)
    store.write(path, data, attrs, {"groups/train": {"kind": "train"}})
    out = store.read(path, {"x": (2, 3), "groups/train/images": (None, 1, 4, 4)})
    np.testing.assert_array_equal(out["x"], data["x"])
    assert out["groups/train/images"].dtype == np.uint8
    a = store.read_attrs(path)
    assert a["seed"] == 7 and a["complete"]
    assert '"n_steps": 5' in a["config"]
    for key in ("ganaudit_version", "torch_version", "git_commit", "created"):
        assert a[key]
    assert store.read_attrs(path, "groups/train")["kind"] == "train"
    assert store.list_groups(path) == ["train"]
    assert not list(tmp_path.glob(".*tmp")), "no temporary file may be left behind"


def test_missing_file_and_dataset(tmp_path):
    with pytest.raises(store.ArtifactError, match="file not found"):
        store.read(tmp_path / "nope.h5")
    store.write(tmp_path / "a.h5", {"x": np.zeros(3)})
    with pytest.raises(store.ArtifactError, match=r"a\.h5: missing dataset 'y'"):
        store.read(tmp_path / "a.h5", ["y"])
    with pytest.raises(store.ArtifactError, match=r"has shape \(3,\); expected \(4\)"):
        store.read(tmp_path / "a.h5", {"x": (4,)})


def test_truncated_and_incomplete_files_are_refused(tmp_path):
    good = tmp_path / "good.h5"
    store.write(good, {"x": np.zeros(1000)})
    bad = tmp_path / "bad.h5"
    bad.write_bytes(good.read_bytes()[:500])
    with pytest.raises(store.ArtifactError, match=r"bad\.h5: not a readable HDF5 file"):
        store.read(bad)
    partial = tmp_path / "partial.h5"
    with h5py.File(partial, "w") as f:  # written without the completion attr, like a killed writer
        f["x"] = np.zeros(3)
    with pytest.raises(store.ArtifactError, match="incomplete artifact"):
        store.read(partial)


def test_failed_write_leaves_nothing(tmp_path):
    class Boom:
        def __array__(self, *a, **k):
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        store.write(tmp_path / "x.h5", {"a": np.zeros(2), "b": Boom()})
    assert list(tmp_path.iterdir()) == []


def test_artifacts_get_the_users_umask_not_0600(tmp_path):
    """Colleagues on a shared file system must be able to read the results (mkstemp alone makes 0600)."""
    import os

    old = os.umask(0o022)
    try:
        p = store.write(tmp_path / "a.h5", {"x": np.arange(3)}, store.provenance())
        with store.atomic(tmp_path / "b.txt") as tmp:
            tmp.write_text("hi")
    finally:
        os.umask(old)
    assert (p.stat().st_mode & 0o777) == 0o644
    assert ((tmp_path / "b.txt").stat().st_mode & 0o777) == 0o644
    assert not list(tmp_path.glob(".*.tmp"))
