"""What a client reads back: a job's or task's every readable property as wire strings.

Names and defaults from `properties.py` (`derived/property-ids.json`); `Priority` is derived
from `ExpandedPriority` (buckets of 1000, `Property/ExpandedPriority.cs`); the job's task
counters count the tasks that run (basic tasks and sweep subtasks), as the store does.
"""

from __future__ import annotations

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


def task_counters(counts: dict[str, int]) -> dict[str, str]:
    """TaskCount and the per-state counters from the number of running-kind tasks by state."""
    out = {"TaskCount": str(sum(counts.values()))}
    out.update({name: str(counts.get(state, 0)) for state, name in COUNTERS.items()})
    return out


def job_view(job: JobRow, counters: dict[str, str]) -> dict[str, str]:
    """Every readable job property, in catalogue order, as wire strings."""
    props = job.props
    out: dict[str, str] = {}
    for name in JOB_TYPES:
        if name in WRITE_ONLY:
            continue
        out[name] = props.get(name, JOB_DEFAULTS.get(name, ""))
    expanded = int(out["ExpandedPriority"] or 2000)
    out["Priority"] = priority_name(expanded)
    out["HasRuntime"] = format_bool(int(out["RuntimeSeconds"] or 0) > 0)
    out.update(counters)
    return out


def task_view(task: TaskRow) -> dict[str, str]:
    """Every readable task property as wire strings."""
    props = task.props
    out = {name: props.get(name, TASK_DEFAULTS.get(name, "")) for name in TASK_TYPES}
    out["HasRuntime"] = format_bool(int(out["RuntimeSeconds"] or 0) > 0)
    out["HasCustomProperties"] = format_bool(bool(task.custom))
    if task.is_master:
        start, end = int(out["StartValue"] or 0), int(out["EndValue"] or 0)
        step = int(out["IncrementValue"] or 1)
        out["TotalSubTaskNumber"] = str(sweep.instance_count(start, end, step))
    return out
