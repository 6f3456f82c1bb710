"""What a client reads back: a job's or task's every readable property as wire strings.

Names and defaults from `properties.py` (`derived/property-ids.json`); `Priority` is derived
from `ExpandedPriority` (buckets of 1000, `Property/ExpandedPriority.cs`); the job's task
counters count the tasks that run (basic tasks and sweep subtasks), as the store does.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence, Set
from typing import NamedTuple, cast

from hpcspec.emulator.properties import (
    JOB_DEFAULTS,
    JOB_TYPES,
    TASK_DEFAULTS,
    TASK_TYPES,
    WRITE_ONLY,
    format_bool,
    priority_name,
)
from hpcspec.emulator.rows import JobRow, TaskRow
from hpcspec.hpcpack import sweep

COUNTERS = {
    "Configuring": "ConfiguringTaskCount",
    "Submitted": "SubmittedTaskCount",
    "Validating": "ValidatingTaskCount",
    "Queued": "QueuedTaskCount",
    "Dispatching": "DispatchingTaskCount",
    "Running": "RunningTaskCount",
    "Finished": "FinishedTaskCount",
    "Failed": "FailedTaskCount",
    "Canceled": "CanceledTaskCount",
    "Canceling": "CancelingTaskCount",
    "Finishing": "FinishingTaskCount",
}
COUNTER_NAMES = frozenset({"TaskCount", *COUNTERS.values()})


def task_counters(counts: dict[str, int], names: Set[str] = COUNTER_NAMES) -> dict[str, str]:
    """TaskCount and the per-state counters (those of `names`) from the number of
    running-kind tasks by state."""
    out = {"TaskCount": str(sum(counts.values()))} if "TaskCount" in names else {}
    out.update(
        {name: str(counts.get(state, 0)) for state, name in COUNTERS.items() if name in names}
    )
    return out


READABLE_JOB = tuple(n for n in JOB_TYPES if n not in WRITE_ONLY)


_SOURCES = {"Priority": "ExpandedPriority", "HasRuntime": "RuntimeSeconds"}  # shown from


class _Plan(NamedTuple):
    """How `job_view` shows a list of names: what it reads for each, and what it computes."""

    names: tuple[str, ...]
    columns: tuple[str, ...]  # the stored property read for each name
    defaults: tuple[tuple[int, str, str], ...]  # (index, name, what shows when not stored)
    computed: tuple[tuple[int, str], ...]  # (index, name): counters, Priority, HasRuntime


@functools.lru_cache(maxsize=256)  # a client asks for the same few name lists every time
def _job_plan(names: tuple[str, ...]) -> _Plan:
    return _Plan(
        names,
        tuple(_SOURCES.get(n, n) for n in names),
        tuple((i, n, JOB_DEFAULTS.get(n, "")) for i, n in enumerate(names)),
        tuple((i, n) for i, n in enumerate(names) if n in COUNTER_NAMES or n in _SOURCES),
    )


def job_columns(names: Sequence[str]) -> tuple[str, ...]:
    """The stored property `job_view_of` needs for each of `names`, in the same order."""
    return _job_plan(tuple(names)).columns


def job_view(
    job: JobRow, counters: dict[str, str], names: Sequence[str] | None = None
) -> dict[str, str]:
    """The readable job properties `names` (None: all, in catalogue order) as wire strings."""
    plan = _job_plan(READABLE_JOB if names is None else tuple(names))
    props = job.props
    out = {name: props.get(name, default) for _, name, default in plan.defaults}
    _compute(out, plan, lambda index: props.get(plan.columns[index]), counters)
    return out


def job_view_of(
    values: Sequence[str | None], counters: dict[str, str], names: Sequence[str]
) -> dict[str, str]:
    """`job_view` from the stored values of `job_columns(names)` (None: not stored)."""
    plan = _job_plan(tuple(names))
    out = cast(dict[str, str], dict(zip(plan.names, values, strict=True)))  # Nones go next
    if None in values:
        for index, name, default in plan.defaults:
            if values[index] is None:
                out[name] = default
    _compute(out, plan, values.__getitem__, counters)
    return out


def _compute(
    out: dict[str, str],
    plan: _Plan,
    stored: Callable[[int], str | None],
    counters: dict[str, str],
) -> None:
    """Fill in the computed names in place (the order stays the order of names)."""
    for index, name in plan.computed:
        if name in counters:
            out[name] = counters[name]
        elif name == "Priority":
            out[name] = priority_name(int(stored(index) or 2000))
        elif name == "HasRuntime":
            out[name] = format_bool(int(stored(index) or 0) > 0)


_COMPUTED_TASK = frozenset({"HasRuntime", "HasCustomProperties", "TotalSubTaskNumber"})
PLAIN_TASK_PROPERTIES = frozenset(TASK_TYPES) - _COMPUTED_TASK  # read as stored


def plain_task_view(names: Sequence[str], values: Sequence[str | None]) -> dict[str, str]:
    """`task_view` of stored properties only (`PLAIN_TASK_PROPERTIES`), from their values as
    `Store.query_task_values` reads them: a task without one shows its default."""
    return {
        name: TASK_DEFAULTS.get(name, "") if value is None else value
        for name, value in zip(names, values, strict=False)  # values end with the task's Id
    }


def task_view(task: TaskRow, names: Sequence[str] | None = None) -> dict[str, str]:
    """The readable task properties `names` (None: all) as wire strings."""
    props = task.props
    if names is not None and _COMPUTED_TASK.isdisjoint(names):  # a listing's common case
        return {name: props.get(name, TASK_DEFAULTS.get(name, "")) for name in names}
    out: dict[str, str] = {}
    for name in TASK_TYPES if names is None else names:
        if name == "HasRuntime":
            out[name] = format_bool(int(props.get("RuntimeSeconds") or 0) > 0)
        elif name == "HasCustomProperties":
            out[name] = format_bool(bool(task.custom))
        elif name == "TotalSubTaskNumber" and task.is_master:
            start, end = int(props.get("StartValue") or 0), int(props.get("EndValue") or 0)
            step = int(props.get("IncrementValue") or 1)
            out[name] = str(sweep.instance_count(start, end, step))
        else:
            out[name] = props.get(name, TASK_DEFAULTS.get(name, ""))
    return out
