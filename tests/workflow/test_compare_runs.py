"""scripts/dev/compare_runs.py: every kind of difference between two runs is named, one line each."""

import numpy as np
from conftest import _compare_runs

from ganaudit.artifacts import store


def _run(root, mse, table="a,b\n1,2\n", figures=("fig3.png",)):
    store.write(root / "results" / "inversion" / "gan" / "test.h5", {"mse": mse, "index": np.arange(len(mse))})
    (root / "results" / "tables").mkdir(parents=True)
    (root / "results" / "tables" / "t.csv").write_text(table)
    (root / "results" / "figures").mkdir(parents=True)
    for f in figures:
        (root / "results" / "figures" / f).write_bytes(b"x")
    return root


def test_identical_runs_and_each_kind_of_difference(tmp_path, capsys):
    cr = _compare_runs()
    a = _run(tmp_path / "a", np.array([0.5, np.nan]))
    assert cr.main([str(a), str(_run(tmp_path / "same", np.array([0.5, np.nan])))]) == 0
    assert capsys.readouterr().out.startswith("same: 1 HDF5 files")
    b = _run(tmp_path / "b", np.array([0.25, np.nan]), "a,b\n1,3\n", ("fig3.png", "fig4.png"))
    assert cr.main([str(a), str(b)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines == ["results/inversion/gan/test.h5:mse: 1 of 2 values differ",
                     "results/tables/t.csv: differs from line 2 (2 vs 2 lines)",
                     f"results/figures/fig4.png: figure only in {b}"]
    assert cr.same_bits(np.float32([1]), np.float32([1])) and not cr.same_bits(np.float32([1]), np.float64([1]))
    assert not cr.same_bits(np.array([0.0]), np.array([-0.0]))                # the sign of zero counts
    assert cr.same_bits(np.array([np.nan]), np.array([np.nan])) and not cr.same_bits(np.array([np.nan]), -np.array([np.nan]))
    assert cr._n_different(np.array([np.nan, 1.0]), -np.array([np.nan, -1.0])) == 1
