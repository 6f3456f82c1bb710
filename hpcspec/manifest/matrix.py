"""Matrix expansion: axes (cartesian product), `include` rows added, `exclude` rows removed.

A matrix is hpcspec's own (HPC Pack has none): each combination becomes one Basic task named
`KEY[axis=value;axis=value]`. The separator is `;`, not `,`, because HPC Pack's DependsOn is a
comma-separated list of task names and a comma inside a name would split it.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

Combination = tuple[tuple[str, str], ...]


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def combinations(matrix: Mapping[str, Any]) -> list[Combination]:
    """Every combination, in axis order, each value as text."""
    axes = {
        k: [_text(v) for v in values]
        for k, values in matrix.items()
        if k not in ("include", "exclude")
    }
    rows: list[Combination] = []
    if axes:
        for values in itertools.product(*axes.values()):
            rows.append(tuple(zip(axes, values, strict=True)))
    excludes = [{k: _text(v) for k, v in row.items()} for row in matrix.get("exclude", [])]
    rows = [r for r in rows if not any(_matches(r, ex) for ex in excludes)]
    for row in matrix.get("include", []):
        extra = tuple((k, _text(v)) for k, v in row.items())
        if extra not in rows:
            rows.append(extra)
    return rows


def _matches(row: Combination, pattern: Mapping[str, str]) -> bool:
    values = dict(row)
    return all(values.get(k) == v for k, v in pattern.items())


def task_name(key: str, row: Combination) -> str:
    """`post[mesh=coarse;re=1e5]`."""
    return f"{key}[{';'.join(f'{k}={v}' for k, v in row)}]"
