"""Imports inside rag/ run downward: the package graph has no cycle.

Nodes are rag's subpackages (core, readers, chunking, encoders, index, search, learned,
answer, changes, export, cli, api) and its top-level modules (paths, __main__, and ``rag``
itself for rag/__init__.py). An edge A → B is any import in a module of A that names
something in B. Every import counts: at module level, inside functions (lazy imports are
still a dependency, and the cycle they hide still has to be understood by the reader) and
under ``if TYPE_CHECKING:`` (a type a module names is part of what it depends on). Names
reached through ``importlib.import_module`` strings (the lazy public API of rag/__init__.py)
are not seen; that module sits on top and nothing below may import from it. A second
test asks the same of modules, leaving out a package's own __init__ re-exports.
"""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RAG = REPO / "rag"


def node_of(module: str) -> str | None:
    """The graph node of a dotted module name, None outside rag."""
    parts = module.split(".")
    if parts[0] != "rag":
        return None
    if len(parts) == 1 or parts[1] == "__init__":
        return "rag"
    head = parts[1]
    if (RAG / head).is_dir() or (RAG / f"{head}.py").is_file():
        return head
    return "rag"  # a name defined in rag/__init__.py (e.g. ``from rag import __version__``)


def module_name(path: Path, root: Path = RAG) -> tuple[str, bool]:
    """Dotted name of a source file and whether it is a package's __init__."""
    rel = path.relative_to(root.parent).with_suffix("")
    parts = rel.parts
    if parts[-1] == "__init__":
        return ".".join(parts[:-1]), True
    return ".".join(parts), False


def imported(path: Path, root: Path = RAG) -> set[str]:
    """Every module an import statement in ``path`` names, anywhere in the file
    (``from X import y`` names X.y when y is a submodule, else X)."""
    name, is_package = module_name(path, root)
    package = name if is_package else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            for alias in node.names:
                sub = f"{source}.{alias.name}"
                found.add(sub if _is_module(sub, root) else source)
    return found


def _is_module(dotted: str, root: Path) -> bool:
    rel = Path(*dotted.split("."))
    return (root.parent / rel).is_dir() or (root.parent / rel).with_suffix(".py").is_file()


def package_graph() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {}
    for path in sorted(RAG.rglob("*.py")):
        me = node_of(module_name(path)[0])
        assert me is not None
        edges.setdefault(me, set())
        for target in imported(path):
            other = node_of(target)
            if other is not None and other != me:
                edges[me].add(other)
    return edges


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One cycle as a path [a, b, ..., a], None when the graph is acyclic."""
    state: dict[str, int] = {}  # 1: on the stack, 2: done
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt):], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for start in sorted(edges):
        if start not in state and (cycle := visit(start)):
            return cycle
    return None


def test_package_graph_has_no_cycle() -> None:
    edges = package_graph()
    assert {"core", "index", "search", "answer", "changes", "export", "cli"} <= set(edges)
    cycle = find_cycle(edges)
    assert cycle is None, "package import cycle: " + " → ".join(cycle or [])


def module_graph() -> dict[str, set[str]]:
    """Module → the rag modules it imports. A package's __init__ re-exports its children,
    so edges between a package's __init__ and its own submodules are left out."""
    files = {module_name(path)[0]: path for path in RAG.rglob("*.py")}
    return {
        name: {target for target in imported(path) if target in files and target != name
               and not name.startswith(target + ".") and not target.startswith(name + ".")}
        for name, path in files.items()
    }


def test_module_graph_has_no_cycle() -> None:
    """Inside a package too (e.g. rag.index.backends ↔ manifest ↔ milvus)."""
    cycle = find_cycle(module_graph())
    assert cycle is None, "module import cycle: " + " → ".join(cycle or [])


def test_core_imports_no_other_package() -> None:
    assert package_graph()["core"] == set()


def test_find_cycle_reports_one() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def test_lazy_and_type_checking_imports_are_seen(tmp_path: Path) -> None:
    tree = tmp_path / "rag" / "a"
    tree.mkdir(parents=True)
    source = tree / "m.py"
    source.write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                      "    from rag.b import X\n"
                      "def f():\n    import rag.c.d\n    from . import e\n", encoding="utf-8")
    found = imported(source, root=tmp_path / "rag")
    assert {"rag.b", "rag.c.d"} <= found
    assert "rag.a" in found or "rag.a.e" in found


def test_every_package_is_in_the_wheel() -> None:
    """A package missing from pyproject's list installs from a checkout but not from a
    wheel (rag.links once did: `rag serve` died after `pip install .`)."""
    import tomllib

    listed = set(tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
                 ["tool"]["setuptools"]["packages"])
    found = {".".join(init.parent.relative_to(REPO).parts)
             for top in ("rag", "ui") for init in (REPO / top).rglob("__init__.py")}
    missing = sorted(found - listed)
    assert not missing, f"add to [tool.setuptools] packages: {missing}"
