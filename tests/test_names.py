"""Every dotted ``ganaudit.…`` name the library's docstrings and comments, the scripts, the rules and the docs mention
resolves to a module or an attribute of one: a renamed or moved function cannot leave a stale name behind."""

import importlib
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
NAME = re.compile(r"(?<![\w/.-])ganaudit(?:\.[A-Za-z_]\w*)+")
SOURCES = [*sorted((REPO / "ganaudit").rglob("*.py")), *sorted((REPO / "scripts").rglob("*.py")),
           *sorted((REPO / "rules").glob("*.smk")), *sorted((REPO / "docs").glob("*.md")), REPO / "README.md",
           *sorted((REPO / "benchmarks").glob("*.py")), *sorted((REPO / "report").glob("*.rst"))]


def resolves(dotted: str) -> bool:
    """Import the longest importable module prefix of ``dotted``, then follow the rest as attributes."""
    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ModuleNotFoundError:
            continue
        for attr in parts[i:]:
            if not hasattr(obj, attr):
                return False
            obj = getattr(obj, attr)
        return True
    return False


def mentioned() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for path in SOURCES:
        for n, line in enumerate(path.read_text().splitlines(), 1):
            for m in NAME.finditer(line):
                name = m.group(0).rstrip(".")
                if line[m.end():m.end() + 1] in ("/",) or name.endswith((".py", ".yaml", ".h5")):
                    continue  # a file path, not a dotted name
                out.setdefault(name, []).append(f"{path.relative_to(REPO)}:{n}")
    return out


def test_the_scan_finds_names():
    names = mentioned()
    assert "ganaudit.density.ais.ais_log_likelihood" in names or "ganaudit.density.ais" in names
    assert len(names) > 50


@pytest.mark.parametrize("name", sorted(mentioned()))
def test_every_dotted_name_resolves(name):
    assert resolves(name), f"{name} (named at {', '.join(mentioned()[name][:3])}) resolves to nothing"
