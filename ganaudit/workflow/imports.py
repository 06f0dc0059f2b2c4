"""Code inputs: the library files a script imports, transitively, read from its source (no import runs)."""

from __future__ import annotations

import ast
from pathlib import Path


def _module_file(root: Path, dotted: str) -> Path | None:
    """The file of a module of the package under ``root`` (``root/ganaudit/...``), or None."""
    base = root.joinpath(*dotted.split("."))
    for cand in (base.with_suffix(".py"), base / "__init__.py"):
        if cand.is_file():
            return cand
    return None


def _is_type_checking(node: ast.If) -> bool:
    t = node.test
    return (isinstance(t, ast.Name) and t.id == "TYPE_CHECKING") or (
        isinstance(t, ast.Attribute) and t.attr == "TYPE_CHECKING")


def _imported_modules(path: Path, root: Path, package: str) -> set[str]:
    """Dotted names of the ``package`` modules a file imports anywhere (function bodies too, not under
    ``if TYPE_CHECKING:``). ``from a import b`` yields ``a`` and ``a.b`` (``b`` may be a module)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    try:
        here = list(path.with_suffix("").relative_to(root).parts)  # a library module: a/b/c or a/b/__init__
    except ValueError:
        here = []  # a script outside the package: it has no relative imports
    out: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.split(".")[0] == package)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against this file's package
                anchor = here[:-node.level]
                mod = ".".join(anchor + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if mod.split(".")[0] == package:
                out.add(mod)
                out.update(f"{mod}.{a.name}" for a in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return out


def library_files(script: str | Path, root: str | Path, package: str = "ganaudit") -> list[str]:
    """The library files a script depends on: every ``package`` module it imports, and what those import,
    transitively, with each package's ``__init__.py``. Paths relative to ``root`` (the folder holding the
    package), sorted. A rule lists them as inputs, so editing any of them reruns the rule."""
    root = Path(root)
    seen: set[Path] = set()
    todo = [Path(script)]
    while todo:
        path = todo.pop()
        for dotted in _imported_modules(path, root, package):
            parts = dotted.split(".")
            for i in range(1, len(parts) + 1):  # the module and the packages above it
                f = _module_file(root, ".".join(parts[:i]))
                if f is not None and f not in seen:
                    seen.add(f)
                    todo.append(f)
    return sorted(str(p.relative_to(root)) for p in seen)
