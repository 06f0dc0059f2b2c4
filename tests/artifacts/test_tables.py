"""ganaudit.artifacts.tables: Markdown rendering and atomic CSV + Markdown writes."""

import pandas as pd
import pytest

from ganaudit.artifacts.tables import to_markdown, write_table


def test_markdown_formats_floats_missing_values_and_text():
    df = pd.DataFrame({"group": ["test", "photos"], "ll": [-1234.5678, float("nan")], "n": [3, 4]})
    assert to_markdown(df) == ("| group | ll | n |\n|---|---|---|\n| test | -1235 | 3 |\n| photos | — | 4 |\n")
    assert to_markdown(df, ".2f").splitlines()[2] == "| test | -1234.57 | 3 |"


def test_write_table_writes_both_files_with_title_and_notes(tmp_path):
    df = pd.DataFrame({"a": [1.5], "b": ["x"]})
    write_table(df, tmp_path / "t.csv", tmp_path / "t.md", "A title", ["a note"])
    assert pd.read_csv(tmp_path / "t.csv").equals(df)
    assert (tmp_path / "t.md").read_text() == "### A title\n\n| a | b |\n|---|---|\n| 1.5 | x |\n\n\na note\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.csv", "t.md"]   # no temporary file left


def test_a_failed_write_leaves_nothing(tmp_path, monkeypatch):
    class Boom(Exception):
        pass

    def explode(*a, **k):
        raise Boom

    monkeypatch.setattr(pd.DataFrame, "to_csv", explode)
    with pytest.raises(Boom):
        write_table(pd.DataFrame({"a": [1]}), tmp_path / "t.csv", tmp_path / "t.md")
    assert list(tmp_path.iterdir()) == []
