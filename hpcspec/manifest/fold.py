"""Runs of tasks named `KEY[axis=value;...]` → the one `matrix:` task that expands to them.

The reverse of `matrix.combinations`, for `hpcspec import`: a run folds only when the matrix
written back provably gives the very same tasks (names, bodies with `${matrix.AXIS}`
substituted, dependencies); otherwise its tasks stay as they are.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from hpcspec.hpcpack.definition import TaskDefinition
from hpcspec.manifest.emit import Block, Flow, FlowMap
from hpcspec.manifest.errors import ManifestError
from hpcspec.manifest.matrix import combinations, task_name
from hpcspec.manifest.variables import substitute
from hpcspec.manifest.vocabulary import KEY_PATTERN

_KEY = re.compile(KEY_PATTERN)
_MATRIX_NAME = re.compile(r"^([A-Za-z0-9_][A-Za-z0-9_.\-]*)\[(.*)\]$")


@dataclass
class MatrixGroup:
    """Tasks written under one key: a single task, or a folded matrix."""

    key: str
    tasks: list[TaskDefinition]
    body: Block | None = None  # the folded matrix task, when it folds


def matrix_groups(
    tasks: Sequence[TaskDefinition], body: Callable[[TaskDefinition], Block]
) -> list[MatrixGroup]:
    """Runs of `KEY[axis=value;...]` tasks, folded into matrix tasks where that is exact."""
    plain = {t.name for t in tasks}
    groups: list[MatrixGroup] = []
    for base, run in itertools.groupby(tasks, key=lambda t: _matrix_base(t.name)):
        members = list(run)
        folded = _fold(base, members, body) if base and base not in plain else None
        if folded is None:
            groups += [MatrixGroup(t.name, [t]) for t in members]
        else:
            groups.append(MatrixGroup(base, members, folded))
    return groups


def _matrix_base(name: str) -> str:
    if "[" not in name:  # most names: no regular expression needed
        return ""
    match = _MATRIX_NAME.match(name)
    return match.group(1) if match else ""


Row = tuple[tuple[str, str], ...]


def _row(name: str) -> Row | None:
    match = _MATRIX_NAME.match(name)
    if not match:
        return None
    row: Row = tuple(
        (axis, value) for axis, _, value in (p.partition("=") for p in match.group(2).split(";"))
    )
    if not all(_KEY.match(axis) for axis, _ in row) or task_name(match.group(1), row) != name:
        return None
    return row


def _fold(
    base: str, tasks: list[TaskDefinition], body_of: Callable[[TaskDefinition], Block]
) -> Block | None:
    """The one matrix task that expands to exactly `tasks`, or None."""
    found = [_row(t.name) for t in tasks]
    rows = [r for r in found if r is not None]
    if len(rows) != len(tasks):
        return None
    matrix = _matrix(rows)
    if combinations(matrix) != rows:
        return None
    bodies = [_templated(body_of(t), dict(row)) for t, row in zip(tasks, rows, strict=True)]
    body = bodies[0]
    if any(b != body for b in bodies) or any(t.depends_on != tasks[0].depends_on for t in tasks):
        return None
    pairs = zip(tasks, rows, strict=True)
    if not isinstance(body, Block) or not all(
        _expands_to(body, body_of(t), dict(row)) for t, row in pairs
    ):
        return None
    body["matrix"] = matrix
    return body


def _matrix(rows: list[Row]) -> Block:
    axes = [axis for axis, _ in rows[0]]
    values: dict[str, list[str]] = {a: [] for a in axes}
    for row in rows:
        for axis, value in row:
            if axis in values and value not in values[axis]:
                values[axis].append(value)
    product = [
        tuple(zip(axes, combo, strict=True)) for combo in itertools.product(*values.values())
    ]
    matrix = Block()
    if product == rows:
        for axis in axes:
            matrix[axis] = Flow(values[axis])
    else:
        matrix["include"] = [FlowMap(row) for row in rows]
    return matrix


def _templated(node: object, row: dict[str, str]) -> object:
    """`node` with each matrix value in its strings written as `${matrix.AXIS}`."""
    if isinstance(node, dict):
        return type(node)((k, _templated(v, row)) for k, v in node.items())
    if isinstance(node, list):
        return type(node)(_templated(v, row) for v in node)
    if not isinstance(node, str):
        return node
    values = {v: a for a, v in row.items() if v}
    if len(values) != len([v for v in row.values() if v]):
        return node  # two axes share a value: ambiguous, leave the text alone
    if not values:
        return node
    pattern = re.compile("|".join(re.escape(v) for v in sorted(values, key=len, reverse=True)))
    return pattern.sub(lambda m: "${matrix." + values[m.group(0)] + "}", node)


def _expands_to(template: object, expected: object, row: dict[str, str]) -> bool:
    """Does substituting `row` into `template` give `expected` (both manifest text)?"""
    if isinstance(template, dict) and isinstance(expected, dict):
        return list(template) == list(expected) and all(
            _expands_to(template[k], expected[k], row) for k in template
        )
    if isinstance(template, list) and isinstance(expected, list):
        return len(template) == len(expected) and all(
            _expands_to(a, b, row) for a, b in zip(template, expected, strict=True)
        )
    if isinstance(template, str) and isinstance(expected, str):
        scope = {f"matrix.{a}": v for a, v in row.items()}
        try:
            return substitute(template, scope, ()) == substitute(expected, {}, ())
        except ManifestError:
            return False
    return template == expected
