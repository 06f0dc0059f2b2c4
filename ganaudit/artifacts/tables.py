"""Writing tables: tidy CSV plus a Markdown rendering, atomically."""

from __future__ import annotations

import os

import pandas as pd

from ganaudit.artifacts import store


def _atomic_text(path: str | os.PathLike, text: str) -> None:
    with store.atomic(path) as tmp:
        tmp.write_text(text)


def to_markdown(df: pd.DataFrame, floatfmt: str = ".4g") -> str:
    """A GitHub-flavoured Markdown table (no optional dependency on `tabulate`)."""
    def fmt(v):
        if isinstance(v, float):
            return "—" if pd.isna(v) else format(v, floatfmt)
        return str(v)

    cols = [str(c) for c in df.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    lines += ["| " + " | ".join(fmt(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join(lines) + "\n"


def write_table(df: pd.DataFrame, csv_path: str | os.PathLike | None, md_path: str | os.PathLike | None = None,
                title: str | None = None, notes: list[str] | None = None) -> None:
    """Write ``df`` as CSV (when ``csv_path`` is given) and as Markdown with a title and notes (when
    ``md_path`` is given), each atomically."""
    if csv_path is not None:
        _atomic_text(csv_path, df.to_csv(index=False))
    if md_path is not None:
        parts = [f"### {title}\n"] if title else []
        parts.append(to_markdown(df))
        parts += [f"\n{n}" for n in notes or []]
        _atomic_text(md_path, "\n".join(parts) + "\n")
