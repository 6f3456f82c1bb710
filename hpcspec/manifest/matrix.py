"""Matrix expansion: axes (cartesian product), `include` rows added, `exclude` rows removed.

A matrix is hpcspec's own (HPC Pack has none): each combination becomes one Basic task named
`KEY[axis=value;axis=value]`. The separator is `;`, not `,`, because HPC Pack's DependsOn is a
comma-separated list of task names and a comma inside a name would split it.

`size` bounds a matrix before anything is expanded, so an 800-byte manifest of 10^8
combinations is refused at once; `combinations` is linear in the rows it produces (excludes
are matched by set lookups, one per distinct set of axes they name).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from typing import Any

Combination = tuple[tuple[str, str], ...]

# Most distinct axis sets that `exclude` rows may name, times the grid size: the work of
# matching excludes (each row is looked up once per distinct set).
MAX_EXCLUDE_WORK = 2_000_000


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _axes(matrix: Mapping[str, Any]) -> dict[str, list[Any]]:
    return {k: v for k, v in matrix.items() if k not in ("include", "exclude")}


def size(matrix: Mapping[str, Any]) -> int:
    """At most how many tasks the matrix expands to: the axes' grid plus its include rows."""
    axes = _axes(matrix)
    grid = math.prod(len(v) if isinstance(v, list) else 1 for v in axes.values()) if axes else 0
    include = matrix.get("include", [])
    return grid + (len(include) if isinstance(include, list) else 0)


def exclude_work(matrix: Mapping[str, Any]) -> int:
    """How many set lookups matching the `exclude` rows costs (see MAX_EXCLUDE_WORK)."""
    excludes = matrix.get("exclude", [])
    if not isinstance(excludes, list) or not excludes:
        return 0
    shapes = {tuple(sorted(row)) for row in excludes if isinstance(row, dict)}
    return len(shapes) * size({k: v for k, v in matrix.items() if k != "include"})


def combinations(matrix: Mapping[str, Any]) -> list[Combination]:
    """Every combination, in axis order, each value as text."""
    axes = {k: [_text(v) for v in values] for k, values in _axes(matrix).items()}
    rows: list[Combination] = []
    if axes:
        names = tuple(axes)
        rows = [
            tuple(zip(names, values, strict=True)) for values in itertools.product(*axes.values())
        ]
    excluded: dict[tuple[str, ...], set[tuple[str, ...]]] = {}
    for row in matrix.get("exclude", []):
        shape = tuple(sorted(row))
        excluded.setdefault(shape, set()).add(tuple(_text(row[k]) for k in shape))
    if excluded:
        rows = [r for r in rows if not _excluded(dict(r), excluded)]
    seen = set(rows)
    for row in matrix.get("include", []):
        extra = tuple((k, _text(v)) for k, v in row.items())
        if extra not in seen:
            seen.add(extra)
            rows.append(extra)
    return rows


def _excluded(
    values: dict[str, str], excluded: dict[tuple[str, ...], set[tuple[str, ...]]]
) -> bool:
    for shape, patterns in excluded.items():
        if all(k in values for k in shape) and tuple(values[k] for k in shape) in patterns:
            return True
    return False


def task_name(key: str, row: Combination) -> str:
    """`post[mesh=coarse;re=1e5]`."""
    return f"{key}[{';'.join(f'{k}={v}' for k, v in row)}]"
