"""The package's shape: no import cycle anywhere in hpcspec/, and modules that read in one sitting.

Every `import` counts — at module level, inside functions, and under `TYPE_CHECKING` — since
each says that one module knows the other. (Layering is checked by import-linter's
contracts in pyproject.toml; this test adds what they cannot express.)
"""

from __future__ import annotations

import ast
from pathlib import Path

import hpcspec

ROOT = Path(hpcspec.__file__).parent
MAX_LINES = 400  # STYLE.md §5: a module reads in one sitting


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in ROOT.rglob("*.py")}


def _target(name: str) -> str | None:
    """The hpcspec module an import of `name` loads (a module, else its package)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _imports(module: str, path: Path) -> set[str]:
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            # `from package import module` loads that module; `from module import name`, the
            # module (a package's own __init__ runs first either way: not an edge here).
            names = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base
                for alias in node.names
            ]
        else:
            continue
        for name in names:
            target = _target(name) if name.startswith("hpcspec") else None
            if target and target != module:
                found.add(target)
    return found


def module_graph() -> dict[str, set[str]]:
    """Each hpcspec module → the hpcspec modules it imports."""
    return {module: _imports(module, path) for module, path in MODULES.items()}


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for other in sorted(graph[module]):
            if other not in index:
                visit(other)
                low[module] = min(low[module], low[other])
            elif other in on_stack:
                low[module] = min(low[module], index[other])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                cycles.append(sorted(group))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return cycles


def test_no_module_of_hpcspec_imports_itself_through_another() -> None:
    assert import_cycles(module_graph()) == []


def test_the_cycle_finder_sees_a_cycle() -> None:
    """The check can fail: two modules that import each other are one group."""
    assert import_cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [["a", "b"]]
    assert import_cycles({"a": {"b"}, "b": set()}) == []


def test_the_graph_sees_lazy_and_type_checking_imports() -> None:
    graph = module_graph()
    assert "hpcspec.engine.pipeline" in graph["hpcspec.cli.apply"]
    assert "hpcspec.emulator.local" in graph["hpcspec.cli.context"]  # imported in a function


def test_every_module_reads_in_one_sitting() -> None:
    lengths = {m: len(p.read_text(encoding="utf-8").splitlines()) for m, p in MODULES.items()}
    long = {m: n for m, n in lengths.items() if n > MAX_LINES}
    assert long == {}
