"""The emulator's package reads in one sitting: small modules, no cycles, no cryptic aliases."""

from __future__ import annotations

import ast
from pathlib import Path

import hpcspec.emulator

PACKAGE = Path(hpcspec.emulator.__file__).parent
MODULES = sorted(PACKAGE.glob("*.py"))


def _imports(path: Path) -> set[str]:
    """The sibling emulator modules a module imports (at any depth in its body)."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "hpcspec.emulator":
                out |= {alias.name for alias in node.names}
            elif node.module.startswith("hpcspec.emulator."):
                out.add(node.module.split(".")[2])
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("hpcspec.emulator."):
                    out.add(alias.name.split(".")[2])
    return {name for name in out if (PACKAGE / f"{name}.py").exists()}


def test_no_emulator_module_imports_itself_back_through_another() -> None:
    graph = {path.stem: _imports(path) for path in MODULES if path.stem != "__init__"}
    done: set[str] = set()

    def visit(name: str, trail: tuple[str, ...]) -> None:
        assert name not in trail, "import cycle: " + " → ".join((*trail, name))
        if name in done:
            return
        for target in graph.get(name, ()):
            visit(target, (*trail, name))
        done.add(name)

    for module in graph:
        visit(module, ())


def test_every_emulator_module_is_under_400_lines_and_has_a_docstring() -> None:
    for path in MODULES:
        text = path.read_text(encoding="utf-8")
        assert len(text.splitlines()) < 400, f"{path.name} has {len(text.splitlines())} lines"
        assert ast.get_docstring(ast.parse(text)), f"{path.name} has no module docstring"


def test_no_emulator_module_imports_under_a_one_letter_alias() -> None:
    for path in MODULES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import | ast.ImportFrom):
                for alias in node.names:
                    assert alias.asname is None or len(alias.asname) > 1, (
                        f"{path.name}: {alias.name} as {alias.asname}"
                    )
