"""No import circle inside the package: every module's imports (top-level and inside functions) form a
graph without cycles (an import of a submodule also counts as one of each package above it), so each layer can be read, tested and replaced on its own (issue 29: the run-folder
layout once lived in the orchestrator, and the report imported it back)."""

from __future__ import annotations

import ast
from pathlib import Path

from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

SRC = Path(__file__).resolve().parents[1] / "src"


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported(node: ast.AST, package: str, modules: set[str]) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom):
        base = node.module or ""
        if node.level:
            parts = package.split(".")[: len(package.split(".")) - node.level + 1]
            base = ".".join(parts + ([base] if base else []))
        # `from socratic.data import mrbench` imports the submodule; `from socratic.data import SOURCES` the package
        return [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names]
    return []


def import_graph() -> dict[str, set[str]]:
    files = {_module_name(p): p for p in SRC.rglob("*.py")}
    modules = set(files)
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        edges = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            for target in _imported(node, package, modules):
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                # importing a.b.c runs a/__init__ and a/b/__init__ first: those are edges too
                while target and target != name and not name.startswith(target + "."):
                    edges.add(target)
                    target = target.rpartition(".")[0]
        graph[name] = edges
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (each holds an import circle)."""
    names = sorted(graph)
    index = {n: i for i, n in enumerate(names)}
    rows, cols = zip(*[(index[a], index[b]) for a in names for b in graph[a]], strict=True)
    matrix = csr_matrix(([1] * len(rows), (rows, cols)), shape=(len(names), len(names)))
    _, labels = connected_components(matrix, directed=True, connection="strong")
    groups: dict[int, list[str]] = {}
    for name, label in zip(names, labels, strict=True):
        groups.setdefault(int(label), []).append(name)
    return [g for g in groups.values() if len(g) > 1]


def test_cycles_finds_a_circle_and_nothing_else():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]


def test_the_package_has_no_import_circle():
    graph = import_graph()
    assert "socratic.store.run_folder" in graph["socratic.report.build"]  # the graph sees real edges
    assert cycles(graph) == []


# One concept per module, grouped: the top level holds what nearly every stage shares (issue 38); files on
# disk live in socratic.store, the command line in socratic.cli and socratic.commands.
MAX_TOP_LEVEL_MODULES = 11


def test_the_top_level_stays_small():
    top_level = sorted(p.stem for p in (SRC / "socratic").glob("*.py") if p.stem not in {"__init__", "__main__"})
    assert len(top_level) <= MAX_TOP_LEVEL_MODULES, f"{len(top_level)} top-level modules: {top_level}"
