"""Checking and storing the task properties a client sets (add, PUT, job XML).

Which properties exist and their types: `properties.py` (`derived/property-ids.json`); value
rules per task type: `msdocs/tasktype.md` and the Store API's `TaskTypeHelper` (ground truth
§3.3); messages from `derived/error-codes.json`.
"""

from __future__ import annotations

from collections.abc import Sequence

from hpcspec.emulator import errors
from hpcspec.emulator.properties import (
    TASK_SETTABLE,
    TASK_TYPES,
    canonical,
    check_exit_codes,
    parse_value,
)
from hpcspec.emulator.rows import TaskRow
from hpcspec.hpcpack import catalogue

Pairs = Sequence[tuple[str, str]]


def apply_task_props(task: TaskRow, props: Pairs) -> None:
    """Set `props` on `task`, refusing unknown, read-only or invalid properties."""
    for raw_name, raw_value in props:
        name = canonical(TASK_TYPES, raw_name)
        if name is None:
            raise errors.bad_request(errors.NO_TABLE_DEFINED_FOR_PROPERTY, raw_name)
        if name not in TASK_SETTABLE:
            raise errors.bad_request(errors.PROPERTY_IS_READ_ONLY, name)
        value = parse_value(TASK_TYPES[name], name, raw_value)
        if name == "Name" and "," in value:
            raise errors.bad_request(errors.TASK_NAME_CONTAINS_INVALID_CHARS, value)
        if name == "TaskValidExitCodes" and value:
            check_exit_codes(value)
        if name == "CommandLine" and len(value) > catalogue.MAX_COMMAND_LINE:
            raise errors.bad_request(errors.PROPERTY_VALUE_TOO_LARGE, name, 1024)
        task.props[name] = value
    check_task_type(task.props)


_BASIC_FIXED = {"StartValue": "0", "EndValue": "0", "IncrementValue": "1"}


def check_task_type(props: dict[str, str]) -> None:
    """Basic tasks keep StartValue/EndValue 0, IncrementValue 1 (TaskTypeHelper, §3.3)."""
    if props.get("Type", "Basic") != "Basic":
        return
    for name, value in _BASIC_FIXED.items():
        if props.get(name, value) != value:
            raise errors.bad_request(errors.INVALID_PROP_FOR_TASK_TYPE, name, "Basic")
