"""Messages, hints and package data cite public sources, never the reference files kept beside
the repository: users see every string hpcspec prints, and they have no `../shared`.

Docstrings and comments are for developers and may cite those files (`tests/test_docs_links.py`
explains the rule for the docs; this is the same rule for the strings in the code).
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.test_docs_links import citations

PACKAGE = Path(__file__).parents[1] / "hpcspec"


def _docstrings(tree: ast.AST) -> set[int]:
    kinds = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, kinds) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def _strings(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _docstrings(tree)
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip
    ]


def test_no_string_in_the_code_cites_a_file_outside_the_repository() -> None:
    hits = [
        f"{path.relative_to(PACKAGE.parent)}:{line}: {found}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for line, text in _strings(path)
        for found in citations(text)
    ]
    assert hits == []


def test_no_package_data_file_cites_a_file_outside_the_repository() -> None:
    hits = [
        f"{path.relative_to(PACKAGE.parent)}: {found}"
        for path in sorted(PACKAGE.rglob("*.json"))
        for found in citations(path.read_text(encoding="utf-8"))
    ]
    assert hits == []


def test_the_scan_sees_hints_and_skips_docstrings(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text(
        '"""cites derived/error-codes.json"""\n'
        "def f():\n"
        '    """and msdocs/jobstate.md"""\n'
        '    raise ValueError(f"bad {1}", hint="see msdocs/ischedulertask-dependson.md")\n'
    )
    texts = [text for _, text in _strings(module)]
    assert [found for text in texts for found in citations(text)] != []
    assert not any("derived/" in text or "jobstate" in text for text in texts)
