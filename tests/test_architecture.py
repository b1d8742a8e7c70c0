"""The layout's rules, checked on the source: dependencies run one way and no import circle exists.

core <- tracker <- payouts <- channel <- app: a package may import the ones before it, never one after it. Inside a
package, files may import each other in one direction only, and no private name (``_x``) crosses a module.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ["core", "tracker", "payouts", "channel"]  # each may import only the ones before it


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


SOURCES = {module_name(p): p for layer in LAYERS for p in (ROOT / layer).rglob("*.py")}


def imports_of(path: Path) -> list[tuple[str, str | None]]:
    """(module, name) for every import in the file, at any depth; name is None for ``import x``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [(alias.name, None) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found += [(node.module, alias.name) for alias in node.names]
    return found


def project_edges() -> dict[str, set[str]]:
    """Which project modules each project module imports (``from pkg import module`` counts as the module)."""
    edges: dict[str, set[str]] = {name: set() for name in SOURCES}
    for name, path in SOURCES.items():
        for module, imported in imports_of(path):
            target = f"{module}.{imported}" if f"{module}.{imported}" in SOURCES else module
            if target in SOURCES and target != name:
                edges[name].add(target)
    return edges


def test_packages_import_only_the_layers_below_them():
    wrong = []
    for name, targets in project_edges().items():
        allowed = LAYERS[: LAYERS.index(name.split(".")[0]) + 1]
        wrong += [f"{name} -> {t}" for t in targets if t.split(".")[0] not in allowed]
    assert wrong == []


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in edges[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in edges:
        if node not in index:
            visit(node)
    return found


def test_no_import_circle_between_files():
    assert cycles(project_edges()) == []


def test_the_circle_finder_finds_circles():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_private_name_crosses_a_module():
    private = [
        f"{name}: {module}.{imported}"
        for name, path in SOURCES.items()
        for module, imported in imports_of(path)
        if imported and imported.startswith("_") and not imported.startswith("__")
    ]
    assert private == []
