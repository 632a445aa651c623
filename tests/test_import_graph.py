"""The packages' import graph, read from the source (AST, nothing imported): no import
circles, and the core imports nothing above it (no GUI, no backend, no nets, no
training). Imports inside functions and ``if TYPE_CHECKING:`` blocks count too: a
circle through a lazy import is still a circle for a reader."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("colorizer_gui", "training")
CORE = "colorizer_gui.core"
#: The root package's __init__ holds only the version, which the core's provenance records.
CORE_MAY_IMPORT = {"colorizer_gui"}


def module_files(root: Path = ROOT) -> dict[str, Path]:
    """Dotted module name -> file, for every module of ``PACKAGES`` under ``root``."""
    found = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    """Module -> the modules of ours it imports (a ``from X import name`` of a
    submodule counts as importing that submodule)."""
    files = module_files(root)

    def ours(name: str) -> str | None:
        while name and name not in files:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {}
    for module, path in files.items():
        package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
        deps: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                deps.update(filter(None, (ours(alias.name) for alias in node.names)))
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package[: len(package) - node.level + 1]
                    base = ".".join(up + ([node.module] if node.module else []))
                for alias in node.names:
                    target = ours(f"{base}.{alias.name}") if base else None
                    if target:
                        deps.add(target)
        deps.discard(module)
        graph[module] = deps
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(graph.get(node, ())):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                group.append(top)
                if top == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_there_are_no_import_circles():
    assert circles(import_graph()) == []


def test_the_core_imports_nothing_above_it():
    above = {module: sorted(d for d in deps if not d.startswith(CORE) and d not in CORE_MAY_IMPORT)
             for module, deps in import_graph().items() if module.startswith(CORE)}
    assert {m: d for m, d in above.items() if d} == {}


def test_the_checker_sees_a_circle_and_a_core_import_above_it(tmp_path):
    """The checks above can fail: a two-module circle through a lazy import, and a
    type-only import of a backend in the core, are both found."""
    pkg = tmp_path / "colorizer_gui"
    for folder in (pkg, pkg / "core", pkg / "backends", tmp_path / "training"):
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "__init__.py").write_text("")
    (pkg / "core" / "a.py").write_text("from typing import TYPE_CHECKING\n"
                                       "if TYPE_CHECKING:\n    from ..backends.base import Backend\n")
    (pkg / "backends" / "base.py").write_text("def f():\n    from . import other\n")
    (pkg / "backends" / "other.py").write_text("from .base import f\n")
    graph = import_graph(tmp_path)
    assert circles(graph) == [["colorizer_gui.backends.base", "colorizer_gui.backends.other"]]
    assert graph["colorizer_gui.core.a"] == {"colorizer_gui.backends.base"}
