"""What a client reads back: a job's or task's every readable property as wire strings.

Names and defaults from `properties.py` (`derived/property-ids.json`); `Priority` is derived
from `ExpandedPriority` (buckets of 1000, `Property/ExpandedPriority.cs`); the job's task
counters count the tasks that run (basic tasks and sweep subtasks), as the store does.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence, Set

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


_READABLE_JOB = tuple(n for n in JOB_TYPES if n not in WRITE_ONLY)


@functools.lru_cache(maxsize=256)  # a client asks for the same few name lists every time
def _job_plan(names: tuple[str, ...]) -> tuple[tuple[tuple[str, str], ...], tuple[str, ...]]:
    """(each name with its default, the names computed rather than read) for `job_view`."""
    computed = tuple(n for n in names if n in COUNTER_NAMES or n in ("Priority", "HasRuntime"))
    return tuple((n, JOB_DEFAULTS.get(n, "")) for n in names), computed


def job_view(
    job: JobRow, counters: dict[str, str], names: Sequence[str] | None = None
) -> dict[str, str]:
    """The readable job properties `names` (None: all, in catalogue order) as wire strings."""
    props = job.props
    defaults, computed = _job_plan(_READABLE_JOB if names is None else tuple(names))
    out = {name: props.get(name, default) for name, default in defaults}
    for name in computed:  # replaced in place: the order stays the order of `names`
        if name in counters:
            out[name] = counters[name]
        elif name == "Priority":
            out[name] = priority_name(int(props.get("ExpandedPriority") or 2000))
        elif name == "HasRuntime":
            out[name] = format_bool(int(props.get("RuntimeSeconds") or 0) > 0)
    return out


_COMPUTED_TASK = frozenset({"HasRuntime", "HasCustomProperties", "TotalSubTaskNumber"})
PLAIN_TASK_PROPERTIES = frozenset(TASK_TYPES) - _COMPUTED_TASK  # read as stored


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
