"""Checking and storing the task properties a client sets (add, PUT, job XML).

Which properties exist and their types: `properties.py` (`derived/property-ids.json`); value
rules per task type: `msdocs/tasktype.md` and the Store API's `TaskTypeHelper` (ground truth
§3.3); messages from `derived/error-codes.json`.
"""

from __future__ import annotations

from collections.abc import Sequence

from hpcspec.emulator import errors, messages
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
    target = task.props
    for raw_name, raw_value in props:
        # a name spelled exactly (a job file's, most REST bodies') needs no case-blind search
        name = raw_name if raw_name in TASK_SETTABLE else _settable(raw_name)
        kind = TASK_TYPES[name]
        value = raw_value if kind == "String" else parse_value(kind, name, raw_value)
        if name == "Name" and "," in value:
            raise errors.bad_request(messages.TASK_NAME_CONTAINS_INVALID_CHARS, value)
        if name == "TaskValidExitCodes" and value:
            check_exit_codes(value)
        if name == "CommandLine" and len(value) > catalogue.MAX_COMMAND_LINE:
            raise errors.bad_request(messages.PROPERTY_VALUE_TOO_LARGE, name, 1024)
        target[name] = value
    check_task_type(target)


def _settable(raw_name: str) -> str:
    """The exact name of a task property a client may set, in any case; 400 otherwise."""
    name = canonical(TASK_TYPES, raw_name)
    if name is None:
        raise errors.bad_request(messages.NO_TABLE_DEFINED_FOR_PROPERTY, raw_name)
    if name not in TASK_SETTABLE:
        raise errors.bad_request(messages.PROPERTY_IS_READ_ONLY, name)
    return name


_BASIC_FIXED = {"StartValue": "0", "EndValue": "0", "IncrementValue": "1"}
# msdocs/tasktype.md: these "do not apply to tasks that you start on a per-resource basis, and
# thus you cannot set these properties" for NodePrep, NodeRelease and Service tasks (their
# Min/Max are fixed at 1, ground truth §3.3).
_PER_RESOURCE = ("NodePrep", "NodeRelease", "Service")
_PER_RESOURCE_FIXED = {
    f"{bound}{unit}": "1" for bound in ("Min", "Max") for unit in ("Cores", "Nodes", "Sockets")
}
_PER_RESOURCE_UNSET = ("DependsOn", "RequiredNodes")
_PER_RESOURCE_FALSE = ("IsExclusive",)
MAX_FAIL_JOB_ON_FAILURE_COUNT = 1_000_000  # msdocs/ischedulertask-failjobonfailurecount.md


def check_task_type(props: dict[str, str]) -> None:
    """Properties a task of its type may not have (Operation_InvalidPropForTaskType)."""
    kind = props.get("Type", "Basic")
    count = int(props.get("FailJobOnFailureCount", "1") or 1)
    if not 1 <= count <= MAX_FAIL_JOB_ON_FAILURE_COUNT:
        raise errors.bad_request(
            messages.INVALID_OPERATION,
            f" FailJobOnFailureCount {count} is not within 1..{MAX_FAIL_JOB_ON_FAILURE_COUNT}.",
        )
    if kind == "Basic":
        # TaskTypeHelper (§3.3): Start/End/Increment stay 0/0/1; "If you specify a value greater
        # than 1 for FailJobOnFailureCount for a task that is not a parametric sweep or service
        # task, an error occurs" (msdocs/ischedulertask-failjobonfailurecount.md).
        for name, value in _BASIC_FIXED.items():
            if props.get(name, value) != value:
                raise errors.bad_request(messages.INVALID_PROP_FOR_TASK_TYPE, name, kind)
        if count > 1:
            raise errors.bad_request(
                messages.INVALID_PROP_FOR_TASK_TYPE, "FailJobOnFailureCount", kind
            )
    elif kind in _PER_RESOURCE:
        for name in _PER_RESOURCE_UNSET:
            if props.get(name, "").strip():
                raise errors.bad_request(messages.INVALID_PROP_FOR_TASK_TYPE, name, kind)
        for name in _PER_RESOURCE_FALSE:
            if props.get(name, "False") != "False":
                raise errors.bad_request(messages.INVALID_PROP_FOR_TASK_TYPE, name, kind)
        for name, value in _PER_RESOURCE_FIXED.items():
            if props.get(name, value) != value:
                raise errors.bad_request(messages.INVALID_PROP_FOR_TASK_TYPE, name, kind)
